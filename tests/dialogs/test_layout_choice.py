"""A round's layout is decided when it is created: the year's default, or the one asked for;
an unknown layout, or one that disagrees with the year's open round, is refused with a code."""

from __future__ import annotations

import pytest

from dialogs.catalogue import Code
from dialogs.layout_choice import LayoutChoiceError, choose_layout, default_layout
from dialogs.loader import load_layouts

KNOWN = ("2021", "2023")
EXAMPLE = "jixiao chat --layout {layout}"


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2019, "2021"), (2021, "2021"), (2022, "2021"), (2023, "2023"), (2024, "2023"),
     (2031, "2023")],
)
def test_default_is_the_newest_layout_in_use_by_the_year(year: int, expected: str) -> None:
    assert default_layout(year, KNOWN) == expected
    assert default_layout(year, reversed(KNOWN)) == expected


def test_a_later_layout_takes_over_from_its_year() -> None:
    assert default_layout(2026, ("2021", "2023", "2026")) == "2026"
    assert default_layout(2025, ("2021", "2023", "2026")) == "2023"


def test_the_definition_files_default_to_2023_from_2023_on() -> None:
    known = load_layouts()
    assert default_layout(2023, known) == "2023"
    assert default_layout(2027, known) == "2023"
    assert default_layout(2022, known) == "2021"


@pytest.mark.parametrize(
    ("year", "requested", "existing", "expected"),
    [
        (2024, None, None, "2023"),
        (2022, None, None, "2021"),
        (2024, "2021", None, "2021"),  # an explicit choice for a new round is kept
        (2022, "2023", None, "2023"),
        (2024, None, "2021", "2021"),  # an existing round keeps its layout
        (2024, "2021", "2021", "2021"),
        (2024, " 2023 ", "2023", "2023"),
    ],
)
def test_accepted_choices(year: int, requested: str | None, existing: str | None,
                          expected: str) -> None:
    assert choose_layout(year, requested, existing, KNOWN, example=EXAMPLE) == expected


@pytest.mark.parametrize(
    ("year", "requested", "existing", "code"),
    [
        (2024, "2099", None, Code.LAYOUT_UNKNOWN),
        (2024, "2O23", "2023", Code.LAYOUT_UNKNOWN),
        (2021, "latest", None, Code.LAYOUT_UNKNOWN),
        (2024, "2021", "2023", Code.LAYOUT_CONFLICT),
        (2022, "2023", "2021", Code.LAYOUT_CONFLICT),
    ],
)
def test_refused_choices(year: int, requested: str, existing: str | None, code: Code) -> None:
    with pytest.raises(LayoutChoiceError) as raised:
        choose_layout(year, requested, existing, KNOWN, example=EXAMPLE)
    problem = raised.value.problem
    assert problem.code is code and problem.is_error
    # One line naming the layouts there are and the round's layout, with a valid example.
    assert "\n" not in problem.message
    assert all(key in problem.message for key in KNOWN)
    accepted = existing or default_layout(year, KNOWN)
    assert f"--layout {accepted}" in problem.message
