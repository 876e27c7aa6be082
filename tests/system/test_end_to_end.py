"""A patient's whole week, through the real scheduler, Redis and worker, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from stack import FROM_NUMBER, Deployment

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)

# (step, local due time, words its SMS must carry)
WEEK = [
    ("after-session", datetime(2026, 11, 24, 14, 30, tzinfo=EDMONTON), "Reply STOP to opt out."),
    (
        "same-evening",
        datetime(2026, 11, 24, 19, 0, tzinfo=EDMONTON),
        "relief often comes this evening or tomorrow",
    ),
    ("next-morning", datetime(2026, 11, 25, 10, 0, tzinfo=EDMONTON), "Call 911"),
    ("day-3", datetime(2026, 11, 27, 10, 0, tzinfo=EDMONTON), "Reply 0 (none) to 10 (worst)"),
    ("day-7", datetime(2026, 12, 1, 10, 0, tzinfo=EDMONTON), "a week later"),
]


def test_it_sends_the_whole_week_in_order_at_local_times_exactly_once(stack: Deployment) -> None:
    # Given a patient enrolled five minutes after a 14:00 session, by text and email
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    enrollment_id = stack.enroll(
        phone="(403) 555-0123",
        email="alexandra@example.com",
        channel="both",
        session_end=SESSION_END,
    )
    planned = stack.messages(enrollment_id=enrollment_id)
    assert [(m.step_key, m.due_at.astimezone(EDMONTON)) for m in planned if m.channel == "sms"] == [
        (step, due) for step, due, _ in WEEK
    ]

    # When the clock reaches each message's time
    for count, (step, due, words) in enumerate(WEEK, start=1):
        assert len(stack.twilio.messages) == count - 1, f"{step} went out early"
        stack.set_clock(due + timedelta(minutes=1))
        sms = stack.twilio.wait_for(count, timeout=30)
        emails = stack.smtp.wait_for(count, timeout=30)

        # Then the providers receive exactly that step's text and email
        assert words in sms[-1]["body"]
        assert sms[-1]["body"].startswith("Bow River Physiotherapy: Hi Alexandra,")
        assert sms[-1]["to"] == "+14035550123" and sms[-1]["from_"] == FROM_NUMBER
        assert sms[-1]["status_callback"].startswith("https://clinic.example/twilio/status/")
        assert emails[-1]["To"] == "alexandra@example.com"
        row = stack.wait_until(
            lambda step=step: [
                m for m in stack.messages(step_key=step, channel="sms") if m.status == "sent"
            ],
            what=f"{step} recorded as sent",
        )[0]
        assert row.provider_id == sms[-1]["sid"]
        assert row.sent_at is not None and row.sent_at.astimezone(EDMONTON) == due + timedelta(
            minutes=1
        )

    # And nothing is sent twice, however long the workers keep running
    stack.set_clock(WEEK[-1][1] + timedelta(days=3))
    stack.wait_until(lambda: all(m.status == "sent" for m in stack.messages()), what="all sent")
    assert len(stack.twilio.messages) == 5 and len(stack.smtp.messages) == 5
    assert "Reply STOP" not in stack.twilio.messages[1]["body"]  # only the first text carries it
    assert len({m["Message-ID"] for m in stack.smtp.messages}) == 5


def test_it_sends_email_with_text_html_and_one_click_unsubscribe(stack: Deployment) -> None:
    # Given an email-only patient who writes in French
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    stack.enroll(
        email="Camille@Example.com", channel="email", language="fr", session_end=SESSION_END
    )

    # When the after-session message is due
    email = stack.smtp.wait_for(1, timeout=30)[0]

    # Then it is a multipart email with a stable id and RFC 8058 unsubscribe headers
    assert email["To"] == "Camille@example.com"
    assert email.get_content_type() == "multipart/alternative"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    unsubscribe = email["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("https://clinic.example/unsubscribe/")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text and unsubscribe in html
    assert email["Message-ID"].startswith("<reminder-") and email["Message-ID"].endswith(
        "@bowriver.example>"
    )
    assert 'lang="fr"' in html
    assert stack.twilio.messages == []


def test_it_keeps_names_numbers_and_bodies_out_of_the_logs(stack: Deployment) -> None:
    # Given a message that went out
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    stack.enroll(
        phone="403-555-0177",
        email="zed.quill@example.com",
        channel="both",
        first_name="Zebulon",
        last_name="Quillfeather",
        session_end=SESSION_END,
    )
    stack.twilio.wait_for(1, timeout=30)
    stack.smtp.wait_for(1, timeout=30)
    stack.wait_until(
        lambda: all(m.status == "sent" for m in stack.messages() if m.step_key == "after-session"),
        what="sent",
    )

    # Then neither the worker's nor the scheduler's log carries personal data
    logs = stack.logs()
    assert "reminders.deliver" in logs  # the worker did log its tasks
    for secret in ("Zebulon", "Quillfeather", "4035550177", "555-0177", "zed.quill", "aching"):
        assert secret not in logs
