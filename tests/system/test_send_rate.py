"""The send rate (issue 10): one sender's limit held across every worker, in SMS segments,
with held messages waiting their turn outside the workers, and emergencies never held.

The first tests run the Redis script alone; the last ones run two real worker processes,
the scheduler and the web app against FakeTwilio, and read the limit off what it received.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from fakes import FakeSmtp, FakeTwilio
from sqlalchemy import select
from stack import STANDARD_PROCESSES, Deployment, poll
from test_two_way import answered, text_in

from reminders.content.rendering import sms_cost
from reminders.models import DeliveryAttempt
from reminders.sending import send_rate, send_turns
from reminders.sending.send_rate import SendRate

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
RATE = 5  # segments per second in the process tests
ONCALL = "+15875550111"


# --- the script alone, on the test Redis -------------------------------------------------


@pytest.fixture
def limiter(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SendRate]:
    client = redis.Redis.from_url(redis_url)
    monkeypatch.setattr(send_rate, "redis_client", lambda: client)
    tag = f"{{test-send-rate-{uuid.uuid4().hex}}}"
    yield SendRate(key=f"{tag}:sms", waiting=f"{tag}:waiting", limit=3, window=1.0)
    for key in client.scan_iter(f"{tag}*"):
        client.delete(key)


def redis_now_us() -> int:
    """Redis' own clock, which turns are on, in microseconds."""
    seconds, micros = send_rate.redis_client().time()
    return int(seconds) * 1_000_000 + int(micros)


def ask(rate: SendRate, cost: int, *, returning: bool) -> float:
    """0 when the message may go now, else the seconds until its turn."""
    turn = send_rate.take_turn(rate, cost, returning=returning)
    return 0.0 if isinstance(turn, send_rate.Ticket) else turn.wait


def test_it_lets_a_windows_worth_go_and_holds_the_next_until_the_first_leaves(
    limiter: SendRate,
) -> None:
    # Given a limit of 3 segments per second
    # When four one-segment texts ask at once
    started = time.monotonic()
    waits = [ask(limiter, 1, returning=False) for _ in range(4)]

    # Then three go now, and the fourth waits until the first has left the window
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 1.0 - (time.monotonic() - started) < waits[3] <= 1.0 + send_rate.WINDOW_MARGIN


def test_it_spreads_held_messages_over_the_turns_that_follow(limiter: SendRate) -> None:
    # Given a full window
    for _ in range(3):
        assert ask(limiter, 1, returning=False) == 0.0

    # When six more ask, one of them a two-segment text
    waits = [ask(limiter, cost, returning=False) for cost in
             (1, 2, 1, 1, 1, 1)]  # fmt: skip

    # Then each is given its own turn, a third of a window per segment after the one before
    gaps = [later - earlier for earlier, later in itertools.pairwise(waits)]
    spacing = (1.0 + send_rate.WINDOW_MARGIN + send_rate.TURN_SLACK) / 3
    assert gaps[0] == pytest.approx(spacing, abs=0.01)  # after message 4 (1 segment)
    assert gaps[1] == pytest.approx(2 * spacing, abs=0.01)  # after message 5 (2 segments)
    assert all(gap == pytest.approx(spacing, abs=0.01) for gap in gaps[2:])
    # and a newcomer queues behind them even though nothing else is in its way
    assert ask(limiter, 1, returning=False) > waits[-1]


def test_it_releases_each_held_message_once_when_its_turn_comes(
    limiter: SendRate,
) -> None:
    # Given two held messages
    for _ in range(3):
        ask(limiter, 1, returning=False)
    first, second = (send_rate.take_turn(limiter, 1, returning=False) for _ in (41, 42))
    assert isinstance(first, send_rate.Turn) and isinstance(second, send_rate.Turn)
    send_rate.wait_for_turn(limiter.waiting, 41, first)
    send_rate.wait_for_turn(limiter.waiting, 42, second)

    # When the scheduler looks before the first one's turn, then as often as it likes until
    # both have been released (however late a look comes on a busy machine)
    early, pause = send_turns.release_turns(limiter.waiting)
    turns = {41: first.at_us, 42: second.at_us}
    released: list[int] = []

    def both_released() -> bool:
        due, _ = send_turns.release_turns(limiter.waiting)
        now_us = redis_now_us()
        assert all(turns[message_id] <= now_us for message_id in due), "released early"
        released.extend(due)
        return len(released) >= 2

    assert poll(both_released, timeout=10)
    again, _ = send_turns.release_turns(limiter.waiting)

    # Then nothing is released early, each message once, in turn order, and it may go
    assert early == [] and 0 < pause <= send_turns.RELEASE_IDLE_SECONDS
    assert released == [41, 42] and again == []
    assert ask(limiter, 1, returning=True) == 0.0


def test_a_text_longer_than_the_rate_waits_for_an_empty_window_and_fills_it(
    limiter: SendRate,
) -> None:
    # Given one text in the window
    assert ask(limiter, 1, returning=False) == 0.0

    # When a 6-segment text asks (twice the 3-per-second rate)
    long_wait = ask(limiter, 6, returning=False)

    # Then it waits for the window to empty, and whoever follows it waits two windows more
    assert long_wait > 0.9
    assert ask(limiter, 1, returning=False) >= long_wait + 1.9


