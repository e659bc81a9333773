"""Which layout a filing round uses: decided once, when the round is created.

Layouts are named by the year they came into use ("2021", "2023"), so a new round's default is
the newest layout in use by its year. A round keeps its layout: asking for another one for a year
that already has an open round is refused, never silently ignored, and so is an unknown layout.
"""

from __future__ import annotations

from collections.abc import Iterable

from dialogs.catalogue import Code, Problem


class LayoutChoiceError(Exception):
    """The requested layout cannot be used; `problem` says why in the user's words."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _year_of(key: str) -> int | None:
    return int(key) if key.isdigit() else None


def default_layout(year: int, known: Iterable[str]) -> str:
    """The newest layout in use by `year`; before the first one, the oldest."""
    keys = sorted(known, key=lambda key: (_year_of(key) is None, _year_of(key) or 0, key))
    if not keys:
        raise ValueError("no form layouts are defined")
    in_use = [key for key in keys if (since := _year_of(key)) is not None and since <= year]
    return in_use[-1] if in_use else keys[0]


def known_text(known: Iterable[str]) -> str:
    return "、".join(f"{key} 版" for key in sorted(known))


def choose_layout(
    year: int,
    requested: str | None,
    existing: str | None,
    known: Iterable[str],
    *,
    example: str,
) -> str:
    """The layout of `year`'s round: the existing round's, else `requested`, else the default.

    `existing` is the layout of the year's open round, if there is one; `example` is how a valid
    request looks in the caller's channel (a command line, a Telegram command), with `{layout}`
    standing for a layout that would be accepted. Raises LayoutChoiceError.
    """
    keys = sorted(known)
    fallback = existing if existing is not None else default_layout(year, keys)
    requested = requested.strip() if requested is not None else None
    if requested and requested not in keys:
        round_layout = (
            f"是 {existing} 版" if existing is not None else f"新建时默认为 {fallback} 版"
        )
        problem = Problem(
            Code.LAYOUT_UNKNOWN,
            {
                "text": requested,
                "known": known_text(keys),
                "year": str(year),
                "round_layout": round_layout,
                "example": example.format(layout=fallback),
            },
        )
        raise LayoutChoiceError(problem)
    if existing is not None and requested and requested != existing:
        problem = Problem(
            Code.LAYOUT_CONFLICT,
            {
                "text": requested,
                "known": known_text(keys),
                "year": str(year),
                "round_layout": existing,
                "example": example.format(layout=existing),
            },
        )
        raise LayoutChoiceError(problem)
    return requested or fallback
