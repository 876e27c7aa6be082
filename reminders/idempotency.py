"""A repeated enrollment request (same Idempotency-Key) gets the first answer, not a second
enrollment; the same key with different details is a mistake the caller must hear about.

What was asked is remembered as a keyed digest (HMAC-SHA256 with the deployment's secret,
so no name or number can be guessed back from it) in an audit event of its own: the audit
log is append-only, so the enrollment's own event is never edited.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders.models import AuditEvent, Enrollment

CREATED = "enrollment.created"
REQUESTED = "enrollment.requested"  # the digest of the request that made an enrollment


def fingerprint(fields: dict[str, Any], *, user_id: int, secret: str) -> str:
    """The same request from the same user gives the same digest, whatever the key order."""
    canonical = json.dumps({"user": user_id, **fields}, sort_keys=True, separators=(",", ":"))
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def earlier_enrollment(session: Session, *, key: str) -> Enrollment | None:
    return session.scalar(select(Enrollment).where(Enrollment.idempotency_key == key))


def same_request(session: Session, *, enrollment: Enrollment, digest: str) -> bool:
    """Was `enrollment` made by this request? True when its request was not recorded."""
    event = _event(session, enrollment, REQUESTED) or _event(session, enrollment, CREATED)
    recorded = event.detail.get("request") if event is not None else None
    return recorded is None or hmac.compare_digest(str(recorded), digest)


def remember(session: Session, *, enrollment: Enrollment, digest: str) -> None:
    """Record the request's digest beside the enrollment's audit event (call after a flush)."""
    created = _event(session, enrollment, CREATED)
    session.add(
        AuditEvent(
            at=created.at if created is not None else enrollment.created_at,
            actor=created.actor if created is not None else "system",
            action=REQUESTED,
            subject_type="enrollment",
            subject_id=enrollment.id,
            detail={"request": digest},
        )
    )


def _event(session: Session, enrollment: Enrollment, action: str) -> AuditEvent | None:
    return session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.action == action,
            AuditEvent.subject_type == "enrollment",
            AuditEvent.subject_id == enrollment.id,
        )
        .order_by(AuditEvent.id)
        .limit(1)
    )
