"""When plan steps go out: DST, quiet hours, caps, lateness and the last check before a send.

The clinic is in America/Edmonton (MST, UTC-7; MDT, UTC-6 from 2026-03-08 to 2026-11-01).
Expected instants are written out by hand in UTC and as the patient's wall time.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from reminders.planning.plan_editing import step_as_data
from reminders.planning.plans import InvalidPlan, parse_plan, step_from_row, step_to_row
from reminders.planning.scheduling import (
    Caps,
    PlannedSend,
    QuietHours,
    SendDecision,
    StepTiming,
    decide_send,
    ended_early_enough,
    local_instant,
    next_allowed,
    next_opening,
    night_send_until,
    parse_duration,
    parse_wall_time,
    planned_time,
    schedule,
)

EDMONTON = ZoneInfo("America/Edmonton")
TORONTO = ZoneInfo("America/Toronto")
VANCOUVER = ZoneInfo("America/Vancouver")
KOLKATA = ZoneInfo("Asia/Kolkata")

PLAN_FILE = Path(__file__).resolve().parents[2] / "templates" / "plans" / "dry-needling.toml"
DEFAULT_QUIET = QuietHours()
NO_CAPS = Caps()
TCPA = Caps(per_day=1, per_week=3)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def edmonton(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An Edmonton wall time as a UTC instant (first occurrence if ambiguous)."""
    return datetime(year, month, day, hour, minute, tzinfo=EDMONTON).astimezone(UTC)


