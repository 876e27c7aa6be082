"""When each message of a plan goes out: plain functions over plain data, no I/O.

All instants are aware datetimes; results are in UTC. Wall times are read in the
patient's zone with zoneinfo. A wall time that does not exist (spring forward) moves
forward by the gap; an ambiguous one (fall back) takes the first of the two instants.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How late a step that may go in quiet hours still goes at night (a slow enrollment, a retried
# send). Later than that the patient may be asleep: the step waits for the morning.
NIGHT_GRACE = timedelta(minutes=30)

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")
_WALL_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_duration(text: str) -> timedelta:
    """ "30m", "2h", "1h30m", "3d" -> timedelta. Raises ValueError on anything else."""
    match = _DURATION.match(text.lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r} (use forms like 30m, 2h, 1h30m, 3d)")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def parse_wall_time(text: str) -> time:
    """ "19:00" -> time(19, 0). Raises ValueError on anything else."""
    match = _WALL_TIME.match(text.strip())
    if match is None:
        raise ValueError(f"not a time of day: {text!r} (use HH:MM, 24-hour)")
    return time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class StepTiming:
    """When a plan step is due: `offset` after the session end, or local `day` at `at`.

    `send_in_quiet_hours_if_session_ends_before` (an offset step only): when the step's time
    falls in quiet hours, it still goes at that time if the session ended before this local
    wall time, because the patient has just left the clinic and is awake; after a later
    session it goes when the quiet hours end, and its lateness counts from then. The first
    message after dry needling carries what to expect and when to call 911, so it must not be
    lost to quiet hours.
    """

    offset: timedelta | None = None
    day: int | None = None
    at: time | None = None
    not_sooner_than: timedelta = timedelta(0)
    max_lateness: timedelta = timedelta(hours=12)
    send_in_quiet_hours_if_session_ends_before: time | None = None

    def __post_init__(self) -> None:
        anchored = self.day is not None and self.at is not None
        if (self.offset is None) == (not anchored):
            raise ValueError("a step has either an offset, or both a day and a time")
        if self.day is not None and self.day < 0:
            raise ValueError("a step's day cannot be negative")
        if self.send_in_quiet_hours_if_session_ends_before is not None and self.offset is None:
            raise ValueError(
                "send_in_quiet_hours_if_session_ends_before needs an offset from the session end"
            )


@dataclass(frozen=True)
class QuietHours:
    """Local hours when nothing is sent; start after end wraps midnight; start == end: none."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def contains(self, wall: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end


@dataclass(frozen=True)
class Caps:
    """At most `per_day` messages a local day and `per_week` in any 7 local days (None: off)."""

    per_day: int | None = None
    per_week: int | None = None

    def allow(self, taken: Iterable[date], day: date) -> bool:
        """Would one more message on `day` keep every day and every 7-day window in the caps?"""
        days = [*taken, day]
        if self.per_day is not None and days.count(day) > self.per_day:
            return False
        if self.per_week is not None:
            for first in (day - timedelta(days=back) for back in range(7)):
                in_window = sum(1 for d in days if first <= d <= first + timedelta(days=6))
                if in_window > self.per_week:
                    return False
        return True


@dataclass(frozen=True)
class PlannedSend:
    """A step's outcome: its UTC due time, or its planned time and why it will not be sent."""

    key: str
    due_at: datetime
    skipped_reason: str | None = None


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time: gaps move forward, overlaps take the first."""
    # PEP 495: with fold=0 an ambiguous time is its first occurrence, and a time in a
    # gap is read with the offset before the gap, which lands after it by the gap's length.
    return datetime.combine(day, wall).replace(tzinfo=zone, fold=0).astimezone(UTC)


def planned_time(timing: StepTiming, session_end: datetime, zone: ZoneInfo) -> datetime:
    """The step's time before quiet hours and caps, in UTC."""
    # Offsets are real elapsed time: add them in UTC (aware arithmetic in one zone is wall time).
    end = session_end.astimezone(UTC)
    earliest = end + timing.not_sooner_than
    if timing.offset is not None:
        return max(end + timing.offset, earliest)
    assert timing.day is not None and timing.at is not None
    session_day = session_end.astimezone(zone).date()
    anchored = local_instant(session_day + timedelta(days=timing.day), timing.at, zone)
    return max(anchored, earliest).astimezone(UTC)


def next_opening(moment: datetime, quiet: QuietHours, zone: ZoneInfo) -> datetime:
    """`moment` if sending is allowed then, else the end of the quiet hours it falls in."""
    local = moment.astimezone(zone)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return moment.astimezone(UTC)
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)
    opening = local_instant(day, quiet.end, zone)
    if opening < moment:
        # In the repeated (fall back) hour the window ends again at the second occurrence.
        opening = datetime.combine(day, quiet.end).replace(tzinfo=zone, fold=1).astimezone(UTC)
    return max(opening, moment.astimezone(UTC))


def ended_early_enough(
    timing: StepTiming, session_end: datetime, zone: ZoneInfo, quiet: QuietHours
) -> bool:
    """Did the session end (patient's wall time) before the step's cutoff, so that the step
    may go in quiet hours? Never for a step without one."""
    cutoff = timing.send_in_quiet_hours_if_session_ends_before
    if cutoff is None:
        return False
    # Too late runs from the cutoff to the end of quiet hours, across midnight: a session
    # that ended at 00:30 ended after 23:00, not before it.
    too_late = QuietHours(cutoff, quiet.end)
    return not too_late.contains(session_end.astimezone(zone).time())


