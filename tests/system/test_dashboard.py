"""The dashboard a therapist sees first: messages due today and this week, by status."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from browser import PASSWORD, make_user
from in_process import login_form
from stack import Deployment

from reminders.models import Message, Reply

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)  # a Tuesday


def bars(html: str, heading: str) -> dict[str, int]:
    section = html.split(f"<h2>{heading}</h2>", 1)[1].split("</section>", 1)[0]
    found = re.findall(r">(\w+)</text><rect[^>]*></rect><text[^>]*>(\d+)</text>", section)
    return {status: int(count) for status, count in found if int(count)}


def test_it_counts_the_messages_due_today_and_this_week(stack: Deployment) -> None:
    # Given a patient enrolled after a 14:00 session, whose first text has gone out at 14:30
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(phone="403-555-0123", channel="sms", session_end=SESSION_END)
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    stack.twilio.wait_for(1, timeout=30)
    stack.wait_until(lambda: stack.messages(status="sent"), what="first text sent")

    # When a therapist opens the dashboard
    email = make_user(stack, "therapist", "Sam Chen")
    with httpx.Client(base_url=stack.web_url(), timeout=10) as client:
        csrf = login_form(client)
        client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
        page = client.get("/")
    assert page.status_code == 200

    # Then today shows the text sent and the evening one still to go; the week adds the
    # next-morning and day-3 check-ins, and not the day-7 one, due next Tuesday
    assert bars(page.text, "Due today") == {"sent": 1, "scheduled": 1}
    assert bars(page.text, "Due this week") == {"sent": 1, "scheduled": 3}


def test_it_shows_how_many_recent_check_ins_were_answered(stack: Deployment) -> None:
    # Given three patients' day-3 check-ins sent: two in the last 30 days (one answered) and
    # one 40 days ago (answered)
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    for number in ("403-555-0101", "403-555-0102", "403-555-0103"):
        stack.enroll(phone=number, channel="sms", session_end=SESSION_END)
    now = SESSION_END + timedelta(days=5)
    checkins = [m for m in stack.messages(step_key="day-3")]
    assert len(checkins) == 3 and all(m.checkin for m in checkins)
    with stack.session() as session:
        for message, due, answered in zip(
            checkins,
            (now - timedelta(days=2), now - timedelta(days=2), now - timedelta(days=40)),
            (True, False, True),
            strict=True,
        ):
            row = session.get_one(Message, message.id)
            row.status, row.due_at, row.sent_at = "sent", due, due
            if answered:
                session.add(
                    Reply(
                        patient_id=row.patient_id,
                        checkin_message_id=row.id,
                        channel="sms",
                        received_at=due + timedelta(hours=1),
                        text="3",
                        kind="score",
                        score=3,
                    )
                )
    stack.set_clock(now)

    # When a therapist opens the dashboard
    email = make_user(stack, "therapist", "Sam Chen")
    with httpx.Client(base_url=stack.web_url(), timeout=10) as client:
        csrf = login_form(client)
        client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
        page = client.get("/")

    # Then the rate counts the last 30 days only
    text = re.sub(r"<[^>]+>", "", page.text)
    assert "Check-ins answered, last 30 days: 50% (1 of 2)" in text
