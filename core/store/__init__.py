"""The lossdb store: open a database, check or upgrade its schema, save and query runs.

Only this package imports SQLAlchemy; callers get plain frozen records and pandas frames.
"""

from __future__ import annotations

from lossdb.core.store import migrate as _migrate
from lossdb.core.store.engine import (
    DEFAULT_URL,
    ENV_VAR,
    describe,
    file_identity,
    make_engine,
    mask_url,
    resolve_url,
    sqlite_path,
)
from lossdb.core.store.exports import FORMATS as EXPORT_FORMATS
from lossdb.core.store.exports import ExportResult, export, iter_metrics, iter_runs, run_as_dict
from lossdb.core.store.migrate import Upgrade, known_revisions
from lossdb.core.store.models import DONE_STATUSES, STATUSES
from lossdb.core.store.records import NewRun, RunRecord
from lossdb.core.store.store import Store

__all__ = [
    "DEFAULT_URL",
    "DONE_STATUSES",
    "ENV_VAR",
    "EXPORT_FORMATS",
    "STATUSES",
    "ExportResult",
    "NewRun",
    "RunRecord",
    "Store",
    "Upgrade",
    "current",
    "describe",
    "export",
    "file_identity",
    "head_revision",
    "iter_metrics",
    "iter_runs",
    "known_revisions",
    "mask_url",
    "open_store",
    "resolve_url",
    "run_as_dict",
    "sqlite_path",
    "upgrade",
]


def open_store(db: str | None = None, *, create: bool = True, read_only: bool = False) -> Store:
    """Open the database `db` (path, URL, or None for $LOSSDB_DB / ./lossdb.db), checking its schema.

    An empty or new database is created at the newest schema when `create` is true (never when
    `read_only`); an older schema raises SchemaOutdatedError naming `lossdb db upgrade`; a file
    that is not a lossdb database raises StoreError and is left untouched.
    """
    url = resolve_url(db)
    if create and not read_only:
        _migrate.refuse_in_memory(url)
    _migrate.check_sqlite_file(url, must_exist=read_only or not create, writable=not read_only)
    engine = make_engine(url, read_only=read_only)
    try:
        _migrate.prepare(engine, url, create=create and not read_only)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, url, read_only=read_only)


def upgrade(db: str | None) -> Upgrade:
    """Upgrade `db` to the newest schema; a SQLite file with content is copied to <file>.bak-<time> first."""
    return _migrate.upgrade(resolve_url(db))


def current(db: str | None) -> str | None:
    """The schema revision of `db`, or None for an empty database; changes nothing."""
    return _migrate.current(resolve_url(db))


def head_revision() -> str:
    """The newest schema revision this lossdb knows."""
    return _migrate.head_revision()
