"""The page layout every server-rendered page shares: readable on a tablet, no build step."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:56rem;margin:0 auto;padding:0 1rem 2rem;color:#1a1a1a;line-height:1.45}}
nav{{display:flex;gap:1rem;padding:.75rem 0;border-bottom:1px solid #ccc;margin-bottom:1rem;flex-wrap:wrap}}
nav a{{color:#0b4f8a}} table{{border-collapse:collapse;width:100%}}
td,th{{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}}
label{{display:block;margin:.6rem 0 .2rem;font-weight:600}}
input,select,textarea{{font-size:1rem;padding:.45rem;width:100%;max-width:28rem;box-sizing:border-box}}
textarea{{max-width:100%;font-family:ui-monospace,monospace}}
button{{font-size:1rem;padding:.55rem 1.1rem;margin-top:.8rem;cursor:pointer}}
.error{{color:#a00000;font-weight:600}} .muted{{color:#555}} .flag{{color:#a00000}}
.grid{{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}}
</style></head><body>{nav}<main><h1>{title}</h1>{body}</main></body></html>"""

NAV_THERAPIST = '<nav aria-label="Main"><a href="/enroll">Enroll</a><a href="/patients">Patients</a><a href="/flags">Open flags</a>{admin}<a href="/logout">Sign out</a></nav>'
NAV_ADMIN = (
    '<a href="/admin/templates">Templates</a><a href="/admin/plans">Plans</a><a href="/admin/settings">Clinic settings</a>'
    '<a href="/admin/users">Users</a><a href="/admin/audit">Audit log</a>'
)


def page(title: str, body: str, status: int = 200, *, role: str | None = None) -> HTMLResponse:
    """A whole page; `role` (admin or therapist) adds the signed-in navigation."""
    nav = "" if role is None else NAV_THERAPIST.format(admin=NAV_ADMIN if role == "admin" else "")
    return HTMLResponse(PAGE.format(title=escape(title), body=body, nav=nav), status_code=status)


# The pages that edit through the JSON API share this: the session's CSRF token goes in a
# header, and every answer comes back as [status, json].
API_SCRIPT = """<meta name="csrf" content="{csrf}"><script>
const csrf = document.querySelector('meta[name=csrf]').content;
const $ = id => document.getElementById(id);
const esc = v => String(v).replace(/[&<>"']/g, c => ({{"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}})[c]);
const call = (url, method, body) => fetch(url, {{method, headers: {{"Content-Type": "application/json", "X-CSRF-Token": csrf}},
  body: body === undefined ? undefined : JSON.stringify(body)}}).then(async r => [r.status, await r.json().catch(() => ({{}}))]);
const problem = out => Array.isArray(out.detail) ? out.detail.map(d => `${{(d.loc || []).slice(1).join(".")}}: ${{d.msg}}`).join("; ")
  : (out.problems || [out.detail || "Not saved."]).join(" ");
</script>"""