def wall(moment: datetime, zone: ZoneInfo = EDMONTON) -> str:
    """What the patient's phone clock shows at `moment`."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def default_plan_steps() -> list[tuple[str, StepTiming]]:
    with PLAN_FILE.open("rb") as plan_file:
        plan = parse_plan(tomllib.load(plan_file))
    return [(step.key, step.timing) for step in plan.steps]


def outcome(
    planned: list[PlannedSend], zone: ZoneInfo = EDMONTON
) -> list[tuple[str, str, str | None]]:
    return [(p.key, wall(p.due_at, zone), p.skipped_reason) for p in planned]


# --- parsing plan fields ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("3d", timedelta(days=3)),
        ("1d12h", timedelta(hours=36)),
        ("0m", timedelta(0)),
        ("1h 30m", timedelta(minutes=90)),
        ("2H", timedelta(hours=2)),
    ],
)
def test_it_parses_a_duration_written_in_days_hours_and_minutes(
    text: str, expected: timedelta
) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "abc", "25:00", "-1h", "1.5h", "h", "30 minutes", "1w", "2h-30m"]
)
def test_it_rejects_a_duration_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19:00", time(19, 0)),
        ("7:05", time(7, 5)),
        ("07:05", time(7, 5)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
        (" 10:00 ", time(10, 0)),
    ],
)
def test_it_parses_a_24_hour_wall_time(text: str, expected: time) -> None:
    assert parse_wall_time(text) == expected


@pytest.mark.parametrize(
    "text", ["", "abc", "25:00", "-1h", "24:00", "19:60", "7:5", "7pm", "19.00", "1900"]
)
def test_it_rejects_a_wall_time_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match="not a time of day"):
        parse_wall_time(text)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"offset": timedelta(minutes=30), "day": 0, "at": time(19)},
        {"day": 1},
        {"at": time(10)},
        {"day": -1, "at": time(10)},
    ],
    ids=["nothing", "offset-and-anchor", "day-without-time", "time-without-day", "negative-day"],
)
def test_it_refuses_a_step_timing_that_is_neither_an_offset_nor_an_anchor(fields: dict) -> None:
    with pytest.raises(ValueError):
        StepTiming(**fields)


# --- daylight saving time -----------------------------------------------------------------


def test_it_moves_a_wall_time_in_the_spring_forward_gap_forward_by_the_gap() -> None:
    # Given 2026-03-08 in Edmonton, where 02:00 MST jumps to 03:00 MDT
    # When 02:30, which no clock shows that night, is asked for
    moment = local_instant(date(2026, 3, 8), time(2, 30), EDMONTON)

    # Then it is read as 03:30 MDT
    assert moment == utc(2026, 3, 8, 9, 30)
    assert wall(moment) == "2026-03-08 03:30 MDT"


def test_it_lands_a_step_anchored_in_the_spring_forward_gap_at_0330_mdt() -> None:
    # Given a session that ended at 01:00 MST on the night clocks spring forward
    session_end = edmonton(2026, 3, 8, 1, 0)
    step = StepTiming(day=0, at=time(2, 30))

    # When the step anchored at 02:30 is planned
    due = planned_time(step, session_end, EDMONTON)

    # Then it is due at 03:30 MDT
    assert due == utc(2026, 3, 8, 9, 30)
    assert wall(due) == "2026-03-08 03:30 MDT"


def _as_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _as_edmonton(moment: datetime) -> datetime:
    return moment.astimezone(EDMONTON)


def _as_fixed_offset(moment: datetime) -> datetime:
    return moment.astimezone(timezone(timedelta(hours=-5)))


SESSION_END_FORMS = pytest.mark.parametrize(
    "express", [_as_utc, _as_edmonton, _as_fixed_offset], ids=["utc", "edmonton", "fixed-offset"]
)


@SESSION_END_FORMS
@pytest.mark.parametrize(
    ("session_end", "offset", "expected_utc", "expected_wall"),
    [
        (utc(2026, 3, 8, 8, 45), "30m", utc(2026, 3, 8, 9, 15), "2026-03-08 03:15 MDT"),
        (utc(2026, 3, 8, 8, 30), "2h", utc(2026, 3, 8, 10, 30), "2026-03-08 04:30 MDT"),
    ],
    ids=["01:45-MST+30m", "01:30-MST+2h"],
)
def test_it_counts_an_offset_across_the_spring_forward_gap_in_real_time(
    express, session_end: datetime, offset: str, expected_utc: datetime, expected_wall: str
) -> None:
    # Given a session that ended just before clocks spring forward, however the time is written
    # When an offset step is planned
    due = planned_time(StepTiming(offset=parse_duration(offset)), express(session_end), EDMONTON)

    # Then the offset is real elapsed time, not a wall-clock difference
    assert due == expected_utc
    assert wall(due) == expected_wall


@SESSION_END_FORMS
@pytest.mark.parametrize(
    ("session_end", "offset", "expected_utc", "expected_wall"),
    [
        (utc(2026, 11, 1, 7, 45), "30m", utc(2026, 11, 1, 8, 15), "2026-11-01 01:15 MST"),
        (utc(2026, 11, 1, 7, 45), "2h", utc(2026, 11, 1, 9, 45), "2026-11-01 02:45 MST"),
    ],
    ids=["01:45-MDT+30m", "01:45-MDT+2h"],
)
def test_it_counts_an_offset_across_the_fall_back_overlap_in_real_time(
    express, session_end: datetime, offset: str, expected_utc: datetime, expected_wall: str
) -> None:
    # Given a session that ended at 01:45 MDT, 15 minutes before clocks fall back to 01:00 MST
    # When an offset step is planned
    due = planned_time(StepTiming(offset=parse_duration(offset)), express(session_end), EDMONTON)

    # Then the offset is real elapsed time: +30m is 01:15 MST, not 02:15 MST
    assert due == expected_utc
    assert wall(due) == expected_wall


def test_it_sends_a_next_day_step_at_10_mdt_after_clocks_spring_forward() -> None:
    # Given a session on Saturday 2026-03-07 at 15:00 MST
    session_end = edmonton(2026, 3, 7, 15, 0)

    # When the "next day 10:00" step is planned
    due = planned_time(StepTiming(day=1, at=time(10, 0)), session_end, EDMONTON)

    # Then it is 10:00 on the patient's clock, now MDT
    assert due == utc(2026, 3, 8, 16, 0)
    assert wall(due) == "2026-03-08 10:00 MDT"


def test_it_takes_the_first_of_two_0130s_when_clocks_fall_back() -> None:
    # Given 2026-11-01 in Edmonton, where 01:00-02:00 happens twice
    # When a step anchored at 01:30 is planned after a session that ended at 00:30 MDT
    due = planned_time(StepTiming(day=0, at=time(1, 30)), edmonton(2026, 11, 1, 0, 30), EDMONTON)

    # Then it is the first 01:30 (MDT), not the second one an hour later
    assert due == utc(2026, 11, 1, 7, 30)
    assert wall(due) == "2026-11-01 01:30 MDT"
    assert local_instant(date(2026, 11, 1), time(1, 30), EDMONTON) == utc(2026, 11, 1, 7, 30)


def test_it_sends_the_day_7_step_at_10_mst_after_clocks_fall_back() -> None:
    # Given a session on 2026-10-28 at 15:00 MDT
    session_end = edmonton(2026, 10, 28, 15, 0)

    # When the day-7 10:00 step is planned
    due = planned_time(StepTiming(day=7, at=time(10, 0)), session_end, EDMONTON)

    # Then it is 10:00 on the patient's clock, now MST
    assert due == utc(2026, 11, 4, 17, 0)
    assert wall(due) == "2026-11-04 10:00 MST"


def test_it_counts_the_anchored_day_from_the_session_date_in_the_patients_zone() -> None:
    # Given a session that ended at 23:30 MST on 2026-11-24 (06:30 UTC on the 25th)
    session_end = edmonton(2026, 11, 24, 23, 30)

    # When the next-morning step is planned
    due = planned_time(StepTiming(day=1, at=time(10, 0)), session_end, EDMONTON)

    # Then "next day" is the 25th, the day after the local session date
    assert wall(due) == "2026-11-25 10:00 MST"


def test_it_never_plans_an_anchored_step_sooner_than_its_minimum_delay() -> None:
    # Given the same-evening step (19:00, not sooner than 2 h) and a session ending at 18:00
    step = StepTiming(day=0, at=time(19, 0), not_sooner_than=timedelta(hours=2))

    # When it is planned
    due = planned_time(step, edmonton(2026, 11, 24, 18, 0), EDMONTON)

    # Then it waits until 20:00
    assert wall(due) == "2026-11-24 20:00 MST"


# --- quiet hours --------------------------------------------------------------------------


def test_it_has_quiet_hours_from_21_to_08_by_default() -> None:
    assert (DEFAULT_QUIET.start, DEFAULT_QUIET.end) == (time(21, 0), time(8, 0))


@pytest.mark.parametrize(
    ("due_local", "expected_wall"),
    [
        ((2026, 11, 24, 22, 15), "2026-11-25 08:00 MST"),
        ((2026, 11, 24, 21, 0), "2026-11-25 08:00 MST"),
        ((2026, 11, 24, 23, 59), "2026-11-25 08:00 MST"),
        ((2026, 11, 25, 0, 30), "2026-11-25 08:00 MST"),
        ((2026, 11, 25, 7, 59), "2026-11-25 08:00 MST"),
    ],
    ids=["22:15", "21:00", "23:59", "00:30", "07:59"],
)
def test_it_moves_a_due_time_in_quiet_hours_to_0800(
    due_local: tuple[int, ...], expected_wall: str
) -> None:
    assert wall(next_opening(edmonton(*due_local), DEFAULT_QUIET, EDMONTON)) == expected_wall


@pytest.mark.parametrize("due_local", [(2026, 11, 24, 8, 0), (2026, 11, 24, 20, 59)])
def test_it_leaves_a_due_time_inside_the_sending_window_alone(due_local: tuple[int, ...]) -> None:
    due = edmonton(*due_local)
    assert next_opening(due, DEFAULT_QUIET, EDMONTON) == due


def test_it_returns_the_opening_in_utc() -> None:
    # Given 22:15 MST on the 24th (05:15 UTC on the 25th)
    opening = next_opening(edmonton(2026, 11, 24, 22, 15), DEFAULT_QUIET, EDMONTON)

    # Then the opening is 08:00 MST = 15:00 UTC, expressed in UTC
    assert opening == utc(2026, 11, 25, 15, 0)
    assert opening.tzinfo == UTC


@pytest.mark.parametrize(
    ("due_local", "expected_wall"),
    [
        ((2026, 11, 24, 11, 59), "2026-11-24 11:59 MST"),
        ((2026, 11, 24, 12, 0), "2026-11-24 13:00 MST"),
        ((2026, 11, 24, 12, 30), "2026-11-24 13:00 MST"),
        ((2026, 11, 24, 13, 0), "2026-11-24 13:00 MST"),
        ((2026, 11, 24, 23, 0), "2026-11-24 23:00 MST"),
    ],
)
def test_it_handles_a_quiet_window_that_does_not_wrap_midnight(
    due_local: tuple[int, ...], expected_wall: str
) -> None:
    lunch = QuietHours(start=time(12, 0), end=time(13, 0))
    assert wall(next_opening(edmonton(*due_local), lunch, EDMONTON)) == expected_wall


@pytest.mark.parametrize("hour", [0, 3, 9, 21, 23])
def test_it_has_no_quiet_hours_when_start_equals_end(hour: int) -> None:
    none = QuietHours(start=time(9, 0), end=time(9, 0))
    due = edmonton(2026, 11, 24, hour, 0)
    assert not none.contains(time(hour, 0))
    assert next_opening(due, none, EDMONTON) == due


@pytest.mark.parametrize(
    ("due", "zone", "expected"),
    [
        # 21:30 in Toronto is 19:30 in Edmonton: quiet for the Toronto patient only
        (utc(2026, 11, 25, 2, 30), TORONTO, utc(2026, 11, 25, 13, 0)),
        (utc(2026, 11, 25, 2, 30), EDMONTON, utc(2026, 11, 25, 2, 30)),
        (utc(2026, 11, 25, 2, 30), VANCOUVER, utc(2026, 11, 25, 2, 30)),
        # 07:30 in Vancouver is 08:30 in Edmonton: quiet for the Vancouver patient only
        (utc(2026, 11, 25, 15, 30), VANCOUVER, utc(2026, 11, 25, 16, 0)),
        (utc(2026, 11, 25, 15, 30), EDMONTON, utc(2026, 11, 25, 15, 30)),
        # Kolkata is UTC+5:30: 21:15 IST opens at 08:00 IST = 02:30 UTC next day
        (utc(2026, 11, 24, 15, 45), KOLKATA, utc(2026, 11, 25, 2, 30)),
        # 07:30 IST opens at 08:00 IST the same day
        (utc(2026, 11, 25, 2, 0), KOLKATA, utc(2026, 11, 25, 2, 30)),
        (utc(2026, 11, 25, 2, 30), KOLKATA, utc(2026, 11, 25, 2, 30)),
    ],
    ids=[
        "toronto-21:30",
        "edmonton-19:30",
        "vancouver-18:30",
        "vancouver-07:30",
        "edmonton-08:30",
        "kolkata-21:15",
        "kolkata-07:30",
        "kolkata-08:00",
    ],
)
def test_it_reads_quiet_hours_in_the_patients_zone(
    due: datetime, zone: ZoneInfo, expected: datetime
) -> None:
    assert next_opening(due, DEFAULT_QUIET, zone) == expected


def test_it_opens_at_0800_mdt_on_the_morning_clocks_spring_forward() -> None:
    opening = next_opening(edmonton(2026, 3, 8, 1, 30), DEFAULT_QUIET, EDMONTON)
    assert opening == utc(2026, 3, 8, 14, 0)
    assert wall(opening) == "2026-03-08 08:00 MDT"


def test_it_opens_at_0800_mst_on_the_morning_clocks_fall_back() -> None:
    second_0130 = utc(2026, 11, 1, 8, 30)  # 01:30 MST, the second 01:30 that night
    opening = next_opening(second_0130, DEFAULT_QUIET, EDMONTON)
    assert opening == utc(2026, 11, 1, 15, 0)
    assert wall(opening) == "2026-11-01 08:00 MST"


def test_it_never_opens_before_the_moment_when_quiet_hours_end_in_the_repeated_hour() -> None:
    # Given quiet hours that end at 01:30, and the night clocks fall back (01:00-02:00 twice)
    quiet = QuietHours(start=time(0, 30), end=time(1, 30))
    # And a due time at the second 01:15 (MST), which is inside quiet hours
    due = utc(2026, 11, 1, 8, 15)
    assert wall(due) == "2026-11-01 01:15 MST"

    # When the next opening is asked for
    opening = next_opening(due, quiet, EDMONTON)

    # Then it is the end of those quiet hours, 01:30 MST, not the first 01:30 that already passed
    assert opening >= due
    assert opening == utc(2026, 11, 1, 8, 30)


# --- the schedule of a whole plan ---------------------------------------------------------


def test_it_plans_the_default_plan_at_its_local_times_when_nothing_is_in_the_way() -> None:
    # Given a session that ended at 14:00 MST on Tuesday 2026-11-24, and no caps (the default)
    assert (NO_CAPS.per_day, NO_CAPS.per_week) == (None, None)

    # When the default plan is scheduled
    planned = schedule(
        default_plan_steps(),
        session_end=edmonton(2026, 11, 24, 14, 0),
        zone=EDMONTON,
        quiet=DEFAULT_QUIET,
        caps=NO_CAPS,
    )

    # Then every step is due at its planned time
    assert outcome(planned) == [
        ("after-session", "2026-11-24 14:30 MST", None),
        ("same-evening", "2026-11-24 19:00 MST", None),
        ("next-morning", "2026-11-25 10:00 MST", None),
        ("day-3", "2026-11-27 10:00 MST", None),
        ("day-7", "2026-12-01 10:00 MST", None),
    ]
    assert [p.due_at for p in planned] == [
        utc(2026, 11, 24, 21, 30),
        utc(2026, 11, 25, 2, 0),
        utc(2026, 11, 25, 17, 0),
        utc(2026, 11, 27, 17, 0),
        utc(2026, 12, 1, 17, 0),
    ]
    assert all(p.due_at.tzinfo == UTC for p in planned)


def test_it_keeps_one_message_a_day_and_three_a_week_under_tcpa_caps() -> None:
    # Given TCPA-style caps (1 a day, 3 a week) and a session ending 14:00 MST on 2026-11-24
    # When the default plan is scheduled
    planned = schedule(
        default_plan_steps(),
        session_end=edmonton(2026, 11, 24, 14, 0),
        zone=EDMONTON,
        quiet=DEFAULT_QUIET,
        caps=TCPA,
    )

    # Then the same-evening step, whose day is taken by after-session and which cannot move
    # to the next day within its 2 h lateness, is skipped; the rest keep their times:
    # Nov 24, 25, 27 make three in the week; Dec 1 is in a window (Nov 25-Dec 1) with only
    # Nov 25 and 27.
    assert outcome(planned) == [
        ("after-session", "2026-11-24 14:30 MST", None),
        ("same-evening", "2026-11-24 19:00 MST", "cap reached"),
        ("next-morning", "2026-11-25 10:00 MST", None),
        ("day-3", "2026-11-27 10:00 MST", None),
        ("day-7", "2026-12-01 10:00 MST", None),
    ]


def test_it_keeps_the_plan_order_and_never_sends_two_steps_on_one_day_under_caps() -> None:
    planned = schedule(
        default_plan_steps(),
        session_end=edmonton(2026, 11, 24, 14, 0),
        zone=EDMONTON,
        quiet=DEFAULT_QUIET,
        caps=TCPA,
    )

    sent = [p for p in planned if p.skipped_reason is None]
    assert [p.key for p in planned] == [key for key, _ in default_plan_steps()]
    assert [p.due_at for p in sent] == sorted(p.due_at for p in sent)
    days = [p.due_at.astimezone(EDMONTON).date() for p in sent]
    assert len(days) == len(set(days))


def test_it_counts_sends_from_another_enrollment_against_the_caps() -> None:
    # Given the patient already got a message at 09:00 MST on 2026-11-24 from another enrollment
    taken = [edmonton(2026, 11, 24, 9, 0)]

    # When the default plan for a 14:00 session that day is scheduled under TCPA caps
    planned = schedule(
        default_plan_steps(),
        session_end=edmonton(2026, 11, 24, 14, 0),
        zone=EDMONTON,
        quiet=DEFAULT_QUIET,
        caps=TCPA,
        taken=taken,
    )

    # Then neither step of that day can go (next day is past their lateness), and the week
    # window still has room for Nov 25, 27 and Dec 1
    assert outcome(planned) == [
        ("after-session", "2026-11-24 14:30 MST", "cap reached"),
        ("same-evening", "2026-11-24 19:00 MST", "cap reached"),
        ("next-morning", "2026-11-25 10:00 MST", None),
        ("day-3", "2026-11-27 10:00 MST", None),
        ("day-7", "2026-12-01 10:00 MST", None),
    ]


def test_it_skips_a_step_the_weekly_cap_would_push_past_its_lateness() -> None:
    # Given a message on 2026-11-23 from another enrollment
    taken = [edmonton(2026, 11, 23, 10, 0)]

    # When the default plan for 2026-11-24 14:00 is scheduled under TCPA caps
    planned = schedule(
        default_plan_steps(),
        session_end=edmonton(2026, 11, 24, 14, 0),
        zone=EDMONTON,
        quiet=DEFAULT_QUIET,
        caps=TCPA,
        taken=taken,
    )

    # Then day-3 (Nov 27) would be a 4th send in Nov 21-27; the first day with room is
    # Nov 30, more than its 1 day of lateness, so it is skipped. Day-7 (Dec 1) fits again.
    assert outcome(planned) == [
        ("after-session", "2026-11-24 14:30 MST", None),
        ("same-evening", "2026-11-24 19:00 MST", "cap reached"),
        ("next-morning", "2026-11-25 10:00 MST", None),
        ("day-3", "2026-11-27 10:00 MST", "cap reached"),
        ("day-7", "2026-12-01 10:00 MST", None),
    ]


def test_it_skips_a_step_already_too_late_when_the_enrollment_is_entered() -> None:
    # Given a session that ended at 14:00 MST, entered at 18:00 MST
    planned = schedule(
        default_plan_steps(),
        session_end=edmonton(2026, 11, 24, 14, 0),
        zone=EDMONTON,
        quiet=DEFAULT_QUIET,
        caps=NO_CAPS,
        now=edmonton(2026, 11, 24, 18, 0),
    )

    # Then after-session (14:30, at most 3 h late) is skipped, and the rest are unchanged
    assert outcome(planned) == [
        ("after-session", "2026-11-24 14:30 MST", "too late"),
        ("same-evening", "2026-11-24 19:00 MST", None),
        ("next-morning", "2026-11-25 10:00 MST", None),
        ("day-3", "2026-11-27 10:00 MST", None),
        ("day-7", "2026-12-01 10:00 MST", None),
    ]


def test_it_sends_a_late_but_not_too_late_step_as_soon_as_it_is_entered() -> None:
    # Given a session that ended at 14:00 MST, entered at 15:00 MST
    planned = schedule(
        default_plan_steps(),
        session_end=edmonton(2026, 11, 24, 14, 0),
        zone=EDMONTON,
        quiet=DEFAULT_QUIET,
        caps=NO_CAPS,
        now=edmonton(2026, 11, 24, 15, 0),
    )

    # Then after-session (14:30) goes now, 30 min late
    assert planned[0].key == "after-session"
    assert planned[0].due_at == utc(2026, 11, 24, 22, 0)
    assert planned[0].skipped_reason is None


def test_it_skips_an_evening_step_that_quiet_hours_push_past_its_lateness() -> None:
    # Given a session that ended late, at 20:30 MST
    planned = schedule(
        default_plan_steps(),
        session_end=edmonton(2026, 11, 24, 20, 30),
        zone=EDMONTON,
        quiet=DEFAULT_QUIET,
        caps=NO_CAPS,
    )

    # Then same-evening (19:00, not sooner than 2 h: 22:30) falls in quiet hours, and 08:00
    # the next day is past its 2 h lateness; after-session (21:00) may go in quiet hours
    assert outcome(planned) == [
        ("after-session", "2026-11-24 21:00 MST", None),
        ("same-evening", "2026-11-24 22:30 MST", "quiet hours"),
        ("next-morning", "2026-11-25 10:00 MST", None),
        ("day-3", "2026-11-27 10:00 MST", None),
        ("day-7", "2026-12-01 10:00 MST", None),
    ]


def test_it_moves_an_early_step_to_the_opening_when_that_is_within_its_lateness() -> None:
    # Given a Vancouver patient of an Edmonton clinic, session ending 08:00 MST = 07:00 PST
    planned = schedule(
        [
            (
                "after-session",
                StepTiming(offset=timedelta(minutes=30), max_lateness=timedelta(hours=3)),
            )
        ],
        session_end=edmonton(2026, 11, 24, 8, 0),
        zone=VANCOUVER,
        quiet=DEFAULT_QUIET,
        caps=NO_CAPS,
    )

    # Then 07:30 PST is quiet for the patient; it goes at 08:00 PST (16:00 UTC)
    assert outcome(planned, VANCOUVER) == [("after-session", "2026-11-24 08:00 PST", None)]
    assert planned[0].due_at == utc(2026, 11, 24, 16, 0)


def test_it_plans_anchored_steps_and_quiet_hours_in_the_patients_zone() -> None:
    # Given one session ending 19:00 MST (21:00 EST), for a patient in Edmonton and one in Toronto
    session_end = edmonton(2026, 11, 24, 19, 0)
    steps = default_plan_steps()

    in_edmonton = schedule(
        steps, session_end=session_end, zone=EDMONTON, quiet=DEFAULT_QUIET, caps=NO_CAPS
    )
    in_toronto = schedule(
        steps, session_end=session_end, zone=TORONTO, quiet=DEFAULT_QUIET, caps=NO_CAPS
    )

    # Then after-session is 19:30 for the Edmonton patient and 21:30 for Toronto (quiet, but
    # the session ended at 21:00 there), and next-morning is 10:00 on each patient's own clock
    assert outcome(in_edmonton)[0] == ("after-session", "2026-11-24 19:30 MST", None)
    assert outcome(in_toronto, TORONTO)[0] == ("after-session", "2026-11-24 21:30 EST", None)
    assert outcome(in_toronto, TORONTO)[1] == (
        "same-evening",
        "2026-11-24 23:00 EST",
        "quiet hours",
    )
    assert in_edmonton[2].due_at == utc(2026, 11, 25, 17, 0)
    assert in_toronto[2].due_at == utc(2026, 11, 25, 15, 0)
    assert outcome(in_toronto, TORONTO)[2] == ("next-morning", "2026-11-25 10:00 EST", None)


def test_it_refuses_a_session_end_without_a_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule(
            default_plan_steps(),
            session_end=datetime(2026, 11, 24, 14, 0),
            zone=EDMONTON,
            quiet=DEFAULT_QUIET,
            caps=NO_CAPS,
        )


# --- the after-session step in quiet hours ------------------------------------------------


def after_session_timing() -> StepTiming:
    return dict(default_plan_steps())["after-session"]


def plan_for(
    session_end: datetime,
    *,
    zone: ZoneInfo = EDMONTON,
    caps: Caps = NO_CAPS,
    now: datetime | None = None,
    taken: Sequence[datetime] = (),
) -> list[PlannedSend]:
    """The default plan for a session, entered at `now` (default: as the session ends)."""
    return schedule(
        default_plan_steps(),
        session_end=session_end,
        zone=zone,
        quiet=DEFAULT_QUIET,
        caps=caps,
        taken=taken,
        now=now or session_end,
    )


@pytest.mark.parametrize(
    ("ended", "expected"),
    [
        ((19, 30), "2026-11-24 20:00 MST"),
        ((20, 30), "2026-11-24 21:00 MST"),
        ((21, 30), "2026-11-24 22:00 MST"),
        ((22, 45), "2026-11-24 23:15 MST"),
        ((22, 59), "2026-11-24 23:29 MST"),
    ],
    ids=["19:30", "20:30", "21:30", "22:45", "22:59"],
)
def test_it_sends_the_after_session_step_at_its_time_after_a_session_ending_before_23(
    ended: tuple[int, int], expected: str
) -> None:
    # Given a session that ended in the evening, enrolled as it ended
    session_end = edmonton(2026, 11, 24, *ended)

    # When the default plan is scheduled
    first = plan_for(session_end)[0]

    # Then the after-session step is due 30 minutes later, quiet hours or not
    assert (first.key, wall(first.due_at), first.skipped_reason) == (
        "after-session",
        expected,
        None,
    )
    assert first.due_at - session_end == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("ended", "expected"),
    [
        ((2026, 11, 24, 23, 0), "2026-11-25 08:00 MST"),
        ((2026, 11, 24, 23, 15), "2026-11-25 08:00 MST"),
        ((2026, 11, 25, 0, 30), "2026-11-25 08:00 MST"),
        ((2026, 11, 25, 6, 0), "2026-11-25 08:00 MST"),
    ],
    ids=["23:00", "23:15", "00:30", "06:00"],
)
def test_it_moves_the_after_session_step_to_0800_after_a_session_ending_at_or_after_23(
    ended: tuple[int, ...], expected: str
) -> None:
    # Given a session that ended at or after 23:00, or in the small hours
    # When the default plan is scheduled
    first = plan_for(edmonton(*ended))[0]

    # Then the after-session step goes when quiet hours end, not skipped as too late
    assert (first.key, wall(first.due_at), first.skipped_reason) == (
        "after-session",
        expected,
        None,
    )


def test_it_reads_the_23_00_cutoff_on_the_patients_clock_not_the_clinics() -> None:
    # Given a session in an Edmonton clinic ending at 21:30 MST: 20:30 in Vancouver, 23:30 in
    # Toronto
    session_end = edmonton(2026, 11, 24, 21, 30)

    # When the default plan is scheduled for a patient living in each
    in_vancouver = plan_for(session_end, zone=VANCOUVER)
    in_toronto = plan_for(session_end, zone=TORONTO)

    # Then the Vancouver patient gets it at 21:00 PST, in their quiet hours, as it is due
    assert outcome(in_vancouver, VANCOUVER)[0] == ("after-session", "2026-11-24 21:00 PST", None)
    # And the Toronto patient, whose clock read 23:30 when the session ended, at 08:00 EST
    assert outcome(in_toronto, TORONTO)[0] == ("after-session", "2026-11-25 08:00 EST", None)


@pytest.mark.parametrize(
    ("session_end", "expected_wall", "expected_utc"),
    [
        (edmonton(2026, 3, 7, 22, 45), "2026-03-07 23:15 MST", utc(2026, 3, 8, 6, 15)),
        (edmonton(2026, 3, 7, 23, 15), "2026-03-08 08:00 MDT", utc(2026, 3, 8, 14, 0)),
        (edmonton(2026, 10, 31, 22, 45), "2026-10-31 23:15 MDT", utc(2026, 11, 1, 5, 15)),
        (edmonton(2026, 10, 31, 23, 15), "2026-11-01 08:00 MST", utc(2026, 11, 1, 15, 0)),
        # the second 01:30 of the night clocks fall back: after 23:00, whatever the offset
        (utc(2026, 11, 1, 8, 30), "2026-11-01 08:00 MST", utc(2026, 11, 1, 15, 0)),
    ],
    ids=[
        "spring-22:45-MST",
        "spring-23:15-MST",
        "fall-22:45-MDT",
        "fall-23:15-MDT",
        "fall-second-01:30-MST",
    ],
)
def test_it_applies_the_23_00_cutoff_on_the_nights_clocks_change(
    session_end: datetime, expected_wall: str, expected_utc: datetime
) -> None:
    # Given a session on the evening before clocks spring forward or fall back in Edmonton
    # When the default plan is scheduled
    first = plan_for(session_end)[0]

    # Then it goes 30 real minutes later before 23:00, or at 08:00 on the new clock after
    assert (wall(first.due_at), first.due_at, first.skipped_reason) == (
        expected_wall,
        expected_utc,
        None,
    )


@pytest.mark.parametrize(
    ("entered", "expected"),
    [((23, 40), "2026-11-24 23:40 MST"), ((23, 50), "2026-11-25 08:00 MST")],
    ids=["25-min-late", "35-min-late"],
)
def test_it_sends_a_late_entered_after_session_step_at_night_only_within_30_minutes(
    entered: tuple[int, int], expected: str
) -> None:
    # Given a session that ended at 22:45 MST (after-session due 23:15), entered late
    # When the default plan is scheduled then
    first = plan_for(edmonton(2026, 11, 24, 22, 45), now=edmonton(2026, 11, 24, *entered))[0]

    # Then it goes at once while the patient is likely awake, else when quiet hours end
    assert (wall(first.due_at), first.skipped_reason) == (expected, None)


def test_it_holds_the_after_session_step_to_the_daily_cap_and_sends_it_in_the_morning() -> None:
    # Given one text a day, and a text from another enrollment at 10:00 MST that day
    taken = [edmonton(2026, 11, 24, 10, 0)]

    # When a session ending at 21:30 MST is scheduled
    planned = plan_for(edmonton(2026, 11, 24, 21, 30), caps=Caps(per_day=1), taken=taken)

    # Then the cap keeps the after-session step from going tonight; it goes at 08:00, and
    # that morning's check-in, with no room left that day, is the one dropped
    assert outcome(planned)[0] == ("after-session", "2026-11-25 08:00 MST", None)
    assert outcome(planned)[2] == ("next-morning", "2026-11-25 10:00 MST", "cap reached")


def test_it_leaves_steps_without_the_night_rule_to_quiet_hours() -> None:
    # Given the after-session step without its night rule, and a session ending 21:30 MST
    timing = replace(after_session_timing(), send_in_quiet_hours_if_session_ends_before=None)

    # When it is scheduled
    planned = schedule(
        [("after-session", timing)],
        session_end=edmonton(2026, 11, 24, 21, 30),
        zone=EDMONTON,
        quiet=DEFAULT_QUIET,
        caps=NO_CAPS,
    )

    # Then quiet hours push it past its 3 h lateness, as before the rule existed
    assert outcome(planned) == [("after-session", "2026-11-24 22:00 MST", "quiet hours")]


def test_it_refuses_the_night_rule_on_a_step_anchored_to_a_wall_time() -> None:
    with pytest.raises(ValueError, match="needs an offset from the session end"):
        StepTiming(day=0, at=time(19, 0), send_in_quiet_hours_if_session_ends_before=time(23, 0))


def _one_step_plan(**step: object) -> dict[str, object]:
    return {"key": "p", "name": "P", "steps": [{"key": "after-session", "message": "m", **step}]}


@pytest.mark.parametrize(
    ("step", "words"),
    [
        (
            {"offset": "30m", "send_in_quiet_hours_if_session_ends_before": "11pm"},
            "step 1 (after-session): send_in_quiet_hours_if_session_ends_before: "
            "not a time of day: '11pm'",
        ),
        (
            {"day": 0, "at": "19:00", "send_in_quiet_hours_if_session_ends_before": "23:00"},
            "step 1 (after-session): send_in_quiet_hours_if_session_ends_before needs an offset",
        ),
        (
            {"offset": "30m", "send_in_quiet_hours_until": "23:00"},
            "step 1 (after-session): unknown field 'send_in_quiet_hours_until'",
        ),
    ],
    ids=["not-a-time", "anchored-step", "misspelt"],
)
def test_it_says_what_is_wrong_with_a_night_rule_in_a_plan(
    step: dict[str, object], words: str
) -> None:
    with pytest.raises(InvalidPlan) as refused:
        parse_plan(_one_step_plan(**step))
    assert words in str(refused.value)


def test_it_keeps_the_night_rule_through_the_database_row_and_the_admin_form() -> None:
    # Given the default plan as the file defines it
    with PLAN_FILE.open("rb") as plan_file:
        steps = parse_plan(tomllib.load(plan_file)).steps

    # When its steps are stored as rows and read back
    rows = [step_to_row(i, step) for i, step in enumerate(steps)]

    # Then they are the same steps, and the admin's plan form shows the rule on the first only
    assert tuple(step_from_row(row) for row in rows) == steps
    assert step_as_data(rows[0])["send_in_quiet_hours_if_session_ends_before"] == "23:00"
    assert all(
        "send_in_quiet_hours_if_session_ends_before" not in step_as_data(r) for r in rows[1:]
    )


def _decide_at_night(now: datetime, session_end: datetime, caps: Caps = NO_CAPS) -> SendDecision:
    """The worker's last check of the after-session text of a session, due 30 min after."""
    due = session_end + timedelta(minutes=30)
    timing = after_session_timing()
    return decide_send(
        now=now,
        due_at=due,
        max_lateness=timing.max_lateness,
        zone=EDMONTON,
        quiet=DEFAULT_QUIET,
        caps=caps,
        sent=[edmonton(2026, 11, 24, 10, 0)] if caps.per_day else (),
        night_until=night_send_until(
            timing, session_end=session_end, due=due, zone=EDMONTON, quiet=DEFAULT_QUIET
        ),
    )


