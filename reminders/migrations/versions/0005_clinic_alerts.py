"""clinic alerts: a table of their own (the claim, the outcome, the acknowledgement)

Alerts recorded before this revision (as audit events) get their row, so that the reaper
does not send them again: `sent` when a channel went out, else `failed` with the reason.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clinic_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("retry", sa.Boolean(), nullable=False),
        sa.Column("patient_told_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.CheckConstraint(
            "status IN ('sending', 'sent', 'failed')", name=op.f("ck_clinic_alert_status")
        ),
        sa.ForeignKeyConstraint(
            ["reply_id"],
            ["reply.id"],
            name=op.f("fk_clinic_alert_reply_id_reply"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_alert")),
        sa.UniqueConstraint("reply_id", name=op.f("uq_clinic_alert_reply_id")),
    )
    with op.batch_alter_table("clinic_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clinic_alert_status"), ["status"], unique=False)
    _carry_over_audited_alerts()


def _carry_over_audited_alerts() -> None:
    audit = sa.table(
        "audit_event",
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("action", sa.String()),
        sa.column("subject_type", sa.String()),
        sa.column("subject_id", sa.Integer()),
        sa.column("detail", sa.JSON()),
    )
    alert = sa.table(
        "clinic_alert",
        sa.column("reply_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("attempts", sa.Integer()),
        sa.column("claimed_at", sa.DateTime(timezone=True)),
        sa.column("finished_at", sa.DateTime(timezone=True)),
        sa.column("channels", sa.JSON()),
        sa.column("reason", sa.String()),
        sa.column("retry", sa.Boolean()),
    )
    reply = sa.table("reply", sa.column("id", sa.Integer()))
    connection = op.get_bind()
    recorded = connection.execute(
        sa.select(audit.c.subject_id, audit.c.at, audit.c.detail)
        .where(
            audit.c.action == "clinic_alerted",
            audit.c.subject_type == "reply",
            audit.c.subject_id.in_(sa.select(reply.c.id)),
        )
        .order_by(audit.c.at)
    ).all()
    rows: dict[int, dict[str, object]] = {}
    for reply_id, at, detail in recorded:
        if reply_id is None or reply_id in rows:
            continue
        channels = list((detail or {}).get("channels") or [])
        rows[reply_id] = {
            "reply_id": reply_id,
            "status": "sent" if channels else "failed",
            "attempts": 1,
            "claimed_at": at,
            "finished_at": at,
            "channels": channels,
            "reason": None
            if channels
            else "no alert destination set (CLINIC_ALERT_EMAIL / ONCALL_PHONE)",
            "retry": False,
        }
    if rows:
        op.bulk_insert(alert, list(rows.values()))


def downgrade() -> None:
    with op.batch_alter_table("clinic_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clinic_alert_status"))
    op.drop_table("clinic_alert")
