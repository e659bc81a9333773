"""Characters XML forbids (U+FFFE, U+FFFF, lone surrogates, C0 controls) never make a workbook
unreadable: typed ones are refused at input (CONTROL_CHARACTERS), and whatever reaches the
writer anyway (older data, display names) is replaced there, so openpyxl reads every workbook
back, the round's consolidated one included."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.actions import FilingContext
from dialogs.answers import parse_field
from dialogs.catalogue import Code, Problem
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.state import FormState, FormStatus
from exports import department_workbook
from exports.consolidated import RoundHeader, consolidated_workbook
from exports.xmlsafe import REPLACEMENT, xml_safe
from tests.support.seed import seed_filing
from tests.support.sheets import find, load

FORBIDDEN = ["\ufffe", "\uffff", "\x00", "\x01", "\x0b", "\x0c", "\x1f", "\ud800", "\udfff"]
OTHER_NONCHARACTERS = ["\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff"]
CONTEXT = FilingContext(year=2022, department_name="市统计局")
# What a text step may answer with a refusal, whatever the text.
TEXT_CODES = {
    Code.REQUIRED,
    Code.EMOJI,
    Code.CONTROL_CHARACTERS,
    Code.FORMULA_LIKE,
    Code.TOO_LONG,
    Code.DIRECTION_DUPLICATE,
}

HEADER = RoundHeader(2024, "2024年度预算绩效目标申报", datetime(2024, 3, 1, 9, 30, tzinfo=UTC))


def _forbidden_in_xml(text: str) -> bool:
    return any(char in text for char in FORBIDDEN) or any(
        0xD800 <= ord(char) <= 0xDFFF or (ord(char) < 0x20 and char not in "\t\n\r")
        for char in text
    )


def _with_direction(layout: str, department: str, name: str, who: str = "") -> DepartmentFiling:
    seed = seed_filing(layout)
    key = seed.layout.table_c.instance_field
    assert key is not None
    direction = FiledForm(
        form_id=99, state=FormState(values={key: name}), status=FormStatus.DRAFT, updated_by=who
    )
    return replace(seed, department=department, directions=(direction,))


def _all_values(data: bytes) -> set[object]:
    book = load(data)
    return {cell.value for ws in book.worksheets for row in ws.iter_rows() for cell in row}


texts = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(FORBIDDEN + OTHER_NONCHARACTERS + ["\t", "\n", "\r", "="]),
        st.integers(0xD800, 0xDFFF).map(chr),
        st.sampled_from("理论学习宣传教育经费"),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, layout=st.sampled_from(["2021", "2023"]))
def test_any_text_is_refused_with_a_code_or_exports_to_a_readable_workbook(
    text: str, layout: str
) -> None:
    definition = get_layout(layout).table_c
    key = definition.instance_field
    assert key is not None
    answer = parse_field(definition.field(key), text, CONTEXT)
    if isinstance(answer, Problem):
        assert answer.code in TEXT_CODES, answer
        assert answer.message
        return
    assert isinstance(answer, str)
    assert not _forbidden_in_xml(answer), repr(answer)  # accepted: nothing XML forbids
    assert not any(char in answer for char in OTHER_NONCHARACTERS), repr(answer)
    filing = _with_direction(layout, "市统计局", answer, who=answer)
    assert answer in _all_values(department_workbook(filing))
    assert answer in _all_values(consolidated_workbook(filing.layout, [filing], HEADER))


@pytest.mark.parametrize("char", FORBIDDEN + OTHER_NONCHARACTERS)
def test_each_forbidden_character_is_refused_at_a_text_step(char: str) -> None:
    definition = get_layout("2021").table_c
    answer = parse_field(definition.field("direction"), f"理论{char}学习", CONTEXT)
    assert isinstance(answer, Problem) and answer.code is Code.CONTROL_CHARACTERS


@pytest.mark.parametrize("layout", ["2021", "2023"])
def test_the_writer_replaces_what_reaches_it_and_every_workbook_stays_readable(
    layout: str,
) -> None:
    """Text stored before input was checked, or not typed (a display name), reaches the writer
    with every forbidden character: the department's and the round's workbooks both open."""
    dirty = "".join(f"项{char}" for char in FORBIDDEN)
    filing = _with_direction(layout, f"市统计局{dirty}", f"普查{dirty}", who=f"张{dirty}")
    clean = xml_safe(dirty)
    assert REPLACEMENT in clean and not _forbidden_in_xml(clean)
    department = department_workbook(filing)
    book = load(department)
    assert any(find(ws, f"普查{clean}") for ws in book.worksheets)
    assert all(not _forbidden_in_xml(ws.title) for ws in book.worksheets)
    values = _all_values(
        consolidated_workbook(filing.layout, [filing, seed_filing(layout)], HEADER)
    )
    assert f"普查{clean}" in values and f"市统计局{clean}" in values


def test_xml_safe_leaves_valid_text_and_other_values_alone() -> None:
    text = "（一）宣传\t教育\n第二行\r★①“引号”𠀀"
    assert xml_safe(text) is text
    assert xml_safe(None) is None
    assert xml_safe(12) == 12
