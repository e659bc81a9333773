"""Alembic environment. `storage.db.upgrade` passes an open connection in
`config.attributes["connection"]`; the `alembic` command line (alembic.ini at the repository root)
connects to `sqlalchemy.url` or, when that is empty, to `DATABASE_URL`."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

from storage.db import database_url, make_engine
from storage.models import metadata

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _configure(given)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    url = config.get_main_option("sqlalchemy.url") or database_url()
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url, foreign_keys=False, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            _configure(connection)
    finally:
        engine.dispose()


_run()
