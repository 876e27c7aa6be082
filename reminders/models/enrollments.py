"""An enrollment: one patient, one session, one plan, and the messages it planned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reminders.models.base import Base, Words
from reminders.models.patients import Patient
from reminders.models.plans import AftercarePlan
from reminders.vocabulary import EnrollmentStatus, check_constraint


class Enrollment(Base):
    __tablename__ = "enrollment"
    __table_args__ = (CheckConstraint(check_constraint("status", EnrollmentStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("aftercare_plan.id"))
    therapist_name: Mapped[str] = mapped_column(String(120))
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    session_end: Mapped[datetime]
    status: Mapped[EnrollmentStatus] = mapped_column(Words(EnrollmentStatus, 12))
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # The keyed digest (HMAC-SHA256) of the API request that made it, so a repeat of the key
    # with other details is told apart; no name or number can be guessed back from it.
    request_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    patient: Mapped[Patient] = relationship()
    plan: Mapped[AftercarePlan] = relationship()
