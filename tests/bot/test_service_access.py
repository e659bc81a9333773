"""Access in the services, by code: every actor-taking call, for each role, without a chat.

The handlers only turn these results into messages (tests/bot/test_handlers_guard.py), so what a
role may do is decided here for every channel; tests/bot/test_access_matrix.py proves the same
through the Telegram Application. Refusals are asserted by their code (bot.messages.Notice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.carryover import CarryOverService
from bot.imports import ImportService, ImportTarget
from bot.messages import Notice, Refused
from bot.roles import Actor, Directory, Scope
from bot.service import ActResult, FilingService, FormReview, FormView, TableMenu
from dialogs.catalogue import Code, Problem
from storage.db import Database
from storage.records import Department, Role
from storage.repos import DepartmentRepository, RoundRepository, UserRepository


@dataclass(frozen=True)
class World:
    service: FilingService
    directory: Directory
    actors: dict[str, Actor]
    x: Department
    y: Department
    form_x: int  # X's table A, staff X's current form
    version_x: int


ADMIN_TELEGRAM_ID = 9000


@pytest.fixture
def world(db: Database) -> World:
    with db.transaction() as session:
        departments, users = DepartmentRepository(session), UserRepository(session)
        x, y = departments.create("甲部门"), departments.create("乙部门")
        deadline = datetime.now(UTC) + timedelta(days=30)
        RoundRepository(session).create(2021, "2021", deadline, "2021年填报")
        people = {
            "staff_x": users.create(9001, "甲", Role.STAFF, x.id),
            "staff_y": users.create(9002, "乙", Role.STAFF, y.id),
            "unplaced": users.create(9003, "丙", Role.STAFF),
            "supervisor_x": users.create(9004, "丁", Role.SUPERVISOR),
            "district": users.create(9005, "戊", Role.DISTRICT_SUPERVISOR),
        }
        users.oversee(people["supervisor_x"].id, x.id)
    directory = Directory(db, {ADMIN_TELEGRAM_ID})
    actors = {
        role: found
        for role, user in people.items()
        if (found := directory.identify(user.telegram_id, user.display_name)) is not None
    }
    admin = directory.identify(ADMIN_TELEGRAM_ID, "管理员")
    assert admin is not None and len(actors) == len(people)
    actors["admin"] = admin
    service = FilingService(db)
    view = service.open_own_table_a(actors["staff_x"])
    assert isinstance(view, FormView)
    return World(service, directory, actors, x, y, view.form.id, view.form.version)


def code(result: object) -> Notice | None:
    return result.code if isinstance(result, Refused) else None


READERS = ("supervisor_x", "district", "admin")


def test_only_staff_of_a_department_fill(world: World) -> None:
    service = world.service
    for role in READERS:
        actor = world.actors[role]
        assert code(service.menu(actor)) is Notice.NOT_STAFF
        assert code(service.resume(actor)) is Notice.NOT_STAFF
        assert code(service.open_own_table_a(actor)) is Notice.NOT_STAFF
        assert code(service.add_direction(actor, 0)) is Notice.NOT_STAFF
        assert code(service.current_review(actor)) is Notice.NOT_STAFF
        assert code(service.submit(actor)) is Notice.NOT_STAFF
        assert code(service.open_as(actor, world.form_x)) is Notice.NOT_STAFF
        assert code(service.press(actor, world.form_x, world.version_x, 0)) is Notice.NOT_ALLOWED
        assert code(service.submit(actor, world.form_x)) is Notice.NOT_ALLOWED
    unplaced = world.actors["unplaced"]
    assert code(service.menu(unplaced)) is Notice.NO_DEPARTMENT
    assert code(service.resume(unplaced)) is Notice.NO_DEPARTMENT


def test_staff_fill_only_their_own_department(world: World) -> None:
    service, own, other = world.service, world.actors["staff_x"], world.actors["staff_y"]
    assert isinstance(service.resume(own), FormView)  # back at their form in progress
    assert isinstance(service.resume(other), TableMenu)
    menu = service.menu(own)
    assert isinstance(menu, TableMenu) and menu.department == world.x
    assert menu.table_a is not None and menu.table_a.form.id == world.form_x
    for result in (
        service.open_as(other, world.form_x),
        service.press(other, world.form_x, world.version_x, 0),
        service.jump(other, world.form_x, world.version_x, "f:total"),
        service.submit(other, world.form_x, expected_version=world.version_x),
        service.open_as(own, 999_999),  # a form that does not exist
        service.press(own, 999_999, 0, 0),
    ):
        assert code(result) is Notice.NOT_ALLOWED
    assert isinstance(service.press(own, world.form_x, world.version_x, 0), ActResult | FormReview)
    stale = service.press(own, world.form_x, world.version_x + 1, 0)  # a forged later version
    assert isinstance(stale, ActResult) and stale.stale
    assert code(service.add_direction(own, 7)) is Notice.MENU_CHANGED  # an old menu
    assert isinstance(service.add_direction(own, 0), FormView)
    assert code(service.current_review(other)) is Notice.NO_CURRENT_FORM


def test_review_is_for_whoever_sees_the_department_and_submit_for_who_fills_it(
    world: World,
) -> None:
    service = world.service
    for role, may_see, may_submit in (
        ("staff_x", True, True),
        ("staff_y", False, False),
        ("supervisor_x", True, False),
        ("district", True, False),
        ("admin", True, False),
    ):
        shown = service.review_as(world.actors[role], world.form_x)
        if may_see:
            assert isinstance(shown, FormReview) and shown.may_submit is may_submit, role
        else:
            assert code(shown) is Notice.NOT_ALLOWED, role


def test_scope_is_the_one_visibility_rule(world: World) -> None:
    directory, x, y = world.directory, world.x, world.y
    for role, seen in (
        ("staff_x", {x.id}),
        ("supervisor_x", {x.id}),
        ("district", {x.id, y.id}),
        ("admin", {x.id, y.id}),
    ):
        actor = world.actors[role]
        scope = directory.scope(actor)
        assert isinstance(scope, Scope) and {d.id for d in scope.departments} == seen, role
        for department in (x, y):
            named = directory.scope(actor, department.id)
            assert isinstance(named, Scope) if department.id in seen else code(named), role
    assert code(directory.scope(world.actors["staff_x"], y.id)) is Notice.NOT_ALLOWED
    assert code(directory.scope(world.actors["unplaced"])) is Notice.NO_DEPARTMENTS_IN_SCOPE
    assert code(directory.scope(world.actors["staff_x"], whole_round=True)) is Notice.NOT_ALLOWED
    assert isinstance(directory.scope(world.actors["district"], whole_round=True), Scope)


def test_admin_work_is_refused_to_everyone_else(world: World) -> None:
    directory = world.directory
    deadline = datetime.now(UTC) + timedelta(days=30)
    for role in ("staff_x", "supervisor_x", "district"):
        actor = world.actors[role]
        assert code(directory.overview(actor)) is Notice.NOT_ALLOWED
        assert code(directory.round_layouts(actor)) is Notice.NOT_ALLOWED
        assert code(directory.create_department(actor, "新部门")) is Notice.NOT_ALLOWED
        assert code(directory.create_round(actor, 2022, deadline, "2021")) is Notice.NOT_ALLOWED
        assert code(directory.create_invite(actor, Role.SUPERVISOR, world.x.id)) is (
            Notice.NOT_ALLOWED
        )
    admin = world.actors["admin"]
    assert not isinstance(directory.overview(admin), Refused)
    assert code(directory.create_department(admin, "甲部门")) is Notice.DEPARTMENT_EXISTS
    assert code(directory.create_department(admin, "")) is Notice.DEPARTMENT_NAME_LENGTH
    problem = directory.create_department(admin, "部门\x07")
    assert isinstance(problem, Problem) and problem.code is Code.CONTROL_CHARACTERS
    assert code(directory.redeem(ADMIN_TELEGRAM_ID, "管理员", "ANY")) is Notice.ADMIN_CANNOT_JOIN
    assert code(directory.redeem(9100, "新人", "NO-SUCH-CODE")) is Notice.INVITE_NOT_FOUND


def test_invites_follow_the_inviters_scope(world: World) -> None:
    directory, x, y = world.directory, world.x, world.y
    assert code(directory.roles_to_invite(world.actors["staff_x"])) is Notice.NOT_ALLOWED
    supervisor = world.actors["supervisor_x"]
    assert directory.roles_to_invite(supervisor) == (Role.STAFF,)
    departments = directory.invite_departments(supervisor, Role.STAFF)
    assert isinstance(departments, list) and [d.id for d in departments] == [x.id]
    assert code(directory.invite_departments(supervisor, Role.SUPERVISOR)) is Notice.NOT_ALLOWED
    assert code(directory.create_invite(supervisor, Role.STAFF, y.id)) is Notice.NOT_ALLOWED
    assert not isinstance(directory.create_invite(supervisor, Role.STAFF, x.id), Refused)


def test_imports_and_carry_over_are_for_staff_only(world: World) -> None:
    imports = ImportService(world.service)
    carry = CarryOverService(world.service)
    for role in READERS:
        actor = world.actors[role]
        assert code(imports.receive(actor, "表.xlsx", 1000)) is Notice.NOT_STAFF
        assert code(carry.start_as(actor)) is Notice.NOT_STAFF
        assert code(carry.update_years_as(actor, world.form_x, world.version_x)) is (
            Notice.NOT_ALLOWED
        )
    staff = world.actors["staff_x"]
    assert code(imports.receive(staff, "notes.txt", 10)) is Notice.IMPORT_NOT_XLSX
    too_large = imports.receive(staff, "表.xlsx", 10**9)
    assert isinstance(too_large, Problem) and too_large.code is Code.IMPORT_FILE_TOO_LARGE
    assert isinstance(imports.receive(staff, "表.xlsx", 1000), ImportTarget)
    assert code(imports.take(staff, to_apply=True)) is Notice.IMPORT_NOTHING_PENDING
    assert code(carry.start_as(staff)) is Notice.CARRY_OVER_REFUSED  # the round has begun
    other = world.actors["staff_y"]
    assert code(carry.update_years_as(other, world.form_x, world.version_x)) is (
        Notice.NOT_ALLOWED
    )
