"""Emergency alerts that could not reach the clinic: the banner on every signed-in page, and
acknowledging one (who and when, audited)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from reminders.api.common import Id
from reminders.db import session_scope
from reminders.replies import alerts
from reminders.request_context import CurrentUser, SessionDep, check_csrf, csrf_token
from reminders.web.pages import FAILED_ALERTS, FailedAlerts, UnseenAlert

router = APIRouter(tags=["clinic alerts"])
NOT_PAGES = ("/api/", "/twilio/", "/healthz", "/openapi.json", "/docs")


@router.post("/alerts/{alert_id}/acknowledge", include_in_schema=False)
async def acknowledge(
    request: Request, alert_id: Id, user: CurrentUser, session: SessionDep
) -> Response:
    """Someone on the staff has seen that this alert did not reach the clinic. Acknowledged
    already (by someone else, a moment ago): nothing changes, and the page comes back."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    alerts.acknowledge(session, alert_id, user_name=user.name, actor=user.email)
    back = str(form.get("next") or "/")
    if not back.startswith("/") or back.startswith(("//", "/\\")):
        back = "/"  # only ever back to a page of ours
    return RedirectResponse(back, status_code=303)


class FailedAlertsBanner:
    """Looks up the unacknowledged failed alerts for a signed-in person's page, before the page
    does its own work (so it never waits on the page's database transaction), and hands them
    to the page layout. Must run inside the session middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or str(scope["path"]).startswith(NOT_PAGES)
            or not scope.get("session", {}).get("user_id")
        ):
            await self.app(scope, receive, send)
            return
        unseen = await run_in_threadpool(_unseen)
        failed = None
        if unseen:
            request = Request(scope)
            back = request.url.path if request.method == "GET" else "/"
            failed = FailedAlerts(unseen, csrf_token(request), back)
        token = FAILED_ALERTS.set(failed)
        try:
            await self.app(scope, receive, send)
        finally:
            FAILED_ALERTS.reset(token)


def _unseen() -> tuple[UnseenAlert, ...]:
    with session_scope() as session:
        return tuple(UnseenAlert(*row) for row in alerts.unacknowledged(session))