def night_send_until(
    timing: StepTiming, *, session_end: datetime, due: datetime, zone: ZoneInfo, quiet: QuietHours
) -> datetime | None:
    """Until when quiet hours do not hold this step back (its time `due` plus NIGHT_GRACE),
    or None when they do, as for any step."""
    if not ended_early_enough(timing, session_end, zone, quiet):
        return None
    return due + NIGHT_GRACE


def next_allowed(
    moment: datetime,
    *,
    quiet: QuietHours,
    caps: Caps,
    zone: ZoneInfo,
    taken: Sequence[datetime] = (),
) -> datetime:
    """The first instant at or after `moment` outside quiet hours whose local day fits the caps.

    A capped message moves to the next allowed day at the same local wall time (which is
    outside quiet hours already), so the order of a plan's steps is kept.
    """
    taken_days = [t.astimezone(zone).date() for t in taken]
    candidate = next_opening(moment, quiet, zone)
    for _ in range(366):
        local = candidate.astimezone(zone)
        if caps.allow(taken_days, local.date()):
            return candidate
        next_day = local.date() + timedelta(days=1)
        candidate = next_opening(local_instant(next_day, local.time(), zone), quiet, zone)
    raise ValueError("no day within a year fits the caps")


def schedule(
    steps: Sequence[tuple[str, StepTiming]],
    *,
    session_end: datetime,
    zone: ZoneInfo,
    quiet: QuietHours,
    caps: Caps,
    taken: Sequence[datetime] = (),
    now: datetime | None = None,
) -> list[PlannedSend]:
    """Plan every step of one channel for a session; `taken` are that patient's other sends.

    A step that quiet hours or caps would push past its maximum lateness, or that is
    already too late at `now` (an enrollment entered long after the session), is skipped.
    A step with send_in_quiet_hours_if_session_ends_before whose time falls in quiet hours
    goes at that time, or when they end (see StepTiming).
    """
    if session_end.tzinfo is None:
        raise ValueError("session_end must be timezone-aware")
    booked = list(taken)
    planned: list[PlannedSend] = []
    for key, timing in sorted(steps, key=lambda s: planned_time(s[1], session_end, zone)):
        wanted = planned_time(timing, session_end, zone)
        start = max(wanted, now) if now is not None else wanted
        if timing.send_in_quiet_hours_if_session_ends_before and quiet.contains(
            wanted.astimezone(zone).time()
        ):
            if _goes_tonight(timing, wanted, start, session_end, zone, quiet, caps, booked):
                booked.append(start)
                planned.append(PlannedSend(key, start))
                continue
            # Too late in the night for this patient: the plan moves the step to the end of
            # the quiet hours, and its lateness counts from then.
            wanted = next_opening(wanted, quiet, zone)
            start = max(wanted, now) if now is not None else wanted
        due = next_allowed(start, quiet=quiet, caps=caps, zone=zone, taken=booked)
        if due - wanted > timing.max_lateness:
            planned.append(PlannedSend(key, wanted, _why_late(wanted, start, timing, quiet, zone)))
            continue
        booked.append(due)
        planned.append(PlannedSend(key, due))
    return planned


def _goes_tonight(
    timing: StepTiming,
    wanted: datetime,
    start: datetime,
    session_end: datetime,
    zone: ZoneInfo,
    quiet: QuietHours,
    caps: Caps,
    booked: Sequence[datetime],
) -> bool:
    """May a step whose time falls in quiet hours go at `start` all the same?"""
    until = night_send_until(timing, session_end=session_end, due=wanted, zone=zone, quiet=quiet)
    return until is not None and start <= until and _fits_caps(start, caps, zone, booked)


def _fits_caps(moment: datetime, caps: Caps, zone: ZoneInfo, taken: Sequence[datetime]) -> bool:
    days = [t.astimezone(zone).date() for t in taken]
    return caps.allow(days, moment.astimezone(zone).date())


def _why_late(
    wanted: datetime, start: datetime, timing: StepTiming, quiet: QuietHours, zone: ZoneInfo
) -> str:
    if start - wanted > timing.max_lateness:
        return "too late"
    if next_opening(start, quiet, zone) - wanted > timing.max_lateness:
        return "quiet hours"
    return "cap reached"


@dataclass(frozen=True)
class SendDecision:
    """What a worker does with a message now: "send", "defer" to `at`, or "skip" (`reason`)."""

    action: str
    at: datetime | None = None
    reason: str | None = None


def decide_send(
    *,
    now: datetime,
    due_at: datetime,
    max_lateness: timedelta,
    zone: ZoneInfo,
    quiet: QuietHours,
    caps: Caps,
    sent: Sequence[datetime] = (),
    night_until: datetime | None = None,
) -> SendDecision:
    """The last check before a message leaves: lateness, quiet hours and caps, as of `now`.

    `night_until` (from night_send_until): until then quiet hours do not hold the message
    back, as when it was planned; caps still do.
    """
    latest = due_at + max_lateness
    if now > latest:
        late = int((now - due_at).total_seconds() // 60)
        return SendDecision("skip", reason=f"too late: {late} min after its time")
    if night_until is not None and now <= night_until and _fits_caps(now, caps, zone, sent):
        return SendDecision("send")
    allowed = next_allowed(now, quiet=quiet, caps=caps, zone=zone, taken=sent)
    if allowed <= now:
        return SendDecision("send")
    if allowed > latest:
        quiet_only = next_opening(now, quiet, zone)
        return SendDecision("skip", reason="quiet hours" if quiet_only > latest else "cap reached")
    return SendDecision("defer", at=allowed)
