"""A patient's first name in texts: spelled in GSM-7 so the text is not billed as UCS-2."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fakes.twilio_api import num_segments
from stack import Deployment

from reminders.content.rendering import sms_cost

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)


def test_it_texts_francois_as_francois_and_emails_him_as_francois(stack: Deployment) -> None:
    # Given François, enrolled for texts and emails after a 14:00 session
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(
        first_name="François",
        phone="403-555-0123",
        email="francois@example.com",
        channel="both",
        session_end=SESSION_END,
    )

    # When the after-session messages are due
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    sms = stack.twilio.wait_for(1, timeout=30)[0]
    email = stack.smtp.wait_for(1, timeout=30)[0]

    # Then the text says "Francois" and is billed as GSM-7, in fewer segments than "ç"
    # would have cost it in UCS-2; the email keeps "François"
    body = sms["body"] or ""
    assert "Francois" in body and "François" not in body
    assert sms_cost(body).encoding == "GSM-7"
    assert num_segments(body) < num_segments(body.replace("Francois", "François"))
    text_part = email.get_body(preferencelist=("plain",))
    assert text_part is not None and "François" in text_part.get_content()
