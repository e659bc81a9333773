"""The one table of commands and buttons (bot/handlers): every command registered once, the
menu made from the same rows, and the review buttons in the typed callback codec - including
the `rv:` data of buttons sent before the codec knew them."""

from __future__ import annotations

import pytest
from telegram.ext import ApplicationBuilder, CommandHandler

from bot.handlers import BUTTONS, COMMANDS, menu_for, register_handlers
from bot.keyboards import MAX_CALLBACK_BYTES, ReviewOp, ReviewPress, decode, encode
from storage.records import Role

BIG = 999_999_999_999


@pytest.mark.parametrize(
    "press",
    [
        ReviewPress(ReviewOp.SHOW, BIG),
        ReviewPress(ReviewOp.APPROVE, BIG, BIG),
        ReviewPress(ReviewOp.RETURN, 7, 0),
        ReviewPress(ReviewOp.CANCEL),
    ],
)
def test_review_presses_round_trip_within_64_bytes(press: ReviewPress) -> None:
    data = encode(press)
    assert data.isascii() and len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode(data) == press


@pytest.mark.parametrize(
    ("data", "press"),
    [
        ("rv:s:42", ReviewPress(ReviewOp.SHOW, 42)),
        ("rv:a:42:7", ReviewPress(ReviewOp.APPROVE, 42, 7)),
        ("rv:r:42:7", ReviewPress(ReviewOp.RETURN, 42, 7)),
        ("rv:x", ReviewPress(ReviewOp.CANCEL)),
    ],
)
def test_review_buttons_of_old_messages_still_decode(data: str, press: ReviewPress) -> None:
    """The data review buttons carried before they were in the codec (bot/reminders'
    own `rv:` regex): a supervisor may press one in a message sent before the upgrade."""
    assert decode(data) == press


@pytest.mark.parametrize(
    "data", ["rv:", "rv:s", "rv:s:1:2", "rv:a:1", "rv:q:1:2", "rv:a:01:2", "rv:x:1", "rv:s:-1"]
)
def test_malformed_review_data_is_rejected(data: str) -> None:
    assert decode(data) is None


def test_every_command_and_button_kind_is_registered_once() -> None:
    app = ApplicationBuilder().token("123456:TEST").build()
    register_handlers(app)  # type: ignore[arg-type]
    assert set(app.handlers) == {-1, 0}  # the gate, then one handler per kind of update
    registered = [
        name
        for handler in app.handlers[0]
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    ]
    assert sorted(registered) == sorted(COMMANDS)
    assert ReviewPress in BUTTONS


def test_the_menus_come_from_the_command_table() -> None:
    staff = [c.command for c in menu_for(Role.STAFF)]
    supervisor = [c.command for c in menu_for(Role.SUPERVISOR)]
    admin = [c.command for c in menu_for(Role.ADMIN)]
    assert set(staff) < set(supervisor) < set(admin) <= set(COMMANDS)
    assert {"fill", "status", "help"} <= set(staff) and "remind" not in staff
    assert {"invite", "remind", "policy"} <= set(supervisor) and "newround" not in supervisor
    assert {"admin", "newdept", "newround"} <= set(admin)
    assert menu_for(Role.DISTRICT_SUPERVISOR) == menu_for(Role.SUPERVISOR)
    for command in menu_for(Role.ADMIN):
        assert command.description == COMMANDS[command.command].menu
