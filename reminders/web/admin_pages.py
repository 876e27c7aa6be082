"""Pages for admins: message templates (both languages, structured email, phone previews,
the words changed, publish, history, roll back), the plan editor and the audit log. Each
editor is one page of plain HTML and small scripts over the JSON API (/api/templates/...,
/api/plans/...), so the rules live in one place: reminders.content.template_editing and
reminders.planning.plan_editing.
"""

from __future__ import annotations

import json
from html import escape
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

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


PLAN_EDITOR = """<div id="plan-editor" data-key="{key}" data-messages="{messages}">
<p class="muted">Each step sends one message, either a set time after the session ends or on a
day after the session at a local time (the patient's). A step later than its maximum lateness
is skipped. Saving changes messages planned from now on; messages already planned keep their
times.</p>
<form id="plan-form" novalidate>
<label for="plan-name">Plan name</label><input id="plan-name" maxlength="120">
<label for="plan-description">Description</label><textarea id="plan-description" rows="3" maxlength="2000"></textarea>
<h2 id="steps-title">Steps</h2>
<div id="steps" class="plan-steps" role="list" aria-labelledby="steps-title"></div>
<button type="button" id="add-step">Add a step</button>
<ul id="problems" class="error" role="alert"></ul>
<button type="submit" id="save">Save plan</button>
<p id="status" role="status"></p>
</form>
<details id="advanced"><summary>Advanced: edit as JSON</summary>
<p class="muted">The same plan as the form: what you type here shows in the form, and Save plan
sends it. Fields of a step: <code>key</code>, <code>message</code> (a template), either
<code>offset</code> ("30m", "2h", "1d") or <code>day</code> + <code>at</code> ("19:00" local),
<code>not_sooner_than</code>, <code>max_lateness</code>, <code>channels</code>,
<code>checkin</code>, <code>send_in_quiet_hours_if_session_ends_before</code>.</p>
<label for="plan">Plan (JSON)</label><textarea id="plan" rows="24" spellcheck="false"></textarea>
<p id="json-status" class="error" aria-live="polite"></p>
</details>
</div>"""


@router.get("/admin/plans/{key}", response_class=HTMLResponse)
def plan_editor(request: Request, key: str, user: AdminUser, session: SessionDep) -> HTMLResponse:
    """One row per step (when, channels, lateness), add, remove and reorder, over the plans
    API; the raw JSON stays behind "Advanced". Registered before clinic_admin_pages, so this
    page is the one served at this address."""
    messages = list(session.scalars(select(MessageTemplate.key).order_by(MessageTemplate.key)))
    body = PLAN_EDITOR.format(
        key=escape(key), messages=escape(json.dumps(messages))
    ) + api_page_scripts(csrf_token(request), "plan-editor.js")
    return page(f"Plan: {key}", body, role=user.role)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(user: AdminUser, session: SessionDep) -> HTMLResponse:
    events = session.scalars(
        select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(200)
    )
    rows = "".join(
        f"<tr><td>{escape(e.at.isoformat(timespec='minutes'))}</td><td>{escape(e.actor)}</td><td>{escape(e.action)}</td>"
        f"<td>{escape(e.subject_type)} {e.subject_id or ''}</td></tr>"
        for e in events
    )
    return page(
        "Audit log",
        f"<table><tr><th>When (UTC)</th><th>Who</th><th>What</th><th>Of</th></tr>{rows}</table>",
        role=user.role,
    )
