"""Pages for therapists: enroll (preview, then save), patients and their timeline, open flags."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from functools import cache
from html import escape
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminders import audit, care_changes, clock
from reminders.api.common import Id, OptionalId, problems
from reminders.api.enrollments import enrollment_request
from reminders.api.schemas import EnrollmentIn
from reminders.clinic import clinic_rules
from reminders.config import get_settings
from reminders.contacts import InvalidContact
from reminders.enrollment import (
    ContactSharers,
    EnrollmentRequest,
    InvalidEnrollment,
    contact_sharers,
    enroll,
    plan_enrollment,
    sms_costs,
)
from reminders.models import WAITING, AftercarePlan, Enrollment, Message, Patient, Reply, User
from reminders.rendering import SmsCost
from reminders.time_zones import UnknownTimeZone, check_place, time_zones
from reminders.web import flag_pages, patient_list
from reminders.web.deps import CurrentUser, SessionDep, check_csrf, csrf_token
from reminders.web.flag_pages import flag_entries, flagged_replies
from reminders.web.pages import page
from reminders.web.pain_chart import pain_chart, pain_points
from reminders.web.patient_timeline import timeline_html

router = APIRouter(include_in_schema=False)
router.include_router(flag_pages.router)
router.include_router(patient_list.router)
FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "email",
    "channel",
    "language",
    "time_zone",
    "session_end",
    "plan",
    "consent",
)


def _options(values: list[tuple[str, str]], chosen: str) -> str:
    return "".join(
        f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(label)}</option>'
        for v, label in values
    )


def _enroll_form(
    request: Request, session: Session, values: dict[str, str], *, error: str = ""
) -> str:
    plans = [
        (p.key, p.name) for p in session.scalars(select(AftercarePlan).order_by(AftercarePlan.name))
    ]
    v = {name: escape(values.get(name, "")) for name in FIELDS}
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""{message}<form method="post" action="/enroll">
<input type="hidden" name="csrf" value="{csrf_token(request)}">
<input type="hidden" name="form_id" value="{escape(values.get("form_id") or secrets.token_urlsafe(12))}">
<div class="grid"><div>
<label for="first_name">First name</label><input id="first_name" name="first_name" required maxlength="80" value="{v["first_name"]}" autofocus>
<label for="last_name">Last name</label><input id="last_name" name="last_name" maxlength="80" value="{v["last_name"]}">
<label for="phone">Mobile phone</label><input id="phone" name="phone" type="tel" inputmode="tel" value="{v["phone"]}">
<label for="email">Email</label><input id="email" name="email" type="email" value="{v["email"]}">
</div><div>
<label for="channel">Send by</label><select id="channel" name="channel">{_options([("sms", "Text"), ("email", "Email"), ("both", "Text and email")], values.get("channel", "sms"))}</select>
<label for="language">Language</label><select id="language" name="language">{_options([("en", "English"), ("fr", "Français")], values.get("language", "en"))}</select>
<label for="time_zone">Time zone</label><input id="time_zone" name="time_zone" list="time-zones" autocomplete="off" required aria-describedby="time_zone_hint" value="{v["time_zone"]}">
<p id="time_zone_hint" class="muted">A place, such as America/Vancouver: type a city to search the list.</p>{_zone_list()}
<label for="session_end">Session ended (clinic time)</label><input id="session_end" name="session_end" type="datetime-local" value="{v["session_end"]}">
<label for="plan">Aftercare plan</label><select id="plan" name="plan">{_options(plans, values.get("plan", "dry-needling"))}</select>
<label for="consent">Consent given</label><select id="consent" name="consent">{_options([("verbal", "Verbally"), ("written", "In writing")], values.get("consent", "verbal"))}</select>
</div></div>
<button type="submit" name="action" value="preview">Preview messages</button>
<button type="submit" name="action" value="save">Enroll</button></form>"""


