"""The deployment's notion of now: real time, or a compressed clock shared through the database.

`REMINDERS_CLOCK_SPEED=N` (N simulated seconds per real second) is recorded by
`reminders up` so that every process (web, worker, scheduler, a CLI in another shell)
reads the same accelerated time. Tests freeze it (speed 0) and move it by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reminders.models import ClockSetting


def real_now() -> datetime:
    return datetime.now(UTC)


def now(session: Session) -> datetime:
    """Simulated now if a compressed clock is recorded, else real now (aware UTC)."""
    clock = session.get(ClockSetting, 1)
    if clock is None:
        return real_now()
    elapsed = (real_now() - clock.anchor_real).total_seconds()
    return clock.anchor_simulated + timedelta(seconds=elapsed * clock.speed)


def set_clock(session: Session, *, simulated: datetime, speed: float) -> None:
    """Record a clock that reads `simulated` now and runs at `speed` (0 freezes it)."""
    if speed < 0:
        raise ValueError("clock speed cannot be negative")
    clock = session.get(ClockSetting, 1) or ClockSetting(id=1)
    clock.anchor_real = real_now()
    clock.anchor_simulated = simulated
    clock.speed = speed
    session.add(clock)


def use_real_time(session: Session) -> None:
    session.execute(delete(ClockSetting))


def is_compressed(session: Session) -> bool:
    return session.scalar(select(ClockSetting.speed).where(ClockSetting.id == 1)) is not None
