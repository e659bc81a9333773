"""Forms and invite codes are nobody else's business: the data directory is created 0700, the
SQLite file and its -wal/-shm companions 0600, exported workbooks 0600 — whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.files import export_command
from bot.settings import Settings
from storage.db import Database, make_private_dir, write_private_file
from storage.repos import DepartmentRepository, RoundRepository


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The most permissive umask a user may have: nothing is private by accident."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_database_directory_file_and_wal_are_private(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    database = Database(f"sqlite:///{data / 'jixiao.sqlite3'}")
    database.upgrade()
    with database.transaction() as session:  # a write, so the WAL and shared memory exist
        session.execute(text("CREATE TABLE probe (x INTEGER)"))
    files = sorted(p.name for p in data.iterdir())
    assert "jixiao.sqlite3-wal" in files and "jixiao.sqlite3-shm" in files
    assert mode(data) == 0o700
    assert {name: mode(data / name) for name in files} == dict.fromkeys(files, 0o600)
    database.dispose()


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    Database(f"sqlite:///{path}").dispose()
    path.chmod(0o644)
    Database(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600


def test_an_existing_directory_is_left_as_it_is(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    make_private_dir(shared)
    assert mode(shared) == 0o755


def test_written_files_are_private_even_when_replacing_one(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"old")
    path.chmod(0o666)
    write_private_file(path, b"new")
    assert path.read_bytes() == b"new" and mode(path) == 0o600


def test_exported_workbooks_are_private(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'x.sqlite3'}"
    settings = Settings(JIXIAO_DATA_DIR=tmp_path / "data", DATABASE_URL=url)
    database = Database(url)
    database.upgrade()
    with database.transaction() as session:
        DepartmentRepository(session).create("青禾县水利局")
        RoundRepository(session).create(2024, "2023", datetime(2024, 3, 31, tzinfo=UTC), "2024")
    database.dispose()
    out = tmp_path / "exports"
    assert export_command(settings, 2024, "青禾县水利局", f"{out}/") == 0
    assert export_command(settings, 2024, None, str(out / "round")) == 0
    books = sorted(out.iterdir())
    assert [p.suffix for p in books] == [".xlsx", ".xlsx"]
    assert [mode(p) for p in books] == [0o600, 0o600]
    assert mode(out) == 0o700
