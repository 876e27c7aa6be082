"""Signing in and out of the pages, and what to do after forgetting one's password. Failed
attempts are rate limited and audited (with the email tried and the client's address, never
the password). Changing one's password is in reminders.web.account_pages.

Each sign-in starts a session recorded in the database; the signed cookie carries its random
id. Signing out is a POST with the form's CSRF token and ends that session for good, so a
copy of the cookie opens nothing afterwards. GET /logout only shows the Sign out button.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders import audit, clock
from reminders.accounts import (
    authenticate,
    end_session,
    start_session,
    use_temporary_password,
)
from reminders.models import User
from reminders.request_context import (
    PASSWORD_CHANGE_PATH,
    SessionDep,
    check_csrf,
    csrf_token,
    session_user,
)
from reminders.web import login_limits
from reminders.web.pages import staff_page

router = APIRouter(tags=["sign in"])
EMAIL_KEPT = 254  # of the email tried, in the audit log


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def home(user: User) -> str:
    return "/enroll" if user.role == "therapist" else "/"


def login_form(
    request: Request, *, error: str = "", email: str = "", status: int = 200
) -> HTMLResponse:
    return staff_page(
        "login.html",
        title="Sign in",
        status=status,
        csrf=csrf_token(request),
        error=error,
        email=email,
    )


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request) -> HTMLResponse:
    return login_form(request)


@router.get("/login/forgot", response_class=HTMLResponse, include_in_schema=False)
def forgot_password_page(session: SessionDep) -> HTMLResponse:
    """How to get a temporary password from an admin, and the admins to ask. It asks for no
    email, so it tells nobody whether an email has an account."""
    admins = session.scalars(
        select(User.name)
        .where(User.role == "admin", User.active.is_(True))
        .distinct()
        .order_by(User.name)
    ).all()
    return staff_page("forgot_password.html", title="Forgot your password?", admins=admins)


def _failed(session: Session, request: Request, email: str, reason: str) -> None:
    audit.record(
        session,
        actor="anonymous",
        action="login.failed",
        subject_type="user",
        subject_id=None,
        email=email.strip().lower()[:EMAIL_KEPT],
        address=client_address(request),
        reason=reason,
    )


def sign_in(request: Request, session: Session, user: User) -> None:
    """A fresh session (and CSRF token) for this browser; nothing of the old one is kept."""
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["sid"] = start_session(session, user)
    csrf_token(request)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: SessionDep,
    email: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    check_csrf(request, csrf)
    address = client_address(request)
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
        _failed(session, request, email, "wrong email or password")
        return login_form(
            request, error="That email and password do not match.", email=email, status=401
        )
    if user.must_change_password and not use_temporary_password(user):
        _failed(session, request, email, "temporary password used or expired")
        return login_form(
            request,
            error="That temporary password was used already or has expired. Ask an admin for a new one.",
            email=email,
            status=401,
        )
    login_limits.clear(email, address)
    user.last_login_at = now
    audit.record(
        session,
        actor=user.email,
        action="login",
        subject_type="user",
        subject_id=user.id,
        at=now,
        address=address,
        temporary_password=user.must_change_password,
    )
    sign_in(request, session, user)
    target = PASSWORD_CHANGE_PATH if user.must_change_password else home(user)
    return RedirectResponse(target, status_code=303)


@router.get("/logout", include_in_schema=False)
def logout_page(request: Request, session: SessionDep) -> Response:
    """Signs nobody out (a link, a prefetch or another site's image could reach it): shows
    the Sign out button, or sends someone not signed in to the sign-in page."""
    user = session_user(request, session)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return staff_page("sign_out.html", title="Sign out", email=user.email, csrf=csrf_token(request))


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep, csrf: str = Form("")) -> Response:
    """Ends this browser's session everywhere its cookie might be replayed."""
    check_csrf(request, csrf)
    sid = request.session.get("sid")
    user = end_session(session, sid, reason="signed out") if isinstance(sid, str) else None
    if user is not None:
        audit.record(
            session, actor=user.email, action="logout", subject_type="user", subject_id=user.id
        )
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
