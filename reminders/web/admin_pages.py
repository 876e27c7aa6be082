"""Pages for admins: message templates (draft, live preview, publish, history, roll back),
the plan editor and the audit log. Each editor is one page of plain HTML and a small script
over the JSON API (/api/templates/..., /api/plans/...), so the rules live in one place:
reminders.template_editing and reminders.plan_editing.
"""

from __future__ import annotations

import json
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from reminders.models import AuditEvent, MessageTemplate
from reminders.template_editing import overview, variables_for
from reminders.web.deps import AdminUser, SessionDep, csrf_token
from reminders.web.pages import api_page_scripts, page

router = APIRouter(include_in_schema=False)


@router.get("/admin/templates", response_class=HTMLResponse)
def templates_page(user: AdminUser, session: SessionDep) -> HTMLResponse:
    rows = "".join(
        f"<tr><td>{escape(t.key)}</td><td>"
        + " ".join(
            f'<a href="/admin/templates/{escape(t.key)}/{s.locale}">{s.locale.upper()}'
            f"{f' v{s.published}' if s.published else ''}{' (draft)' if s.draft else ''}</a>"
            for s in t.locales
        )
        + "</td></tr>"
        for t in overview(session=session)
    )
    return page(
        "Message templates",
        f"<table><tr><th>Message</th><th>Languages</th></tr>{rows}</table>",
        role=user.role,
    )


EDITOR = """<div id="editor" data-key="{key}" data-locale="{locale}">
<p class="muted">Variables (click to insert at the cursor): {variables}</p>
<div class="grid"><div>
<label for="sms">SMS</label><textarea id="sms" rows="5"></textarea>
<p id="sms-cost" aria-live="polite"></p>
<label for="email_subject">Email subject</label><input id="email_subject">
<label for="email_text">Email text</label><textarea id="email_text" rows="10"></textarea>
<label for="email_html">Email HTML</label><textarea id="email_html" rows="10"></textarea>
</div><div>
<h2>Preview (sample patient)</h2>
<ul id="problems" class="error" role="alert"></ul>
<p><strong>SMS</strong></p><pre id="preview-sms" style="white-space:pre-wrap"></pre>
<p><strong>Subject:</strong> <span id="preview-subject"></span></p>
<pre id="preview-text" style="white-space:pre-wrap;max-height:14rem;overflow:auto"></pre>
<iframe id="preview-html" title="Email HTML preview" sandbox="" style="width:100%;height:18rem;border:1px solid #ccc"></iframe>
</div></div>
<button id="save">Save draft</button>
<label style="display:inline;font-weight:normal"><input type="checkbox" id="apply" style="width:auto"> Also use it for messages not sent yet</label>
<button id="publish">Publish draft</button>
<div id="publish-confirm" role="alertdialog" aria-labelledby="publish-question" hidden>
<p id="publish-question">Publish this draft? Patients enrolled from now on get it.</p>
<button id="publish-yes">Yes, publish</button> <button id="publish-no">Not now</button>
</div>
<p id="status" role="status"></p>
<h2>History</h2><table id="history"><tr><th>Version</th><th>Status</th><th>By</th><th></th></tr></table>
<pre id="diff" style="white-space:pre-wrap"></pre>
</div>"""


@router.get("/admin/templates/{key}/{locale}", response_class=HTMLResponse)
def template_editor(request: Request, key: str, locale: str, user: AdminUser) -> HTMLResponse:
    variables = " ".join(
        f'<button type="button" data-var="{escape(v)}">{escape(v)}</button>'
        for v in variables_for(key)
    )
    body = EDITOR.format(
        variables=variables, key=escape(key), locale=escape(locale)
    ) + api_page_scripts(csrf_token(request), "template-editor.js")
    return page(f"{key} ({locale.upper()})", body, role=user.role)


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