def test_it_sends_at_night_a_message_its_plan_lets_go_at_night() -> None:
    # Given the after-session text of a session ending 21:40 MST, due 22:10
    # When a worker picks it up at 22:11, or retries it at 22:40
    # Then it goes, not deferred to the morning
    for now in (edmonton(2026, 11, 24, 22, 11), edmonton(2026, 11, 24, 22, 40)):
        assert _decide_at_night(now, edmonton(2026, 11, 24, 21, 40)).action == "send"


def test_it_holds_a_night_message_more_than_30_minutes_late_to_quiet_hours() -> None:
    # Given the same text, picked up at 22:41, 31 minutes after its time
    decision = _decide_at_night(edmonton(2026, 11, 24, 22, 41), edmonton(2026, 11, 24, 21, 40))

    # Then the patient may be asleep: 08:00 is past its 3 h lateness, so it is skipped
    assert (decision.action, decision.reason) == ("skip", "quiet hours")


def test_it_holds_a_night_message_to_the_caps() -> None:
    # Given one text a day, already sent at 10:00 that day
    decision = _decide_at_night(
        edmonton(2026, 11, 24, 22, 11), edmonton(2026, 11, 24, 21, 40), Caps(per_day=1)
    )

    # Then the night rule does not override the cap
    assert decision.action == "skip"


