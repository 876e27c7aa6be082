"""structured email: the email as its author wrote it

Admins may write an email once, as structured text (paragraphs, lists, links); its text and
HTML parts are made from it when it is saved (reminders.content.structured_email). The structured
text is kept with the version so that the editor shows it again; "" for emails whose parts
were written by hand, as every version before this one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-23 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("template_version") as batch:
        batch.add_column(sa.Column("email_body", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("template_version") as batch:
        batch.drop_column("email_body")
