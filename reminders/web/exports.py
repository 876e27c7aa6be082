"""CSV exports of patients, messages and check-in scores, between two dates in clinic time.

Only admins may download them: a file leaves the app's sign-in and audit behind, and lists
many patients at once. Every download is recorded in the audit log (what, how many rows,
which dates: never whose). A cell a spreadsheet would read as a formula (=, +, -, @, tab or
carriage return first) gets a leading apostrophe, as OWASP advises for CSV injection.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminders import audit, clock
from reminders.clinic import clinic_rules
from reminders.models import Enrollment, Message, Patient, Reply, User
from reminders.request_context import CurrentUser, SessionDep
from reminders.vocabulary import ReplyKind
from reminders.web.pages import page
from reminders.web.templating import render

router = APIRouter(prefix="/exports", tags=["exports"], include_in_schema=False)
DEFAULT_DAYS = 30  # the last 30 days, today included
FIRST_YEAR, LAST_YEAR = 2000, 2099  # beyond these a date is a typing slip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A spreadsheet opening the file reads UTF-8 (accents in French names) only with this mark.
BYTE_ORDER_MARK = "\ufeff"

Rows = Iterable[Sequence[object]]
Local = Callable[[datetime | None], str]  # a moment as clinic time, ISO 8601; "" for none


@dataclass(frozen=True)
class Export:
    title: str  # "Patients": the button reads "Download patients"
    what: str  # one sentence: which rows, for the export page
    header: tuple[str, ...]
    rows: Callable[[Session, datetime, datetime, Local], Rows]  # from start to before end


def safe_cell(value: object) -> object:
    """The value as a CSV cell no spreadsheet runs: text starting like a formula gets an
    apostrophe in front (a phone number +1403... too)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Rows) -> tuple[str, int]:
    """The file's text and how many rows it holds (the header not counted)."""
    out = io.StringIO()
    out.write(BYTE_ORDER_MARK)
    writer = csv.writer(out)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        count += 1
    return out.getvalue(), count


def _patients(session: Session, start: datetime, end: datetime, local: Local) -> Rows:
    last_session = func.max(Enrollment.session_end)
    found = session.execute(
        select(Patient, last_session)
        .join(Enrollment, Enrollment.patient_id == Patient.id)
        .where(Enrollment.session_end >= start, Enrollment.session_end < end)
        .group_by(Patient.id)
        .order_by(Patient.id)
    ).tuples()
    for p, session_end in found:
        yield (
            p.id,
            p.first_name,
            p.last_name,
            p.phone or "",
            p.email or "",
            p.language,
            p.time_zone,
            p.channel,
            local(session_end),
            local(p.consent_at),
            p.consent_method,
            p.consent_recorded_by,
        )


def _messages(session: Session, start: datetime, end: datetime, local: Local) -> Rows:
    found = session.scalars(
        select(Message)
        .where(Message.due_at >= start, Message.due_at < end)
        .order_by(Message.due_at, Message.id)
    )
    for m in found:
        yield (
            m.id,
            m.patient_id,
            m.enrollment_id,
            m.step_key,
            m.channel,
            "yes" if m.checkin else "no",
            m.status,
            local(m.due_at),
            local(m.sent_at),
            local(m.delivered_at),
            m.reason or "",
        )


def _scores(session: Session, start: datetime, end: datetime, local: Local) -> Rows:
    found = session.execute(
        select(
            Reply.id,
            Reply.patient_id,
            Reply.checkin_message_id,
            Reply.channel,
            Reply.received_at,
            Reply.score,
        )
        .where(
            Reply.kind == ReplyKind.SCORE,
            Reply.score.is_not(None),
            Reply.received_at >= start,
            Reply.received_at < end,
        )
        .order_by(Reply.received_at, Reply.id)
    ).tuples()
    for reply_id, patient_id, checkin_id, channel, received_at, score in found:
        yield reply_id, patient_id, checkin_id or "", channel, local(received_at), score


