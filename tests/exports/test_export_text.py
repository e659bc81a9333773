"""Table B shown as text before export is the grid the workbook prints, row by row."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.state import FormState
from exports.table_b import table_b_grid
from exports.tables import SHEET_B
from exports.text import grid_lines, table_b_lines

DEPARTMENT = "青禾县水利局"


def direction(form_id: int, name: str, fund: str, amount: str) -> FiledForm:
    values: dict[str, object] = {
        "direction": name,
        "special_fund": fund,
        "amount": Decimal(amount),
        "period_goal": f"{name}三年内全部完工",
        "annual_goal": f"{name}年内完成一期\n验收合格",
    }
    return FiledForm(form_id=form_id, state=FormState(values=values))  # type: ignore[arg-type]


def filing(layout: str, year: int) -> DepartmentFiling:
    return DepartmentFiling(
        department=DEPARTMENT,
        year=year,
        layout=get_layout(layout),
        table_a=None,
        directions=(
            direction(11, "小型水库除险加固", "水利发展资金", "120.125"),
            direction(12, "农村饮水安全巩固", "农村供水专项", "48"),
            direction(13, "山洪沟治理", "水利发展资金", "0.000001"),
        ),
    )


@pytest.mark.parametrize(("layout", "year"), [("2021", 2022), ("2023", 2025)])
def test_every_cell_of_the_grid_is_in_the_text(layout: str, year: int) -> None:
    department = filing(layout, year)
    grid = table_b_grid(department, SHEET_B)
    text = "\n".join(table_b_lines(department))
    for cell in grid.cells:
        if isinstance(cell.value, str):
            assert cell.value.replace("\n", " ") in text
    # The sums are the grid's, exactly as entered: no rounding, no exponent.
    assert "120.125001" in text and "0.000001" in text and "168.125001" in text
    assert f"{year}年" in text and DEPARTMENT in text
    assert grid_lines(grid) == table_b_lines(department)


def test_one_line_per_row_in_order() -> None:
    lines = table_b_lines(filing("2023", 2025))
    names = ["水利发展资金", "小型水库除险加固", "山洪沟治理", "农村供水专项", "农村饮水安全巩固"]
    positions = [next(i for i, line in enumerate(lines) if name in line) for name in names]
    assert positions == sorted(positions)
