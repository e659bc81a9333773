"""The carry-over service on SQLite and PostgreSQL: which earlier filing is offered, that it is
copied once and never into a started round, and that the old-year update is refused on a stale
or locked form."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.carryover import CarryOverService
from bot.service import FilingService
from dialogs.definition import TableKind
from dialogs.state import FormStatus
from storage.db import Database
from storage.repos import DepartmentRepository, FormRepository, RoundRepository, UserRepository
from tests.support.lastyear import C_2021, DEPT, INDICATORS, NEWCOMER, filed_in_2021
from tests.support.scripted import SeedScript, acting_through, drive


def _ids(database: Database) -> tuple[int, int, int]:
    """(department, 2023 round, a staff user) of the filed department."""
    with database.transaction() as session:
        department = DepartmentRepository(session).by_name(DEPT)
        round_ = next(r for r in RoundRepository(session).list_open() if r.year == 2023)
        user = UserRepository(session).by_telegram_id(901)
        assert department is not None and user is not None
        return department.id, round_.id, user.id


def test_offered_once_and_copied_once(db: Database) -> None:
    filed_in_2021(db)
    department, round_, user = _ids(db)
    carry = CarryOverService(FilingService(db))
    assert carry.offer(department, round_) == 2021
    carried = carry.start(department, round_, user)
    assert carried is not None and carried.tables == 2
    assert carry.offer(department, round_) is None
    assert carry.start(department, round_, user) is None  # never twice, never mixed
    with db.transaction() as session:
        forms = FormRepository(session).list_for_department(department, round_)
        newcomer = DepartmentRepository(session).by_name(NEWCOMER)
    assert sorted(f.kind for f in forms) == [TableKind.A, TableKind.C]
    assert newcomer is not None and carry.offer(newcomer.id, round_) is None


def test_the_latest_earlier_filing_is_the_one_offered(db: Database) -> None:
    filed_in_2021(db)
    department, round_2023, user = _ids(db)
    with db.transaction() as session:
        round_2022 = RoundRepository(session).create(
            2022, "2021", datetime(2022, 3, 31, tzinfo=UTC), "2022年"
        )
    service = FilingService(db)
    view = service.new_direction(department, round_2022.id, user)

    answers = {**C_2021, "direction": "农田水利（2022）", "period": "2022.1-2022.12"}
    drive(
        SeedScript(answers, {}, INDICATORS), view.state, acting_through(service, view.form.id, user)
    )
    carry = CarryOverService(service)
    assert carry.offer(department, round_2023) == 2022
    carried = carry.start(department, round_2023, user)
    assert carried is not None and carried.from_year == 2022 and carried.tables == 1


def test_the_year_update_is_refused_on_a_stale_or_locked_form(db: Database) -> None:
    filed_in_2021(db)
    department, round_, user = _ids(db)
    service = FilingService(db)
    carry = CarryOverService(service)
    carried = carry.start(department, round_, user)
    assert carried is not None
    form = service.view(carried.first_form_id).form
    assert not carry.update_years(form.id, user, form.version - 1)
    service.set_status(form.id, FormStatus.SUBMITTED, user)
    locked = service.view(form.id).form
    assert not carry.update_years(form.id, user, locked.version)
    last_year = carry.last_year(form.id)
    assert last_year is not None and last_year.old_year_places  # nothing was changed
