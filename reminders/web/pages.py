"""The page layout every server-rendered page shares: readable on a tablet, no build step.

Every signed-in page also carries a red banner for each emergency alert that could not
reach the clinic, until someone on the staff acknowledges it. What the banner lists is
looked up once per request, before the page's own work (reminders.web.alert_pages), and
handed to `page` here through a context variable.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from html import escape

from fastapi.responses import HTMLResponse

from reminders.web.deps import PAGE_CSRF

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<link rel="stylesheet" href="/static/staff.css"></head><body>{nav}{banner}<main><h1>{title}</h1>{body}</main></body></html>"""

NAV_THERAPIST = '<nav aria-label="Main"><a href="/">Dashboard</a><a href="/enroll">Enroll</a><a href="/patients">Patients</a><a href="/flags">Open flags</a>{admin}<a href="/account/password">Password</a><form method="post" action="/logout"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">Sign out</button></form></nav>'
NAV_ADMIN = (
    '<a href="/admin/templates">Templates</a><a href="/admin/plans">Plans</a><a href="/admin/settings">Clinic settings</a>'
    '<a href="/admin/users">Users</a><a href="/admin/audit">Audit log</a>'
)


BANNER_LIMIT = 10  # alerts listed one by one; the rest are counted


@dataclass(frozen=True)
class UnseenAlert:
    """An emergency alert that did not reach the clinic and that nobody has acknowledged."""

    alert_id: int
    patient_id: int | None  # None: a number we do not know


@dataclass(frozen=True)
class FailedAlerts:
    alerts: tuple[UnseenAlert, ...]
    csrf: str  # this session's CSRF token, for the Acknowledge buttons
    back: str  # the page to return to once one is acknowledged


FAILED_ALERTS: ContextVar[FailedAlerts | None] = ContextVar("failed_alerts", default=None)


def page(title: str, body: str, status: int = 200, *, role: str | None = None) -> HTMLResponse:
    """A whole page; `role` (admin or therapist) adds the signed-in navigation, and the red
    banner of emergency alerts that could not reach the clinic."""
    nav = (
        ""
        if role is None
        else NAV_THERAPIST.format(
            admin=NAV_ADMIN if role == "admin" else "", csrf=escape(PAGE_CSRF.get())
        )
    )
    banner = "" if role is None else alert_banner(FAILED_ALERTS.get())
    return HTMLResponse(
        PAGE.format(title=escape(title), body=body, nav=nav, banner=banner), status_code=status
    )


def alert_banner(failed: FailedAlerts | None) -> str:
    if failed is None or not failed.alerts:
        return ""
    lines = []
    for alert in failed.alerts[:BANNER_LIMIT]:
        if alert.patient_id is None:
            what = "An emergency text from a number we do not know could not be sent to the clinic."
        else:
            what = (
                "A patient's emergency reply could not be sent to the clinic:"
                f' <a href="/patients/{alert.patient_id}">open the patient</a>'
            )
        button = (
            f'<form method="post" action="/alerts/{alert.alert_id}/acknowledge">'
            f'<input type="hidden" name="csrf" value="{escape(failed.csrf)}">'
            f'<input type="hidden" name="next" value="{escape(failed.back)}">'
            "<button>Acknowledge</button></form>"
        )
        lines.append(f"<p>{what} {button}</p>")
    more = len(failed.alerts) - BANNER_LIMIT
    if more > 0:
        lines.append(f"<p>And {more} more: acknowledge these to see them.</p>")
    return f'<section class="alert" role="alert">{"".join(lines)}</section>'


def api_page_scripts(csrf: str, *scripts: str) -> str:
    """For a page that edits through the JSON API: the session's CSRF token (sent in a header
    by /static/api.js) and the page's own scripts, all static files, so the CSP needs no
    inline script. Page data goes in data- attributes, escaped like any other HTML."""
    tags = "".join(f'<script src="/static/{name}"></script>' for name in ("api.js", *scripts))
    return f'<meta name="csrf" content="{escape(csrf)}">{tags}'
