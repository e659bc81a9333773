"""Fixtures of the reminder, review and status tests: the controllable clock and the virtual
pacing timer."""

from tests.support.clock import fake_clock, virtual_timer

__all__ = ["fake_clock", "virtual_timer"]
