"""Accounts: argon2 password hashes, roles, page sessions, and bearer tokens for scripts.

Credentials run on real time (`clock.real_now`), never on the compressed demo clock: a
session lasts 12 real hours and a token its real days however fast the demo runs. Audit
rows keep the deployment's clock, like every other audit row.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from reminders import audit, errors
from reminders.clock import real_now
from reminders.enrolling.contacts import InvalidContact, normalize_email
from reminders.models import ROLES, User
from reminders.models.users import UserSession

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("not a real password, only for constant-time misses")
MIN_PASSWORD = 12
MAX_PASSWORD = 200
MIN_STRENGTH = 3  # zxcvbn's score, 0-4: 3 is "safely unguessable" against online attacks
_ZXCVBN_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters decide
_zxcvbn_lock = threading.Lock()  # zxcvbn keeps the user inputs in a module-level dict
# Words that make a password easy to guess here, whoever chooses it.
SITE_WORDS = ("reminders", "aftercare", "physio", "physiotherapy", "clinic", "bowriver")

SESSION_LASTS = timedelta(hours=12)  # as the cookie's max_age in reminders.web.app
SESSIONS_KEPT = timedelta(days=30)  # ended or expired session rows, then deleted
TEMPORARY_PASSWORD_LASTS = timedelta(hours=24)
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read out by phone


class InvalidAccount(errors.InvalidInput):
    """Bad account details; the message is safe to show."""


class NotFound(errors.NotFound):
    """No such record for this person; the message is safe to show."""


# passwords -------------------------------------------------------------------------------


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why this password will not do, in one sentence; None when it is good enough: at least
    12 characters, and not guessable by zxcvbn's estimate (dictionary words, names,
    repeats, sequences, keyboard patterns, the person's own name and email)."""
    if len(password) < MIN_PASSWORD:
        return f"password must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"password must be at most {MAX_PASSWORD} characters"
    local = email.split("@")[0]
    inputs = [
        *SITE_WORDS,
        email,
        local,
        *re.split(r"[^\w]+", local),
        *name.split(),
        "".join(name.split()),
    ]
    with _zxcvbn_lock:
        result = zxcvbn(password[:_ZXCVBN_LENGTH], user_inputs=[i for i in inputs if i])
    if result["score"] >= MIN_STRENGTH:
        return None
    feedback = result.get("feedback") or {}
    said = [feedback.get("warning") or "", *(feedback.get("suggestions") or ())[:1]]
    why = " ".join(part.strip().rstrip(".") + "." for part in said if part.strip())
    return f"password is too easy to guess: {why or 'Add another word or two.'}"


def _check_password(password: str, *, email: str, name: str) -> None:
    problem = password_problem(password, email=email, name=name)
    if problem is not None:
        raise InvalidAccount(problem)


