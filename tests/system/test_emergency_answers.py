"""An emergency reply is answered at once and the clinic alerted, through the signed webhook,
the real web app and the real worker. (The other answers to replies: tests/service/
test_reply_answers.py.)"""

from __future__ import annotations

from datetime import timedelta

from stack import Deployment
from test_clinic_alerts import ALERT_EMAIL, ONCALL, alert_when, lost, texts_to
from test_two_way import SESSION_END, enrolled, flags, replies
from twilio_webhooks import answered, text_in


def test_it_answers_an_indirect_french_emergency_with_911_at_night(stack: Deployment) -> None:
    # Given a French-speaking patient, at 22:00 the day of the session (quiet hours)
    enrolled(stack, language="fr")
    stack.set_clock(SESSION_END + timedelta(hours=8))

    # When they write that they are short of breath, Alberta-style
    answer = answered(text_in(stack, "j'ai de la misère à respirer depuis tantôt"))

    # Then the 911 answer goes back at once, in French, and the reply is an emergency
    assert "911" in answer and "urgence" in answer.lower()
    assert replies(stack)[-1].kind == "emergency"
    assert flags(stack) == ["possible red flag"]

    # And the clinic is alerted once, by email and by the on-call text, at 22:00
    alert = alert_when(stack, "sent", told=True)
    assert sorted(alert.channels) == ["email", "sms"]
    assert [m["To"] for m in stack.smtp.messages] == [ALERT_EMAIL]
    assert len(texts_to(stack, ONCALL)) == 1
    assert lost(stack) == []
