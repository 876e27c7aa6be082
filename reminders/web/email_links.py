"""Links in emails: unsubscribe (RFC 8058 one-click too) and one-click 0-10 check-in answers.

Tokens are signed and expire (reminders.links); a forged, expired or used link gets a
clear page and changes nothing.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from reminders import clock
from reminders.clinic import clinic_rules
from reminders.config import get_settings
from reminders.db import session_scope
from reminders.inbound import opt_out, record_email_score
from reminders.links import CHECKIN, UNSUBSCRIBE, BadLink, read_token
from reminders.models import Message
from reminders.web.pages import page

router = APIRouter(tags=["email links"])


def _message_id(purpose: str, token: str) -> int | HTMLResponse:
    try:
        return read_token(get_settings().secret_key, purpose, token)
    except BadLink as exc:
        return page("Link problem", f"<p>{escape(str(exc))}</p>", status=400)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str) -> HTMLResponse:
    """Confirm before unsubscribing: mail scanners follow GET links, people press buttons."""
    found = _message_id(UNSUBSCRIBE, token)
    if isinstance(found, HTMLResponse):
        return found
    body = (
        "<p>Stop aftercare emails from the clinic?</p>"
        f'<form method="post" action="/unsubscribe/{escape(token)}"><button type="submit">Unsubscribe</button></form>'
    )
    return page("Unsubscribe", body)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(token: str) -> HTMLResponse:
    """RFC 8058 one-click unsubscribe, and the button above; honoured at once."""
    found = _message_id(UNSUBSCRIBE, token)
    if isinstance(found, HTMLResponse):
        return found
    with session_scope() as session:
        message = session.get(Message, found)
        if message is None:
            return page("Link problem", "<p>This link is not valid.</p>", status=400)
        opt_out(
            session, message.patient, channel="email", source="email-link", now=clock.now(session)
        )
    return page("Unsubscribed", "<p>You will get no more aftercare emails from us.</p>")


@router.get("/checkin/{token}", response_class=HTMLResponse)
def checkin(token: str, score: int | None = Query(None)) -> HTMLResponse:
    """Record a 0-10 pain score from a check-in email's link, and thank the patient."""
    found = _message_id(CHECKIN, token)
    if isinstance(found, HTMLResponse):
        return found
    if score is None or not 0 <= score <= 10:
        links = " ".join(f'<a href="/checkin/{escape(token)}?score={n}">{n}</a>' for n in range(11))
        return page("How is your pain?", f"<p>0 = no pain, 10 = worst pain.</p><p>{links}</p>")
    with session_scope() as session:
        message = session.get(Message, found)
        if message is None or not message.checkin:
            return page("Link problem", "<p>This link is not valid.</p>", status=400)
        reply = record_email_score(session, message=message, score=score, now=clock.now(session))
        phone = escape(clinic_rules(session).phone)
    if reply is None:
        return page(
            "Already answered",
            "<p>We already have your answer for this check-in. Thank you.</p>",
            status=409,
        )
    return page(
        "Thank you",
        f"<p>We recorded your pain as {score} out of 10. Your therapist will see it.</p>"
        f"<p>If you have trouble breathing or chest pain, call 911. For other worries, call us at {phone}.</p>",
    )
