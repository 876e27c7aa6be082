"""People who sign in (admins and therapists), their page sessions, and the API tokens
scripts use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reminders.models.base import Base

ROLES = ("admin", "therapist")


class User(Base):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(12))  # admin | therapist
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # Set by an admin's reset: the password is a temporary one, good for one sign-in before
    # `temporary_password_expires_at`, and that sign-in can only choose a new password.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    temporary_password_expires_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]


class UserSession(Base):
    """A signed-in browser. The cookie carries a random id; only its SHA-256 is stored, and
    every request checks the row, so signing out (or a password change, a reset, a
    deactivation) ends the session even for a copy of the old cookie."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A bearer token for scripts; only its SHA-256 is stored. It stops working at
    `expires_at` or once revoked."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
