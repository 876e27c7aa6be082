"""Patients, their consent and their opt-outs.

A patient is a person; a phone number or an email is a contact point that several patients
may share (a family). An opt-out belongs to the contact point: STOP from a number stops texts
to that number for everyone on it (carriers and CASL expect it), whoever asked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, Index, String, exists
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reminders import channels
from reminders.models.base import Base, Words
from reminders.vocabulary import Channel, check_constraint


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    language: Mapped[str] = mapped_column(String(5))  # "en" | "fr"
    time_zone: Mapped[str] = mapped_column(String(64))  # IANA name
    channel: Mapped[str] = mapped_column(String(8))  # a vocabulary.ContactChoice
    consent_at: Mapped[datetime]
    consent_method: Mapped[str] = mapped_column(String(20))  # verbal | written | web
    consent_recorded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]

    opt_outs: Mapped[list[OptOut]] = relationship(back_populates="patient")

    def address(self, channel: str) -> str | None:
        """The contact point a message on `channel` goes to now, as opt-outs key it."""
        return channels.rules_for(channel).address_of(self)

    @classmethod
    def address_on(cls, channel: Any) -> ColumnElement[str | None]:
        """`address` as SQL, for a channel value or column."""
        return channels.address_on(cls, channel)

    @classmethod
    def reached_at(cls, channel: str, address: str) -> ColumnElement[bool]:
        """Patients whose current contact point on `channel` is `address`."""
        return channels.reached_at(cls, channel, address)


class OptOut(Base):
    """A request to get nothing more at a contact point (an E.164 number for sms, an email in
    lower case for email), active until opted_in_at is set. `patient_id` is who asked."""

    __tablename__ = "opt_out"
    __table_args__ = (
        Index("ix_opt_out_address_channel", "address", "channel"),
        CheckConstraint(check_constraint("channel", Channel), name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    channel: Mapped[Channel] = mapped_column(Words(Channel, 8))
    address: Mapped[str] = mapped_column(String(254))
    source: Mapped[str] = mapped_column(String(40))  # keyword | provider-21610 | email-link | staff
    opted_out_at: Mapped[datetime]
    opted_in_at: Mapped[datetime | None]

    patient: Mapped[Patient] = relationship(back_populates="opt_outs")

    @classmethod
    def active(cls, address: Any, channel: Any) -> ColumnElement[bool]:
        """True when the contact point is opted out of the channel, for everyone who uses it:
        values, or columns of an outer query (correlated, so it costs no round trip of its
        own). A missing address (None) is never opted out."""
        return exists().where(
            cls.address == address, cls.channel == channel, cls.opted_in_at.is_(None)
        )
