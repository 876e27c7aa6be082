"""claims out of the audit log: digests get a table, an enrollment keeps its request digest

Nothing reads the audit log to decide what to do any more. Digests sent before this revision
(a `digest.sent` event with no `digest.failed` naming it) get their `digest_run` row, so the
next digest starts where the last one stopped; each enrollment's request digest (an
`enrollment.requested` event, or in older databases the `enrollment.created` one) moves to `enrollment.request_digest`. The events stay: the log
is append-only.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_audit = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("action", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.Integer()),
    sa.column("detail", sa.JSON()),
)


def upgrade() -> None:
    op.create_table(
        "digest_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("covers_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "status IN ('sending', 'sent', 'failed')", name=op.f("ck_digest_run_status")
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["app_user.id"],
            name=op.f("fk_digest_run_therapist_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_run")),
    )
    with op.batch_alter_table("digest_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_run_therapist_id"), ["therapist_id"])
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_digest", sa.String(length=64), nullable=True))
    _carry_over_digests()
    _carry_over_request_digests()


def _carry_over_digests() -> None:
    run = sa.table(
        "digest_run",
        sa.column("therapist_id", sa.Integer()),
        sa.column("covers_until", sa.DateTime(timezone=True)),
        sa.column("status", sa.String()),
        sa.column("claimed_at", sa.DateTime(timezone=True)),
        sa.column("finished_at", sa.DateTime(timezone=True)),
    )
    failed = sa.select(_audit.c.subject_id).where(
        _audit.c.action == "digest.failed", _audit.c.subject_type == "audit_event"
    )
    user = sa.table("app_user", sa.column("id", sa.Integer()))
    sent = op.get_bind().execute(
        sa.select(_audit.c.subject_id, _audit.c.at).where(
            _audit.c.action == "digest.sent",
            _audit.c.id.not_in(failed),
            _audit.c.subject_id.in_(sa.select(user.c.id)),
        )
    )
    rows = [
        {
            "therapist_id": t,
            "covers_until": at,
            "status": "sent",
            "claimed_at": at,
            "finished_at": at,
        }
        for t, at in sent
    ]
    if rows:
        op.bulk_insert(run, rows)


def _carry_over_request_digests() -> None:
    enrollment = sa.table(
        "enrollment", sa.column("id", sa.Integer()), sa.column("request_digest", sa.String())
    )
    connection = op.get_bind()
    requested = connection.execute(
        sa.select(_audit.c.subject_id, _audit.c.detail)
        .where(
            _audit.c.action.in_(("enrollment.created", "enrollment.requested")),
            _audit.c.subject_type == "enrollment",
        )
        .order_by(_audit.c.action)  # a later `requested` event wins over an older `created` one
    )
    for enrollment_id, detail in requested:
        digest = (detail or {}).get("request")
        if isinstance(digest, str):
            connection.execute(
                enrollment.update()
                .where(enrollment.c.id == enrollment_id)
                .values(request_digest=digest[:64])
            )


def downgrade() -> None:
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.drop_column("request_digest")
    with op.batch_alter_table("digest_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_run_therapist_id"))
    op.drop_table("digest_run")
