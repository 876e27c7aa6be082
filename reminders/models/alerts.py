"""The clinic alert for each emergency reply: who is sending it, whether it went out, and,
when it could not, who on the staff has seen that. Ids and plain words only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reminders.models.base import Base, Words
from reminders.models.replies import Reply
from reminders.vocabulary import NoticeStatus, check_constraint

ALERT_STATUSES = tuple(NoticeStatus)


class ClinicAlert(Base):
    """One per emergency reply. The row is the claim: a task inserts it (or takes over a
    `sending` row whose task died, or a `failed` one worth trying again) with one conditional
    statement, and sends only if that statement returned the row."""

    __tablename__ = "clinic_alert"
    __table_args__ = (CheckConstraint(check_constraint("status", NoticeStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("reply.id", ondelete="CASCADE"), unique=True)
    status: Mapped[NoticeStatus] = mapped_column(Words(NoticeStatus, 8), index=True)
    attempts: Mapped[int] = mapped_column(default=1)  # claims so far; the latest one owns it
    claimed_at: Mapped[datetime]  # real time: the claim window is measured on the real clock
    finished_at: Mapped[datetime | None]
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # the ones that went out
    reason: Mapped[str | None] = mapped_column(String(200))  # why it failed, in plain words
    retry: Mapped[bool] = mapped_column(default=False)  # failed for now: the reaper tries again
    patient_told_at: Mapped[datetime | None]  # the "we alerted the team" text went out
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))

    reply: Mapped[Reply] = relationship()
