"""Signed, expiring links in emails: unsubscribe and check-in answers (itsdangerous).

A token carries a message id and a purpose only; it is signed with SECRET_KEY.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from reminders.errors import InvalidInput

UNSUBSCRIBE = "unsubscribe"
CHECKIN = "checkin"
MAX_AGE = {UNSUBSCRIBE: 365 * 24 * 3600, CHECKIN: 14 * 24 * 3600}  # seconds


class BadLink(InvalidInput):
    """A forged, mangled or expired link; the message is safe to show."""


class ExpiredLink(BadLink):
    """A genuine link, too old to use (pages say so in the patient's language)."""


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"reminders.{purpose}")


def make_token(secret: str, purpose: str, message_id: int) -> str:
    return _serializer(secret, purpose).dumps({"m": message_id})


def read_token(secret: str, purpose: str, token: str) -> int:
    """The message id in a token; raises BadLink when it is forged or too old."""
    try:
        data = _serializer(secret, purpose).loads(token, max_age=MAX_AGE[purpose])
    except SignatureExpired:
        raise ExpiredLink("This link has expired.") from None
    except BadSignature:
        raise BadLink("This link is not valid.") from None
    return int(data["m"])


def message_links(base_url: str, secret: str, message_id: int) -> dict[str, object]:
    """The link variables every email template may use."""
    base = base_url.rstrip("/")
    unsubscribe = f"{base}/unsubscribe/{make_token(secret, UNSUBSCRIBE, message_id)}"
    checkin = f"{base}/checkin/{make_token(secret, CHECKIN, message_id)}"
    return {
        "unsubscribe_url": unsubscribe,
        "manage_url": unsubscribe,
        "checkin_url": checkin,
        "checkin_urls": [f"{checkin}?score={score}" for score in range(11)],
    }
