"""Who is asking, for the pages and the API alike: a session cookie (pages) or a bearer token
(scripts), the database session of a request, and CSRF for forms.

The session cookie is signed (Starlette's SessionMiddleware) and carries a random session id
besides the user's id; the session itself lives in the database (reminders.accounts), and
is checked on every request: a copy of a signed-out cookie signs nobody in.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from reminders.accounts import user_for_session
from reminders.api_tokens import user_for_token
from reminders.db import session_scope
from reminders.models import User

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Every path a person whose password was reset may use before they choose a new one.
PASSWORD_CHANGE_PATH = "/account/password"
# This request's CSRF token, for forms in the page layout (the Sign out button): set once
# the signed-in person is known, read by reminders.web.pages.
PAGE_CSRF: ContextVar[str] = ContextVar("page_csrf", default="")
# This request's path, so the page layout's menu can mark where the person is.
PAGE_PATH: ContextVar[str] = ContextVar("page_path", default="")


def get_db() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# scope="function": the transaction commits before the response is sent, not after.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use); forms carry it in a hidden field."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not secrets.compare_digest(str(expected), submitted):
        raise HTTPException(
            status_code=403,
            detail="The form expired or did not come from this site. Reload and try again.",
        )


def session_user(request: Request, session: Session) -> User | None:
    """The user of this browser's session, if it is signed in and the session still holds
    (not signed out, expired, ended by a password change or reset, or the user deactivated)."""
    sid = request.session.get("sid")
    if not isinstance(sid, str) or not sid:
        return None
    found = user_for_session(session, sid)
    if found is None or found.id != request.session.get("user_id"):
        return None
    return found


def signed_in(request: Request, session: Session, *, changing_password: bool = False) -> User:
    """The signed-in user. Bearer token for scripts; session cookie for pages, where any
    unsafe method through the JSON API must also carry the X-CSRF-Token header. A person
    signed in with a temporary password may only choose a new one."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_token(session, header[7:].strip())
        if user is None:
            raise HTTPException(
                status_code=401,
                detail="Invalid, expired or revoked API token.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return user
    found = session_user(request, session)
    if found is None:
        raise HTTPException(
            status_code=401, detail="Sign in first.", headers={"WWW-Authenticate": "Bearer"}
        )
    if found.must_change_password and not changing_password:
        raise HTTPException(
            status_code=403,
            detail=f"Choose a new password first, at {PASSWORD_CHANGE_PATH}.",
        )
    if request.method not in SAFE_METHODS and request.url.path.startswith("/api/"):
        check_csrf(request, request.headers.get("x-csrf-token"))
    return found


def current_user(request: Request, session: SessionDep) -> User:
    """(A plain `def`: FastAPI runs it in a thread, so its database calls never block the
    event loop while another request holds a lock.)"""
    return signed_in(request, session)


def password_changer(request: Request, session: SessionDep) -> User:
    """As current_user, but also a person who must choose a new password first."""
    return signed_in(request, session, changing_password=True)


def _for_pages(request: Request, user: User) -> User:
    # An async dependency runs in the request's own context (a sync one runs in a copy, in a
    # thread), so what it sets here is seen by the endpoint and the page layout.
    if "sid" in request.session:
        PAGE_CSRF.set(csrf_token(request))
    PAGE_PATH.set(request.url.path)
    return user


async def _current_user(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
    return _for_pages(request, user)


async def _password_changer(
    request: Request, user: Annotated[User, Depends(password_changer)]
) -> User:
    return _for_pages(request, user)


CurrentUser = Annotated[User, Depends(_current_user)]
PasswordChanger = Annotated[User, Depends(_password_changer)]


def current_admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise HTTPException(status_code=403, detail="Only an admin can do this.")
    return user


AdminUser = Annotated[User, Depends(current_admin)]
