"""Add the JSON extras column to runs (engine results beyond per-epoch metrics).

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add runs.extras, NULL for the runs stored before it existed."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("extras", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop runs.extras (the extras of every stored run are lost)."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("extras")