@cache
def _zone_list() -> str:
    """The IANA places the time zone field offers as it is typed in."""
    options = "".join(f'<option value="{escape(zone)}">' for zone in time_zones())
    return f'<datalist id="time-zones">{options}</datalist>'


FORM_NAMES = {"plan_key": "plan", "consent_method": "consent"}  # the API's names -> the form's


def _request(
    values: dict[str, str], user: User, zone: ZoneInfo, now: datetime
) -> EnrollmentRequest:
    """The form read through the API's own model (one definition of what is valid), the
    session end taken in clinic time (`zone`)."""
    raw = values.get("session_end", "").strip()
    try:
        session_end = datetime.fromisoformat(raw).replace(tzinfo=zone).isoformat() if raw else "now"
    except ValueError:
        raise InvalidEnrollment("session end is not a date and time") from None
    try:
        body = EnrollmentIn(
            first_name=values.get("first_name", ""),
            last_name=values.get("last_name", ""),
            phone=values.get("phone") or None,
            email=values.get("email") or None,
            channel=values.get("channel", "sms"),
            language=values.get("language", "en"),
            time_zone=values.get("time_zone") or None,
            session_end=session_end,
            plan_key=values.get("plan", "dry-needling"),
            consent_method=values.get("consent", "verbal"),
        )
    except ValidationError as exc:
        raise InvalidEnrollment(
            "; ".join(problems(exc.errors(), names=FORM_NAMES, skip=0))
        ) from None
    key = f"form-{values['form_id']}" if values.get("form_id") else None
    return enrollment_request(body, user, now, key)


def _text_size(cost: SmsCost | None) -> str:
    """ "1 segment (GSM-7)": each segment is billed as one text, and UCS-2 (a character
    outside GSM-7) fits 70 characters in a segment instead of 160."""
    if cost is None:
        return ""
    return f"{cost.segments} segment{'' if cost.segments == 1 else 's'} ({cost.encoding})"


