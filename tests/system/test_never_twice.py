"""Never twice (issue 10): a message whose fate is unknown is never sent again on a guess.

Each fault of issue 10's table, against the real worker and scheduler processes and the fake
providers: whatever happens, the message reaches the fake exactly once. An email the server
may have taken counts as sent and says "unsure"; a text is looked up at Twilio before any
resend; a worker that lost its claim does not send; and a message stranded by a Redis flush
goes out within a minute at the default leases.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import select
from stack import STANDARD_PROCESSES, Deployment

from reminders.config import ConfigurationError, Settings
from reminders.models import DeliveryAttempt, Message
from reminders.reports.timeline import plain_reason
from reminders.sending.send_claim import EMAIL_UNSURE
from reminders.transports.smtp_email import MAYBE_ACCEPTED

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
DUE = SESSION_END + timedelta(minutes=30)
# Deployment.env's test speed-ups; without them the production defaults apply.
SHORT_LEASES = (
    "DISPATCH_INTERVAL_SECONDS",
    "REAPER_INTERVAL_SECONDS",
    "QUEUED_LEASE_SECONDS",
    "SENDING_LEASE_SECONDS",
)


def enroll(stack: Deployment, channel: str, phone: str = "403-555-0123", name: str = "Pat") -> None:
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(
        first_name=name,
        phone=phone,
        email=f"{name.lower()}@example.com",
        channel=channel,
        session_end=SESSION_END,
    )


def come_due(stack: Deployment) -> None:
    stack.set_clock(DUE, speed=1.0)


def after_session(stack: Deployment, channel: str, status: str, timeout: float = 60) -> Message:
    def settled() -> Message | None:
        rows = stack.messages(step_key="after-session", channel=channel)
        return rows[0] if rows and rows[0].status == status else None

    return stack.wait_until(settled, timeout=timeout, what=f"after-session {channel} {status}")


def attempts(stack: Deployment) -> list[tuple[str, str | None]]:
    with stack.session() as session:
        rows = session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id))
        return [(a.outcome, a.detail) for a in rows]


def worker_said(stack: Deployment, *lines: str, timeout: float = 30) -> None:
    stack.wait_until(
        lambda: any(line in stack.logs() for line in lines), timeout=timeout, what=repr(lines)
    )


def assert_unsure_email(stack: Deployment, message: Message, detail: str) -> None:
    assert len(stack.smtp.messages) == 1
    assert message.reason == EMAIL_UNSURE and plain_reason(message) == EMAIL_UNSURE
    assert message.provider_id in (None, stack.smtp.messages[0]["Message-ID"])
    assert attempts(stack) == [("unsure", detail)]


# --- email: the server may have it ----------------------------------------------------------


def test_it_counts_an_email_as_sent_when_the_worker_dies_after_the_server_took_it(
    stack: Deployment,
) -> None:
    # Given a mail server that takes the email, then keeps its answer
    enroll(stack, "email")
    stack.smtp.answer_late_next(120, on="DATA")

    # When the worker is killed after the server recorded the email, and a new one starts
    come_due(stack)
    stack.smtp.wait_for(1, timeout=30)
    stack.kill("worker")
    stack.start_process("worker", *STANDARD_PROCESSES["worker"])

    # Then the reaper counts it as sent, unsure, and it is never sent again
    message = after_session(stack, "email", "sent")
    assert_unsure_email(stack, message, EMAIL_UNSURE)


def test_it_never_resends_an_email_the_server_answered_after_the_timeout(
    stack: Deployment,
) -> None:
    # Given a mail server that answers the message after our 3 s deadline
    enroll(stack, "email")
    stack.smtp.answer_late_next(6, on="DATA")

    # When the email comes due
    come_due(stack)
    message = after_session(stack, "email", "sent")

    # Then it counts as sent, unsure, with the Message-ID it was sent with
    assert_unsure_email(stack, message, MAYBE_ACCEPTED)
    assert message.provider_id == stack.smtp.messages[0]["Message-ID"]
    assert stack.smtp.commands.count("DATA") == 1


def test_it_never_resends_an_email_whose_connection_dropped_after_the_server_took_it(
    stack: Deployment,
) -> None:
    # Given a mail server that takes the message and drops the connection unanswered
    enroll(stack, "email")
    stack.smtp.drop_after_data_next()

    # When the email comes due
    come_due(stack)
    message = after_session(stack, "email", "sent")

    # Then it counts as sent, unsure
    assert_unsure_email(stack, message, MAYBE_ACCEPTED)
    assert stack.smtp.commands.count("DATA") == 1


def test_it_retries_an_email_that_timed_out_before_data(stack: Deployment) -> None:
    # Given a mail server slower than our 3 s deadline to accept the recipient
    enroll(stack, "email")
    stack.smtp.answer_late_next(6, on="RCPT")

    # When the email comes due
    come_due(stack)
    message = after_session(stack, "email", "sent")

    # Then nothing was handed over the first time: it was simply sent again, once
    assert len(stack.smtp.messages) == 1 and message.reason is None
    assert [outcome for outcome, _ in attempts(stack)] == ["transient", "sent"]
    assert stack.smtp.commands.count("DATA") == 1


# --- text: look it up before any resend ------------------------------------------------------


def test_it_finds_a_text_twilio_created_after_the_client_gave_up(stack: Deployment) -> None:
    # Given Twilio creates the message 2 s after the request, when our 1.5 s timeout is over
    enroll(stack, "sms")
    stack.twilio.create_late_next(2.0)

    # When the text comes due
    come_due(stack)
    message = after_session(stack, "sms", "sent")

    # Then the look-up found it, and the patient got it once
    assert len(stack.twilio.messages) == 1 and len(stack.twilio.requests) == 1
    assert message.provider_id == stack.twilio.messages[0]["sid"]
    assert attempts(stack) == [("sent", "unclear answer; found at the provider")]
    # newest first, no DateSent filter (a queued message has no date_sent), small pages
    for query in stack.twilio.look_ups:
        assert not [key for key in query if key.startswith("DateSent")]
        assert int(query["PageSize"]) <= 20


def test_it_asks_twilio_again_rather_than_resend_while_look_ups_fail(stack: Deployment) -> None:
    # Given Twilio creates the text after our timeout, and cannot be asked twice in a row
    enroll(stack, "sms")
    stack.twilio.create_late_next(2.0)
    stack.twilio.fail_next_look_ups(2)

    # When the text comes due
    come_due(stack)
    message = after_session(stack, "sms", "sent")

    # Then it was never sent again: the third look-up found it
    assert len(stack.twilio.requests) == 1 and len(stack.twilio.messages) == 1
    assert len(stack.twilio.look_ups) == 3
    assert message.provider_id == stack.twilio.messages[0]["sid"]
    assert attempts(stack) == [("sent", "unclear answer; found at the provider")]


def test_it_resends_a_lost_text_only_after_a_look_up_that_worked(stack: Deployment) -> None:
    # Given a request that never reached Twilio (the connection dropped), and failing look-ups
    enroll(stack, "sms")
    stack.twilio.drop_next()
    stack.twilio.fail_next_look_ups(2)

    # When the text comes due
    come_due(stack)
    message = after_session(stack, "sms", "sent")

    # Then it was sent again once, after the look-up that answered "not there"
    # (once sent, nothing looks it up again: three look-ups mean it waited for the third)
    assert len(stack.twilio.messages) == 1 and len(stack.twilio.look_ups) == 3
    assert [outcome for outcome, _ in attempts(stack)] == ["lost", "sent"]
    assert message.attempts == 2


# --- a worker frozen past its lease ----------------------------------------------------------


def test_a_frozen_worker_never_overwrites_the_reapers_note(stack: Deployment) -> None:
    # Given Twilio takes the text but answers only after 3 s (while the worker is frozen)
    enroll(stack, "sms")
    stack.twilio.delay_next(3.0)
    come_due(stack)
    stack.twilio.wait_for(1, timeout=30)
    message_id = stack.messages(step_key="after-session", channel="sms")[0].id

    # When the worker is frozen (a VM pause) past its lease, and wakes after the reaper acted
    os.killpg(stack.processes["worker"].pid, signal.SIGSTOP)
    try:
        message = after_session(stack, "sms", "sent")
    finally:
        os.killpg(stack.processes["worker"].pid, signal.SIGCONT)
    worker_said(
        stack,
        f"message {message_id}: sent late; the reaper's note on it stands",
        f"message {message_id}: unclear answer",
    )

    # Then the text went once, and the reaper's note stands
    assert len(stack.twilio.messages) == 1 and len(stack.twilio.requests) == 1
    assert message.provider_id == stack.twilio.messages[0]["sid"]
    # ("worker lost", or "unclear answer" if its 1.5 s timeout beat the freeze)
    [(outcome, note)] = attempts(stack)
    assert outcome == "sent" and note is not None and note.endswith("; found at the provider")
    assert after_session(stack, "sms", "sent").provider_id == message.provider_id


def test_a_worker_frozen_before_handing_an_email_over_does_not_send_it(stack: Deployment) -> None:
    # Given a mail server slow to accept the recipient, and a second worker standing by
    enroll(stack, "email")
    stack.smtp.answer_late_next(1.0, on="RCPT")
    come_due(stack)
    stack.smtp.wait_for_command("RCPT", timeout=30)

    # When the first worker is frozen there, past its lease, then thawed after the reaper took
    # the email back and the second worker sent it
    frozen = stack.processes.pop("worker")
    os.killpg(frozen.pid, signal.SIGSTOP)
    try:
        stack.start_process("worker", *STANDARD_PROCESSES["worker"])
        message = after_session(stack, "email", "sent")
    finally:
        os.killpg(frozen.pid, signal.SIGCONT)
        stack.processes["worker-frozen"] = frozen  # stopped with the rest if this test fails
    try:
        message_id = message.id
        # (at DATA, "taken over before it was handed to the provider"; or, when its deadline
        # ran out during the freeze, a failure it then does not record: "taken over (code
        # None)")
        worker_said(stack, f"message {message_id}: taken over", timeout=90)

        # Then the thawed worker did not send it: the patient got it once
        assert len(stack.smtp.messages) == 1 and stack.smtp.commands.count("DATA") == 1
        assert attempts(stack) == [
            ("lost", "worker lost before handing it over"),
            ("sent", None),
        ]
    finally:
        # a second worker left running would take the next tests' work
        stack.kill("worker-frozen")


# --- quick recovery ---------------------------------------------------------------------------


def with_default_leases(stack: Deployment, *labels: str) -> None:
    """Restart the scheduler (and whatever else is named) with the production leases."""
    for label in ("worker", "scheduler"):
        stack.kill(label)
    for name in SHORT_LEASES:
        stack.env.pop(name)
    for label in ("scheduler", *labels):
        stack.start_process(label, *STANDARD_PROCESSES[label])


def test_a_worker_killed_mid_send_costs_under_a_minute(own_stack: Deployment) -> None:
    # Given the default leases, and a worker talking to a slow mail server (20 s deadline)
    own_stack.env.pop("SMTP_TIMEOUT_SECONDS")
    with_default_leases(own_stack, "worker")
    enroll(own_stack, "email")
    own_stack.smtp.answer_late_next(120, on="RCPT")
    come_due(own_stack)
    own_stack.smtp.wait_for_command("RCPT", timeout=60)

    # When the worker is killed before it handed the email over, and a new one starts
    own_stack.kill("worker")
    killed = time.monotonic()
    own_stack.start_process("worker", *STANDARD_PROCESSES["worker"])

    # Then the email goes out, once, within a minute of the kill
    own_stack.smtp.wait_for(1, timeout=120)
    recovered = time.monotonic() - killed
    assert recovered < 60, f"delivered {recovered:.1f} s after the worker died"
    after_session(own_stack, "email", "sent")
    assert len(own_stack.smtp.messages) == 1
    assert attempts(own_stack) == [("lost", "worker lost before handing it over"), ("sent", None)]
    print(f"\ndelivered {recovered:.1f} s after the worker was killed (default leases)")


def test_a_message_stranded_by_a_redis_flush_goes_out_within_a_minute(
    own_stack: Deployment,
) -> None:
    # Given the default leases, and texts claimed and queued while no worker runs
    with_default_leases(own_stack)
    phones = [f"+1403555{200 + i:04d}" for i in range(3)]
    for i, phone in enumerate(phones):
        enroll(own_stack, "sms", phone=phone, name=f"Pat{i}")
    own_stack.set_clock(DUE + timedelta(minutes=1))
    broker = redis.Redis.from_url(own_stack.redis_url)
    own_stack.wait_until(
        lambda: (
            broker.llen(own_stack.queue) >= len(phones)
            and all(m.status == "queued" for m in own_stack.messages(step_key="after-session"))
        ),
        timeout=60,
        what="the texts queued in Redis",
    )

    # When Redis loses everything, and a worker starts
    broker.flushdb()  # the test database only
    flushed = time.monotonic()
    own_stack.start_process("worker", *STANDARD_PROCESSES["worker"])

    # Then the first stranded text reaches Twilio within 60 s, and each goes once
    own_stack.twilio.wait_for(1, timeout=120)
    recovered = time.monotonic() - flushed
    assert recovered < 60, f"first delivery {recovered:.1f} s after the flush"
    own_stack.twilio.wait_for(len(phones), timeout=120)
    own_stack.wait_until(
        lambda: all(m.status == "sent" for m in own_stack.messages(step_key="after-session")),
        timeout=60,
        what="every text recorded as sent",
    )
    assert sorted(m["to"] for m in own_stack.twilio.messages) == sorted(phones)
    print(f"\nfirst delivery {recovered:.1f} s after the Redis flush (default leases)")


# --- start-up ---------------------------------------------------------------------------------


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_the_sending_lease_must_outlast_the_slowest_send() -> None:
    real = {"sms_transport": "twilio", "email_transport": "smtp"}
    default = settings(**real)
    assert default.worst_send_seconds == 30.0 and default.sending_lease_seconds == 40.0
    with pytest.raises(ConfigurationError, match="SENDING_LEASE_SECONDS"):
        settings(**real, sending_lease_seconds=30)  # 2 x 15 s for Twilio
    with pytest.raises(ConfigurationError, match="SENDING_LEASE_SECONDS"):
        settings(**real, smtp_timeout_seconds=45, task_soft_time_limit=60)
    # the console transports take no time
    assert settings(sending_lease_seconds=2).sending_lease_seconds == 2.0


def test_a_worker_refuses_to_start_with_a_lease_shorter_than_a_send(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMTP_"))}
    env.update(SMS_TRANSPORT="twilio", SENDING_LEASE_SECONDS="20", TWILIO_ACCOUNT_SID="AC1")
    done = subprocess.run(
        [sys.executable, "-m", "reminders", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(tmp_path),
    )
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "SENDING_LEASE_SECONDS" in lines[0], done.stderr
