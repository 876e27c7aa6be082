"""The backlog as the database sees it: what is due and not sent, and whether workers take it.

Four small queries, each on an index: message (status, next_attempt_at) twice, the primary
key of delivery_attempt, and the one clock row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminders import clock
from reminders.models import ClockSetting, DeliveryAttempt, Message
from reminders.vocabulary import UNSENT, MessageStatus

# Due and not yet sent: waiting for its time, handed to the queue, or being sent now.


@dataclass(frozen=True)
class Backlog:
    due_unsent: int  # messages whose time has come and that have not gone out
    oldest_due_age: float  # seconds on the deployment's clock since the oldest one's time; 0: none
    clock_speed: float  # simulated seconds per real second: 1 in production, 0 when frozen
    queued: int  # handed to the queue and not yet taken by a worker
    worker_idle_for: float | None  # real seconds since a worker last started a delivery

    @property
    def late_by(self) -> float | None:
        """Real seconds the oldest due message is late; None when the clock stands still."""
        if self.clock_speed <= 0:
            return None
        return self.oldest_due_age / self.clock_speed


def read_backlog(session: Session) -> Backlog:
    """The backlog now."""
    now = clock.now(session)
    real = clock.real_now()
    count, oldest = session.execute(
        select(func.count(), func.min(Message.next_attempt_at)).where(
            Message.status.in_(UNSENT), Message.next_attempt_at <= now
        )
    ).one()
    queued = session.scalar(select(func.count()).where(Message.status == MessageStatus.QUEUED))
    last_start = session.scalar(
        select(DeliveryAttempt.started_at).order_by(DeliveryAttempt.id.desc()).limit(1)
    )
    setting = session.get(ClockSetting, 1)
    return Backlog(
        due_unsent=int(count),
        oldest_due_age=_seconds(now, oldest) or 0.0,
        clock_speed=1.0 if setting is None else setting.speed,
        queued=int(queued or 0),
        worker_idle_for=_seconds(real, last_start),
    )


def _seconds(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - _aware(then)).total_seconds())


def _aware(value: datetime) -> datetime:
    """The columns are aware UTC; a naive value can only be UTC (SQLite keeps no zone)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
