"""Pages for therapists: enroll (preview, then save); a patient's page (reminders.web.patient_pages),
the patients list and the open flags are included here."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders import clock
from reminders.api.common import problems
from reminders.api.enrollments import enrollment_request
from reminders.api.schemas import EnrollmentIn
from reminders.channels import CHANNELS as ALL_CHANNELS
from reminders.channels import rules_for
from reminders.clinic import clinic_rules
from reminders.config import get_settings
from reminders.content.rendering import SmsCost
from reminders.enrolling.contacts import InvalidContact
from reminders.enrolling.enrollment import (
    EnrollmentRequest,
    InvalidEnrollment,
    enroll,
    plan_enrollment,
    sms_costs,
)
from reminders.enrolling.time_zones import UnknownTimeZone, check_place, time_zones
from reminders.models import AftercarePlan, User
from reminders.request_context import CurrentUser, SessionDep, check_csrf, csrf_token
from reminders.vocabulary import Channel
from reminders.web import flag_pages, patient_list, patient_pages
from reminders.web.pages import staff_page
from reminders.web.patient_pages import sharing_lines

router = APIRouter(include_in_schema=False)
router.include_router(flag_pages.router)
router.include_router(patient_list.router)
router.include_router(patient_pages.router)
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


CHANNELS = [
    *((c.channel.value, c.label) for c in ALL_CHANNELS.values()),
    ("both", "Text and email"),
]
LANGUAGES = [("en", "English"), ("fr", "Français")]
CONSENTS = [("verbal", "Verbally"), ("written", "In writing")]


def _enroll_page(
    request: Request,
    session: Session,
    values: dict[str, str],
    *,
    error: str = "",
    status: int = 200,
    role: str,
    planned: list[dict[str, str]] | None = None,
    sharing: list[str] | None = None,
) -> HTMLResponse:
    """The enroll form with what was typed (and the problem with it), after a preview the
    planned messages and who else uses the contact."""
    plans = [
        (p.key, p.name) for p in session.scalars(select(AftercarePlan).order_by(AftercarePlan.name))
    ]
    return staff_page(
        "enroll.html",
        title="Enroll a patient",
        role=role,
        status=status,
        csrf=csrf_token(request),
        form_id=values.get("form_id") or secrets.token_urlsafe(12),
        v={name: values.get(name, "") for name in FIELDS},
        error=error,
        planned=planned or [],
        sharing=sharing or [],
        plans=plans,
        channels=CHANNELS,
        languages=LANGUAGES,
        consents=CONSENTS,
        zones=time_zones(),  # the IANA places the time zone field offers as it is typed in
    )


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
            channel=values.get("channel", Channel.SMS),
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
    return _enroll_page(request, session, values, role=user.role)


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
        return _enroll_page(request, session, form, error=str(exc), status=400, role=user.role)
    costs = sms_costs(session, enrollment_request, planned, settings=get_settings())
    planned_rows = [
        {
            "when": m.due_at.astimezone(zone).strftime("%a %b %d, %H:%M"),
            "step": m.step_key,
            "channel": m.channel,
            "status": m.status if m.reason is None else f"{m.status}: {m.reason}",
            "size": _text_size(costs.get(m.step_key)) if rules_for(m.channel).segmented else "",
        }
        for m in planned.messages
    ]
    return _enroll_page(
        request,
        session,
        form,
        role=user.role,
        planned=planned_rows,
        sharing=sharing_lines(planned.sharers),
    )
