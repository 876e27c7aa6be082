"""Things going wrong in production: a second scheduler, a killed worker, an emptied Redis.

Every message must still reach the patient, and none twice.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import select
from stack import STANDARD_PROCESSES, Deployment

from reminders.models import DeliveryAttempt
from reminders.sending.dispatch import claim_due

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
PATIENTS = 24


def enroll_many(stack: Deployment, count: int = PATIENTS) -> list[str]:
    """`count` text-only patients whose after-session messages are all due at 14:30."""
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    phones = [f"+1403555{100 + i:04d}" for i in range(count)]
    for i, phone in enumerate(phones):
        stack.enroll(phone=phone, channel="sms", session_end=SESSION_END, first_name=f"Pat{i}")
    return phones


def assert_each_sent_once(stack: Deployment, phones: list[str]) -> None:
    stack.twilio.wait_for(len(phones), timeout=60)
    stack.wait_until(
        lambda: all(m.status == "sent" for m in stack.messages(step_key="after-session")),
        timeout=60,
        what="every after-session message recorded as sent",
    )
    received = Counter(m["to"] for m in stack.twilio.messages)
    assert received == Counter(phones), f"duplicates or gaps: {received - Counter(phones)}"
    sids = {m.provider_id for m in stack.messages(step_key="after-session")}
    assert sids == {m["sid"] for m in stack.twilio.messages}


def test_it_sends_once_with_two_schedulers_running(own_stack: Deployment) -> None:
    # Given a second scheduler started by mistake beside the first
    own_stack.start_process("scheduler-2", "scheduler")
    own_stack.start_process("scheduler-3", "scheduler")
    phones = enroll_many(own_stack)

    # When all the messages come due at once
    own_stack.set_clock(SESSION_END + timedelta(minutes=31))

    # Then each patient gets exactly one text
    assert_each_sent_once(own_stack, phones)


def test_it_never_hands_the_same_row_to_two_claims_at_once(own_stack: Deployment) -> None:
    # Given many due messages and the running schedulers stopped (we claim by hand)
    own_stack.kill("scheduler")
    enroll_many(own_stack, 40)
    now = SESSION_END + timedelta(minutes=31)
    claims: list[list[int]] = []

    # When eight threads claim small batches concurrently until nothing is left
    def claimer() -> None:
        while True:
            with own_stack.session() as session:
                ids = claim_due(session, now=now, limit=3, lease=timedelta(minutes=5))
            if not ids:
                return
            claims.append(ids)

    threads = [threading.Thread(target=claimer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then every due message was claimed once, by exactly one claim
    claimed = [message_id for batch in claims for message_id in batch]
    due = [m.id for m in own_stack.messages() if m.status == "queued"]
    assert sorted(claimed) == sorted(due) and len(claimed) == len(set(claimed))
    assert len(claimed) == 40  # the after-session text of each patient


def test_it_recovers_from_a_worker_killed_mid_batch(own_stack: Deployment) -> None:
    # Given a slow Twilio, so that a kill lands while texts are in flight
    phones = enroll_many(own_stack)
    own_stack.twilio.response_delay = 0.4
    own_stack.set_clock(SESSION_END + timedelta(minutes=31))
    own_stack.twilio.wait_for(3, timeout=60)
    own_stack.twilio.response_delay = 30.0  # the next text reaches Twilio, its answer never comes
    seen = len(own_stack.twilio.messages)
    own_stack.twilio.wait_for(seen + 1, timeout=30)

    # When the worker and its children are killed with SIGKILL, and a new worker starts
    own_stack.kill("worker")
    own_stack.twilio.response_delay = 0.2
    in_flight = len(own_stack.twilio.messages)
    own_stack.start_process("worker", *STANDARD_PROCESSES["worker"])

    # Then every patient gets exactly one text: the sends cut off were found at Twilio
    assert_each_sent_once(own_stack, phones)
    assert in_flight < PATIENTS
    with own_stack.session() as session:
        details = session.scalars(select(DeliveryAttempt.detail)).all()
    assert "worker lost; found at the provider" in details


def test_it_recovers_when_redis_is_flushed_mid_batch(own_stack: Deployment) -> None:
    # Given a batch being worked through slowly
    phones = enroll_many(own_stack)
    own_stack.twilio.response_delay = 0.3
    own_stack.set_clock(SESSION_END + timedelta(minutes=31))
    own_stack.twilio.wait_for(3, timeout=60)

    # When everything in its Redis database is lost
    redis.Redis.from_url(own_stack.redis_url).flushdb()  # the test database only
    assert len(own_stack.twilio.messages) < PATIENTS

    # Then the queued rows are dispatched again, and each patient still gets one text
    assert_each_sent_once(own_stack, phones)
