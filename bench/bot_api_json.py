"""Telegram's JSON as the benchmarks' Bot APIs send and answer it (bench/inprocess.py in
process, bench/loopback.py over HTTP): one bot, message ids counted per chat, updates shaped as
Telegram sends them and the Message a send or an edit answers, enough for PTB to parse."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

JSON = dict[str, Any]


class BotApiJson:
    """The state both fakes share: the bot's identity and the ids Telegram would hand out."""

    def __init__(self, *, token: str, username: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self._message_ids: dict[int, Iterator[int]] = {}
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    # --- updates as Telegram sends them -------------------------------------------------------

    def user_json(self, user_id: int, first_name: str) -> JSON:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh"}

    def text_update(self, user_id: int, text: str, first_name: str = "用户") -> JSON:
        """A private-chat message; a leading /command gets its bot_command entity."""
        message: JSON = {
            "message_id": next(self._message_id(user_id)),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "from": self.user_json(user_id, first_name),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": next(self._update_ids), "message": message}

    def callback_update(
        self, user_id: int, message: JSON, data: str, first_name: str = "用户"
    ) -> JSON:
        """A press of an inline button under `message` (a bot message as answered here)."""
        query = {
            "id": str(next(self._query_ids)),
            "from": self.user_json(user_id, first_name),
            "message": message,
            "chat_instance": str(user_id * 7919 + 13),
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    # --- answers ---------------------------------------------------------------------------

    def _message_id(self, chat_id: int) -> Iterator[int]:
        found = self._message_ids.get(chat_id)
        if found is None:
            found = self._message_ids[chat_id] = itertools.count(1)
        return found

    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "绩效基准机器人",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def message_json(self, params: JSON, method: str) -> JSON:
        """The Message that `method` (lower case) with `params` answers: a new message id per
        chat for a send, the edited message's id for an edit."""
        chat_id = int(params["chat_id"])
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            message_id = next(self._message_id(chat_id))
        message: JSON = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": self.bot_user(),
        }
        if method != "editmessagereplymarkup" and isinstance(params.get("text"), str):
            message["text"] = params["text"]
        if isinstance(params.get("caption"), str):
            message["caption"] = params["caption"]
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        unique = f"{chat_id}-{message_id}"
        if method == "senddocument":
            message["document"] = {
                "file_id": f"d{unique}",
                "file_unique_id": f"d{unique}",
                "file_name": str(params.get("filename") or "document"),
            }
        if method == "sendphoto":
            message["photo"] = [
                {
                    "file_id": f"p{unique}",
                    "file_unique_id": f"p{unique}",
                    "width": 1280,
                    "height": 960,
                }
            ]
        return message
