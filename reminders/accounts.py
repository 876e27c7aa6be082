"""Accounts: argon2 password hashes, roles, and bearer tokens for scripts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminders.contacts import InvalidContact, normalize_email
from reminders.models import ROLES, ApiToken, AuditEvent, User

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("not a real password, only for constant-time misses")
MIN_PASSWORD = 12


class InvalidAccount(ValueError):
    """Bad account details; the message is safe to show."""


def create_user(
    *, session: Session, email: str, name: str, role: str, password: str, now: datetime, actor: str
) -> User:
    try:
        email = normalize_email(email).lower()
    except InvalidContact as exc:
        raise InvalidAccount(str(exc)) from None
    if role not in ROLES:
        raise InvalidAccount(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise InvalidAccount(f"password must be at least {MIN_PASSWORD} characters")
    if not name.strip() or len(name) > 120:
        raise InvalidAccount("name is required (at most 120 characters)")
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise InvalidAccount("a user with that email exists already")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=_hasher.hash(password),
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action="user.created",
            subject_type="user",
            subject_id=user.id,
            detail={"role": role},
        )
    )
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, else None (same work either way)."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, session: Session, user: User, name: str, now: datetime) -> str:
    """A new bearer token; shown once, only its hash is kept."""
    token = "rmd_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_digest(token), created_at=now))
    session.add(
        AuditEvent(
            at=now,
            actor=user.email,
            action="token.created",
            subject_type="user",
            subject_id=user.id,
            detail={"name": name},
        )
    )
    return token


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    row.last_used_at = now
    return row.user
