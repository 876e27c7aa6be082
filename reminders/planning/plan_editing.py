"""An admin's edits to an aftercare plan, in the same form as templates/plans/*.toml.

Replacing a plan's steps changes what later enrollments get; messages already planned keep
their times (they carry their own due time and lateness). Each edit is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders import audit
from reminders.models import AftercarePlan, MessageTemplate, PlanStep
from reminders.planning.plans import (
    NIGHT_CUTOFF,
    InvalidPlan,
    parse_plan,
    step_from_row,
    step_to_row,
)

LONGEST = timedelta(days=60)  # no aftercare step is further out, or waits longer


def duration_text(seconds: int) -> str:
    """3600 -> "1h", 95400 -> "1d2h30m": the form parse_duration reads back."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0m"


def step_as_data(row: PlanStep) -> dict[str, Any]:
    data: dict[str, Any] = {"key": row.key, "message": row.message_key}
    if row.offset_seconds is not None:
        data["offset"] = duration_text(row.offset_seconds)
        cutoff = step_from_row(row).timing.send_in_quiet_hours_if_session_ends_before
        if cutoff is not None:
            data[NIGHT_CUTOFF] = cutoff.strftime("%H:%M")
    else:
        data["day"], data["at"] = row.day, row.at_time
    data["not_sooner_than"] = duration_text(row.not_sooner_than_seconds)
    data["max_lateness"] = duration_text(row.max_lateness_seconds)
    data["channels"] = row.channels.split(",")
    data["checkin"] = row.checkin
    return data


def replace_plan(
    session: Session, *, plan: AftercarePlan, data: dict[str, Any], actor: str, now: datetime
) -> None:
    """Check `data` (InvalidPlan says what is wrong) and make it the plan's name and steps."""
    try:
        spec = parse_plan({**data, "key": plan.key})
    except OverflowError:
        raise InvalidPlan("a duration is far too long") from None
    for step in spec.steps:
        timing = step.timing
        longest = max(
            timing.offset or timedelta(0),
            timedelta(days=timing.day or 0),
            timing.not_sooner_than,
            timing.max_lateness,
        )
        if longest > LONGEST:
            raise InvalidPlan(f"step {step.key!r}: at most {LONGEST.days} days after the session")
    known = set(session.scalars(select(MessageTemplate.key)))
    unknown = sorted({s.message_key for s in spec.steps} - known)
    if unknown:
        raise InvalidPlan(f"no message template named {', '.join(map(repr, unknown))}")
    plan.steps.clear()
    session.flush()  # the old steps go before new ones reuse their keys
    plan.steps.extend(step_to_row(i, step) for i, step in enumerate(spec.steps))
    plan.name, plan.description, plan.updated_at = spec.name, spec.description, now
    audit.record(
        session,
        actor=actor,
        action="plan.updated",
        subject_type="plan",
        subject_id=plan.id,
        at=now,
        key=plan.key,
        steps=[s.key for s in spec.steps],
    )