EXPORTS = {
    "patients": Export(
        "Patients",
        "Each patient with a session in these dates: name, contacts, language, consent.",
        (
            "patient_id",
            "first_name",
            "last_name",
            "mobile",
            "email",
            "language",
            "time_zone",
            "channel",
            "last_session_in_dates",
            "consent_at",
            "consent_method",
            "consent_by",
        ),
        _patients,
    ),
    "messages": Export(
        "Messages",
        "Each message due in these dates: which patient and step, its channel and status"
        " (not its text).",
        (
            "message_id",
            "patient_id",
            "enrollment_id",
            "step",
            "channel",
            "check_in",
            "status",
            "due_at",
            "sent_at",
            "delivered_at",
            "reason",
        ),
        _messages,
    ),
    "scores": Export(
        "Check-in scores",
        "Each pain score (0-10) received in these dates, by patient.",
        ("reply_id", "patient_id", "check_in_message_id", "channel", "received_at", "score"),
        _scores,
    ),
}


class DateProblem(ValueError):
    """A date the export cannot use; the message says why, in words."""


def _parse(text: str, name: str) -> date:
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise DateProblem(f"The {name} date is not a date like 2026-11-24.") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise DateProblem(f"The {name} date must be between {FIRST_YEAR} and {LAST_YEAR}.")
    return day


def date_range(first: str, last: str, *, today: date) -> tuple[date, date]:
    """The days chosen, both included; blank means the last 30 days up to today."""
    last_day = _parse(last.strip(), "end") if last.strip() else today
    first_day = (
        _parse(first.strip(), "start")
        if first.strip()
        else last_day - timedelta(days=DEFAULT_DAYS - 1)
    )
    if last_day < first_day:
        raise DateProblem("The end date is before the start date: choose an end on or after it.")
    return first_day, last_day


def _form(
    session: Session, user: User, first: str, last: str, problem: str | None = None
) -> HTMLResponse:
    """The export page: the dates and a button per file for an admin (400 with the problem
    when the dates were wrong); for anyone else, why exports are for admins (403)."""
    if user.role != "admin":
        return page("CSV exports", render("exports_refused.html"), status=403, role=user.role)
    body = render(
        "exports.html",
        exports=EXPORTS,
        first=first[:20],
        last=last[:20],
        problem=problem,
        zone=clinic_rules(session).time_zone,
        days=DEFAULT_DAYS,
    )
    return page("CSV exports", body, status=400 if problem else 200, role=user.role)


@router.get("", response_class=HTMLResponse)
def exports_page(user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """Choose the dates and what to download."""
    zone = ZoneInfo(clinic_rules(session).time_zone)
    today = clock.now(session).astimezone(zone).date()
    first, last = date_range("", "", today=today)
    return _form(session, user, first.isoformat(), last.isoformat())


@router.get("/{kind}.csv", response_model=None)
def download(
    kind: str,
    user: CurrentUser,
    session: SessionDep,
    first: str = Query("", alias="from"),
    last: str = Query("", alias="to"),
) -> Response:
    """One export as a CSV file, the rows between two dates in clinic time; audited."""
    export = EXPORTS.get(kind)
    if export is None:
        return page("Not found", "<p>No such export.</p>", status=404, role=user.role)
    if user.role != "admin":
        return _form(session, user, first, last)
    zone = ZoneInfo(clinic_rules(session).time_zone)
    today = clock.now(session).astimezone(zone).date()
    try:
        first_day, last_day = date_range(first, last, today=today)
    except DateProblem as problem:
        return _form(session, user, first, last, str(problem))
    # Midnight to midnight on the clinic's wall clock: a day of 23 or 25 hours across DST.
    start = datetime.combine(first_day, time(), zone)
    end = datetime.combine(last_day + timedelta(days=1), time(), zone)

    def local(moment: datetime | None) -> str:
        return "" if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")

    text, count = csv_text(export.header, export.rows(session, start, end, local))
    audit.record(
        session,
        actor=user.email,
        action="export.downloaded",
        subject_type="export",
        subject_id=None,
        kind=kind,
        rows=count,
        date_from=first_day.isoformat(),
        date_to=last_day.isoformat(),
    )
    name = f"{kind}-{first_day.isoformat()}-to-{last_day.isoformat()}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
