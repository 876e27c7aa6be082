"""A patient's page (open flags, pain scores, their plans with pause, resume and cancel, the
timeline, contact details) and the care changes made from it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminders import audit, clock
from reminders.api.common import Id, OptionalId
from reminders.clinic import clinic_rules
from reminders.config import get_settings
from reminders.enrolling import care_changes
from reminders.enrolling.patient_records import ContactSharers, contact_sharers
from reminders.models import WAITING, Enrollment, Message, Patient, Reply, User
from reminders.request_context import CurrentUser, SessionDep, check_csrf, csrf_token
from reminders.vocabulary import PENDING, EnrollmentStatus
from reminders.web.flag_pages import flagged_replies, note_limit_for
from reminders.web.pages import message_page, staff_page
from reminders.web.pain_chart import pain_chart, pain_points
from reminders.web.patient_timeline import timeline_entries

router = APIRouter(include_in_schema=False)


def _cancel_question(session: Session, enrollment: Enrollment, patient: Patient) -> str:
    waiting = (
        session.scalar(
            select(func.count()).where(
                Message.enrollment_id == enrollment.id, Message.status.in_(PENDING)
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


def sharing_lines(sharers: ContactSharers) -> list[str]:
    """Who else uses the patient's number or email, so the therapist knows a family's replies
    go to whoever was texted last."""
    return [
        f"This {what} is also used by {_names(names)}."
        for what, names in (("number", sharers.phone), ("email", sharers.email))
        if names
    ]


def _enrolled_notices(session: Session, patient: Patient, enrollment_id: int | None) -> list[str]:
    """After enrolling (the redirect carries the new enrollment's id only): what was done,
    and who shares the contact, looked up here."""
    if enrollment_id is None:
        return []
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.patient_id != patient.id:
        return []
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
    return [done, *sharing_lines(sharers)]


def _pain_chart(session: Session, patient: Patient, latest: Enrollment | None) -> Markup | None:
    """The pain chart (SVG) of the latest enrollment's check-ins, when there is a score."""
    if latest is None:
        return None
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
    # pain_chart's SVG holds numbers and fixed words only.
    return Markup(pain_chart(points)) if points else None


def _care_controls(session: Session, enrollment: Enrollment, patient: Patient) -> dict[str, Any]:
    """A plan's status, and its Pause or Resume and Cancel remaining buttons while it runs."""
    first = {
        EnrollmentStatus.ACTIVE: ("pause", "Pause"),
        EnrollmentStatus.PAUSED: ("resume", "Resume"),
    }.get(enrollment.status)
    buttons = []
    if first is not None:
        buttons = [
            {
                "action": f"/enrollments/{enrollment.id}/{first[0]}",
                "label": first[1],
                "confirm": "",
            },
            {
                "action": f"/enrollments/{enrollment.id}/cancel",
                "label": "Cancel remaining",
                "confirm": _cancel_question(session, enrollment, patient),
            },
        ]
    return {"plan": enrollment.plan.name, "status": enrollment.status, "buttons": buttons}


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(
    request: Request,
    patient_id: Id,
    user: CurrentUser,
    session: SessionDep,
    enrolled: OptionalId = None,
) -> HTMLResponse:
    """One patient: open flags, pain scores, plans, timeline and contact details."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        return message_page("Not found", "No such patient.", status=404, role=user.role)
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
    zone = ZoneInfo(clinic_rules(session).time_zone)
    return staff_page(
        "patient.html",
        title=f"{patient.first_name} {patient.last_name}",
        role=user.role,
        csrf=csrf_token(request),
        notices=_enrolled_notices(session, patient, enrolled),
        flagged=flagged_replies(session, zone, patient_id=patient.id),
        back=f"/patients/{patient.id}",
        note_limit=note_limit_for(user.name),
        pain_chart=_pain_chart(session, patient, enrollments[0] if enrollments else None),
        enrollments=[_care_controls(session, e, patient) for e in enrollments],
        timeline=timeline_entries(session, patient),
        time_zone=patient.time_zone,
        patient_id=patient.id,
        phone=patient.phone or "",
        email=patient.email or "",
    )


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
        return message_page(
            "Not changed", str(exc), status=400, role=user.role, error=True, back=redirect
        )
    return RedirectResponse(redirect, status_code=303)


@router.post("/enrollments/{enrollment_id}/{action}")
async def enrollment_action(
    request: Request, enrollment_id: Id, action: str, user: CurrentUser, session: SessionDep
) -> Response:
    """Pause, resume or cancel the rest of a patient's plan."""
    change = {
        "pause": care_changes.pause,
        "resume": care_changes.resume,
        "cancel": care_changes.cancel,
    }.get(action)
    enrollment = session.get(Enrollment, enrollment_id)
    if change is None or enrollment is None:
        return message_page(
            "Not found", "No such enrollment or action.", status=404, role=user.role
        )
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
    """A corrected phone or email; the messages that failed go again."""
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
