"""Writing the audit log: one helper, so that every event has the same shape.

The log is append-only (on PostgreSQL a trigger refuses UPDATE and DELETE of its rows):
record ids and plain words in `detail`, never a name, a phone number, an email or a text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from reminders import clock
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
