"""Whether a claimed message may go out now: the rules re-checked at the moment of sending
(cancellation, pause, opt-out, a missing contact point, lateness, quiet hours, caps)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminders.channels import rules_for
from reminders.clinic import ClinicRules
from reminders.models import Message, PlanStep
from reminders.planning.plans import step_from_row
from reminders.planning.scheduling import decide_send, night_send_until
from reminders.vocabulary import EnrollmentStatus, MessageStatus

COUNTED = (
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.UNDELIVERED,
)  # messages that count toward caps


def hold_back(
    session: Session, message: Message, now: datetime, rules: ClinicRules, *, opted_out: bool
) -> tuple[str, object] | None:
    """Why this message must not go out now: (status, reason), ("defer", when), or None."""
    enrollment, patient = message.enrollment, message.patient
    if enrollment.status == EnrollmentStatus.CANCELLED:
        return MessageStatus.CANCELLED, "enrollment cancelled"
    if enrollment.status == EnrollmentStatus.PAUSED:
        return "defer", now + timedelta(minutes=15)
    if opted_out:
        return MessageStatus.SKIPPED, "opted out"
    channel = rules_for(message.channel)
    if channel.address_of(patient) is None:
        return MessageStatus.FAILED, f"no {channel.contact} on file"
    zone = ZoneInfo(patient.time_zone)
    decision = decide_send(
        now=now,
        due_at=message.due_at,
        max_lateness=timedelta(seconds=message.max_lateness_seconds),
        zone=zone,
        quiet=rules.quiet,
        caps=rules.caps,
        sent=_sent_times(session, message) if rules.caps.per_day or rules.caps.per_week else (),
        night_until=_night_send_until(session, message, rules, zone, now),
    )
    if decision.action == "skip":
        return MessageStatus.SKIPPED, decision.reason
    if decision.action == "defer":
        return "defer", decision.at
    return None


def _night_send_until(
    session: Session, message: Message, rules: ClinicRules, zone: ZoneInfo, now: datetime
) -> datetime | None:
    """Until when quiet hours may not hold this message back: its plan step goes at night
    after an evening session (send_in_quiet_hours_if_session_ends_before), as planned."""
    if not rules.quiet.contains(now.astimezone(zone).time()):
        return None  # nothing to waive: spare the look-up
    row = session.scalar(
        select(PlanStep).where(
            PlanStep.plan_id == message.enrollment.plan_id, PlanStep.key == message.step_key
        )
    )
    if row is None:
        return None  # the step left the plan since: the usual rules
    return night_send_until(
        step_from_row(row).timing,
        session_end=message.enrollment.session_end,
        due=message.due_at,
        zone=zone,
        quiet=rules.quiet,
    )


def _sent_times(session: Session, message: Message) -> list[datetime]:
    rows = session.scalars(
        select(func.coalesce(Message.sent_at, Message.due_at)).where(
            Message.patient_id == message.patient_id,
            Message.channel == message.channel,
            Message.status.in_(COUNTED),
            Message.id != message.id,
        )
    )
    return list(rows)