def test_urgent_messages_are_counted_but_never_held(
    limiter: SendRate, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a full window
    monkeypatch.setattr(send_rate, "rate_for", lambda channel, settings: limiter)
    for _ in range(3):
        ask(limiter, 1, returning=False)

    # When an emergency answer goes out regardless
    send_rate.count_sent("sms", "Call 911 now.", settings=object())  # type: ignore[arg-type]

    # Then the reminder after it waits for two texts to leave the window, not one
    assert ask(limiter, 1, returning=False) > 0.0
    assert sum(1 for _ in send_rate.redis_client().zscan_iter(f"{limiter.key}:window")) == 4


# --- two real workers against FakeTwilio ---------------------------------------------------


@pytest.fixture(scope="module")
def limited(
    request: pytest.FixtureRequest,
    redis_url: str,
    postgres_database: object,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    """Its own deployment on PostgreSQL with SEND_RATE_SMS=5 and two worker processes."""
    with FakeTwilio() as twilio, FakeSmtp() as smtp:
        url = postgres_database("rate")  # type: ignore[operator]
        stack = Deployment("rate", url, redis_url, twilio, smtp, Path(str(request.config.rootpath)))
        stack.env.update(SEND_RATE_SMS=str(RATE), SEND_RATE_EMAIL="0")
        stack.init()
        stack.start()
        stack.start_process("worker-2", *STANDARD_PROCESSES["worker"])
        try:
            yield stack
        finally:
            stack.stop()


def enroll_many(stack: Deployment, count: int, first_number: int) -> list[str]:
    """`count` patients texted 30 minutes after the session; returns their numbers."""
    stack.reset()
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    numbers = [f"+1403555{first_number + n:04d}" for n in range(count)]
    for number in numbers:  # the first text, with its 911 and opt-out lines, is 2 segments
        stack.enroll(first_name="Pat", phone=number, channel="sms", session_end=SESSION_END)
    return numbers


def reminders_received(stack: Deployment, numbers: list[str]) -> list[tuple[datetime, int]]:
    return sorted(
        (m["received_at"], sms_cost(str(m["body"])).segments)
        for m in stack.twilio.messages
        if m["to"] in numbers
    )


def busiest_second(received: list[tuple[datetime, int]]) -> int:
    """The most segments FakeTwilio received in any one second (window starting at a send)."""
    return max(
        sum(segments for at, segments in received if start <= at < start + timedelta(seconds=1))
        for start, _ in received
    )


def test_the_limit_holds_across_two_workers_and_each_text_goes_once(
    limited: Deployment,
) -> None:
    # Given 30 patients whose first texts (60 segments) fall due at the same moment
    numbers = enroll_many(limited, 30, 1000)

    # When they come due, with two workers sending
    limited.set_clock(SESSION_END + timedelta(minutes=30), speed=1.0)
    limited.wait_until(
        lambda: len(limited.twilio.messages) >= 30, timeout=60, what="30 texts at FakeTwilio"
    )
    limited.wait_until(
        lambda: (
            limited.statuses().get(("after-session", "sms"))
            and all(m.status == "sent" for m in limited.messages(step_key="after-session"))
        ),
        timeout=30,
        what="every text recorded as sent",
    )

    # Then FakeTwilio never got more than 5 segments in any second, and each text once
    received = reminders_received(limited, numbers)
    assert busiest_second(received) <= RATE, [
        round((at - received[0][0]).total_seconds(), 3) for at, _ in received
    ]
    assert sorted(str(m["to"]) for m in limited.twilio.messages) == sorted(numbers)
    assert sum(s for _, s in received) == 60  # each counted as its two segments
    # and no held message counted as an attempt
    with limited.session() as session:
        outcomes = list(session.scalars(select(DeliveryAttempt.outcome)))
    assert outcomes == ["sent"] * 30
    assert {m.attempts for m in limited.messages(step_key="after-session")} == {1}
    # and both workers sent some
    logs = [limited.logdir / f"{label}.log" for label in ("worker", "worker-2")]
    assert all(": sent" in log.read_text() for log in logs)


def test_an_emergency_is_answered_and_alerted_at_once_while_texts_wait_their_turn(
    limited: Deployment,
) -> None:
    # Given 25 texts due at once (5 seconds' worth at 5 a second), one patient among them
    numbers = enroll_many(limited, 25, 2000)
    limited.web_url()
    limited.set_clock(SESSION_END + timedelta(minutes=30), speed=1.0)
    limited.twilio.wait_for(1, timeout=30)

    # When that patient texts an emergency while most texts still wait their turn
    texted = datetime.now(tz=EDMONTON)
    answer = answered(text_in(limited, "I can't breathe and my chest hurts", sender=numbers[0]))

    # Then the answer says 911 at once, and the on-call text goes out before the waiting ones
    assert "911" in answer
    limited.wait_until(
        lambda: any(m["to"] == ONCALL for m in limited.twilio.messages),
        timeout=30,
        what="the on-call alert",
    )
    oncall = next(m for m in limited.twilio.messages if m["to"] == ONCALL)
    assert (oncall["received_at"] - texted).total_seconds() < 3
    limited.wait_until(
        lambda: len(reminders_received(limited, numbers)) >= 25, timeout=60, what="25 texts"
    )
    last = reminders_received(limited, numbers)[-1][0]
    assert oncall["received_at"] < last
    # and the reminders still kept to the rate
    assert busiest_second(reminders_received(limited, numbers)) <= RATE
