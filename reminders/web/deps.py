"""Who is asking: a session cookie (pages) or a bearer token (scripts), and CSRF for forms."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from reminders import clock
from reminders.accounts import user_for_token
from reminders.db import session_scope
from reminders.models import User

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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


def current_user(request: Request, session: SessionDep) -> User:
    """(A plain `def`: FastAPI runs it in a thread, so its database calls never block the
    event loop while another request holds a lock.) The signed-in user. Bearer token for scripts; session cookie for pages, where any
    unsafe method through the JSON API must also carry the X-CSRF-Token header."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_token(session, header[7:].strip(), clock.now(session))
        if user is None:
            raise HTTPException(
                status_code=401,
                detail="Invalid or revoked API token.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return user
    user_id = request.session.get("user_id")
    found = session.get(User, user_id) if user_id else None
    if found is None or not found.active:
        raise HTTPException(
            status_code=401, detail="Sign in first.", headers={"WWW-Authenticate": "Bearer"}
        )
    if request.method not in SAFE_METHODS and request.url.path.startswith("/api/"):
        check_csrf(request, request.headers.get("x-csrf-token"))
    return found


CurrentUser = Annotated[User, Depends(current_user)]


def current_admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise HTTPException(status_code=403, detail="Only an admin can do this.")
    return user


AdminUser = Annotated[User, Depends(current_admin)]