def test_it_allows_no_night_send_after_a_session_ending_at_or_after_23() -> None:
    # Given after-session texts of sessions that ended at 23:00 and at 01:00
    timing = after_session_timing()
    for ended in (edmonton(2026, 11, 24, 23, 0), edmonton(2026, 11, 25, 1, 0)):
        # When the worker asks until when quiet hours may not hold them back
        until = night_send_until(
            timing,
            session_end=ended,
            due=ended + timedelta(minutes=30),
            zone=EDMONTON,
            quiet=DEFAULT_QUIET,
        )

        # Then quiet hours hold them as any other message
        assert until is None


# --- caps ---------------------------------------------------------------------------------


def test_it_allows_anything_when_caps_are_off() -> None:
    day = date(2026, 11, 24)
    assert NO_CAPS.allow([day] * 20, day)


@pytest.mark.parametrize(
    ("taken", "day", "allowed"),
    [
        # three in Nov 1-7 already: an 4th on the 7th breaks that window
        ([date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)], date(2026, 11, 7), False),
        # on the 8th, Nov 2-8 holds the 2nd, 3rd and 8th: three, allowed
        ([date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)], date(2026, 11, 8), True),
        # a day before later sends is checked against the windows after it too
        ([date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 11)], date(2026, 11, 5), False),
        ([date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 11)], date(2026, 11, 4), True),
        # a window straddling the new day: Nov 3 and Nov 9 with Nov 6 is three
        ([date(2026, 11, 3), date(2026, 11, 9)], date(2026, 11, 6), True),
        ([date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 9)], date(2026, 11, 6), False),
    ],
    ids=[
        "4th-in-window",
        "oldest-left",
        "backfill-full",
        "backfill-room",
        "straddle-3",
        "straddle-4",
    ],
)
def test_it_caps_any_seven_consecutive_local_days(
    taken: list[date], day: date, allowed: bool
) -> None:
    assert Caps(per_week=3).allow(taken, day) is allowed


