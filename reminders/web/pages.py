"""The page layout every staff page shares (templates/staff/base.html): readable on a
tablet and a phone, no build step, no inline script.

A page is a Jinja2 template under templates/staff/ that extends base.html, rendered with
autoescape by `staff_page`: a name, a reply or a clinic setting is always shown as text.

Every signed-in page also carries a red banner for each emergency alert that could not
reach the clinic, until someone on the staff acknowledges it. What the banner lists is
looked up once per request, before the page's own work (reminders.web.alert_pages), and
handed to the layout here through a context variable.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi.responses import HTMLResponse
from markupsafe import Markup

from reminders.request_context import PAGE_CSRF, PAGE_PATH
from reminders.web.templating import STAFF, render

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


def staff_page(
    template: str, *, title: str, role: str | None = None, status: int = 200, **values: Any
) -> HTMLResponse:
    """A whole page from `template` (which extends base.html); `role` (admin or therapist)
    adds the signed-in menu and the banner of emergency alerts that could not reach the
    clinic. `values` may set `csrf` for a page with no one signed in yet (sign in)."""
    layout = {
        "csrf": PAGE_CSRF.get(),  # for the menu's Sign out button
        "here": PAGE_PATH.get(),
        "alerts": FAILED_ALERTS.get() if role else None,
        "banner_limit": BANNER_LIMIT,
    }
    html = STAFF.get_template(template).render({**layout, **values, "title": title, "role": role})
    return HTMLResponse(html, status_code=status)


def page(title: str, body: str, status: int = 200, *, role: str | None = None) -> HTMLResponse:
    """A whole page around a body of HTML built elsewhere (itself rendered from an
    autoescaped template, or from escaped parts); new pages use `staff_page`."""
    return staff_page("page.html", title=title, role=role, status=status, body=Markup(body))


def message_page(
    title: str,
    text: str,
    status: int = 200,
    *,
    role: str | None = None,
    error: bool = False,
    back: str = "",
) -> HTMLResponse:
    """A page that only says one thing (not found, not changed), with a way back."""
    return staff_page(
        "message.html", title=title, role=role, status=status, text=text, error=error, back=back
    )


def api_page_scripts(csrf: str, *scripts: str) -> str:
    """For a page that edits through the JSON API: the session's CSRF token (sent in a header
    by /static/api.js) and the page's own scripts, all static files, so the CSP needs no
    inline script. Page data goes in data- attributes, escaped like any other HTML."""
    return render("api_scripts.html", csrf=csrf, scripts=("api.js", *scripts))
