"""Writing the audit log: one helper, so that every event has the same shape.

The log is append-only (on PostgreSQL a trigger refuses UPDATE and DELETE of its rows):
record ids and plain words in `detail`, never a name, a phone number, an email or a text.
A changed contact is recorded masked (+1******0123, f***@example.com): enough to tell numbers
apart when a family asks which one was used, not enough to text anyone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from reminders import clock
from reminders.enrolling.contacts import mask_email, mask_phone
from reminders.models import AuditEvent


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: int | None,
    at: datetime | None = None,
    **detail: object,
) -> AuditEvent:
    """Add one audit event (who, what, on which subject); `at` defaults to the clock's now."""
    event = AuditEvent(
        at=at if at is not None else clock.now(session),
        actor=actor[:120],
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=dict(detail),
    )
    session.add(event)
    return event


def record_contact_change(
    session: Session,
    *,
    actor: str,
    patient_id: int,
    at: datetime,
    phone: tuple[str | None, str | None],
    email: tuple[str | None, str | None],
) -> AuditEvent | None:
    """`patient.contact_changed` with each changed contact's (old, new) values masked; nothing
    when neither the phone nor the email changed."""
    detail: dict[str, object] = {}
    for name, (old, new), mask in (("phone", phone, mask_phone), ("email", email, mask_email)):
        if old != new:
            detail[name] = {
                "old": mask(old) if old else None,
                "new": mask(new) if new else None,
            }
    if not detail:
        return None
    return record(
        session,
        actor=actor,
        action="patient.contact_changed",
        subject_type="patient",
        subject_id=patient_id,
        at=at,
        **detail,
    )
