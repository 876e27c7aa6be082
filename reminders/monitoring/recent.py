"""Delivery attempts of the last few minutes: provider errors, response times, lateness.

The window is found on delivery_attempt's primary key (ids grow with time), never by scanning
the table: one backward step past the window's first row, then a range of ids. It holds at
most the newest MAX_ATTEMPTS attempts, a sample that costs the same at any volume (on
PostgreSQL with 1M messages and 90,000 attempts in 15 minutes, uncapped, the scrape took
about 1 s, most of it the lateness join). Histograms are over the window only, so they are
gauge histograms: their buckets may go down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from reminders import clock
from reminders.models import DeliveryAttempt, Message
from reminders.vocabulary import AttemptOutcome

WINDOW = timedelta(minutes=15)
# PostgreSQL joins this many attempts to their messages by primary key (~20 ms at 1M messages);
# 5,000 already tips its planner into reading the whole message table (~300 ms).
MAX_ATTEMPTS = 2_000
# Due time to sent, on the deployment's clock: reminders are planned to the minute.
LATENESS_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0)
# A provider's answer: Twilio takes ~0.2-1 s, an SMTP conversation a few seconds at worst.
RESPONSE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)


@dataclass(frozen=True)
class Histogram:
    label: str  # the channel or the transport
    count: int
    total: float  # sum of the observed values, in seconds
    at_most: tuple[int, ...]  # how many were <= each bucket bound, in order


def first_id_after(session: Session) -> int:
    """Attempts with a greater id are in the window: started in the last WINDOW, and among
    the newest MAX_ATTEMPTS (0: every attempt there is)."""
    newest = session.scalar(select(func.max(DeliveryAttempt.id))) or 0
    oldest_allowed = max(0, newest - MAX_ATTEMPTS)
    last_before = session.scalar(
        select(DeliveryAttempt.id)
        .where(
            DeliveryAttempt.id > oldest_allowed,
            DeliveryAttempt.started_at < clock.real_now() - WINDOW,
        )
        .order_by(DeliveryAttempt.id.desc())
        .limit(1)
    )
    return last_before or oldest_allowed


def provider_errors(session: Session, after_id: int) -> list[tuple[str, str, int]]:
    """(transport, provider code, attempts) for attempts in the window that a provider refused."""
    rows = session.execute(
        select(DeliveryAttempt.transport, DeliveryAttempt.provider_code, func.count())
        .where(DeliveryAttempt.id > after_id, DeliveryAttempt.provider_code.is_not(None))
        .group_by(DeliveryAttempt.transport, DeliveryAttempt.provider_code)
    ).all()
    return [(transport, str(code), int(count)) for transport, code, count in rows]


def response_times(session: Session, after_id: int) -> list[Histogram]:
    """How long each transport took to answer, for attempts in the window, by transport."""
    seconds = DeliveryAttempt.duration_ms / 1000.0
    query = (
        select(DeliveryAttempt.transport, *_aggregates(seconds, RESPONSE_BUCKETS))
        .where(DeliveryAttempt.id > after_id, DeliveryAttempt.duration_ms.is_not(None))
        .group_by(DeliveryAttempt.transport)
    )
    return [_histogram(row) for row in session.execute(query).all()]


def lateness(session: Session, after_id: int) -> list[Histogram]:
    """Due time to sent time of the messages sent in the window, by channel."""
    late = _seconds_between(session, Message.due_at, Message.sent_at)
    query = (
        select(Message.channel, *_aggregates(late, LATENESS_BUCKETS))
        .join(DeliveryAttempt, DeliveryAttempt.message_id == Message.id)
        .where(
            DeliveryAttempt.id > after_id,
            DeliveryAttempt.outcome == AttemptOutcome.SENT,
            Message.sent_at.is_not(None),
        )
        .group_by(Message.channel)
    )
    return [_histogram(row) for row in session.execute(query).all()]


def _aggregates(value: ColumnElement[Any], bounds: Sequence[float]) -> list[ColumnElement[Any]]:
    """count, sum, then one cumulative bucket count per bound: one pass, no rows fetched."""
    buckets = [func.sum(case((value <= bound, 1), else_=0)) for bound in bounds]
    return [func.count(), func.coalesce(func.sum(value), 0.0), *buckets]


def _histogram(row: Sequence[Any]) -> Histogram:
    label, count, total, *buckets = row
    return Histogram(str(label), int(count), float(total), tuple(int(b or 0) for b in buckets))


def _seconds_between(
    session: Session, earlier: InstrumentedAttribute[Any], later: InstrumentedAttribute[Any]
) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0
