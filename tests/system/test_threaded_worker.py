"""The default worker runs deliveries in threads (issue 10): 32 at once in one process, each
waiting on a slow provider, and still every text reaches the provider exactly once.

A real `reminders worker` process with its defaults (threads, WORKER_CONCURRENCY 32) against
FakeTwilio answering every message after a delay, on PostgreSQL and on the embedded SQLite.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from stack import Deployment

from reminders.models import DeliveryAttempt

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
DUE = SESSION_END + timedelta(minutes=30)  # the after-session text
PATIENTS = 64  # twice the worker's threads: every thread sends, and then sends again
DELAY = 0.4  # seconds Twilio takes to answer each message


def most_at_once(starts: list[datetime], lasting: float) -> int:
    """The most requests the fake was answering at one moment."""
    events = sorted(
        [(s, 1) for s in starts] + [(s + timedelta(seconds=lasting), -1) for s in starts]
    )
    busy = most = 0
    for _when, change in events:
        busy += change
        most = max(most, busy)
    return most


@pytest.mark.parametrize("deployment", ["postgresql", "sqlite"], indirect=True)
def test_it_sends_every_text_exactly_once_with_32_deliveries_at_once(stack: Deployment) -> None:
    # Given the default worker (threads) in place of the tests' two-thread one
    stack.kill("worker")
    stack.start_process("worker-threads", "worker", "--loglevel", "INFO")
    stack.wait_until(
        lambda: b" ready." in (stack.logdir / "worker-threads.log").read_bytes(),
        timeout=120,
        what="the threaded worker to be ready",
    )
    # and 64 patients whose after-session text is due at the same moment
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    for i in range(PATIENTS):
        stack.enroll(
            first_name=f"Pat{i}", phone=f"403-555-01{i:02d}", channel="sms", session_end=SESSION_END
        )
    stack.twilio.response_delay = DELAY

    # When they come due (the clock stands still just after)
    stack.set_clock(DUE + timedelta(seconds=1))
    stack.twilio.wait_for(PATIENTS, timeout=120)

    def all_sent() -> bool:
        rows = stack.messages(step_key="after-session", channel="sms")
        return len(rows) == PATIENTS and all(m.status == "sent" for m in rows)

    stack.wait_until(all_sent, timeout=60, what="every after-session text recorded as sent")

    # Then each number got its text once, from one request each: no message was sent again
    received = Counter(m["to"] for m in stack.twilio.messages)
    assert len(received) == PATIENTS and set(received.values()) == {1}
    assert len(stack.twilio.requests) == PATIENTS
    with stack.session() as session:
        sent_attempts = session.scalars(
            select(DeliveryAttempt.message_id).where(DeliveryAttempt.outcome == "sent")
        ).all()
    assert sorted(Counter(sent_attempts).values()) == [1] * PATIENTS
    # and the worker did wait on many of them at once (two threads would show 2)
    assert most_at_once([m["received_at"] for m in stack.twilio.messages], DELAY) >= 16
