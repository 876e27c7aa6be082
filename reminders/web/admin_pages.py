"""Pages for admins: message templates (both languages, structured email, phone previews,
the words changed, publish, history, roll back), the plan editor and the audit log. Each
editor is one page of plain HTML and small scripts over the JSON API (/api/templates/...,
/api/plans/...), so the rules live in one place: reminders.content.template_editing and
reminders.planning.plan_editing.
"""

from __future__ import annotations

import json
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from reminders.clinic import clinic_rules
from reminders.content.template_editing import LOCALES, overview, variables_for
from reminders.models import AuditEvent, MessageTemplate
from reminders.request_context import AdminUser, SessionDep, csrf_token
from reminders.web.pages import api_page_scripts, page
from reminders.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/templates", response_class=HTMLResponse)
def templates_page(user: AdminUser, session: SessionDep) -> HTMLResponse:
    return page(
        "Message templates",
        render("message_list.html", messages=overview(session=session)),
        role=user.role,
    )


LANGUAGE_NAMES = {"en": "English", "fr": "French"}


@router.get("/admin/templates/{key}", response_class=HTMLResponse)
def message_editor(
    request: Request, key: str, user: AdminUser, session: SessionDep
) -> HTMLResponse:
    """One message, both languages side by side: the SMS and the email (structured text, or
    raw HTML under "Advanced"), phone previews, the words changed, publish, history. The
    rules live in the templates API; the page's scripts only call it."""
    if session.scalar(select(MessageTemplate.id).where(MessageTemplate.key == key)) is None:
        return page(
            "No such message", "<p>There is no message with that name.</p>", 404, role=user.role
        )
    body = render(
        "message_editor.html",
        key=key,
        variables=variables_for(key),
        locales=[{"code": code, "name": LANGUAGE_NAMES.get(code, code)} for code in LOCALES],
    ) + api_page_scripts(csrf_token(request), "message-editor.js", "message-publish.js")
    return page(f"Message: {key}", body, role=user.role)


@router.get("/admin/templates/{key}/{locale}")
def template_editor(key: str, locale: str, user: AdminUser) -> RedirectResponse:
    """The editor used to show one language; it shows both now."""
    return RedirectResponse(f"/admin/templates/{quote(key)}#locale-{quote(locale)}", 303)


@router.get("/admin/plans/{key}", response_class=HTMLResponse)
def plan_editor(request: Request, key: str, user: AdminUser, session: SessionDep) -> HTMLResponse:
    """One row per step (when, channels, lateness), add, remove and reorder, over the plans
    API; the raw JSON stays behind "Advanced". Registered before clinic_admin_pages, so this
    page is the one served at this address."""
    messages = list(session.scalars(select(MessageTemplate.key).order_by(MessageTemplate.key)))
    body = render("plan_editor.html", key=key, messages=json.dumps(messages)) + api_page_scripts(
        csrf_token(request), "plan-editor.js"
    )
    return page(f"Plan: {key}", body, role=user.role)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(user: AdminUser, session: SessionDep) -> HTMLResponse:
    """The newest 200 events, in the clinic's time and in words."""
    zone = ZoneInfo(clinic_rules(session).time_zone)
    events = session.scalars(
        select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(200)
    )
    rows = [
        {
            "when": event.at.astimezone(zone).strftime("%a %b %d, %H:%M"),
            "iso": event.at.isoformat(timespec="minutes"),
            "who": event.actor,
            "what": event.action.replace(".", " ").replace("_", " "),
            "of": f"{event.subject_type.replace('_', ' ')} {event.subject_id or ''}".strip(),
        }
        for event in events
    ]
    return page("Audit log", render("audit.html", rows=rows, zone=zone.key), role=user.role)
