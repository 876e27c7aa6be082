"""Patients, their consent and their opt-outs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, String, exists
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reminders.models.base import Base


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    language: Mapped[str] = mapped_column(String(5))  # "en" | "fr"
    time_zone: Mapped[str] = mapped_column(String(64))  # IANA name
    channel: Mapped[str] = mapped_column(String(8))  # "sms" | "email" | "both"
    consent_at: Mapped[datetime]
    consent_method: Mapped[str] = mapped_column(String(20))  # verbal | written | web
    consent_recorded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]

    opt_outs: Mapped[list[OptOut]] = relationship(back_populates="patient")


class OptOut(Base):
    """A patient's request to get nothing more on a channel; active until opted_in_at is set."""

    __tablename__ = "opt_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(40))  # keyword | provider-21610 | email-link | staff
    opted_out_at: Mapped[datetime]
    opted_in_at: Mapped[datetime | None]

    patient: Mapped[Patient] = relationship(back_populates="opt_outs")

    @classmethod
    def active(cls, patient_id: Any, channel: Any) -> ColumnElement[bool]:
        """True when the patient is opted out of the channel: values, or columns of an outer
        query (correlated, so it costs no round trip of its own)."""
        return exists().where(
            cls.patient_id == patient_id, cls.channel == channel, cls.opted_in_at.is_(None)
        )
