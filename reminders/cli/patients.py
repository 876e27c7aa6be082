"""Commands a therapist or operator uses: enroll, messages, cancel."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from reminders import clock
from reminders.cli.errors import UserError, friendly
from reminders.clinic import clinic_rules
from reminders.config import get_settings
from reminders.content.rendering import SmsCost
from reminders.db import session_scope
from reminders.enrolling import care_changes
from reminders.enrolling.contacts import InvalidContact, check_time_zone
from reminders.enrolling.enrollment import EnrollmentRequest, plan_enrollment, sms_costs
from reminders.enrolling.enrollment import enroll as enroll_patient
from reminders.models import Message
from reminders.vocabulary import Channel, ContactChoice

out = Console(highlight=False)


def parse_session_end(text: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    """ "now", or ISO 8601; without an offset it is read in the patient's time zone."""
    if text.strip().lower() == "now":
        return now
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"session end {text!r} is not 'now' or an ISO 8601 time such as 2026-11-25T14:30"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=zone)


@friendly
def enroll(
    first_name: str = typer.Option(..., "--first-name", help="Patient's first name."),
    last_name: str = typer.Option(..., "--last-name", help="Patient's last name."),
    phone: str = typer.Option("", help="Mobile number, any common format (stored as E.164)."),
    email: str = typer.Option("", help="Email address."),
    channel: str = typer.Option(ContactChoice.SMS.value, help="sms, email or both."),
    language: str = typer.Option("en", help="en or fr."),
    timezone: str = typer.Option("", "--timezone", help="IANA time zone; default the clinic's."),
    session_end: str = typer.Option("now", "--session-end", help="'now' or ISO 8601."),
    plan: str = typer.Option("dry-needling", help="Aftercare plan key."),
    therapist: str = typer.Option("", help="Therapist's name, as patients know it."),
    consent: str = typer.Option("verbal", help="How consent was given: verbal, written or web."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show the planned messages; write nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Enroll a patient right after a session; prints the planned messages."""
    if consent not in ("verbal", "written", "web"):
        raise UserError("consent must be verbal, written or web")
    settings = get_settings()
    with session_scope() as session:
        now = clock.now(session)
        try:
            zone_name = check_time_zone(timezone or clinic_rules(session).time_zone)
        except InvalidContact as exc:
            raise UserError(str(exc)) from None
        zone = ZoneInfo(zone_name)
        request = EnrollmentRequest(
            first_name=first_name,
            last_name=last_name,
            phone=phone or None,
            email=email or None,
            channel=channel,
            language=language,
            time_zone=zone_name,
            session_end=parse_session_end(session_end, now=now, zone=zone),
            plan_key=plan,
            therapist_name=therapist,
            consent_method=consent,
            recorded_by="cli",
        )
        if dry_run:
            planned = plan_enrollment(session, request, now=now, phone_region=settings.phone_region)
            costs = sms_costs(session, request, planned, settings=settings)
            rows = [
                {
                    "step": m.step_key,
                    "channel": m.channel,
                    "due_at": m.due_at.astimezone(zone).isoformat(),
                    "status": m.status,
                    "reason": m.reason,
                    **_sms_cost_fields(costs.get(m.step_key) if m.channel == Channel.SMS else None),
                }
                for m in planned.messages
            ]
            _show(None, rows, as_json)
            return
        enrollment = enroll_patient(session, request, now=now, phone_region=settings.phone_region)
        messages = session.scalars(
            select(Message)
            .where(Message.enrollment_id == enrollment.id)
            .order_by(Message.due_at, Message.channel)
        )
        rows = [_row(m, zone) for m in messages]
        enrollment_id = enrollment.id
    _show(enrollment_id, rows, as_json)


def _sms_cost_fields(cost: SmsCost | None) -> dict[str, Any]:
    """A text's segments and encoding as the dry run shows them; null for an email."""
    return {
        "sms_segments": cost.segments if cost else None,
        "sms_encoding": cost.encoding if cost else None,
    }


def _row(message: Message, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": message.id,
        "enrollment": message.enrollment_id,
        "step": message.step_key,
        "channel": message.channel,
        "due_at": message.due_at.astimezone(zone).isoformat(),
        "status": message.status,
        "reason": message.reason,
    }


def _show(enrollment_id: int | None, rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        out.print_json(
            json.dumps(
                {"enrollment_id": enrollment_id, "dry_run": enrollment_id is None, "messages": rows}
            )
        )
        return
    title = (
        "Planned messages (dry run: nothing saved)"
        if enrollment_id is None
        else f"Enrollment {enrollment_id}"
    )
    _table(title, rows)


def _table(title: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=title)
    shown = ("id", "enrollment", "step", "channel", "due_at", "status", "reason")
    columns = [c for c in (*shown, "sms_segments", "sms_encoding") if rows and c in rows[0]]
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(c, row[c]) for c in columns))
    out.print(table)


def _cell(column: str, value: object) -> str:
    if value is None:
        return ""
    if column == "due_at":  # "2026-11-24T19:00:00-07:00" -> "2026-11-24 19:00" (local)
        return str(value)[:16].replace("T", " ")
    return str(value)


@friendly
def messages(
    status: str = typer.Option("", help="Only this status (scheduled, sent, failed, ...)."),
    patient: int = typer.Option(0, help="Only this patient id."),
    enrollment: int = typer.Option(0, help="Only this enrollment id."),
    limit: int = typer.Option(100, min=1, max=10000, help="At most this many, newest due first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List messages, filtered by status, patient or enrollment."""
    with session_scope() as session:
        zone = ZoneInfo(clinic_rules(session).time_zone)
        query = select(Message).order_by(Message.due_at.desc(), Message.id.desc()).limit(limit)
        if status:
            query = query.where(Message.status == status)
        if patient:
            query = query.where(Message.patient_id == patient)
        if enrollment:
            query = query.where(Message.enrollment_id == enrollment)
        rows = [_row(m, zone) for m in session.scalars(query)]
    if as_json:
        out.print_json(json.dumps(rows))
    else:
        _table("Messages", rows)


@friendly
def cancel(enrollment_id: int = typer.Argument(..., help="The enrollment to stop.")) -> None:
    """Cancel an enrollment: none of its remaining messages will be sent."""
    with session_scope() as session:
        try:
            count = care_changes.cancel(
                session=session, enrollment_id=enrollment_id, actor="cli", now=clock.now(session)
            )
        except care_changes.CareChangeRefused as exc:
            raise UserError(str(exc)) from None
    out.print(f"enrollment {enrollment_id} cancelled; {count} pending message(s) will not be sent")


def register(app: typer.Typer) -> None:
    for command in (enroll, messages, cancel):
        app.command()(command)
