"""What patients answer, and the flags those answers raise for their therapist."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reminders.models.base import Base, Words
from reminders.models.patients import Patient
from reminders.vocabulary import Channel, ReplyKind, check_constraint


class Reply(Base):
    """One inbound SMS, or one click on an email check-in link; raw text always kept."""

    __tablename__ = "reply"
    __table_args__ = (
        CheckConstraint(check_constraint("kind", ReplyKind), name="kind"),
        CheckConstraint(check_constraint("channel", Channel), name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    checkin_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"), index=True)
    channel: Mapped[Channel] = mapped_column(Words(Channel, 8))
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # Twilio MessageSid
    # The number a text came from (E.164): the follow-up goes back there, and the clinic can
    # call it back even when it is an old number or nobody's we know.
    from_address: Mapped[str | None] = mapped_column(String(254))
    received_at: Mapped[datetime] = mapped_column(index=True)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[ReplyKind] = mapped_column(Words(ReplyKind, 12))
    score: Mapped[int | None]
    answer: Mapped[str | None] = mapped_column(Text)  # what we answered at once, if anything

    patient: Mapped[Patient | None] = relationship()


class Flag(Base):
    """Something the therapist should look at; open until closed by someone."""

    __tablename__ = "flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("reply.id"))
    reason: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(index=True)  # open flags: NULL
    closed_by: Mapped[str | None] = mapped_column(String(120))

    reply: Mapped[Reply] = relationship()
