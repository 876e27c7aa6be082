"""Open flags, most urgent first: emergencies (in red), then a patient getting worse, then a
score that rose. One entry per reply with all its reasons, the patient's name, what they
wrote and when (clinic time), a `tel:` link to call them back, and one form that closes the
reply's flags with a short note.

The note is kept with who closed the flag (`Flag.closed_by`, "Sam Chen: called, all fine"):
the flag table has no column of its own for it yet, and the audit log takes no free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reminders import clock
from reminders.api.common import Id
from reminders.clinic import clinic_rules
from reminders.enrolling import care_changes
from reminders.models import Flag, Patient
from reminders.request_context import CurrentUser, SessionDep, check_csrf, csrf_token
from reminders.vocabulary import Channel
from reminders.web.pages import page
from reminders.web.templating import render

router = APIRouter(include_in_schema=False)

EMERGENCY = "possible red flag"  # reminders.replies.flag_reasons, for an emergency reply
LEVELS = ("Emergency", "Worsening", "Score change")
CLOSED_BY_LIMIT = 120  # Flag.closed_by
BACK = re.compile(r"/flags|/patients/\d{1,18}")


def urgency(reason: str) -> int:
    """0 for an emergency, 1 for worse, severe or a red-flag symptom, 2 for a score change."""
    if reason == EMERGENCY:
        return 0
    return 2 if reason.startswith("score rose by") else 1


@dataclass(frozen=True)
class FlaggedReply:
    """One reply with its open flags, as the flags page shows it."""

    flag_id: int  # the close form names one flag; it closes all of the reply's
    patient_id: int
    patient_name: str
    call: str | None  # E.164, for the tel: link
    call_shown: str
    text: str
    received_at: datetime
    received: str  # in clinic time
    reasons: tuple[str, ...]
    level: int

    @property
    def level_name(self) -> str:
        return LEVELS[self.level]


def _shown(e164: str) -> str:
    """+14035550142 -> "+1 403-555-0142"."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def flagged_replies(
    session: Session, zone: ZoneInfo, *, patient_id: int | None = None
) -> list[FlaggedReply]:
    """Replies with open flags, most urgent first, then the one waiting longest."""
    query = (
        select(Flag, Patient)
        .join(Patient, Patient.id == Flag.patient_id)
        .options(selectinload(Flag.reply))
        .where(Flag.closed_at.is_(None))
        .order_by(Flag.id)
    )
    if patient_id is not None:
        query = query.where(Flag.patient_id == patient_id)
    grouped: dict[int, list[tuple[Flag, Patient]]] = {}
    for flag, patient in session.execute(query).tuples():
        grouped.setdefault(flag.reply_id, []).append((flag, patient))
    entries = [_entry(rows, zone) for rows in grouped.values()]
    return sorted(entries, key=lambda e: (e.level, e.received_at, e.flag_id))


def _entry(rows: list[tuple[Flag, Patient]], zone: ZoneInfo) -> FlaggedReply:
    flag, patient = rows[0]
    reply = flag.reply
    # The number an emergency came from first: the clinic calls back whoever wrote.
    call = (
        reply.from_address if reply.channel == Channel.SMS and reply.from_address else patient.phone
    )
    reasons = tuple(f.reason for f, _ in rows)
    return FlaggedReply(
        flag_id=flag.id,
        patient_id=patient.id,
        patient_name=f"{patient.first_name} {patient.last_name}".strip(),
        call=call,
        call_shown=_shown(call) if call else "",
        text=reply.text,
        received_at=reply.received_at,
        received=reply.received_at.astimezone(zone).strftime("%a %b %d, %H:%M"),
        reasons=reasons,
        level=min(urgency(r) for r in reasons),
    )


def flag_entries(request: Request, entries: list[FlaggedReply], *, back: str, user: str) -> str:
    """The entries' HTML, for the flags page and a patient's page."""
    return render(
        "flag_entries.html",
        entries=entries,
        csrf=csrf_token(request),
        back=back,
        note_limit=note_limit_for(user),
    )


def note_limit_for(user_name: str) -> int:
    return max(CLOSED_BY_LIMIT - len(user_name) - 2, 0)


@router.get("/flags", response_class=HTMLResponse)
def flags_page(request: Request, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """Replies that need a look, most urgent first."""
    entries = flagged_replies(session, ZoneInfo(clinic_rules(session).time_zone))
    body = (
        flag_entries(request, entries, back="/flags", user=user.name)
        if entries
        else '<p class="muted">No open flags.</p>'
    )
    return page("Open flags", body, role=user.role)


@router.post("/flags/{flag_id}/close")
async def close_flags(
    request: Request, flag_id: Id, user: CurrentUser, session: SessionDep
) -> Response:
    """Close the flag and every other open flag of the same reply, with an optional note."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    back = str(form.get("next") or "/flags")
    back = back if BACK.fullmatch(back) else "/flags"
    note = " ".join(str(form.get("note") or "").split())
    limit = note_limit_for(user.name)
    flag = session.get(Flag, flag_id)
    problem = None
    if flag is None:
        problem = "No such flag."
    elif len(note) > limit:
        problem = f"The note is too long: keep it to {limit} characters. Nothing was closed."
    if problem is not None or flag is None:
        return _refused(problem or "No such flag.", back, user.role)
    now = clock.now(session)
    closed_by = f"{user.name}: {note}" if note else user.name
    siblings = select(Flag).where(
        Flag.reply_id == flag.reply_id, Flag.closed_at.is_(None), Flag.id != flag.id
    )
    try:
        for each in [flag, *session.scalars(siblings)]:
            care_changes.close_flag(session=session, flag_id=each.id, actor=user.name, now=now)
            each.closed_by = closed_by
    except care_changes.CareChangeRefused as exc:
        return _refused(str(exc), back, user.role)
    return RedirectResponse(back, status_code=303)


def _refused(why: str, back: str, role: str) -> HTMLResponse:
    body = render("refused.html", why=why, back=back)
    return page("Not changed", body, status=400, role=role)
