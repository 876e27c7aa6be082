"""The web app: pages for therapists and admins, the JSON API, Twilio webhooks, email links.

Sessions are signed cookies (HttpOnly, SameSite=Lax, Secure in production); every form
carries a CSRF token; scripts use bearer tokens on /api.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from reminders import log_privacy
from reminders.api import admin, enrollments, patients, templates
from reminders.api.common import invalid
from reminders.body_limit import BodyLimit
from reminders.config import Settings, get_settings, settings_in_use
from reminders.errors import RemindersError
from reminders.monitoring import routes as monitoring_routes
from reminders.web import (
    account_pages,
    admin_pages,
    alert_pages,
    auth,
    clinic_admin_pages,
    dashboard,
    email_links,
    exports,
    therapist_pages,
    twilio_hooks,
)
from reminders.web.pages import message_page
from reminders.web.security_headers import SecurityHeaders


def create_app(settings: Settings | None = None) -> FastAPI:
    """The web app for `settings` (by default the process's, from the environment). While it
    serves a request, everything under it reads them through get_settings(): routes, the
    database session (reminders.db), the sign-in limits, background tasks. So a test can serve
    an app on its own database, Redis and fake providers in its own process."""
    settings = settings or get_settings()
    # Production hides the API docs and schema unless API_DOCS=true.
    docs = settings.environment != "production" or settings.api_docs
    app = FastAPI(
        title="Aftercare reminders",
        version="0.1.0",
        description="Aftercare SMS and email for physiotherapy clinics. Scripts authenticate with `Authorization: Bearer TOKEN` (`reminders users token`).",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    # Added before the sessions, so it runs inside them: it reads who is signed in.
    app.add_middleware(alert_pages.FailedAlertsBanner)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="reminders_session",
        max_age=12 * 3600,
        same_site="lax",
        https_only=settings.environment == "production",
    )
    # Added last, so they wrap everything above: no body over 64 KiB (1 MiB for the template
    # editor's API) reaches any of it, and every response (the 413 included) gets the security
    # headers.
    app.add_middleware(BodyLimit, larger={"/api/templates/": templates.MAX_BODY_BYTES})
    app.add_middleware(
        SecurityHeaders,
        production=settings.environment == "production",
        docs_paths=(app.docs_url, app.redoc_url, "/docs/oauth2-redirect"),
    )
    # Outermost: the settings are in use before anything else runs.
    app.add_middleware(SettingsInUse, settings=settings)
    # The page scripts: static files, so the CSP allows no inline script.
    app.mount("/static", StaticFiles(packages=[("reminders.web", "static")]), name="static")
    for module in (
        auth,
        account_pages,
        dashboard,
        exports,
        therapist_pages,
        admin_pages,
        clinic_admin_pages,
        enrollments,
        patients,
        templates,
        admin,
        email_links,
        twilio_hooks,
        alert_pages,
        monitoring_routes,
    ):
        app.include_router(module.router)
    app.exception_handler(RequestValidationError)(invalid_input)
    app.exception_handler(RemindersError)(known_errors)
    app.exception_handler(StarletteHTTPException)(http_errors)
    return app


class SettingsInUse:
    """Pure ASGI middleware: the app's settings are get_settings() for all it serves."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with settings_in_use(self.settings):
            await self.app(scope, receive, send)


async def invalid_input(request: Request, exc: RequestValidationError) -> Response:
    """422 naming each problem, never echoing the input (FastAPI's default does, and fails
    with a 500 on text it cannot encode)."""
    return invalid(exc)


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/twilio/")) and "text/html" in (
        request.headers.get("accept", "")
    )


async def known_errors(request: Request, exc: RemindersError) -> Response:
    """A domain error no route caught: its status (422, 409, 404, 503) and its message, which
    is written to be shown. Pages mostly show their own form with the problem; this is the
    fallback."""
    if _wants_page(request):
        return message_page("Something is not right", str(exc), status=exc.status)
    return JSONResponse({"detail": str(exc)}, status_code=exc.status)


async def http_errors(request: Request, exc: StarletteHTTPException) -> Response:
    """JSON for the API and scripts; pages send people to sign in, or show the problem."""
    wants_page = _wants_page(request)
    if wants_page and exc.status_code == 401:
        return RedirectResponse("/login", status_code=303)
    if wants_page:
        return message_page("Something is not right", str(exc.detail), status=exc.status_code)
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )


# `reminders web` (uvicorn, one import per process, so `--workers N` each build their own):
# each web process logs in our format with the privacy filters, however it was started.
log_privacy.configure(get_settings().log_level)
app = create_app()
