"""dashboard indexes: counts by due day, check-in answers, open flags

The dashboard counts messages due today and this week (due_at, status), the answers to
recent check-ins (checkin, status, due_at; reply.received_at) and the open flags (flag.closed_at) from indexes,
so the page costs the same at a million messages as at ten thousand.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-21 10:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_message_due_at_status", "message", ["due_at", "status"])
    op.create_index("ix_message_checkin_status_due_at", "message", ["checkin", "status", "due_at"])
    op.create_index(op.f("ix_reply_received_at"), "reply", ["received_at"])
    op.create_index(op.f("ix_reply_checkin_message_id"), "reply", ["checkin_message_id"])
    op.create_index(op.f("ix_flag_closed_at"), "flag", ["closed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reply_received_at"), table_name="reply")
    op.drop_index("ix_message_checkin_status_due_at", table_name="message")
    op.drop_index(op.f("ix_flag_closed_at"), table_name="flag")
    op.drop_index(op.f("ix_reply_checkin_message_id"), table_name="reply")
    op.drop_index("ix_message_due_at_status", table_name="message")