@router.get("/enroll", response_class=HTMLResponse)
def enroll_page(request: Request, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    zone = clinic_rules(session).time_zone
    now = clock.now(session).astimezone(ZoneInfo(zone))
    values = {"time_zone": zone, "session_end": now.strftime("%Y-%m-%dT%H:%M")}
    return page("Enroll a patient", _enroll_form(request, session, values), role=user.role)


@router.post("/enroll")
async def enroll_submit(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    rules = clinic_rules(session)
    now = clock.now(session)
    try:
        form["time_zone"] = check_place(
            form.get("time_zone") or rules.time_zone, clinic_zone=rules.time_zone
        )
        zone = ZoneInfo(form["time_zone"])
        # The form asks for the session end in clinic time, whatever the patient's zone.
        enrollment_request = _request(form, user, ZoneInfo(rules.time_zone), now)
        if form.get("action") == "save":
            enrollment = enroll(
                session, enrollment_request, now=now, phone_region=get_settings().phone_region
            )
            return RedirectResponse(
                f"/patients/{enrollment.patient_id}?enrolled={enrollment.id}", status_code=303
            )
        planned = plan_enrollment(
            session, enrollment_request, now=now, phone_region=get_settings().phone_region
        )
    except (InvalidEnrollment, InvalidContact, UnknownTimeZone) as exc:
        return page(
            "Enroll a patient",
            _enroll_form(request, session, form, error=str(exc)),
            status=400,
            role=user.role,
        )
    costs = sms_costs(session, enrollment_request, planned, settings=get_settings())
    rows = "".join(
        f"<tr><td>{escape(m.due_at.astimezone(zone).strftime('%a %b %d, %H:%M'))}</td><td>{escape(m.step_key)}</td>"
        f"<td>{escape(m.channel)}</td><td>{escape(m.status if m.reason is None else f'{m.status}: {m.reason}')}</td>"
        f"<td>{escape(_text_size(costs.get(m.step_key)) if m.channel == 'sms' else '')}</td></tr>"
        for m in planned.messages
    )
    preview = f'<h2>Planned messages</h2><table aria-label="planned messages"><tr><th>When</th><th>Message</th><th>By</th><th>Status</th><th>Text size</th></tr>{rows}</table>'
    return page(
        "Enroll a patient",
        _sharing_notice(planned.sharers) + preview + _enroll_form(request, session, form),
        role=user.role,
    )


def _button(request: Request, action: str, label: str, *, confirm: str = "") -> str:
    """A one-button form; with `confirm`, /static/confirm.js asks that question first."""
    ask = f' data-confirm="{escape(confirm)}"' if confirm else ""
    return f'<form method="post" action="{action}" class="inline"{ask}><input type="hidden" name="csrf" value="{csrf_token(request)}"><button>{escape(label)}</button></form> '


def _cancel_question(session: Session, enrollment: Enrollment, patient: Patient) -> str:
    waiting = (
        session.scalar(
            select(func.count()).where(
                Message.enrollment_id == enrollment.id, Message.status.in_((*WAITING, "queued"))
            )
        )
        or 0
    )
    name = f"{patient.first_name} {patient.last_name}".strip()
    return (
        f"Cancel the {waiting} message{'' if waiting == 1 else 's'} not yet sent to {name}?"
        " This cannot be undone."
    )


def _names(names: list[str]) -> str:
    """ "Frank", "Frank and Gina", "Frank, Gina and Ann"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _sharing_notice(sharers: ContactSharers) -> str:
    """Who else uses the patient's number or email, so the therapist knows a family's replies
    go to whoever was texted last."""
    lines = [
        f"This {what} is also used by {_names(names)}."
        for what, names in (("number", sharers.phone), ("email", sharers.email))
        if names
    ]
    return "".join(f'<p class="notice" role="status">{escape(line)}</p>' for line in lines)


def _enrolled_notice(session: Session, patient: Patient, enrollment_id: int | None) -> str:
    """After enrolling (the redirect carries the new enrollment's id only): what was done,
    and who shares the contact, looked up here."""
    if enrollment_id is None:
        return ""
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.patient_id != patient.id:
        return ""
    sharers = contact_sharers(session, phone=patient.phone, email=patient.email, besides=patient.id)
    planned = session.scalars(
        select(Message.due_at)
        .where(Message.enrollment_id == enrollment.id, Message.status.in_(WAITING))
        .order_by(Message.due_at)
    ).all()
    name = f"{patient.first_name} {patient.last_name}".strip()
    done = f"{name} is enrolled in {enrollment.plan.name}."
    if planned:
        first = planned[0].astimezone(ZoneInfo(patient.time_zone)).strftime("%a %b %d, %H:%M")
        count = f"{len(planned)} message{'' if len(planned) == 1 else 's'}"
        done += f" {count} planned; the first goes out {first} ({patient.time_zone})."
    return f'<p class="notice" role="status">{escape(done)}</p>' + _sharing_notice(sharers)


def _pain_section(session: Session, patient: Patient, latest: Enrollment | None) -> str:
    """The pain chart of the latest enrollment's check-ins, when there is a score."""
    if latest is None:
        return ""
    scores = session.execute(
        select(Reply.received_at, Reply.score).where(
            Reply.patient_id == patient.id,
            Reply.score.is_not(None),
            Reply.received_at >= latest.session_end,
        )
    ).tuples()
    points = pain_points(
        [(at, score) for at, score in scores if score is not None], latest.session_end
    )
    if not points:
        return ""
    return f'<h2>Pain scores</h2><section class="pain">{pain_chart(points)}</section>'


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(
    request: Request,
    patient_id: Id,
    user: CurrentUser,
    session: SessionDep,
    enrolled: OptionalId = None,
) -> HTMLResponse:
    patient = session.get(Patient, patient_id)
    if patient is None:
        return page("Not found", "<p>No such patient.</p>", status=404, role=user.role)
    audit.record(
        session,
        actor=user.email,
        action="patient.viewed",
        subject_type="patient",
        subject_id=patient_id,
    )
    enrollments = session.scalars(
        select(Enrollment).where(Enrollment.patient_id == patient_id).order_by(Enrollment.id.desc())
    ).all()
    controls = ""
    for e in enrollments:
        first = {"active": ("pause", "Pause"), "paused": ("resume", "Resume")}.get(e.status)
        buttons = (
            ""
            if first is None
            else _button(request, f"/enrollments/{e.id}/{first[0]}", first[1])
            + _button(
                request,
                f"/enrollments/{e.id}/cancel",
                "Cancel remaining",
                confirm=_cancel_question(session, e, patient),
            )
        )
        controls += f"<p>{escape(e.plan.name)} ({escape(e.status)}): {buttons}</p>"
    flagged = flagged_replies(
        session, ZoneInfo(clinic_rules(session).time_zone), patient_id=patient.id
    )
    contact = f"""<form method="post" action="/patients/{patient.id}/contact"><input type="hidden" name="csrf" value="{csrf_token(request)}">
<label for="phone">Mobile phone</label><input id="phone" name="phone" type="tel" value="{escape(patient.phone or "")}">
<label for="email">Email</label><input id="email" name="email" type="email" value="{escape(patient.email or "")}">
<button>Save and resend failed messages</button></form>"""
    body = (
        _enrolled_notice(session, patient, enrolled)
        + (
            "<h2>Open flags</h2>"
            + flag_entries(request, flagged, back=f"/patients/{patient.id}", user=user.name)
            if flagged
            else ""
        )
        + _pain_section(session, patient, enrollments[0] if enrollments else None)
        + controls
        + "<h2>Timeline</h2>"
        + timeline_html(session, patient)
        + "<h2>Contact details</h2>"
        + contact
        + '<script src="/static/ask.js"></script><script src="/static/confirm.js"></script>'
    )
    return page(f"{patient.first_name} {patient.last_name}", body, role=user.role)


async def _change(
    request: Request,
    session: Session,
    user: User,
    redirect: str,
    apply: Callable[[dict[str, str], datetime], object],
) -> Response:
    """Check the form's CSRF token, apply one care change, and go back (or say why not)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    try:
        apply(form, clock.now(session))
    except care_changes.CareChangeRefused as exc:
        return page(
            "Not changed",
            f'<p class="error">{escape(str(exc))}</p><p><a href="{redirect}">Back</a></p>',
            status=400,
            role=user.role,
        )
    return RedirectResponse(redirect, status_code=303)


@router.post("/enrollments/{enrollment_id}/{action}")
async def enrollment_action(
    request: Request, enrollment_id: Id, action: str, user: CurrentUser, session: SessionDep
) -> Response:
    change = {
        "pause": care_changes.pause,
        "resume": care_changes.resume,
        "cancel": care_changes.cancel,
    }.get(action)
    enrollment = session.get(Enrollment, enrollment_id)
    if change is None or enrollment is None:
        return page("Not found", "<p>No such enrollment or action.</p>", status=404, role=user.role)
    return await _change(
        request,
        session,
        user,
        f"/patients/{enrollment.patient_id}",
        lambda form, now: change(
            session=session, enrollment_id=enrollment_id, actor=user.email, now=now
        ),
    )


@router.post("/patients/{patient_id}/contact")
async def fix_contact(
    request: Request, patient_id: Id, user: CurrentUser, session: SessionDep
) -> Response:
    return await _change(
        request,
        session,
        user,
        f"/patients/{patient_id}",
        lambda form, now: care_changes.fix_contact(
            session=session,
            patient_id=patient_id,
            phone=form.get("phone"),
            email=form.get("email"),
            actor=user.email,
            now=now,
            region=get_settings().phone_region,
        ),
    )
