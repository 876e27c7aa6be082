"""Pages for admins: clinic settings, users and aftercare plans, each a form over the JSON
API (/api/settings, /api/users, /api/plans), so validation lives in one place."""

from __future__ import annotations

import json
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from reminders.models import AftercarePlan
from reminders.web.deps import AdminUser, SessionDep, csrf_token
from reminders.web.pages import API_SCRIPT, page

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
    names = json.dumps([n for n, _, _ in SETTINGS_FIELDS])
    body = (
        API_SCRIPT.format(csrf=csrf_token(request))
        + f"""<form id="settings">{inputs}<button>Save settings</button></form>
<p id="status" role="status"></p><script>
const names = {names};
call("/api/settings", "GET").then(([, s]) => names.forEach(n => $(n).value = s[n] ?? ""));
$("settings").addEventListener("submit", async e => {{
  e.preventDefault();
  const body = Object.fromEntries(names.map(n => [n, n.startsWith("cap_") ? ($(n).value ? Number($(n).value) : null) : $(n).value]));
  const [code, out] = await call("/api/settings", "PUT", body);
  $("status").textContent = code === 200 ? "Saved." : problem(out);
}});</script>"""
    )
    return page("Clinic settings", body, role=user.role)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, user: AdminUser) -> HTMLResponse:
    body = (
        API_SCRIPT.format(csrf=csrf_token(request))
        + """<table id="users" aria-label="users"></table>
<p id="status" role="status"></p>
<p class="muted">Reset password gives someone who forgot theirs a temporary password, shown
here once: it works for one sign-in within 24 hours, which must choose a new password. Their
signed-in sessions end at once, as they do when an account is deactivated.</p>
<h2>Add a user</h2><form id="add">
<label for="email">Email</label><input id="email" type="email" required>
<label for="name">Name</label><input id="name" required>
<label for="role">Role</label><select id="role"><option value="therapist">Therapist</option><option value="admin">Admin</option></select>
<label for="password">First password (at least 12 characters)</label><input id="password" type="password" autocomplete="new-password" required>
<button>Add user</button></form><p id="added" role="status"></p><script>
const me = """
        + str(user.id)
        + """;
async function load() {
  const [, users] = await call("/api/users", "GET");
  $("users").innerHTML = "<tr><th>Name</th><th>Email</th><th>Role</th><th>Active</th><th></th></tr>" + users.map(u =>
    `<tr><td>${esc(u.name)}</td><td>${esc(u.email)}</td><td>${esc(u.role)}</td><td>${u.active ? "yes" : "no"}</td><td>` +
    (u.active && u.id !== me ? `<button data-reset="${u.id}" data-email="${esc(u.email)}">Reset password</button> <button data-off="${u.id}">Deactivate</button>` : "") + "</td></tr>").join("");
  document.querySelectorAll("[data-off]").forEach(b => b.addEventListener("click", async () => {
    const [code, out] = await call(`/api/users/${b.dataset.off}/deactivate`, "POST");
    await load(); $("status").textContent = code === 200 ? "Deactivated." : problem(out); }));
  document.querySelectorAll("[data-reset]").forEach(b => b.addEventListener("click", async () => {
    if (!confirm(`Give ${b.dataset.email} a temporary password? Their sessions end now.`)) return;
    const [code, out] = await call(`/api/users/${b.dataset.reset}/reset-password`, "POST");
    $("status").textContent = code === 200
      ? `Temporary password for ${out.email}: ${out.temporary_password} (shown once; good for one sign-in until ${new Date(out.expires_at).toLocaleString()}).`
      : problem(out); }));
}
$("add").addEventListener("submit", async e => {
  e.preventDefault();
  const [code, out] = await call("/api/users", "POST", {email: $("email").value, name: $("name").value, role: $("role").value, password: $("password").value});
  if (code === 201) $("add").reset();
  await load(); $("added").textContent = code === 201 ? `Added ${out.email}.` : problem(out);
});
load();</script>"""
    )
    return page("Users", body, role=user.role)


@router.get("/admin/plans", response_class=HTMLResponse)
def plans_page(user: AdminUser, session: SessionDep) -> HTMLResponse:
    rows = "".join(
        f'<li><a href="/admin/plans/{escape(p.key)}">{escape(p.name)}</a> ({len(p.steps)} steps)</li>'
        for p in session.scalars(select(AftercarePlan).order_by(AftercarePlan.name))
    )
    return page("Aftercare plans", f"<ul>{rows}</ul>", role=user.role)


@router.get("/admin/plans/{key}", response_class=HTMLResponse)
def plan_page(request: Request, key: str, user: AdminUser) -> HTMLResponse:
    help_text = (
        "Each step: <code>key</code>, <code>message</code> (a template), either <code>offset</code> "
        '("30m", "2h") or <code>day</code> + <code>at</code> ("19:00" local), <code>not_sooner_than</code>, '
        "<code>max_lateness</code> (after it the step is skipped), <code>channels</code>, <code>checkin</code>. "
        "Saving changes messages planned from now on; messages already planned keep their times."
    )
    body = (
        API_SCRIPT.format(csrf=csrf_token(request))
        + f"""<p class="muted">{help_text}</p>
<label for="plan">Plan (JSON)</label><textarea id="plan" rows="24"></textarea>
<button id="save">Save plan</button><p id="status" role="status"></p><script>
const url = "/api/plans/" + encodeURIComponent({json.dumps(key)});
call(url, "GET").then(([, p]) => {{ delete p.key; delete p.updated_at; $("plan").value = JSON.stringify(p, null, 2); }});
$("save").addEventListener("click", async () => {{
  let body; try {{ body = JSON.parse($("plan").value); }} catch (err) {{ $("status").textContent = "Not valid JSON: " + err.message; return; }}
  const [code, out] = await call(url, "PUT", body);
  $("status").textContent = code === 200 ? "Saved." : problem(out);
}});</script>"""
    )
    return page(f"Plan: {key}", body, role=user.role)
