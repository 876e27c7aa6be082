"""A repeated enrollment request (same Idempotency-Key) gets the first answer, not a second
enrollment; the same key with different details is a mistake the caller must hear about.

What was asked is remembered as a keyed digest (HMAC-SHA256 with the deployment's secret,
so no name or number can be guessed back from it) on the enrollment itself: nothing reads
the audit log to decide what to do.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders.models import Enrollment


def fingerprint(fields: dict[str, Any], *, user_id: int, secret: str) -> str:
    """The same request from the same user gives the same digest, whatever the key order."""
    canonical = json.dumps({"user": user_id, **fields}, sort_keys=True, separators=(",", ":"))
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def earlier_enrollment(session: Session, *, key: str) -> Enrollment | None:
    return session.scalar(select(Enrollment).where(Enrollment.idempotency_key == key))


def same_request(*, enrollment: Enrollment, digest: str) -> bool:
    """Was `enrollment` made by this request? True when its request was not recorded."""
    recorded = enrollment.request_digest
    return recorded is None or hmac.compare_digest(recorded, digest)


def remember(*, enrollment: Enrollment, digest: str) -> None:
    """Keep the request's digest on the enrollment it made."""
    enrollment.request_digest = digest
