"""Alembic environment: lossdb passes a Connection through config.attributes; alembic.ini gives a URL."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from lossdb.core.store.engine import make_engine, resolve_url
from lossdb.core.store.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    """The database of a developer run: `-x db=PATH_OR_URL`, else sqlalchemy.url, else $LOSSDB_DB / ./lossdb.db."""
    given = context.get_x_argument(as_dictionary=True).get("db") or config.get_main_option(
        "sqlalchemy.url"
    )
    return resolve_url(given)


def run_migrations_offline() -> None:
    """Emit the migration SQL for `alembic upgrade --sql` without connecting."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the caller's Connection, or one opened from alembic.ini's sqlalchemy.url."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Developer path (`alembic -c alembic.ini ...`): foreign keys off, as lossdb does,
    # because batch migrations on SQLite drop and recreate tables.
    engine = make_engine(_url(), foreign_keys=False)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    """Configure Alembic on `connection` (batch mode for SQLite) and run the migrations."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
