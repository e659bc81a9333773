"""Readings in a magnitude of a known unit (万吨, 万人次, 亿人次) are as sure as in the unit itself:
the engine does not ask to confirm a reading identical to what was typed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.answers import MAGNITUDES, scaled_unit_reading
from dialogs.parsing.indicator import (
    MONEY_UNITS,
    PERCENT_UNITS,
    TIME_UNITS,
    UNITS,
    read_indicator,
)
from dialogs.values import Comparator, Nature, Reading


def reading(name: str, value: str) -> Reading:
    return scaled_unit_reading(name, value, read_indicator(name, value))


@pytest.mark.parametrize(
    ("name", "value", "comparator", "number", "unit", "sure"),
    [
        ("年度粮食收储量", "≥5万吨", Comparator.GE, "5", "万吨", True),
        ("年度粮食收储量", "3.5万吨以上", Comparator.GE, "3.5", "万吨", True),
        ("年度粮食收储量", "不超过5万吨", Comparator.LE, "5", "万吨", True),
        ("接待游客人次", "≥1.2亿人次", Comparator.GE, "1.2", "亿人次", True),
        ("新增绿化面积", "≥2万亩", Comparator.GE, "2", "万亩", True),
        ("接待游客人次", "≥12万人次", Comparator.GE, "12", "万人次", True),
        # Every other doubt still asks.
        ("年度粮食收储量", "不超过5万吨以上", Comparator.LE, "5", "万吨", False),
        ("播放量", "≥5万帧", Comparator.GE, "5", "万帧", False),
        ("收储量", "≥5亿万吨", Comparator.GE, "5", "亿万吨", False),
    ],
)
def test_case_table(
    name: str, value: str, comparator: Comparator, number: str, unit: str, sure: bool
) -> None:
    found = reading(name, value)
    assert found.nature is Nature.QUANTITATIVE
    assert (found.comparator, found.number, found.unit) == (comparator, Decimal(number), unit)
    assert found.sure is sure


# Units a magnitude is written before: counts and measures (not %, time or money). The
# unknown-unit reading takes at most three characters, so a magnitude fits before units of two.
COUNT_UNITS = sorted(
    u
    for u in UNITS
    if u not in (*PERCENT_UNITS, *TIME_UNITS, *MONEY_UNITS)
    and not u.startswith(MAGNITUDES)
    and len(u) <= 2
)


@given(
    number=st.integers(min_value=1, max_value=99_999),
    unit=st.sampled_from(COUNT_UNITS),
    magnitude=st.sampled_from(MAGNITUDES),
    prefix=st.sampled_from(["≥", "≤", "不少于", "", "达到"]),
    suffix=st.sampled_from(["", "以上", "以内"]),
)
def test_a_magnitude_is_as_sure_as_its_unit(
    number: int, unit: str, magnitude: str, prefix: str, suffix: str
) -> None:
    plain = read_indicator("年度任务", f"{prefix}{number}{unit}{suffix}")
    scaled = reading("年度任务", f"{prefix}{number}{magnitude}{unit}{suffix}")
    assert plain.nature is Nature.QUANTITATIVE and plain.unit == unit
    assert scaled.nature is Nature.QUANTITATIVE and scaled.unit == magnitude + unit
    assert (scaled.number, scaled.comparator) == (plain.number, plain.comparator)
    assert scaled.sure == plain.sure
