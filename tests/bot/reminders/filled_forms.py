"""Forms put into a given state for the chat tests: a direction (table C) answered by the step
engine with values of our own (not the seed's), up to a section or to the end, and stored.

Only the setup is done this way; everything the tests check goes through chat.
"""

from __future__ import annotations

from dialogs.actions import FilingContext
from dialogs.definition import TableKind
from dialogs.engine import Engine
from dialogs.loader import get_layout
from dialogs.state import FormState
from dialogs.steps import parse_address, section_of_step
from storage.repos import FormRepository
from tests.bot.reminders.reminder_world import World
from tests.support.scripted import SeedScript
from tests.support.seed import SeedIndicator


def direction_script(name: str, layout_key: str) -> SeedScript:
    """A road-maintenance direction: one row under every 二级 of the layout that gets one, the
    others 不适用 (the first 二级 of each 一级 always gets one)."""
    layout = get_layout(layout_key)
    rows = {
        "quantity": ("养护农村公路里程", "≥120公里"),
        "quality": ("路面完好率", "≥92%"),
        "timeliness": ("养护任务完成时间", "2021年11月底前完成"),
        "cost": ("每公里养护成本", "≤0.3万元"),
        "social": ("群众出行便利度提升", "明显提升"),
        "satisfaction": ("沿线群众满意度", "≥88%"),
    }
    indicators = []
    for level1 in layout.table_c.indicators.levels:
        for index, level2 in enumerate(level1.children):
            found = rows.get(level2.key) or (("沿线路段覆盖率", "100%") if index == 0 else None)
            if found is None:
                indicators.append(SeedIndicator(level2.key, "/", "/"))
            else:
                indicators.append(SeedIndicator(level2.key, *found))
    answers = {
        "direction": name,
        "special_fund": "交通运输专项",
        "amount": "36.8",
        "period": "2021.2-2021.11",
        "period_goal": "完成全镇农村公路日常养护，保持路况良好。",
        "annual_goal": "年内养护农村公路不少于120公里，路面完好率达到92%以上。",
    }
    return SeedScript(answers=answers, indicators=tuple(indicators))


def fill_direction(
    world: World, department: str, name: str, *, stop_at_section: str | None = None
) -> int:
    """A stored direction of `department`, answered to the end (the review step) or until the
    first step of the section with key `stop_at_section`; returns its form id."""
    layout = get_layout(world.round.layout)
    definition = layout.table_c
    engine = Engine(definition)
    context = FilingContext(year=world.round.year, department_name=department)
    script = direction_script(name, layout.key)
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
        form = forms.create(world.departments[department].id, world.round.id, TableKind.C)
        forms.save(
            form.id,
            state,
            expected_version=form.version,
            actor_user_id=None,
            action="test",
            instance_key=definition.instance_field,
        )
        return form.id
