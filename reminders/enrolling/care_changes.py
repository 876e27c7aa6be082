"""What a therapist changes after enrolling: pause, resume, cancel, fix a contact, close a flag.

Shared by the pages, the JSON API and the CLI; each change is audited with ids only, and a
changed phone or email also with its old and new values masked (`patient.contact_changed`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from reminders import audit
from reminders.audit import record_contact_change
from reminders.enrolling.contacts import InvalidContact, normalize_email, normalize_phone
from reminders.errors import Refused
from reminders.models import Enrollment, Flag, Message, Patient
from reminders.sending.transitions import move_all
from reminders.vocabulary import PENDING, Channel, EnrollmentStatus, MessageStatus


class CareChangeRefused(Refused):
    """A change that does not apply (unknown id, already cancelled...); safe to show."""


def _enrollment(session: Session, enrollment_id: int) -> Enrollment:
    found = session.get(Enrollment, enrollment_id)
    if found is None:
        raise CareChangeRefused(f"no enrollment {enrollment_id}")
    return found


def cancel(*, session: Session, enrollment_id: int, actor: str, now: datetime) -> int:
    """Stop every message not yet sent; returns how many were cancelled."""
    enrollment = _enrollment(session, enrollment_id)
    enrollment.status = EnrollmentStatus.CANCELLED
    cancelled = move_all(
        session,
        Message.enrollment_id == enrollment_id,
        frm=PENDING,
        status=MessageStatus.CANCELLED,
        reason="enrollment cancelled",
        updated_at=now,
    )
    audit.record(
        session,
        actor=actor,
        action="enrollment.cancelled",
        subject_type="enrollment",
        subject_id=enrollment_id,
        at=now,
    )
    return cancelled


def pause(*, session: Session, enrollment_id: int, actor: str, now: datetime) -> None:
    """Hold the remaining messages; those whose moment passes while paused are skipped."""
    enrollment = _enrollment(session, enrollment_id)
    if enrollment.status != EnrollmentStatus.ACTIVE:
        raise CareChangeRefused(f"enrollment {enrollment_id} is {enrollment.status}, not active")
    enrollment.status = EnrollmentStatus.PAUSED
    audit.record(
        session,
        actor=actor,
        action="enrollment.paused",
        subject_type="enrollment",
        subject_id=enrollment_id,
        at=now,
    )


def resume(*, session: Session, enrollment_id: int, actor: str, now: datetime) -> None:
    enrollment = _enrollment(session, enrollment_id)
    if enrollment.status != EnrollmentStatus.PAUSED:
        raise CareChangeRefused(f"enrollment {enrollment_id} is {enrollment.status}, not paused")
    enrollment.status = EnrollmentStatus.ACTIVE
    session.execute(  # paused messages were deferred in 15-minute steps: look again now
        update(Message)
        .where(
            Message.enrollment_id == enrollment_id,
            Message.status == MessageStatus.SCHEDULED,
            Message.next_attempt_at > now,
        )
        .where(Message.next_attempt_at > Message.due_at)
        .values(next_attempt_at=now)
    )
    audit.record(
        session,
        actor=actor,
        action="enrollment.resumed",
        subject_type="enrollment",
        subject_id=enrollment_id,
        at=now,
    )


def fix_contact(
    *,
    session: Session,
    patient_id: int,
    phone: str | None,
    email: str | None,
    actor: str,
    now: datetime,
    region: str = "CA",
) -> int:
    """Correct a mistyped phone or email; failed messages on that channel that are still
    timely are sent again. Returns how many go again. Replies from the old number still
    reach this patient (reminders.replies.inbound.sender)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise CareChangeRefused(f"no patient {patient_id}")
    try:
        new_phone = normalize_phone(phone, region=region) if phone else None
        new_email = normalize_email(email) if email else None
    except InvalidContact as exc:
        raise CareChangeRefused(str(exc)) from None
    channels: list[str] = []
    record_contact_change(
        session,
        actor=actor,
        patient_id=patient_id,
        at=now,
        phone=(patient.phone, new_phone or patient.phone),
        email=(patient.email, new_email or patient.email),
    )
    if new_phone and new_phone != patient.phone:
        patient.phone, channels = new_phone, [*channels, Channel.SMS]
    if new_email and new_email != patient.email:
        patient.email, channels = new_email, [*channels, Channel.EMAIL]
    again = 0
    for message in session.query(Message).filter(
        Message.patient_id == patient_id,
        Message.status == MessageStatus.FAILED,
        Message.channel.in_(channels),
    ):
        if now <= message.due_at + timedelta(seconds=message.max_lateness_seconds):
            message.status, message.next_attempt_at, message.reason, message.error_code = (
                MessageStatus.SCHEDULED,
                now,
                None,
                None,
            )
            again += 1
    audit.record(
        session,
        actor=actor,
        action="patient.contact_fixed",
        subject_type="patient",
        subject_id=patient_id,
        at=now,
        channels=channels,
    )
    return again


def close_flag(*, session: Session, flag_id: int, actor: str, now: datetime) -> Flag:
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise CareChangeRefused(f"no flag {flag_id}")
    if flag.closed_at is not None:
        raise CareChangeRefused(f"flag {flag_id} was closed already by {flag.closed_by}")
    flag.closed_at, flag.closed_by = now, actor
    audit.record(
        session, actor=actor, action="flag.closed", subject_type="flag", subject_id=flag_id, at=now
    )
    return flag
