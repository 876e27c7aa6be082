"""Pages for admins: clinic settings, users and aftercare plans, each a form over the JSON
API (/api/settings, /api/users, /api/plans), so validation lives in one place."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from reminders.models import AftercarePlan
from reminders.web.deps import AdminUser, SessionDep, csrf_token
from reminders.web.pages import api_page_scripts, page

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
    inputs = "".join(
        f'<label for="{n}">{escape(label)}</label><input id="{n}" type="{t}">'
        for n, label, t in SETTINGS_FIELDS
    )
    body = f"""<form id="settings">{inputs}<button>Save settings</button></form>
<p id="status" role="status"></p>""" + api_page_scripts(csrf_token(request), "settings.js")
    return page("Clinic settings", body, role=user.role)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, user: AdminUser) -> HTMLResponse:
    body = f"""<table id="users" aria-label="users" data-me="{user.id}"></table>
<p id="status" role="status"></p>
<p class="muted">Reset password gives someone who forgot theirs a temporary password, shown
here once: it works for one sign-in within 24 hours, which must choose a new password. Their
signed-in sessions end at once, as they do when an account is deactivated.</p>
<h2>Add a user</h2><form id="add">
<label for="email">Email</label><input id="email" type="email" required>
<label for="name">Name</label><input id="name" required>
<label for="role">Role</label><select id="role"><option value="therapist">Therapist</option><option value="admin">Admin</option></select>
<label for="password">First password (at least 12 characters)</label><input id="password" type="password" autocomplete="new-password" required>
<button>Add user</button></form><p id="added" role="status"></p>""" + api_page_scripts(
        csrf_token(request), "ask.js", "users.js"
    )
    return page("Users", body, role=user.role)


@router.get("/admin/plans", response_class=HTMLResponse)
def plans_page(user: AdminUser, session: SessionDep) -> HTMLResponse:
    rows = "".join(
        f'<li><a href="/admin/plans/{escape(p.key)}">{escape(p.name)}</a> ({len(p.steps)} steps)</li>'
        for p in session.scalars(select(AftercarePlan).order_by(AftercarePlan.name))
    )
    return page("Aftercare plans", f"<ul>{rows}</ul>", role=user.role)
