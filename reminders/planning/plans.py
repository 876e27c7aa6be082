"""Aftercare plans as data: parse a plan file or row into steps the scheduler understands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from reminders.errors import InvalidInput
from reminders.models import PlanStep
from reminders.planning.scheduling import StepTiming, parse_duration, parse_wall_time
from reminders.vocabulary import Channel

CHANNELS = tuple(Channel)
NIGHT_CUTOFF = "send_in_quiet_hours_if_session_ends_before"
STEP_FIELDS = frozenset(
    {
        "key",
        "message",
        "offset",
        "day",
        "at",
        "not_sooner_than",
        "max_lateness",
        "channels",
        "checkin",
        NIGHT_CUTOFF,
    }
)


class InvalidPlan(InvalidInput):
    """A plan that cannot be used; the message names the step and the field."""


@dataclass(frozen=True)
class StepSpec:
    key: str
    message_key: str
    timing: StepTiming
    channels: tuple[str, ...]
    checkin: bool = False


@dataclass(frozen=True)
class PlanSpec:
    key: str
    name: str
    description: str
    steps: tuple[StepSpec, ...]


def parse_plan(data: dict[str, Any]) -> PlanSpec:
    """A plan from its file form (see templates/plans/*.toml); raises InvalidPlan."""
    try:
        key, name = str(data["key"]), str(data["name"])
        steps = tuple(_parse_step(i, raw) for i, raw in enumerate(data.get("steps", []), 1))
    except KeyError as missing:
        raise InvalidPlan(f"plan is missing {missing}") from None
    if not steps:
        raise InvalidPlan(f"plan {key!r} has no steps")
    keys = [s.key for s in steps]
    if len(set(keys)) != len(keys):
        raise InvalidPlan(f"plan {key!r} repeats a step key")
    return PlanSpec(key, name, str(data.get("description", "")), steps)


def _parse_step(position: int, raw: dict[str, Any]) -> StepSpec:
    where = f"step {position} ({raw.get('key', '?')})"
    unknown = sorted(set(raw) - STEP_FIELDS)
    if unknown:
        # A misspelt field would otherwise be dropped without a word, and with it a rule.
        raise InvalidPlan(f"{where}: unknown field {', '.join(map(repr, unknown))}")
    try:
        timing = StepTiming(
            offset=parse_duration(raw["offset"]) if "offset" in raw else None,
            day=int(raw["day"]) if "day" in raw else None,
            at=parse_wall_time(raw["at"]) if "at" in raw else None,
            not_sooner_than=parse_duration(raw.get("not_sooner_than", "0m")),
            max_lateness=parse_duration(raw.get("max_lateness", "12h")),
            send_in_quiet_hours_if_session_ends_before=_night_cutoff(raw.get(NIGHT_CUTOFF)),
        )
        channels = tuple(raw.get("channels", CHANNELS))
        if not channels or any(c not in CHANNELS for c in channels):
            raise ValueError(f"channels must be among {', '.join(CHANNELS)}")
        return StepSpec(
            str(raw["key"]), str(raw["message"]), timing, channels, bool(raw.get("checkin", False))
        )
    except KeyError as missing:
        raise InvalidPlan(f"{where} is missing {missing}") from None
    except ValueError as exc:
        raise InvalidPlan(f"{where}: {exc}") from None


def _night_cutoff(value: object) -> time | None:
    if value is None:
        return None
    try:
        return parse_wall_time(str(value))
    except ValueError as exc:
        raise ValueError(f"{NIGHT_CUTOFF}: {exc}") from None


# Storage: an offset step has no wall time of its own, so its plan_step.at_time column holds
# its send_in_quiet_hours_if_session_ends_before cutoff (an anchored step cannot have one).
# This keeps the rule in the plan without a schema change; only these two functions know it.


def step_from_row(row: PlanStep) -> StepSpec:
    wall = parse_wall_time(row.at_time) if row.at_time else None
    offset = timedelta(seconds=row.offset_seconds) if row.offset_seconds is not None else None
    return StepSpec(
        key=row.key,
        message_key=row.message_key,
        timing=StepTiming(
            offset=offset,
            day=row.day,
            at=wall if offset is None else None,
            not_sooner_than=timedelta(seconds=row.not_sooner_than_seconds),
            max_lateness=timedelta(seconds=row.max_lateness_seconds),
            send_in_quiet_hours_if_session_ends_before=wall if offset is not None else None,
        ),
        channels=tuple(row.channels.split(",")),
        checkin=row.checkin,
    )


def step_to_row(position: int, spec: StepSpec) -> PlanStep:
    timing = spec.timing
    wall = timing.at or timing.send_in_quiet_hours_if_session_ends_before
    return PlanStep(
        position=position,
        key=spec.key,
        message_key=spec.message_key,
        offset_seconds=int(timing.offset.total_seconds()) if timing.offset is not None else None,
        day=timing.day,
        at_time=wall.strftime("%H:%M") if wall is not None else None,
        not_sooner_than_seconds=int(timing.not_sooner_than.total_seconds()),
        max_lateness_seconds=int(timing.max_lateness.total_seconds()),
        channels=",".join(spec.channels),
        checkin=spec.checkin,
    )
