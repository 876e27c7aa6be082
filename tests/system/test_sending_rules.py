"""What the worker re-checks just before sending: opt-out, cancellation, age, quiet hours, caps."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from stack import Deployment

from reminders.models import ClinicSettings, OptOut

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
AFTER_SESSION = SESSION_END + timedelta(minutes=30)


def enroll_both(stack: Deployment, **fields: object) -> int:
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    return stack.enroll(
        phone="403-555-0123",
        email="pat@example.com",
        channel="both",
        session_end=SESSION_END,
        **fields,
    )


def wait_status(stack: Deployment, step: str, channel: str, status: str) -> None:
    stack.wait_until(
        lambda: [m for m in stack.messages(step_key=step, channel=channel) if m.status == status],
        what=f"{step}/{channel} {status}",
    )


def test_it_does_not_text_a_patient_who_opted_out_after_enrolling(stack: Deployment) -> None:
    # Given a patient who replied STOP to texts after being enrolled
    enroll_both(stack)
    with stack.session() as session:
        patient_id = stack.messages()[0].patient_id
        session.add(
            OptOut(
                patient_id=patient_id,
                channel="sms",
                address="+14035550123",
                source="keyword",
                opted_out_at=SESSION_END,
            )
        )

    # When the after-session message is due
    stack.set_clock(AFTER_SESSION + timedelta(minutes=1))
    stack.smtp.wait_for(1)
    wait_status(stack, "after-session", "sms", "skipped")

    # Then the email goes, the text does not, and the reason is recorded
    assert stack.twilio.requests == []
    assert stack.messages(step_key="after-session", channel="sms")[0].reason == "opted out"


def test_it_plans_no_texts_for_a_returning_patient_who_opted_out(stack: Deployment) -> None:
    # Given a patient who opted out of texts during an earlier enrollment
    enroll_both(stack)
    with stack.session() as session:
        session.add(
            OptOut(
                patient_id=stack.messages()[0].patient_id,
                channel="sms",
                address="+14035550123",
                source="keyword",
                opted_out_at=SESSION_END,
            )
        )

    # When the same mobile number is enrolled again
    second = stack.enroll(phone="+1 403 555 0123", channel="sms", session_end=SESSION_END)

    # Then every text of the new enrollment is skipped from the start
    assert {(m.status, m.reason) for m in stack.messages(enrollment_id=second)} == {
        ("skipped", "opted out")
    }


def test_it_sends_nothing_after_an_enrollment_is_cancelled(stack: Deployment) -> None:
    # Given an enrollment the therapist cancels from the command line
    enrollment_id = enroll_both(stack)
    done = stack.cli("cancel", str(enrollment_id))
    assert done.returncode == 0, done.stderr
    assert "10 pending message(s) will not be sent" in done.stdout

    # When every message's time passes
    for hours in (1, 6, 24, 80, 200):
        stack.set_clock(SESSION_END + timedelta(hours=hours))

    # Then nothing reached either provider
    stack.wait_until(lambda: stack.messages(), what="rows")
    assert {m.status for m in stack.messages()} == {"cancelled"}
    assert stack.twilio.requests == [] and stack.smtp.messages == []


def test_it_skips_a_message_that_is_too_late_to_be_useful(stack: Deployment) -> None:
    # Given the service was down past the after-session message's 3 h maximum lateness
    enroll_both(stack)
    stack.set_clock(AFTER_SESSION + timedelta(hours=3, minutes=1))

    # When the dispatcher catches up
    wait_status(stack, "after-session", "sms", "skipped")
    wait_status(stack, "after-session", "email", "skipped")

    # Then it is skipped, with how late it was, and never sent
    assert (
        stack.messages(step_key="after-session", channel="sms")[0].reason
        == "too late: 181 min after its time"
    )
    assert stack.twilio.requests == [] and stack.smtp.messages == []


def test_it_defers_a_message_that_falls_in_quiet_hours_at_sending_time(stack: Deployment) -> None:
    # Given the clinic changed its quiet hours to 14:00-15:00 after the enrollment
    enroll_both(stack)
    with stack.session() as session:
        session.execute(
            update(ClinicSettings).values(quiet_hours_start="14:00", quiet_hours_end="15:00")
        )

    # When the after-session message comes due at 14:30
    stack.set_clock(AFTER_SESSION + timedelta(minutes=1))
    # (the text itself: the email may be deferred while the text is still being claimed)
    deferred = stack.wait_until(
        lambda: [
            m
            for m in stack.messages(step_key="after-session", channel="sms")
            if m.status == "scheduled" and m.next_attempt_at > AFTER_SESSION
        ],
        what="the text deferred",
    )[0]

    # Then it waits for 15:00 local, and goes out then
    assert deferred.next_attempt_at.astimezone(EDMONTON) == datetime(
        2026, 11, 24, 15, 0, tzinfo=EDMONTON
    )
    assert stack.twilio.requests == []
    stack.set_clock(datetime(2026, 11, 24, 15, 1, tzinfo=EDMONTON))
    assert stack.twilio.wait_for(1)[0]["body"].endswith("Reply STOP to opt out.")


def test_it_holds_to_a_daily_cap_set_after_enrolling(stack: Deployment) -> None:
    # Given a clinic that turned on a one-message-a-day cap after this enrollment
    enroll_both(stack)
    with stack.session() as session:
        session.execute(update(ClinicSettings).values(cap_per_day=1))

    # When the after-session and the same-evening messages come due on the same day
    stack.set_clock(AFTER_SESSION + timedelta(minutes=1))
    stack.twilio.wait_for(1)
    wait_status(stack, "after-session", "sms", "sent")
    stack.set_clock(datetime(2026, 11, 24, 19, 1, tzinfo=EDMONTON))
    wait_status(stack, "same-evening", "sms", "skipped")

    # Then the evening one is dropped (it cannot move a day within its 2 h lateness)
    assert stack.messages(step_key="same-evening", channel="sms")[0].reason == "cap reached"
    assert len(stack.twilio.requests) == 1


def test_it_times_messages_in_the_patients_own_time_zone(stack: Deployment) -> None:
    # Given an Edmonton clinic's patient who lives in Toronto (two hours ahead)
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(
        phone="403-555-0123", channel="sms", time_zone="America/Toronto", session_end=SESSION_END
    )
    toronto = ZoneInfo("America/Toronto")

    # Then the next-morning check-in is at 10:00 in Toronto, which is 08:00 in Edmonton
    morning = stack.messages(step_key="next-morning")[0]
    assert morning.due_at.astimezone(toronto) == datetime(2026, 11, 25, 10, 0, tzinfo=toronto)

    # And it goes out when the clinic's clock reads 08:00
    stack.set_clock(datetime(2026, 11, 25, 8, 0, 30, tzinfo=EDMONTON))
    sms = stack.twilio.wait_for(1)
    wait_status(stack, "next-morning", "sms", "sent")
    assert stack.messages(step_key="next-morning")[0].body == sms[0]["body"]
    # the first text actually sent carries the opt-out line, whichever step it is
    assert sms[0]["body"].endswith("Reply STOP to opt out.")
    wait_status(stack, "same-evening", "sms", "skipped")
    wait_status(stack, "after-session", "sms", "skipped")


def test_it_delivers_the_after_session_text_of_a_2140_session_that_night(stack: Deployment) -> None:
    # Given a session that ended at 21:40, enrolled five minutes later: the text is due at
    # 22:10, in quiet hours (21:00-08:00)
    session_end = datetime(2026, 11, 24, 21, 40, tzinfo=EDMONTON)
    stack.set_clock(session_end + timedelta(minutes=5))
    stack.enroll(phone="403-555-0123", channel="sms", session_end=session_end)
    planned = stack.messages(step_key="after-session")[0]
    assert planned.due_at == session_end + timedelta(minutes=30)

    # When the worker's clock reaches 22:11
    stack.set_clock(session_end + timedelta(minutes=31))

    # Then the text reaches the patient that night, with the 911 line, not deferred to 08:00
    sms = stack.twilio.wait_for(1, timeout=30)
    assert "911" in sms[0]["body"]
    wait_status(stack, "after-session", "sms", "sent")
    sent = stack.messages(step_key="after-session")[0]
    assert sent.sent_at is not None
    assert sent.sent_at.astimezone(EDMONTON) == datetime(2026, 11, 24, 22, 11, tzinfo=EDMONTON)
    assert sent.next_attempt_at == planned.next_attempt_at
