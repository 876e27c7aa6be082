"""One's own account: the profile page (/account: name, email, role) and changing one's
password (/account/password), which is also the only page open to someone who signed in
with a temporary password until they choose their own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from reminders import clock
from reminders.accounts import MIN_PASSWORD, InvalidAccount, change_password, password_matches
from reminders.models import User
from reminders.request_context import (
    PAGE_CSRF,
    PASSWORD_CHANGE_PATH,
    CurrentUser,
    PasswordChanger,
    SessionDep,
    check_csrf,
    csrf_token,
)
from reminders.web import login_limits
from reminders.web.auth import client_address, home, sign_in
from reminders.web.pages import staff_page

router = APIRouter(tags=["your account"])
ROLE_NAMES = {"admin": "Admin", "therapist": "Therapist"}
WHO_CHANGES = {
    "admin": "Names, emails and roles are changed on the Users page.",
    "therapist": "An admin changes names, emails and roles: ask one if yours is wrong.",
}


def _password_values(request: Request, user: User, error: str) -> dict[str, Any]:
    return {
        "csrf": csrf_token(request),
        "email": user.email,
        "forced": user.must_change_password,
        "min_password": MIN_PASSWORD,
        "error": error,
    }


@router.get("/account", response_class=HTMLResponse, include_in_schema=False)
def account_page(request: Request, user: CurrentUser) -> HTMLResponse:
    """Who is signed in, and a form to change their password."""
    return staff_page(
        "account.html",
        title="Your account",
        role=user.role,
        name=user.name,
        role_name=ROLE_NAMES.get(user.role, user.role),
        who_changes=WHO_CHANGES.get(user.role, WHO_CHANGES["therapist"]),
        **_password_values(request, user, ""),
    )


def password_form(
    request: Request, user: User, *, error: str = "", status: int = 200
) -> HTMLResponse:
    # Someone who must choose a new password gets no menu until they have, only a way out.
    forced = user.must_change_password
    return staff_page(
        "password.html",
        title="Change your password",
        status=status,
        role=None if forced else user.role,
        **_password_values(request, user, error),
    )


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
    sign_in(request, session, user)  # every session ended, this browser gets a new one
    PAGE_CSRF.set(csrf_token(request))
    return staff_page(
        "password_changed.html", title="Password changed", role=user.role, home=home(user)
    )
