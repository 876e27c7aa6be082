"""Bearer tokens for scripts: issued for a number of days, shown once (only a hash is kept),
revocable by their owner or an admin. They run on real time, like page sessions."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders.accounts import InvalidAccount, NotFound, audit_user, digest
from reminders.clock import real_now
from reminders.models import ApiToken, User

TOKEN_DAYS = 90
TOKEN_MAX_DAYS = 365
TOKEN_TOUCH = timedelta(minutes=1)  # last_used_at is written at most this often
TokenStatus = Literal["active", "expired", "revoked"]


def token_status(token: ApiToken, at: datetime | None = None) -> TokenStatus:
    """active, expired or revoked."""
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= (at or real_now()) else "active"


def issue_token(
    *, session: Session, user: User, name: str, now: datetime, days: int = TOKEN_DAYS
) -> tuple[ApiToken, str]:
    """A new bearer token that works for `days` days (shown once; only its hash is kept)."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidAccount("a token needs a name (at most 80 characters) saying what it is for")
    if not 1 <= days <= TOKEN_MAX_DAYS:
        raise InvalidAccount(f"a token lasts from 1 to {TOKEN_MAX_DAYS} days")
    if not user.active:
        raise InvalidAccount("that account is deactivated")
    token = "rmd_" + secrets.token_urlsafe(32)
    at = real_now()
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=digest(token),
        created_at=at,
        expires_at=at + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    audit_user(
        session,
        now=now,
        actor=user.email,
        action="token.created",
        user_id=user.id,
        token_id=row.id,
        name=name,
        expires_at=row.expires_at.isoformat(),
    )
    return row, token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user of a token that is neither expired nor revoked, else None."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None))
    )
    at = real_now()
    if row is None or row.expires_at <= at or not row.user.active:
        return None
    if row.last_used_at is None or at - row.last_used_at >= TOKEN_TOUCH:
        row.last_used_at = at
    return row.user


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(
    *, session: Session, token_id: int, by: User | None, now: datetime, actor: str
) -> ApiToken:
    """Revoke one token: its owner or an admin may (`by` None: the command line, on the
    server). Someone else's token is "not found" to a therapist, as if it did not exist."""
    row = session.get(ApiToken, token_id)
    if row is None or (by is not None and by.role != "admin" and row.user_id != by.id):
        raise NotFound(f"There is no token {token_id}.")
    if row.revoked_at is None:
        row.revoked_at = real_now()
        audit_user(
            session,
            now=now,
            actor=actor,
            action="token.revoked",
            user_id=row.user_id,
            token_id=row.id,
            name=row.name,
        )
    return row
