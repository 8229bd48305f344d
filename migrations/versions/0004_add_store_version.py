"""Add store_version: one row holding the store's identity and a counter every write transaction bumps.

The dashboard and the on-disk cache compare (identity, version) instead of guessing changes from
row counts, which missed a deleted experiment replaced by another of the same size. The identity
is a random id given once per database, so another database moved over the file reads as new.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create store_version with its one row: a new identity, version 1."""
    table = op.create_table(
        "store_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=36), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_version")),
    )
    op.bulk_insert(table, [{"id": 1, "identity": str(uuid.uuid4()), "version": 1}])


def downgrade() -> None:
    """Drop store_version."""
    op.drop_table("store_version")
