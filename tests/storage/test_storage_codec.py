"""FormState <-> records: every value comes back exactly, in memory and through the database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.definition import TableKind
from dialogs.state import FormState, FormStatus, GroupRow, IndicatorRow
from dialogs.values import Comparator, Grade, Nature, Period, Reading, YearMonth
from storage import codec
from storage.codec import AnswerRecord, AnswerType, GroupRecord
from storage.db import Database
from storage.records import Role
from storage.repos import DepartmentRepository, FormRepository, RoundRepository, UserRepository
from tests.support.db import exact, sample_state

SQL_LIKE = [
    "'; DROP TABLE forms; --",
    "Robert'); DELETE FROM answers WHERE ('1'='1",
    "%_\\",
    '" OR 1=1 --',
    "$1 $$ $$",
    "\\x00",
    "",
    " ",
]

texts = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60),
    st.sampled_from(SQL_LIKE),
)
keys = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30)
decimals = st.integers(min_value=0, max_value=6).flatmap(
    lambda places: st.decimals(
        min_value=Decimal("-1e12"),
        max_value=Decimal("1e12"),
        allow_nan=False,
        allow_infinity=False,
        places=places,
    )
)
year_months = st.builds(
    YearMonth, st.integers(min_value=1990, max_value=2100), st.integers(min_value=1, max_value=12)
)
periods = st.builds(Period, year_months, year_months)
answers = st.one_of(st.none(), texts, decimals, periods)
readings = st.builds(
    Reading,
    nature=st.sampled_from(Nature),
    comparator=st.none() | st.sampled_from(Comparator),
    number=st.none() | decimals,
    unit=st.none() | texts,
    grade=st.none() | st.sampled_from(Grade),
    sure=st.booleans(),
    confirmed=st.booleans(),
)
indicator_rows = st.builds(
    IndicatorRow,
    level2=keys,
    name=texts,
    value=texts,
    reading=st.none() | readings,
    remark=st.none() | texts,
    explanation=st.none() | texts,
    scoring=st.none() | texts,
    weight=st.none() | decimals,
    visited=st.lists(keys, max_size=4).map(tuple),
)
group_rows = st.builds(GroupRow, st.lists(st.tuples(keys, texts), max_size=4).map(tuple))
states = st.builds(
    FormState,
    values=st.dictionaries(keys, answers, max_size=8),
    groups=st.dictionaries(keys, st.lists(group_rows, max_size=3).map(tuple), max_size=3),
    indicators=st.lists(indicator_rows, max_size=6).map(tuple),
    cursor=texts,
    status=st.sampled_from(FormStatus),
    version=st.integers(min_value=0, max_value=1000),
)


def _round_trip(state: FormState) -> FormState:
    return codec.decode_state(codec.encode_state(state), version=state.version)


def test_sample_state_round_trips() -> None:
    state = sample_state()
    assert exact(_round_trip(state)) == exact(state)


@settings(max_examples=300, deadline=None)
@given(states)
def test_codec_round_trip(state: FormState) -> None:
    assert exact(_round_trip(state)) == exact(state)


@pytest.mark.parametrize(
    ("value", "record"),
    [
        ("267.5915", AnswerRecord("k", AnswerType.STR, "267.5915")),
        (Decimal("267.5915"), AnswerRecord("k", AnswerType.DECIMAL, "267.5915")),
        (Decimal("177.59151"), AnswerRecord("k", AnswerType.DECIMAL, "177.59151")),
        (Decimal("6.000000"), AnswerRecord("k", AnswerType.DECIMAL, "6.000000")),
        (
            Period(YearMonth(2021, 1), YearMonth(2021, 12)),
            AnswerRecord("k", AnswerType.PERIOD, "2021.1-2021.12"),
        ),
        (None, AnswerRecord("k", AnswerType.SKIPPED, None)),
    ],
)
def test_answer_records(value: object, record: AnswerRecord) -> None:
    assert codec.encode_answer("k", value) == record  # type: ignore[arg-type]
    decoded = codec.decode_answer(record)
    assert exact(decoded) == exact(value)


def test_unstorable_values_are_refused() -> None:
    with pytest.raises(TypeError):
        codec.encode_answer("k", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-finite"):
        codec.encode_answer("k", Decimal("NaN"))
    with pytest.raises(ValueError, match="NUL"):
        codec.encode_answer("k", "a\x00")
    with pytest.raises(ValueError, match="surrogate"):
        codec.encode_answer("k", "a\ud800")
    with pytest.raises(ValueError):
        codec.parse_period("2021.1~2021.12")
    with pytest.raises(ValueError):
        codec.cells_from_json([["only one"]])
    with pytest.raises(ValueError, match="misses row"):
        codec.decode_groups([GroupRecord("plan", 1, ())])


def test_an_empty_group_is_kept_apart_from_a_missing_one() -> None:
    with_empty = FormState(groups={"plan": ()})
    assert _round_trip(with_empty) == with_empty
    assert _round_trip(FormState()) == FormState()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(state=states)
def test_database_round_trip(shared_db: Database, state: FormState) -> None:
    """Through real rows on SQLite and PostgreSQL; each example saves into a fresh C form."""
    with shared_db.transaction() as session:
        department = DepartmentRepository(session).by_name("hypothesis")
        if department is None:
            department = DepartmentRepository(session).create("hypothesis")
        deadline = datetime(2021, 12, 31, tzinfo=UTC)
        filing_round = RoundRepository(session).create(2021, "2021", deadline, "hypothesis")
        user = UserRepository(session).upsert(7, "hypothesis", role=Role.STAFF)
        forms = FormRepository(session)
        form = forms.create(department.id, filing_round.id, TableKind.C)
        version = forms.save(
            form.id, state, expected_version=0, actor_user_id=user.id, action="fill"
        )
    with shared_db.transaction() as session:
        loaded = FormRepository(session).load(form.id)
    assert exact(loaded.state) == exact(replace(state, version=version))


@given(st.text())
def test_any_text_round_trips_or_is_refused_cleanly(value: str) -> None:
    try:
        record = codec.encode_answer("k", value)
    except ValueError:
        assert "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        return
    assert codec.decode_answer(record) == value
