"""Signing in and out of the pages, and changing one's password. Failed attempts are rate
limited and audited (with the email tried and the client's address, never the password).

Each sign-in starts a session recorded in the database; the signed cookie carries its random
id. Signing out is a POST with the form's CSRF token and ends that session for good, so a
copy of the cookie opens nothing afterwards. GET /logout only shows the Sign out button.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from reminders import audit, clock
from reminders.accounts import (
    MIN_PASSWORD,
    InvalidAccount,
    authenticate,
    change_password,
    end_session,
    password_matches,
    start_session,
    use_temporary_password,
)
from reminders.models import User
from reminders.web import login_limits
from reminders.web.deps import (
    PAGE_CSRF,
    PASSWORD_CHANGE_PATH,
    PasswordChanger,
    SessionDep,
    check_csrf,
    csrf_token,
    session_user,
)
from reminders.web.pages import page

router = APIRouter(tags=["sign in"])
EMAIL_KEPT = 254  # of the email tried, in the audit log


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def home(user: User) -> str:
    return "/enroll" if user.role == "therapist" else "/"


def login_form(
    request: Request, *, error: str = "", email: str = "", status: int = 200
) -> HTMLResponse:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = f"""{message}<form method="post" action="/login">
<input type="hidden" name="csrf" value="{csrf_token(request)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="{escape(email)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>
<p class="muted">Forgot your password? An admin can give you a temporary one.</p>"""
    return page("Sign in", body, status=status)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request) -> HTMLResponse:
    return login_form(request)


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


def _sign_in(request: Request, session: Session, user: User) -> None:
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
    _sign_in(request, session, user)
    target = PASSWORD_CHANGE_PATH if user.must_change_password else home(user)
    return RedirectResponse(target, status_code=303)


@router.get("/logout", include_in_schema=False)
def logout_page(request: Request, session: SessionDep) -> Response:
    """Signs nobody out (a link, a prefetch or another site's image could reach it): shows
    the Sign out button, or sends someone not signed in to the sign-in page."""
    user = session_user(request, session)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    body = f"""<p>Signed in as {escape(user.email)}.</p>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{csrf_token(request)}">
<button type="submit">Sign out</button></form>"""
    return page("Sign out", body)


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


# changing one's password ---------------------------------------------------------------


def password_form(
    request: Request, user: User, *, error: str = "", status: int = 200
) -> HTMLResponse:
    forced = user.must_change_password
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    intro = (
        "<p>You signed in with a temporary password. Choose your own to continue.</p>"
        if forced
        else ""
    )
    current = (
        ""
        if forced
        else '<label for="current">Current password</label><input id="current" name="current" type="password" autocomplete="current-password" required>'
    )
    body = f"""{intro}{message}<form method="post" action="{PASSWORD_CHANGE_PATH}">
<input type="hidden" name="csrf" value="{csrf_token(request)}">
<input type="hidden" name="username" autocomplete="username" value="{escape(user.email)}">
{current}
<label for="new">New password (at least {MIN_PASSWORD} characters)</label><input id="new" name="new" type="password" autocomplete="new-password" minlength="{MIN_PASSWORD}" required>
<label for="again">New password again</label><input id="again" name="again" type="password" autocomplete="new-password" required>
<button type="submit">Change password</button></form>
<p class="muted">A few uncommon words with a number or symbol between them is strong and easy to type.
Every other browser signed in as you is signed out when it changes.</p>"""
    if forced:  # no navigation until the new password is set, only a way out
        body += f"""<form method="post" action="/logout"><input type="hidden" name="csrf" value="{csrf_token(request)}">
<button type="submit">Sign out</button></form>"""
    return page("Change your password", body, status=status, role=None if forced else user.role)


@router.get(PASSWORD_CHANGE_PATH, response_class=HTMLResponse, include_in_schema=False)
def password_page(request: Request, user: PasswordChanger) -> HTMLResponse:
    return password_form(request, user)


@router.post(PASSWORD_CHANGE_PATH, include_in_schema=False)
def set_password(
    request: Request,
    user: PasswordChanger,
    session: SessionDep,
    current: str = Form(""),
    new: str = Form(""),
    again: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    check_csrf(request, csrf)
    if not user.must_change_password:
        # Someone at an unattended, signed-in computer must not lock its owner out: the
        # current password is asked, and wrong guesses count as failed sign-ins.
        address = client_address(request)
        if login_limits.locked_out(user.email, address):
            return password_form(
                request,
                user,
                error="Too many failed attempts. Wait 15 minutes and try again.",
                status=429,
            )
        if not password_matches(user, current):
            login_limits.record_failure(user.email, address)
            return password_form(
                request, user, error="That is not your current password.", status=400
            )
    if new != again:
        return password_form(request, user, error="The two new passwords differ.", status=400)
    try:
        change_password(
            session=session,
            user=user,
            new_password=new,
            now=clock.now(session),
            actor=user.email,
        )
    except InvalidAccount as exc:
        message = str(exc)
        return password_form(request, user, error=message[:1].upper() + message[1:], status=400)
    _sign_in(request, session, user)  # every session ended, this browser gets a new one
    PAGE_CSRF.set(csrf_token(request))
    body = f"""<p role="status">Your new password is set. Every other browser signed in as you has been signed out.</p>
<p><a href="{home(user)}">Continue</a></p>"""
    return page("Password changed", body, role=user.role)
