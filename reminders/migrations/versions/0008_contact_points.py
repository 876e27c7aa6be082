"""contact points: opt-outs belong to a number or an email, messages record where they went

A phone number or an email is a contact point that several patients may share (a family).
`opt_out.address` is the contact point an opt-out stops (E.164, or the email in lower case),
filled from the patient's current phone (sms) or email (email); an opt-out whose patient has
no such contact any more keeps an empty address, which stops nothing, as it stopped nothing
before. `reply.from_address` is the number a text came from (empty for older replies).
`message.to_address` is where a message went, filled for messages already sent from
the patient's current phone or email (texts whose body retention blanked stay empty).

Records that earlier enrollments merged (a second person enrolled on a shared contact took
over the first one's record) are not split: the overwritten names are stored nowhere.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURGED = "(removed after % days)"  # reminders.erasure's note


def upgrade() -> None:
    with op.batch_alter_table("opt_out", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=254), nullable=True))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("to_address", sa.String(length=254), nullable=True))
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_address", sa.String(length=254), nullable=True))

    patient = sa.table(
        "patient", sa.column("id", sa.Integer), sa.column("phone"), sa.column("email")
    )
    opt_out = sa.table(
        "opt_out",
        sa.column("patient_id", sa.Integer),
        sa.column("channel"),
        sa.column("address"),
    )
    message = sa.table(
        "message",
        sa.column("patient_id", sa.Integer),
        sa.column("channel"),
        sa.column("to_address"),
        sa.column("sent_at"),
        sa.column("body"),
    )
    phone_of = sa.select(patient.c.phone).where(patient.c.id == opt_out.c.patient_id)
    email_of = sa.select(sa.func.lower(patient.c.email)).where(patient.c.id == opt_out.c.patient_id)
    op.execute(
        opt_out.update()
        .where(opt_out.c.channel == "sms")
        .values(address=phone_of.scalar_subquery())
    )
    op.execute(
        opt_out.update()
        .where(opt_out.c.channel == "email")
        .values(address=email_of.scalar_subquery())
    )
    op.execute(opt_out.update().where(opt_out.c.address.is_(None)).values(address=""))

    sent = sa.and_(
        message.c.sent_at.is_not(None),
        sa.or_(message.c.body.is_(None), message.c.body.not_like(PURGED)),
    )
    for channel, contact in (("sms", patient.c.phone), ("email", patient.c.email)):
        op.execute(
            message.update()
            .where(sent, message.c.channel == channel)
            .values(
                to_address=sa.select(contact)
                .where(patient.c.id == message.c.patient_id)
                .scalar_subquery()
            )
        )

    with op.batch_alter_table("opt_out", schema=None) as batch_op:
        batch_op.alter_column("address", existing_type=sa.String(length=254), nullable=False)
        batch_op.create_index("ix_opt_out_address_channel", ["address", "channel"], unique=False)
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_to_address"), ["to_address"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_column("from_address")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_to_address"))
        batch_op.drop_column("to_address")
    with op.batch_alter_table("opt_out", schema=None) as batch_op:
        batch_op.drop_index("ix_opt_out_address_channel")
        batch_op.drop_column("address")
