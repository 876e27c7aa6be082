"""The deployment's notion of now: real time, or a compressed clock shared through the database.

`REMINDERS_CLOCK_SPEED=N` (N simulated seconds per real second) is recorded by
`reminders up` so that every process (web, worker, scheduler, a CLI in another shell)
reads the same accelerated time. Tests freeze it (speed 0) and move it by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reminders.models import ClockSetting


def real_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Anchor:
    real: datetime
    simulated: datetime
    speed: float


_cached: tuple[float, _Anchor | None] | None = None  # (monotonic time read, anchor)
CACHE_SECONDS = 1.0  # how stale another process's change to the clock may be seen here


def _anchor(session: Session) -> _Anchor | None:
    """The recorded clock. Real time (no row, as in production) is remembered for a second
    per process, since every message delivered would otherwise ask several times; a
    compressed clock is read every time, because tests and demos move it."""
    global _cached
    cached = _cached  # read once: a worker's other threads replace it (a whole tuple at a time)
    if cached is not None and cached[1] is None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return None
    row = session.get(ClockSetting, 1)
    anchor = None if row is None else _Anchor(row.anchor_real, row.anchor_simulated, row.speed)
    _cached = (time.monotonic(), anchor)
    return anchor


def now(session: Session) -> datetime:
    """Simulated now if a compressed clock is recorded, else real now (aware UTC)."""
    return reader(session)()


def reader(session: Session) -> Callable[[], datetime]:
    """Tells `now` as often as asked from one reading of the recorded clock, with no further
    queries: for one piece of work (a delivery) that needs the time at several moments."""
    anchor = _anchor(session)
    if anchor is None:
        return real_now

    def simulated() -> datetime:
        elapsed = (real_now() - anchor.real).total_seconds()
        return anchor.simulated + timedelta(seconds=elapsed * anchor.speed)

    return simulated


def forget() -> None:
    """Read the clock afresh next time (this process just changed it)."""
    global _cached
    _cached = None


def set_clock(session: Session, *, simulated: datetime, speed: float) -> None:
    """Record a clock that reads `simulated` now and runs at `speed` (0 freezes it)."""
    if speed < 0:
        raise ValueError("clock speed cannot be negative")
    clock = session.get(ClockSetting, 1) or ClockSetting(id=1)
    clock.anchor_real = real_now()
    clock.anchor_simulated = simulated
    clock.speed = speed
    session.add(clock)
    forget()


def use_real_time(session: Session) -> None:
    session.execute(delete(ClockSetting))
    forget()


def is_compressed(session: Session) -> bool:
    return session.scalar(select(ClockSetting.speed).where(ClockSetting.id == 1)) is not None