def test_it_caps_per_day() -> None:
    caps = Caps(per_day=2)
    day = date(2026, 11, 24)
    assert caps.allow([day], day)
    assert not caps.allow([day, day], day)
    assert caps.allow([day, day], day + timedelta(days=1))


def test_it_counts_taken_sends_on_the_patients_local_day() -> None:
    # Given a send at 04:30 UTC on Nov 25: 21:30 MST on Nov 24, but 10:00 IST on Nov 25
    taken = [utc(2026, 11, 25, 4, 30)]
    one_a_day = Caps(per_day=1)

    # When a message is wanted at 10:00 on the 25th of each patient's clock
    in_edmonton = next_allowed(
        edmonton(2026, 11, 25, 10, 0),
        quiet=DEFAULT_QUIET,
        caps=one_a_day,
        zone=EDMONTON,
        taken=taken,
    )
    in_kolkata = next_allowed(
        utc(2026, 11, 25, 4, 30), quiet=DEFAULT_QUIET, caps=one_a_day, zone=KOLKATA, taken=taken
    )

    # Then Edmonton has sent nothing on the 25th yet; Kolkata has, so it waits a day
    assert in_edmonton == edmonton(2026, 11, 25, 10, 0)
    assert in_kolkata.astimezone(KOLKATA).date() == date(2026, 11, 26)


