"""The fake Bot API over HTTP on 127.0.0.1, for a bot in another process or on a webhook: each
call goes to the same `FakeBotApi.call` as in process, file downloads to `download`, and queued
updates are posted to the webhook the bot set (tests/support/fake_bot_api.py)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web

if TYPE_CHECKING:
    from tests.support.fake_bot_api import FakeBotApi

JSON = dict[str, Any]
# Parameters PTB sends as plain strings; it sends all others JSON-encoded.
_STRINGS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "url", "secret_token", "action"}
    | {"file_id", "document", "photo"}
)


class _Call(tornado.web.RequestHandler):
    def initialize(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.gone = False

    def on_connection_close(self) -> None:
        self.gone = True  # a killed bot's long poll: nobody reads its answer

    def check_xsrf_cookie(self) -> None:
        return None

    async def get(self, token: str, method: str) -> None:
        await self.post(token, method)

    async def post(self, token: str, method: str) -> None:
        params: JSON = {}
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            params = json.loads(self.request.body or b"{}")
        for name, values in {**self.request.query_arguments, **self.request.body_arguments}.items():
            raw = values[-1].decode()
            params[name] = raw if name in _STRINGS else _json_or_text(raw)
        files: dict[str, tuple[str | None, bytes, str | None]] = {
            name: (parts[-1].filename, bytes(parts[-1].body), parts[-1].content_type)
            for name, parts in self.request.files.items()
        }
        answer = await self.fake.call(method, params, files)
        if answer is None:
            self.detach().close()
        elif not self.gone:
            self.set_status(answer[0])
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(answer[1], ensure_ascii=False))


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class _Download(tornado.web.RequestHandler):
    def initialize(self, fake: FakeBotApi) -> None:
        self.fake = fake

    def get(self, token: str, file_path: str) -> None:
        data = self.fake.download(file_path)
        if data is None:
            self.set_status(404)
        self.finish(data or b"")


class HttpFront:
    def __init__(self, fake: FakeBotApi) -> None:
        app = tornado.web.Application(
            [
                (r"/bot([^/]+)/([A-Za-z]+)", _Call, {"fake": fake}),
                (r"/file/bot([^/]+)/(.+)", _Download, {"fake": fake}),
            ],
            log_function=lambda handler: None,
        )
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.server = tornado.httpserver.HTTPServer(app, max_body_size=60 * 1024 * 1024)
        self.server.add_sockets(sockets)
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        self.webhooks = asyncio.get_running_loop().create_task(_deliver(fake))

    async def stop(self) -> None:
        self.webhooks.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.webhooks
        self.server.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.close_all_connections(), 2)


async def serve_http(fake: FakeBotApi) -> HttpFront:
    return HttpFront(fake)


async def _deliver(fake: FakeBotApi) -> None:
    """Post queued updates one at a time to the webhook, as Telegram does, until it takes
    them (2xx); back off while it does not answer (a bot process being restarted)."""
    backoff = 0.05
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
        while True:
            update = fake.next_webhook_update()
            if update is None:
                await fake.changed(None)
                continue
            hook = fake.webhook
            try:
                response = await post_update_to_webhook(
                    hook.url, update, hook.secret_token, client=client
                )
                taken = 200 <= response.status_code < 300
            except httpx.HTTPError:
                taken = False
            if taken:
                fake.confirm(update["update_id"])
                backoff = 0.05
            else:
                await asyncio.sleep(backoff)
                backoff = min(1.0, backoff * 2)


async def post_update_to_webhook(
    url: str,
    update: JSON,
    secret_token: str | None = None,
    *,
    timeout: float = 5.0,
    client: httpx.AsyncClient | None = None,
) -> httpx.Response:
    """POST an update to a bot's webhook as Telegram does (JSON, and the secret token header
    when given). Loopback URLs only."""
    if not ipaddress.ip_address(urlsplit(url).hostname or "0.0.0.0").is_loopback:
        raise AssertionError(f"tests only talk to 127.0.0.1, not {url}")
    headers = {"Content-Type": "application/json"}
    if secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    body = json.dumps(update, ensure_ascii=False).encode()
    if client is not None:
        return await client.post(url, content=body, headers=headers, timeout=timeout)
    async with httpx.AsyncClient(trust_env=False, timeout=timeout) as own:
        return await own.post(url, content=body, headers=headers)
