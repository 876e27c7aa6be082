"""Messages (one per enrollment, step and channel) and every attempt to deliver them.

States (DESIGN.md): scheduled -> queued -> sending -> sent -> delivered | undelivered | failed;
sending -> retry_wait -> queued; scheduled | queued | sending -> cancelled | skipped | failed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reminders.models.base import Base, Words
from reminders.models.enrollments import Enrollment
from reminders.models.patients import Patient
from reminders.models.templates import TemplateVersion
from reminders.vocabulary import (
    FINAL,
    WAITING,
    AttemptOutcome,
    Channel,
    MessageStatus,
    check_constraint,
)

__all__ = ["FINAL", "WAITING", "DeliveryAttempt", "Message"]


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "step_key", "channel"),
        # The dispatcher's claim reads this index only: due rows, oldest first.
        Index("ix_message_status_next_attempt_at", "status", "next_attempt_at"),
        # The dashboard's counts by day and week read this index only.
        Index("ix_message_due_at_status", "due_at", "status"),
        # ...and its reply rate, the check-ins sent in a window, this one.
        Index("ix_message_checkin_status_due_at", "checkin", "status", "due_at"),
        CheckConstraint(check_constraint("status", MessageStatus), name="status"),
        CheckConstraint(check_constraint("channel", Channel), name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    step_key: Mapped[str] = mapped_column(String(60))
    channel: Mapped[Channel] = mapped_column(Words(Channel, 8))
    locale: Mapped[str] = mapped_column(String(5))
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    checkin: Mapped[bool] = mapped_column(default=False)
    status: Mapped[MessageStatus] = mapped_column(Words(MessageStatus, 12))
    due_at: Mapped[datetime]  # when it is meant to go out (quiet hours and caps applied)
    next_attempt_at: Mapped[datetime]  # when the dispatcher may pick it up next
    max_lateness_seconds: Mapped[int]  # past due_at + this, it is skipped, not sent late
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)  # as rendered for sending, kept for audit
    # Where it went (E.164 or email), set with the body when it is sent: replies from a number
    # belong to the patient last messaged on it, even after their phone changed.
    to_address: Mapped[str | None] = mapped_column(String(254), index=True)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(200))  # why skipped/failed, plain words
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    enrollment: Mapped[Enrollment] = relationship()
    patient: Mapped[Patient] = relationship()
    template_version: Mapped[TemplateVersion] = relationship()
    attempts_made: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="message", order_by="DeliveryAttempt.id"
    )


class DeliveryAttempt(Base):
    """One call to a transport. Times are real wall-clock UTC (the provider's clock)."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (CheckConstraint(check_constraint("outcome", AttemptOutcome), name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    transport: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[AttemptOutcome] = mapped_column(Words(AttemptOutcome, 20))
    provider_code: Mapped[str | None] = mapped_column(String(20))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(200))  # our words, never provider text

    message: Mapped[Message] = relationship(back_populates="attempts_made")