def test_it_moves_a_message_the_weekly_cap_blocks_to_the_opening_of_the_first_day_with_room() -> (
    None
):
    # Given sends on Nov 20, 21 and 22 and a cap of 3 a week
    taken = [edmonton(2026, 11, d, 10, 0) for d in (20, 21, 22)]

    # When a message is wanted at 07:00 MST on Nov 26 (quiet hours)
    allowed = next_allowed(
        edmonton(2026, 11, 26, 7, 0),
        quiet=DEFAULT_QUIET,
        caps=Caps(per_week=3),
        zone=EDMONTON,
        taken=taken,
    )

    # Then Nov 26 is a 4th in Nov 20-26; Nov 27 (window Nov 21-27) has room, from 08:00
    assert wall(allowed) == "2026-11-27 08:00 MST"
    assert allowed == utc(2026, 11, 27, 15, 0)


def test_it_keeps_the_wall_time_of_a_capped_message_when_that_is_later_than_the_opening() -> None:
    # Given a send at 09:00 MST on Dec 1 and one message a day
    taken = [edmonton(2026, 12, 1, 9, 0)]

    # When another is wanted at 10:00 MST that day
    allowed = next_allowed(
        edmonton(2026, 12, 1, 10, 0),
        quiet=DEFAULT_QUIET,
        caps=Caps(per_day=1),
        zone=EDMONTON,
        taken=taken,
    )

    # Then, as next_allowed's docstring says ("at the opening of that day's sending window,
    # or the same wall time, if later"), it moves to 10:00 MST on Dec 2
    assert wall(allowed) == "2026-12-02 10:00 MST"


