"""Signing in and out of the pages. Failed attempts are rate limited and audited."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders import clock
from reminders.accounts import authenticate
from reminders.models import AuditEvent
from reminders.web import login_limits
from reminders.web.deps import SessionDep, check_csrf, csrf_token
from reminders.web.pages import page

router = APIRouter(tags=["sign in"])


def login_form(
    request: Request, *, error: str = "", email: str = "", status: int = 200
) -> HTMLResponse:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = f"""{message}<form method="post" action="/login">
<input type="hidden" name="csrf" value="{csrf_token(request)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="{escape(email)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>"""
    return page("Sign in", body, status=status)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request) -> HTMLResponse:
    return login_form(request)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: SessionDep,
    email: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    check_csrf(request, csrf)
    address = request.client.host if request.client else "unknown"
    now = clock.now(session)
    if login_limits.locked_out(email, address):
        return login_form(
            request,
            error="Too many failed attempts. Wait 15 minutes and try again.",
            email=email,
            status=429,
        )
    user = authenticate(session, email, password)
    if user is None:
        login_limits.record_failure(email, address)
        session.add(
            AuditEvent(
                at=now,
                actor="anonymous",
                action="login.failed",
                subject_type="user",
                subject_id=None,
                detail={},
            )
        )
        return login_form(
            request, error="That email and password do not match.", email=email, status=401
        )
    login_limits.clear(email, address)
    user.last_login_at = now
    session.add(
        AuditEvent(
            at=now,
            actor=user.email,
            action="login",
            subject_type="user",
            subject_id=user.id,
            detail={},
        )
    )
    request.session.clear()
    request.session["user_id"] = user.id
    csrf_token(request)
    return RedirectResponse("/enroll" if user.role == "therapist" else "/", status_code=303)


@router.get("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
