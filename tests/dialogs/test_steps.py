"""Step addresses are written by `Step.address` / `row_address` and read by `parse_address` /
`parse_row` only: what one writes the other reads back, and nothing else is read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.steps import (
    EDIT_SUFFIX,
    REVIEW_STEP,
    Step,
    StepKind,
    parse_address,
    parse_row,
    row_address,
)

KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
ROWS = st.integers(min_value=0, max_value=10_000)
CELLS = st.sampled_from([StepKind.GROUP_CELL, StepKind.INDICATOR_CELL])
STEPS = st.one_of(
    st.builds(Step, st.just(StepKind.FIELD), KEYS),
    st.builds(Step, st.sampled_from([StepKind.GROUP_MORE, StepKind.INDICATOR_MORE]), KEYS),
    st.builds(Step, CELLS, KEYS, ROWS, KEYS),
    st.just(REVIEW_STEP),
)


@given(STEPS, st.booleans())
def test_an_address_reads_back_as_its_step(step: Step, editing: bool) -> None:
    address = step.address + (EDIT_SUFFIX if editing else "")
    assert parse_address(address) == step


@given(CELLS, KEYS, ROWS)
def test_a_row_target_reads_back_as_its_row(kind: StepKind, key: str, row: int) -> None:
    assert parse_row(row_address(kind, key, row)) == Step(kind, key, row)
    assert parse_address(row_address(kind, key, row)) is None  # a row is not a cursor


@pytest.mark.parametrize(
    "address",
    ["", "f", "f:a:b", "x:a", "g:a", "g:a:-1:b", "g:a:+1:b", "g:a:²:b", "i:a:1", "review:x"],
)
def test_malformed_addresses_are_refused(address: str) -> None:
    assert parse_address(address) is None


@pytest.mark.parametrize("target", ["", "g:a", "g:a:1:b", "g:a:-1", "i:a:²", "f:a:1", "x:a:1"])
def test_malformed_row_targets_are_refused(target: str) -> None:
    assert parse_row(target) is None