# --- the last check before a send -------------------------------------------------------


def _decide(
    now: datetime,
    due_at: datetime,
    max_lateness: timedelta,
    *,
    zone: ZoneInfo = EDMONTON,
    caps: Caps = NO_CAPS,
    sent: Sequence[datetime] = (),
) -> SendDecision:
    return decide_send(
        now=now,
        due_at=due_at,
        max_lateness=max_lateness,
        zone=zone,
        quiet=DEFAULT_QUIET,
        caps=caps,
        sent=sent,
    )


def test_it_sends_a_message_that_is_due_inside_the_sending_window() -> None:
    due = edmonton(2026, 11, 25, 10, 0)
    decision = _decide(due, due, timedelta(hours=6))
    assert (decision.action, decision.at, decision.reason) == ("send", None, None)


def test_it_sends_a_message_that_is_late_but_within_its_lateness() -> None:
    due = edmonton(2026, 11, 25, 10, 0)
    assert _decide(due + timedelta(hours=6), due, timedelta(hours=6)).action == "send"


def test_it_defers_a_message_in_quiet_hours_to_the_next_opening() -> None:
    # Given a message due 20:50 MST that a busy worker picks up at 21:10 MST
    decision = _decide(
        edmonton(2026, 11, 24, 21, 10), edmonton(2026, 11, 24, 20, 50), timedelta(hours=12)
    )

    # Then it waits for 08:00 MST
    assert decision.action == "defer"
    assert decision.at == utc(2026, 11, 25, 15, 0)


def test_it_defers_in_the_patients_zone_not_the_clinics() -> None:
    # Given 19:30 MST = 21:30 EST
    now = edmonton(2026, 11, 24, 19, 30)

    # Then an Edmonton patient gets it now, a Toronto patient at 08:00 EST
    assert _decide(now, now, timedelta(hours=14)).action == "send"
    decision = _decide(now, now, timedelta(hours=14), zone=TORONTO)
    assert decision.action == "defer"
    assert decision.at == utc(2026, 11, 25, 13, 0)
    assert wall(decision.at, TORONTO) == "2026-11-25 08:00 EST"


