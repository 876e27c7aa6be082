"""Pages for admins: message templates (draft, live preview, publish, history, roll back) and
the audit log. The editor is one page of plain HTML and a small script over the JSON API
(/api/templates/...), so the rules live in one place: reminders.template_editing.
"""

from __future__ import annotations

import json
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from reminders.models import AuditEvent
from reminders.template_editing import overview, variables_for
from reminders.web.deps import AdminUser, SessionDep, csrf_token
from reminders.web.pages import page

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


EDITOR = """<meta name="csrf" content="{csrf}">
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
<p id="status" role="status"></p>
<h2>History</h2><table id="history"><tr><th>Version</th><th>Status</th><th>By</th><th></th></tr></table>
<pre id="diff" style="white-space:pre-wrap"></pre>
<script>
const key = {key}, locale = {locale}, api = `/api/templates/${{key}}/${{locale}}`;
const csrf = document.querySelector('meta[name=csrf]').content;
const parts = ["sms", "email_subject", "email_text", "email_html"];
const $ = id => document.getElementById(id);
const esc = v => String(v).replace(/[&<>"']/g, c => ({{"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}})[c]);
const call = (url, method, body) => fetch(url, {{method, headers: {{"Content-Type": "application/json", "X-CSRF-Token": csrf}},
  body: body === undefined ? undefined : JSON.stringify(body)}}).then(async r => [r.status, await r.json()]);
const current = () => Object.fromEntries(parts.map(p => [p, $(p).value]));
let timer, focused = $("sms"), asked = 0;
async function preview() {{
  const mine = ++asked;
  const [, out] = await call("/api/templates/preview", "POST", {{key, locale, parts: current()}});
  if (mine !== asked) return;  // a newer preview is on its way: never show an older text over it
  $("problems").innerHTML = ""; (out.problems || []).forEach(p => {{ const li = document.createElement("li"); li.textContent = p; $("problems").append(li); }});
  $("preview-sms").textContent = out.parts ? out.parts.sms : "";
  $("sms-cost").textContent = out.sms ? `${{out.sms.encoding}}, ${{out.sms.segments}} segment(s), ${{out.sms.units}} units` : "";
  $("preview-subject").textContent = out.parts ? out.parts.email_subject : "";
  $("preview-text").textContent = out.parts ? out.parts.email_text : "";
  $("preview-html").srcdoc = out.parts ? out.parts.email_html : "";
}}
parts.forEach(p => {{ $(p).addEventListener("input", () => {{ clearTimeout(timer); timer = setTimeout(preview, 250); }}); $(p).addEventListener("focus", () => focused = $(p)); }});
document.querySelectorAll("button[data-var]").forEach(b => b.addEventListener("click", () => {{
  const v = `{{{{ ${{b.dataset.var}} }}}}`, s = focused.selectionStart, e = focused.selectionEnd;
  focused.value = focused.value.slice(0, s) + v + focused.value.slice(e); focused.focus(); preview(); }}));
async function load() {{
  const [, t] = await call(api, "GET");
  const shown = t.draft || t.published;
  if (shown) parts.forEach(p => $(p).value = shown.parts[p]);
  const rows = t.history.map(v => `<tr><td>v${{v.version}}</td><td>${{v.status}}</td><td>${{esc(v.created_by)}}</td><td>` +
    (t.published && v.version !== t.published.version ? `<button data-diff="${{v.version}}">Diff with published</button> ` : "") +
    (v.status === "retired" ? `<button data-rollback="${{v.version}}">Roll back to v${{v.version}}</button>` : "") + `</td></tr>`).join("");
  $("history").innerHTML = "<tr><th>Version</th><th>Status</th><th>By</th><th></th></tr>" + rows;
  document.querySelectorAll("[data-diff]").forEach(b => b.addEventListener("click", async () => {{
    const [, d] = await call(`${{api}}/diff?from=${{b.dataset.diff}}&to=${{t.published.version}}`, "GET"); $("diff").textContent = d.diff || "(no difference)"; }}));
  document.querySelectorAll("[data-rollback]").forEach(b => b.addEventListener("click", async () => {{
    const [code, r] = await call(`${{api}}/rollback`, "POST", {{to_version: Number(b.dataset.rollback), apply_to_pending: $("apply").checked}});
    if (code === 200) await load();
    $("status").textContent = code === 200 ? `Published v${{r.published.version}} (a copy of v${{b.dataset.rollback}}).` : r.detail; }}));
  preview();
}}
$("save").addEventListener("click", async () => {{
  const [code, r] = await call(`${{api}}/draft`, "PUT", {{parts: current()}});
  if (code === 200 || code === 201) await load();
  $("status").textContent = code === 200 || code === 201 ? `Draft v${{r.version}} saved.` : (r.problems || [r.detail]).join(" "); }});
$("publish").addEventListener("click", async () => {{
  const [code, r] = await call(`${{api}}/publish`, "POST", {{apply_to_pending: $("apply").checked}});
  if (code === 200) await load();
  $("status").textContent = code === 200 ? `Published v${{r.published.version}}.` : r.detail; }});
load();
</script>"""


@router.get("/admin/templates/{key}/{locale}", response_class=HTMLResponse)
def template_editor(request: Request, key: str, locale: str, user: AdminUser) -> HTMLResponse:
    variables = " ".join(
        f'<button type="button" data-var="{escape(v)}">{escape(v)}</button>'
        for v in variables_for(key)
    )
    body = EDITOR.format(
        csrf=csrf_token(request),
        variables=variables,
        key=json.dumps(key),
        locale=json.dumps(locale),
    )
    return page(f"{key} ({locale.upper()})", body, role=user.role)


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
