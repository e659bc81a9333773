"""Import of a workbook in the official layout: problems by sheet and cell, and round trips."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pytest
from openpyxl import Workbook

from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.parsing.indicator import read_indicator
from dialogs.values import Period, YearMonth
from exports import department_workbook
from exports.importer import ImportProblem, import_workbook, normalize_label
from tests.support.seed import SEED_DEPARTMENT, SEED_YEAR, seed_filing
from tests.support.sheets import dump, find_one, load, merged_span


def _import(data: bytes, layout_key: str = "2021") -> DepartmentFiling | list[ImportProblem]:
    layout = seed_filing(layout_key).layout
    return import_workbook(data, layout, SEED_DEPARTMENT, SEED_YEAR)


def _save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _value_cell(book: Workbook, sheet: str, label: str) -> str:
    ws = book[sheet]
    row, col = find_one(ws, label)
    span = merged_span(ws, row, col)
    return str(ws.cell(row=row, column=(span[3] if span else col) + 1).coordinate)


@pytest.mark.parametrize("layout_key", ["2021", "2023"])
def test_round_trip_is_identical(layout_key: str) -> None:
    filing = seed_filing(layout_key)
    first = department_workbook(filing)
    imported = _import(first, layout_key)
    assert isinstance(imported, DepartmentFiling), imported
    second = department_workbook(imported)
    assert dump(second) == dump(first)
    assert imported.table_a is not None and filing.table_a is not None
    assert imported.table_a.state.values == filing.table_a.state.values
    assert imported.table_a.state.groups == filing.table_a.state.groups
    for before, after in zip(filing.directions, imported.directions, strict=True):
        assert after.state.values == before.state.values


def test_round_trip_keeps_indicator_rows() -> None:
    filing = seed_filing()
    imported = _import(department_workbook(filing))
    assert isinstance(imported, DepartmentFiling)
    assert imported.table_a is not None and filing.table_a is not None
    assert imported.table_a.state.indicators == filing.table_a.state.indicators
    assert imported.directions[3].state.indicators == filing.directions[3].state.indicators
    assert imported.directions[0].state.values["period"] == Period(
        YearMonth(2021, 1), YearMonth(2021, 12)
    )
    assert imported.table_a.state.values["total"] == Decimal("267.59151")


def test_round_trip_of_a_2023_split_value() -> None:
    filing = seed_filing("2023")
    assert filing.table_a is not None
    rows = list(filing.table_a.state.indicators)
    rows[0] = replace(rows[0], value="≥95%", reading=read_indicator(rows[0].name, "≥95%"))
    state = filing.table_a.state.evolve(indicators=tuple(rows))
    filing = replace(filing, table_a=FiledForm(1, state))
    first = department_workbook(filing)
    imported = _import(first, "2023")
    assert isinstance(imported, DepartmentFiling), imported
    assert imported.table_a is not None
    assert imported.table_a.state.indicators[0].value == "≥95%"
    assert imported.table_a.state.indicators[0].weight == rows[0].weight
    assert dump(department_workbook(imported)) == dump(first)


def test_problems_name_sheet_and_cell() -> None:
    book = load(department_workbook(seed_filing()))
    total = _value_cell(book, "表A", "资金总额")
    book["表A"][total] = "abc"
    amount = _value_cell(book, "表C2 理论学习", "项目金额")
    book["表C2 理论学习"][amount] = "-5"
    period = _value_cell(book, "表C3 意识形态", "项目实施期")
    book["表C3 意识形态"][period] = "2021.13-2021.12"
    duties = _value_cell(book, "表A", "部门职责概述")
    book["表A"][duties] = "=SUM(1,2)"
    problems = _import(_save(book))
    assert isinstance(problems, list)
    places = {(p.sheet, p.cell) for p in problems}
    assert places == {
        ("表A", total),
        ("表C2 理论学习", amount),
        ("表C3 意识形态", period),
        ("表A", duties),
    }
    by_place = {(p.sheet, p.cell): str(p) for p in problems}
    assert by_place[("表A", total)].startswith(f"表A!{total}：")
    assert "abc" in by_place[("表A", total)]
    assert "资金总额" in by_place[("表A", total)]
    assert "公式" in by_place[("表A", duties)]


def test_unknown_level2_and_duplicate_direction() -> None:
    book = load(department_workbook(seed_filing()))
    ws = book["表C1 文明建设和文明创建"]
    row, col = find_one(ws, "产出质量")
    ws.cell(row=row, column=col).value = "产出品质"
    other = book["表C2 理论学习"]
    other[_value_cell(book, "表C2 理论学习", "支出方向（子项）")] = "文明建设和文明创建"
    problems = _import(_save(book))
    assert isinstance(problems, list)
    texts = [str(p) for p in problems]
    assert any(
        t.startswith(f"表C1 文明建设和文明创建!{ws.cell(row=row, column=col).coordinate}：")
        for t in texts
    )
    assert any(p.sheet == "表C2 理论学习" and "重复" in p.message for p in problems)


def test_not_a_workbook_and_wrong_year() -> None:
    problems = _import(b"not a zip")
    assert isinstance(problems, list) and problems[0].sheet == "工作簿"
    book = load(department_workbook(seed_filing()))
    book["表A"]["A1"] = "2020年部门整体支出绩效目标表"
    problems = _import(_save(book))
    assert isinstance(problems, list)
    assert [(p.sheet, p.cell) for p in problems] == [("表A", "A1")]


def test_hand_made_sheet_in_the_same_layout() -> None:
    """Labels spelled with spaces and half-width brackets, amounts typed as text with 万元."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "理论学习"
    ws.append(["2021年专项资金支出方向绩效目标表"])
    ws.append(["项目主管部门：（盖章）中共株洲市石峰区委宣传部"])
    ws.append(["支出方向      (子项)", "理论学习", "所属专项", "业务性专项经费"])
    ws.append(["项目金额", "6万元", "项目实施期", "2021年1月-2021年12月"])
    ws.append(["实施期绩效目标", "加强全区领导干部思想政治建设。"])
    ws.append(["年度绩效目标", "完成中心组学习任务不少于12次。"])
    ws.append(["年度绩效指标", "一级指标", "二级指标", "三级指标", "指标值", "备注"])
    ws.append([None, "产出指标", "产出数量", "完成中心组学习任务", "12次"])
    ws.append([None, None, "产出质量", "学习内容覆盖率", "100%"])
    ws.append([None, "效益指标", "经济效益", "/", "/"])
    imported = _import(_save(book))
    assert isinstance(imported, DepartmentFiling), imported
    assert imported.table_a is None
    (form,) = imported.directions
    assert form.state.values["amount"] == Decimal(6)
    assert form.state.values["special_fund"] == "业务性专项经费"
    assert [r.level2 for r in form.state.indicators] == ["quantity", "quality", "economic"]
    assert form.state.indicators[2].not_applicable
    assert form.state.indicators[0].reading is not None


def test_normalize_label() -> None:
    assert normalize_label("支出方向      (子项)") == "支出方向（子项）"
    assert normalize_label("其中:基本支出") == "其中：基本支出"
