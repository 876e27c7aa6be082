"""vocabulary checks: the states of messages, enrollments and templates, channels, reply kinds

The database refuses a word outside each vocabulary (reminders.vocabulary), as it already did
for clinic alerts and digests. The words are written out here, as they were when this ran:
a new word is a new migration.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 06:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "scheduled",
    "queued",
    "sending",
    "retry_wait",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "cancelled",
    "skipped",
)
CHANNELS = ("sms", "email")
ENROLLMENT_STATUSES = ("active", "paused", "cancelled")
TEMPLATE_STATUSES = ("draft", "published", "retired")
REPLY_KINDS = (
    "score",
    "emergency",
    "worse",
    "better",
    "help",
    "opt_out",
    "opt_in",
    "unclear_stop",
    "other",
)
OUTCOMES = (
    "in_flight",
    "handed_over",
    "unsure",
    "sent",
    "transient",
    "permanent",
    "lost",
    "superseded",
)

# table: [(constraint name, column, words)]
CHECKS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "message": [("status", "status", STATUSES), ("channel", "channel", CHANNELS)],
    "delivery_attempt": [("outcome", "outcome", OUTCOMES)],
    "reply": [("kind", "kind", REPLY_KINDS), ("channel", "channel", CHANNELS)],
    "opt_out": [("channel", "channel", CHANNELS)],
    "enrollment": [("status", "status", ENROLLMENT_STATUSES)],
    "template_version": [("status", "status", TEMPLATE_STATUSES)],
}


def _one_of(column: str, words: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(word) for word in words)})"


def upgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, column, words in checks:
                batch.create_check_constraint(name, _one_of(column, words))


def downgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, _column, _words in checks:
                batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
