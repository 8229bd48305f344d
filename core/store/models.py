"""The store's tables as SQLAlchemy 2 typed ORM models; migrations/versions must match them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lossdb.core.status import DONE_STATUSES, STATUSES  # noqa: F401  (re-exported by core.store)

# Every constraint and index gets a predictable name, so batch migrations on SQLite
# (which recreate tables) and PostgreSQL can address them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Experiment(Base):
    """A named experiment definition; `spec` is its full definition as JSON."""

    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Run(Base):
    """One arm trained with one seed: config, status, timings and provenance."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("experiment_id", "arm_hash", "seed", "engine_version"),
        CheckConstraint(
            "status IN ('running', 'finished', 'diverged', 'failed', 'interrupted')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    arm_hash: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer, index=True)
    engine_version: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    loss: Mapped[str] = mapped_column(String(32), index=True)
    head: Mapped[str] = mapped_column(String(32), index=True)
    dataset: Mapped[str] = mapped_column(String(500), index=True)
    lr: Mapped[float] = mapped_column(Double, index=True)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    diverged_epoch: Mapped[int | None] = mapped_column(Integer)
    epochs: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wall_seconds: Mapped[float | None] = mapped_column(Double)
    lossdb_version: Mapped[str] = mapped_column(String(64))
    numpy_version: Mapped[str] = mapped_column(String(64))
    python_version: Mapped[str] = mapped_column(String(64))
    git_commit: Mapped[str | None] = mapped_column(String(64))
    extras: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # SHA-256 of the data the run trained on (core.data.fingerprint); NULL for runs stored before 0004
    data_digest: Mapped[str | None] = mapped_column(String(64))


class Series(Base):
    """One metric of a run: its values at epochs 0..epochs-1 packed as little-endian floats.

    `encoding` says how (core/store/packing.py): "f4" float32 (when every value converts to it
    and back unchanged) or "f8" float64, with a "z" when zlib-compressed; NaN and ±inf are kept
    as the floats themselves.
    """

    # A rowid table on purpose: SQLite keeps up to ~4 KB of a row in its leaf page there, but only
    # ~1 KB in a WITHOUT ROWID table, whose longer series then waste most of an overflow page.
    __tablename__ = "series"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    epochs: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(8))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RunSummary(Base):
    """What a verdict reads of one metric of a run, written with its series; NULL means NaN.

    `value` is the final value; min/max and their (first) epochs are over the finite values
    (NULL when there is none); `mean_value` is the mean over every epoch (the normalised area
    under the curve, NaN or ±inf when a value is); `epochs` is the number of values stored.
    """

    __tablename__ = "run_summaries"
    __table_args__ = {"sqlite_with_rowid": False}

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float | None] = mapped_column(Double)
    min_value: Mapped[float | None] = mapped_column(Double)
    max_value: Mapped[float | None] = mapped_column(Double)
    min_epoch: Mapped[int | None] = mapped_column(Integer)
    max_epoch: Mapped[int | None] = mapped_column(Integer)
    mean_value: Mapped[float | None] = mapped_column(Double)
    epochs: Mapped[int | None] = mapped_column(Integer)


class StoreVersion(Base):
    """The store's one identity row: a random id given at creation and a counter every write
    transaction bumps (the change fingerprint the caches and the dashboard compare)."""

    __tablename__ = "store_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(BigInteger)
