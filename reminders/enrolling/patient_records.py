"""A patient's record across enrollments: finding the same person again, updating what may
change between sessions, and who else shares a phone number or an email (a family).

A patient is a person; a phone or an email is a contact point that several may share. A record
is reused only for the same name on the same contact point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reminders.audit import record_contact_change
from reminders.enrolling.contacts import email_address, same_person
from reminders.models import Message, Patient
from reminders.vocabulary import WENT_OUT, Channel


@dataclass
class ContactSharers:
    """First names of the other patients who use a patient's phone number or email."""

    phone: list[str] = field(default_factory=list)
    email: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        """Everyone, once each, in the order found (phone first)."""
        return list(dict.fromkeys([*self.phone, *self.email]))


def contact_sharers(
    session: Session, *, phone: str | None, email: str | None, besides: int | None
) -> ContactSharers:
    """Who else (first names, oldest record first) uses this phone number or this email;
    `besides` is the patient asked about, left out."""
    sharers = ContactSharers()
    for kind, same in (
        ("phone", Patient.reached_at(Channel.SMS, phone) if phone else None),
        ("email", Patient.reached_at(Channel.EMAIL, email) if email else None),
    ):
        if same is None:
            continue
        query = select(Patient.first_name).where(same).order_by(Patient.id)
        if besides is not None:
            query = query.where(Patient.id != besides)
        setattr(sharers, kind, list(dict.fromkeys(session.scalars(query))))
    return sharers


def find_patient(session: Session, patient: Patient) -> Patient | None:
    """The same person enrolled before, so opt-outs and caps carry over: the same first and
    last name (any case, with or without accents) on the same mobile or email. Someone else
    on that mobile or email (a family) is not them."""
    same = []
    if patient.phone:
        same.append(Patient.reached_at(Channel.SMS, patient.phone))
    if patient.email:
        same.append(Patient.reached_at(Channel.EMAIL, patient.email))
    candidates = session.scalars(select(Patient).where(or_(*same)).order_by(Patient.id.desc()))
    for candidate in candidates:
        if same_person(
            candidate.first_name, candidate.last_name, patient.first_name, patient.last_name
        ):
            return candidate
    return None


def merge_patient(
    session: Session,
    fresh: Patient,
    found: Patient | None,
    *,
    recorded_by: str,
    consent_method: str,
    now: datetime,
) -> Patient:
    """A new record, or the same person's with what may change between sessions: language,
    time zone, channel, consent, and a new phone or email (audited, masked). The name stays
    as first written."""
    if found is None:
        session.add(fresh)
        return fresh
    for name in ("language", "time_zone", "channel"):
        setattr(found, name, getattr(fresh, name))
    before = (found.phone, found.email)
    found.phone = fresh.phone or found.phone
    if fresh.email and email_address(fresh.email) != email_address(found.email or ""):
        found.email = fresh.email  # the same address in another case is no change
    record_contact_change(
        session,
        actor=recorded_by,
        patient_id=found.id,
        at=now,
        phone=(before[0], found.phone),
        email=(before[1], found.email),
    )
    found.consent_at, found.consent_method = now, consent_method
    found.consent_recorded_by = recorded_by
    return found


def texted_before(session: Session, phone: str | None) -> bool:
    """Has a text reached this number already (whoever it was for)? Then the next one has no
    opt-out line."""
    if phone is None:
        return False
    texted = select(Message.id).where(
        Message.to_address == phone,
        Message.channel == Channel.SMS,
        Message.status.in_(WENT_OUT),
    )
    return session.scalar(texted.limit(1)) is not None
