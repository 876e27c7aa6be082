"""Accounts and tokens made in this process, through the same functions the CLI calls.

Starting `reminders users create` and `users token` as subprocesses costs about two seconds
each; tests of the CLI itself still run it (tests/system/security/test_sessions_and_tokens.py,
tests/system/test_cli.py).
Users outlive each test's reset, so every email is unique.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from stack import Deployment

from reminders import clock
from reminders.accounts import create_user, user_by_email
from reminders.api_tokens import issue_token

PASSWORD = "a-long-password-1"


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str
    headers: dict[str, str]


def new_user(
    stack: Deployment,
    role: str = "therapist",
    name: str | None = None,
    *,
    email: str | None = None,
    password: str = PASSWORD,
) -> tuple[int, str]:
    """A new account, as `reminders users create` makes it: (its id, its email)."""
    email = email or f"{role}-{uuid.uuid4().hex[:12]}@bowriver.example"
    with stack.session() as session:
        user = create_user(
            session=session,
            email=email,
            name=name or f"{role.title()} {uuid.uuid4().hex[:6]}",
            role=role,
            password=password,
            now=clock.now(session),
            actor="cli",
        )
        return user.id, user.email


def new_token(stack: Deployment, email: str, name: str = "script") -> str:
    """A new API token (90 days), as `reminders users token --name NAME` issues it."""
    with stack.session() as session:
        user = user_by_email(session, email)
        assert user is not None, "no such user"
        _, token = issue_token(session=session, user=user, name=name, now=clock.now(session))
        return token


def bearer(stack: Deployment, email: str) -> dict[str, str]:
    """The Authorization header of a new API token, as `reminders users token` issues it."""
    return {"Authorization": f"Bearer {new_token(stack, email)}"}


def account(stack: Deployment, role: str = "therapist") -> Account:
    """A new user with a bearer token."""
    name = f"{role.title()} {uuid.uuid4().hex[:6]}"
    user_id, email = new_user(stack, role, name)
    return Account(user_id, email, name, bearer(stack, email))