def test_it_skips_a_message_that_is_too_late_and_says_by_how_much() -> None:
    # Given a next-morning message due 10:00 MST with 6 h lateness, picked up at 16:30
    decision = _decide(
        edmonton(2026, 11, 25, 16, 30), edmonton(2026, 11, 25, 10, 0), timedelta(hours=6)
    )

    assert decision.action == "skip"
    assert decision.reason == "too late: 390 min after its time"
    assert decision.at is None


def test_it_skips_a_message_quiet_hours_would_hold_past_its_lateness() -> None:
    # Given a message due 20:50 MST with 30 min lateness, picked up at 21:05
    decision = _decide(
        edmonton(2026, 11, 24, 21, 5), edmonton(2026, 11, 24, 20, 50), timedelta(minutes=30)
    )

    assert (decision.action, decision.reason) == ("skip", "quiet hours")


def test_it_skips_a_message_the_caps_would_hold_past_its_lateness() -> None:
    # Given one send at 09:00 MST today and a cap of one a day
    due = edmonton(2026, 11, 25, 10, 0)
    decision = _decide(
        due, due, timedelta(hours=6), caps=Caps(per_day=1), sent=[edmonton(2026, 11, 25, 9, 0)]
    )

    assert (decision.action, decision.reason) == ("skip", "cap reached")


def test_it_defers_a_message_the_caps_hold_within_its_lateness() -> None:
    # Given sends on Nov 20, 21, 22 and 3 a week; a message due 07:30 MST Nov 26, 2 days lateness
    due = edmonton(2026, 11, 26, 7, 30)
    decision = _decide(
        due,
        due,
        timedelta(days=2),
        caps=Caps(per_week=3),
        sent=[edmonton(2026, 11, d, 10, 0) for d in (20, 21, 22)],
    )

    # Then it waits for the opening of Nov 27, when Nov 20 leaves the 7-day window
    assert decision.action == "defer"
    assert decision.at == utc(2026, 11, 27, 15, 0)
    assert wall(decision.at) == "2026-11-27 08:00 MST"


# --- properties ---------------------------------------------------------------------------

ZONES = [
    EDMONTON,
    TORONTO,
    VANCOUVER,
    KOLKATA,
    ZoneInfo("Australia/Lord_Howe"),  # 30-minute DST shift
    ZoneInfo("Europe/Paris"),
    ZoneInfo("Pacific/Chatham"),  # UTC+12:45 / +13:45
    ZoneInfo("UTC"),
]
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
wall_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


@st.composite
def quiet_windows(draw: st.DrawFn) -> QuietHours:
    """Any quiet window that leaves at least 2 h a day to send in (DST gaps are at most 1 h)."""
    start, end = draw(wall_times), draw(wall_times)
    open_minutes = (_minutes(start) - _minutes(end)) % (24 * 60)
    if start != end:
        assume(open_minutes >= 120)
    return QuietHours(start, end)


@settings(max_examples=400, deadline=None, database=None)
@given(moment=instants, quiet=quiet_windows(), zone=st.sampled_from(ZONES))
@example(moment=utc(2026, 11, 25, 4, 0), quiet=DEFAULT_QUIET, zone=EDMONTON)
@example(moment=utc(2026, 11, 1, 8, 15), quiet=QuietHours(time(0, 30), time(1, 30)), zone=EDMONTON)
def test_it_never_opens_before_the_moment_nor_inside_quiet_hours(
    moment: datetime, quiet: QuietHours, zone: ZoneInfo
) -> None:
    opening = next_opening(moment, quiet, zone)
    assert opening >= moment
    assert not quiet.contains(opening.astimezone(zone).time())
    assert opening.tzinfo == UTC


@settings(max_examples=400, deadline=None, database=None)
@given(day=dates, wall_time=wall_times, zone=st.sampled_from(ZONES))
def test_it_round_trips_every_wall_time_that_exists(
    day: date, wall_time: time, zone: ZoneInfo
) -> None:
    wanted = datetime.combine(day, wall_time)
    moment = local_instant(day, wall_time, zone)
    shown = moment.astimezone(zone).replace(tzinfo=None)

    first = wanted.replace(tzinfo=zone, fold=0)
    second = wanted.replace(tzinfo=zone, fold=1)
    exists = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wanted
    if exists:
        # an existing wall time comes back unchanged, and if it is ambiguous it is the first
        assert shown == wanted
        assert moment <= second.astimezone(UTC)
    else:
        # a wall time in a gap moves forward by less than an hour
        assert wanted < shown <= wanted + timedelta(hours=1)


@settings(max_examples=200, deadline=None, database=None)
@given(
    session_end=instants,
    zone=st.sampled_from(ZONES),
    per_day=st.one_of(st.none(), st.integers(1, 3)),
    per_week=st.one_of(st.none(), st.integers(1, 7)),
)
def test_it_schedules_the_default_plan_in_order_within_quiet_hours_rules_and_caps(
    session_end: datetime, zone: ZoneInfo, per_day: int | None, per_week: int | None
) -> None:
    steps = default_plan_steps()
    caps = Caps(per_day=per_day, per_week=per_week)
    planned = schedule(steps, session_end=session_end, zone=zone, quiet=DEFAULT_QUIET, caps=caps)

    timings = dict(steps)
    sent = [p for p in planned if p.skipped_reason is None]
    assert [p.due_at for p in sent] == sorted(p.due_at for p in sent)
    days: list[date] = []
    for p in sent:
        timing = timings[p.key]
        wanted = planned_time(timing, session_end, zone)
        # a step the plan lets go at night goes at its time, or the plan moves it to the morning
        moved = next_opening(wanted, DEFAULT_QUIET, zone)
        if DEFAULT_QUIET.contains(p.due_at.astimezone(zone).time()):
            assert p.due_at == wanted
            assert ended_early_enough(timing, session_end, zone, DEFAULT_QUIET)
        else:
            latest = moved if timing.send_in_quiet_hours_if_session_ends_before else wanted
            assert wanted <= p.due_at <= latest + timing.max_lateness
        day = p.due_at.astimezone(zone).date()
        assert caps.allow(days, day)
        days.append(day)
    for p in planned:
        if p.skipped_reason is not None:
            assert p.skipped_reason in {"quiet hours", "cap reached"}
            wanted = planned_time(timings[p.key], session_end, zone)
            assert p.due_at in {wanted, next_opening(wanted, DEFAULT_QUIET, zone)}
