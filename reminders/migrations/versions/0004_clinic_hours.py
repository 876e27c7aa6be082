"""clinic hours: when the clinic reads replies

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 17:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clinic_settings") as batch:
        batch.add_column(
            sa.Column("open_days", sa.String(length=40), server_default="mon-fri", nullable=False)
        )
        batch.add_column(
            sa.Column("opens_at", sa.String(length=5), server_default="08:00", nullable=False)
        )
        batch.add_column(
            sa.Column("closes_at", sa.String(length=5), server_default="18:00", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic_settings") as batch:
        batch.drop_column("closes_at")
        batch.drop_column("opens_at")
        batch.drop_column("open_days")
