"""Pages for admins: clinic settings, users and aftercare plans, each a form over the JSON
API (/api/settings, /api/users, /api/plans), so validation lives in one place."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from reminders.models import AftercarePlan
from reminders.request_context import AdminUser, SessionDep, csrf_token
from reminders.web.pages import staff_page

router = APIRouter(include_in_schema=False)

SETTINGS_FIELDS = [
    ("name", "Clinic name", "text"),
    ("phone", "Clinic phone", "tel"),
    ("time_zone", "Time zone (IANA, e.g. America/Edmonton)", "text"),
    ("alert_email", "Alert email for red-flag replies", "email"),
    ("quiet_hours_start", "Quiet hours start (HH:MM)", "text"),
    ("quiet_hours_end", "Quiet hours end (HH:MM)", "text"),
    ("cap_per_day", "At most this many messages a day per patient (empty: no cap)", "number"),
    ("cap_per_week", "At most this many in any 7 days (empty: no cap)", "number"),
]


@router.get("/admin/settings", response_class=HTMLResponse)
def settings_page(request: Request, user: AdminUser) -> HTMLResponse:
    """The clinic's settings, read and saved through /api/settings by settings.js."""
    return staff_page(
        "settings.html",
        title="Clinic settings",
        role=user.role,
        fields=SETTINGS_FIELDS,
        csrf=csrf_token(request),
        scripts=("api.js", "settings.js"),
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, user: AdminUser) -> HTMLResponse:
    """Staff accounts, through /api/users by users.js: add, deactivate, reset a password."""
    return staff_page(
        "users.html",
        title="Users",
        role=user.role,
        me=user.id,
        csrf=csrf_token(request),
        scripts=("api.js", "ask.js", "users.js"),
    )


@router.get("/admin/plans", response_class=HTMLResponse)
def plans_page(user: AdminUser, session: SessionDep) -> HTMLResponse:
    """The aftercare plans, each opening in the plan editor."""
    plans = session.scalars(select(AftercarePlan).order_by(AftercarePlan.name)).all()
    return staff_page("plans.html", title="Aftercare plans", role=user.role, plans=plans)
