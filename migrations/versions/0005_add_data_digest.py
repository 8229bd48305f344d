"""Add runs.data_digest, the SHA-256 of the data each run trained on (a changed CSV is never mixed).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add runs.data_digest, NULL ("unknown") for the runs stored before it existed."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("data_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop runs.data_digest (every stored run's data digest is lost)."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("data_digest")
