"""Forms put into a given state for the chat tests: a direction (table C) answered by the step
engine with values of our own (not the seed's), up to a section or to the end, and stored.

Only the setup is done this way; everything the tests check goes through chat.
"""

from __future__ import annotations

from decimal import Decimal

from dialogs.actions import FilingContext
from dialogs.definition import FormDefinition, TableKind
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.state import FormState
from dialogs.steps import parse_address, section_of_step
from storage.repos import FormRepository
from tests.support.reminder_world import World
from tests.support.scripted import SeedScript
from tests.support.seed import SeedIndicator

ROWS = {
    "quantity": ("养护农村公路里程", "≥120公里"),
    "quality": ("路面完好率", "≥92%"),
    "timeliness": ("养护任务完成时间", "2021年11月底前完成"),
    "cost": ("每公里养护成本", "≤0.3万元"),
    "social": ("群众出行便利度提升", "明显提升"),
    "satisfaction": ("沿线群众满意度", "≥88%"),
}


def _indicators(definition: FormDefinition) -> tuple[SeedIndicator, ...]:
    """One row under every 二级 of ROWS and under the first 二级 of each 一级, the others
    不适用."""
    indicators = []
    for level1 in definition.indicators.levels:
        for index, level2 in enumerate(level1.children):
            found = ROWS.get(level2.key) or (("沿线路段覆盖率", "100%") if index == 0 else None)
            if found is None:
                indicators.append(SeedIndicator(level2.key, "/", "/"))
            else:
                indicators.append(SeedIndicator(level2.key, *found))
    return tuple(indicators)


def direction_script(name: str, layout_key: str) -> SeedScript:
    """A road-maintenance direction of 36.8 万元."""
    answers = {
        "direction": name,
        "special_fund": "交通运输专项",
        "amount": "36.8",
        "period": "2021.2-2021.11",
        "period_goal": "完成全镇农村公路日常养护，保持路况良好。",
        "annual_goal": "年内养护农村公路不少于120公里，路面完好率达到92%以上。",
    }
    return SeedScript(answers=answers, indicators=_indicators(get_layout(layout_key).table_c))


def table_a_script(layout_key: str, project_expense: str = "36.8") -> SeedScript:
    """A transport office's table A: 150 万元 of which `project_expense` for projects."""
    basic = Decimal(150) - Decimal(project_expense)
    answers: dict[str, str | None] = {
        "total": "150",
        "general_budget": "150",
        "government_fund": None,
        "other_funds": None,
        "basic_expense": str(basic),
        "project_expense": project_expense,
        "duties": "（一）负责全镇农村公路的建设和养护。（二）负责道路运输安全监管。",
        "overall_goal": "保障全镇农村公路安全畅通。",
    }
    groups = {"key_tasks": [{"item": "农村公路日常养护", "unit": "养护站", "goal": "全年无断行"}]}
    definition = get_layout(layout_key).table_a
    return SeedScript(answers=answers, groups=groups, indicators=_indicators(definition))


def fill_table_a(world: World, department: str, *, project_expense: str = "36.8") -> int:
    """The department's table A, answered to the end and stored; returns its form id."""
    script = table_a_script(world.round.layout, project_expense)
    return _fill(world, department, TableKind.A, script, None)


def fill_direction(
    world: World, department: str, name: str, *, stop_at_section: str | None = None
) -> int:
    """A stored direction of `department`, answered to the end (the review step) or until the
    first step of the section with key `stop_at_section`; returns its form id."""
    script = direction_script(name, world.round.layout)
    return _fill(world, department, TableKind.C, script, stop_at_section)


def _fill(
    world: World,
    department: str,
    kind: TableKind,
    script: SeedScript,
    stop_at_section: str | None,
) -> int:
    definition = get_layout(world.round.layout).table(kind)
    engine = Engine(definition)
    context = FilingContext(year=world.round.year, department_name=department)
    state = engine.resume(FormState())
    for _ in range(300):
        step = parse_address(state.cursor)
        section = section_of_step(definition, step) if step is not None else None
        if section is not None and section.key == stop_at_section:
            break
        scripted = script.next_action(state.cursor, state)
        if scripted is None:
            break
        outcome = engine.handle(state, scripted.action, context)
        assert outcome.accepted, (state.cursor, [p.message for p in outcome.problems])
        state = engine.resume(outcome.state)
    else:
        raise AssertionError(f"not done after 300 steps; at {state.cursor}")
    with world.database.transaction() as session:
        forms = FormRepository(session)
        if kind is TableKind.A:
            form = forms.get_or_create(world.departments[department].id, world.round.id, kind)
        else:
            form = forms.create(world.departments[department].id, world.round.id, kind)
        forms.save(
            form.id,
            state,
            expected_version=form.version,
            actor_user_id=None,
            action="test",
            instance_key=definition.instance_field,
        )
        return form.id
