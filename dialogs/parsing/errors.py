"""The one exception the parsers raise."""

from __future__ import annotations

from collections.abc import Mapping

from dialogs.catalogue import Code, Problem


class ParseError(Exception):
    """An answer that cannot be read.

    `params` holds the template parameters the parser knows (text, decimals, month, start, end,
    limit, length); the caller adds `field` and `example` (see `to_problem`).
    """

    def __init__(self, code: Code, params: Mapping[str, str] | None = None) -> None:
        self.code = code
        self.params: dict[str, str] = dict(params or {})
        super().__init__(f"{code.value}: {self.params}")

    def to_problem(self, **extra: str) -> Problem:
        """The problem to show, with the caller's `field`, `example` and any other parameter."""
        return Problem(self.code, {**self.params, **extra})
