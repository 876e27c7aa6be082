"""Twilio and SMTP misbehaving: transient faults retry with backoff, permanent ones do not."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from stack import Deployment

from reminders.models import DeliveryAttempt, OptOut

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
DUE = SESSION_END + timedelta(minutes=30)


def start(stack: Deployment, channel: str = "sms") -> None:
    """Enroll, then let the clock run in real time from the first message's due time."""
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(
        phone="403-555-0123", email="pat@example.com", channel=channel, session_end=SESSION_END
    )


def go(stack: Deployment) -> None:
    stack.set_clock(DUE, speed=1.0)


def after_session(stack: Deployment, channel: str = "sms", status: str | None = None):  # type: ignore[no-untyped-def]
    def check():  # type: ignore[no-untyped-def]
        rows = stack.messages(step_key="after-session", channel=channel)
        return rows if rows and (status is None or rows[0].status == status) else None

    return stack.wait_until(check, what=f"after-session {status}")[0]


def attempts(stack: Deployment) -> list[tuple[str, str | None]]:
    with stack.session() as session:
        rows = session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id))
        return [(a.outcome, a.provider_code) for a in rows]


def test_it_retries_a_twilio_500_and_then_sends_once(stack: Deployment) -> None:
    # Given Twilio answers the first two requests with 500
    start(stack)
    stack.twilio.fail_next(500, times=2)

    # When the message comes due
    go(stack)
    message = after_session(stack, status="sent")

    # Then it went out on the third try, exactly once, and every attempt is on record
    assert [r["status"] for r in stack.twilio.requests] == [500, 500, 201]
    assert (
        len(stack.twilio.messages) == 1 and message.provider_id == stack.twilio.messages[0]["sid"]
    )
    assert attempts(stack) == [("transient", "20500"), ("transient", "20500"), ("sent", None)]
    assert message.attempts == 3


def test_it_keeps_trying_while_twilio_refuses_our_credentials(stack: Deployment) -> None:
    # Given credentials Twilio refuses until an operator fixes them (two tries here)
    start(stack)
    stack.twilio.fail_next(401, times=2)

    # When the message comes due
    go(stack)
    message = after_session(stack, status="sent")

    # Then it is not failed for good (nor moved to email): it goes out once they are fixed
    assert [r["status"] for r in stack.twilio.requests] == [401, 401, 201]
    assert attempts(stack) == [("transient", "20003"), ("transient", "20003"), ("sent", None)]
    assert message.channel == "sms" and len(stack.smtp.messages) == 0


def test_it_waits_as_long_as_retry_after_says(stack: Deployment) -> None:
    # Given Twilio rate-limits the first request and asks for 3 seconds
    start(stack)
    stack.twilio.fail_next(429, code=20429, retry_after=3)

    # When the message comes due
    go(stack)
    after_session(stack, status="sent")

    # Then the second request came no sooner than Retry-After allowed
    first, second = stack.twilio.requests
    assert (first["status"], second["status"]) == (429, 201)
    assert (second["received_at"] - first["received_at"]).total_seconds() >= 3.0
    assert attempts(stack)[0] == ("transient", "20429")


def test_it_looks_up_then_resends_a_text_whose_connection_was_dropped(
    stack: Deployment,
) -> None:
    # Given the connection to Twilio drops once, before Twilio took the message
    start(stack)
    stack.twilio.drop_next()

    # When the message comes due
    go(stack)
    message = after_session(stack, status="sent")

    # Then it is looked up first (the request may have arrived), and only once Twilio said
    # it has no copy is it sent again: it went out once
    assert len(stack.twilio.messages) == 1 and message.attempts == 2
    assert [a[0] for a in attempts(stack)] == ["lost", "sent"]
    assert len(stack.twilio.look_ups) == 1


def test_it_finds_a_timed_out_text_at_twilio_instead_of_sending_it_twice(stack: Deployment) -> None:
    # Given Twilio takes longer than our 1.5 s timeout to answer, but does take the message
    start(stack)
    stack.twilio.delay_next(3.0)

    # When the message comes due
    go(stack)
    message = after_session(stack, status="sent")

    # Then it is recorded as sent with Twilio's id, and the patient got it once
    assert len(stack.twilio.messages) == 1
    assert message.provider_id == stack.twilio.messages[0]["sid"]
    assert len([r for r in stack.twilio.requests if r["status"] == 201]) == 1


def test_it_does_not_retry_an_invalid_number(stack: Deployment) -> None:
    # Given Twilio says the number is invalid (21211)
    start(stack)
    stack.twilio.fail_next(400, code=21211)

    # When the message comes due
    go(stack)
    message = after_session(stack, status="failed")

    # Then one request was made and the reason is kept in plain words
    assert len(stack.twilio.requests) == 1
    assert (message.error_code, message.reason) == ("21211", "invalid phone number")
    assert attempts(stack) == [("permanent", "21211")]


def test_it_records_an_opt_out_when_twilio_says_the_patient_unsubscribed(stack: Deployment) -> None:
    # Given the patient texted STOP to our number at the carrier level (21610)
    start(stack)
    stack.twilio.fail_next(400, code=21610)

    # When the message comes due
    go(stack)
    message = after_session(stack, status="failed")

    # Then the opt-out is recorded, so no later text is even tried
    assert message.error_code == "21610"
    with stack.session() as session:
        assert session.scalars(select(OptOut.source)).all() == ["provider-21610"]
    stack.set_clock(datetime(2026, 11, 24, 19, 1, tzinfo=EDMONTON), speed=1.0)
    stack.wait_until(
        lambda: [m for m in stack.messages(step_key="same-evening") if m.status == "skipped"],
        what="skip",
    )
    assert len(stack.twilio.requests) == 1


def test_it_gives_up_after_the_configured_number_of_attempts(stack: Deployment) -> None:
    # Given Twilio fails every request
    start(stack)
    stack.twilio.fail_next(503, times=50)

    # When the message comes due
    go(stack)
    message = stack.wait_until(
        lambda: [m for m in stack.messages(step_key="after-session") if m.status == "failed"],
        timeout=60,
        what="failed",
    )[0]

    # Then it stopped at MAX_ATTEMPTS (6) and says why
    assert message.attempts == 6 and len(stack.twilio.requests) == 6
    assert message.reason == "gave up after 6 attempts: Twilio answered 503"


def test_it_retries_a_temporary_smtp_refusal_and_fails_a_permanent_one(stack: Deployment) -> None:
    # Given the mail server answers 451 once, and later 550
    start(stack, channel="email")
    stack.smtp.fail_next(451, "Try again later")

    # When the after-session email comes due
    go(stack)
    sent = after_session(stack, channel="email", status="sent")

    # Then it went on the second try
    assert len(stack.smtp.messages) == 1 and sent.attempts == 2

    # And a permanent refusal of the evening email is not retried
    stack.smtp.fail_next(550, "No such user")
    stack.set_clock(datetime(2026, 11, 24, 19, 0, tzinfo=EDMONTON), speed=1.0)
    failed = stack.wait_until(
        lambda: [m for m in stack.messages(step_key="same-evening") if m.status == "failed"],
        what="failed",
    )[0]
    assert (failed.error_code, failed.attempts) == ("550", 1)
    assert len(stack.smtp.messages) == 1