def password_matches(user: User, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


def audit_user(
    session: Session,
    *,
    now: datetime,
    actor: str,
    action: str,
    user_id: int | None,
    **detail: object,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="user",
        subject_id=user_id,
        at=now,
        **detail,
    )


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    *, session: Session, email: str, name: str, role: str, password: str, now: datetime, actor: str
) -> User:
    try:
        email = normalize_email(email).lower()
    except InvalidContact as exc:
        raise InvalidAccount(str(exc)) from None
    if role not in ROLES:
        raise InvalidAccount(f"role must be one of {', '.join(ROLES)}")
    if not name.strip() or len(name) > 120:
        raise InvalidAccount("name is required (at most 120 characters)")
    _check_password(password, email=email, name=name)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise InvalidAccount("a user with that email exists already")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=_hasher.hash(password),
        active=True,
        created_at=now,
        must_change_password=False,
        password_changed_at=real_now(),
    )
    session.add(user)
    session.flush()
    audit_user(session, now=now, actor=actor, action="user.created", user_id=user.id, role=role)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, else None (same work either way).

    A user whose password is a temporary one (`must_change_password`) is returned too: the
    caller decides with `use_temporary_password` whether it may still be used."""
    user = user_by_email(session, email)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def use_temporary_password(user: User) -> bool:
    """For a user who must change their password: True, once, while the temporary password
    an admin gave them is still good (it is used up by this sign-in); else False."""
    expires = user.temporary_password_expires_at
    if expires is None or expires <= real_now():
        return False
    user.temporary_password_expires_at = None  # good for this one sign-in only
    return True


def change_password(
    *, session: Session, user: User, new_password: str, now: datetime, actor: str
) -> None:
    """Set a new password chosen by its owner, and end every session of theirs (the caller
    starts a fresh one for the browser that made the change)."""
    _check_password(new_password, email=user.email, name=user.name)
    if password_matches(user, new_password):
        raise InvalidAccount("the new password must differ from the old one")
    forced = user.must_change_password
    user.password_hash = _hasher.hash(new_password)
    user.must_change_password = False
    user.temporary_password_expires_at = None
    user.password_changed_at = real_now()
    ended = end_sessions(session, user.id, reason="password changed")
    audit_user(
        session,
        now=now,
        actor=actor,
        action="user.password_changed",
        user_id=user.id,
        after_reset=forced,
        sessions_ended=ended,
    )


@dataclass(frozen=True)
class TemporaryPassword:
    password: str
    expires_at: datetime


def reset_password(*, session: Session, user: User, now: datetime, actor: str) -> TemporaryPassword:
    """Give a user a temporary password (shown once, to the admin who hands it over): good
    for one sign-in within 24 hours, and that sign-in can only choose a new password. Their
    sessions end now; their API tokens are left alone (revoke those one by one)."""
    if not user.active:
        raise InvalidAccount("that account is deactivated")
    temporary = "-".join(
        "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4)
    )
    expires = real_now() + TEMPORARY_PASSWORD_LASTS
    user.password_hash = _hasher.hash(temporary)
    user.must_change_password = True
    user.temporary_password_expires_at = expires
    ended = end_sessions(session, user.id, reason="password reset")
    audit_user(
        session,
        now=now,
        actor=actor,
        action="user.password_reset",
        user_id=user.id,
        expires_at=expires.isoformat(),
        sessions_ended=ended,
    )
    return TemporaryPassword(temporary, expires)


def deactivate(*, session: Session, user: User, now: datetime, actor: str) -> None:
    """Stop an account from signing in or using its tokens; its sessions end now."""
    if not user.active:
        return
    user.active = False
    ended = end_sessions(session, user.id, reason="deactivated")
    audit_user(
        session,
        now=now,
        actor=actor,
        action="user.deactivated",
        user_id=user.id,
        sessions_ended=ended,
    )


# page sessions ---------------------------------------------------------------------------


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User) -> str:
    """A new signed-in session for this user; the returned id goes in the (signed) cookie."""
    raw = secrets.token_urlsafe(32)
    at = real_now()
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.expires_at < at - SESSIONS_KEPT
        )
    )
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=digest(raw),
            created_at=at,
            expires_at=at + SESSION_LASTS,
        )
    )
    return raw


def user_for_session(session: Session, raw: str) -> User | None:
    """The active user of a session that has not ended or expired, else None."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == digest(raw)))
    if row is None or row.ended_at is not None or row.expires_at <= real_now():
        return None
    return row.user if row.user.active else None


def end_session(session: Session, raw: str, *, reason: str) -> User | None:
    """End this one session (signing out); its user, if it was still going."""
    row = session.scalar(
        select(UserSession).where(
            UserSession.token_hash == digest(raw), UserSession.ended_at.is_(None)
        )
    )
    if row is None:
        return None
    row.ended_at = real_now()
    row.ended_reason = reason
    return row.user


def end_sessions(session: Session, user_id: int, *, reason: str) -> int:
    """End every session of this user, wherever it is; how many were still going."""
    at = real_now()
    result = session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
            UserSession.expires_at > at,
        )
        .values(ended_at=at, ended_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
