"""Commands for accounts: create users (the first admin too), reset a forgotten password,
and make, list and revoke API tokens.

Passwords never travel in the command line, where `ps` and the shell's history show them:
they are typed at a prompt, or piped in with --password-stdin.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from reminders import clock
from reminders.accounts import (
    NotFound,
    create_user,
    password_problem,
    reset_password,
    user_by_email,
)
from reminders.api_tokens import (
    TOKEN_DAYS,
    TOKEN_MAX_DAYS,
    issue_token,
    revoke_token,
    token_status,
    tokens_of,
)
from reminders.cli.errors import UserError, friendly
from reminders.db import session_scope
from reminders.models import User

users_app = typer.Typer(help="Admins and therapists who sign in.", no_args_is_help=True)
out = Console(highlight=False)
ARGV_PASSWORD_REFUSED = (
    "--password is refused: a password in the command line shows in `ps` and the shell's "
    "history; leave it out to be asked for it, or pipe it in with --password-stdin"
)


def read_password(from_stdin: bool, *, email: str, name: str) -> str:
    """One line from stdin, or typed twice at a hidden prompt (a terminal is needed)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UserError("no password on stdin (one line is read)")
        return password
    if not sys.stdin.isatty():
        raise UserError("no terminal to ask for the password: pipe it in with --password-stdin")
    password = str(typer.prompt("Password", hide_input=True))
    problem = password_problem(password, email=email, name=name)
    if problem is not None:  # say so before asking for it a second time
        raise UserError(problem)
    if typer.prompt("Password again", hide_input=True) != password:
        raise UserError("the two passwords differ")
    return password


@users_app.command("create")
@friendly
def create(
    email: str = typer.Option(..., help="Sign-in email."),
    name: str = typer.Option(..., help="Name as colleagues and patients know it."),
    role: str = typer.Option("therapist", help="admin or therapist."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from one line of stdin."
    ),
    password_argv: str | None = typer.Option(
        None, "--password", hidden=True, help="Refused: it would show in `ps`."
    ),
) -> None:
    """Create a user; the first admin is made this way. The password (at least 12
    characters, not easy to guess) is asked for, or read from stdin with --password-stdin."""
    if password_argv is not None:
        raise UserError(ARGV_PASSWORD_REFUSED)
    password = read_password(password_stdin, email=email, name=name)
    with session_scope() as session:
        user = create_user(
            session=session,
            email=email,
            name=name,
            role=role,
            password=password,
            now=clock.now(session),
            actor="cli",
        )
        typer.echo(f"user {user.id} created ({user.role})")


def _user(session: Session, email: str) -> User:
    user = user_by_email(session, email)
    if user is None:
        raise UserError("no user with that email")
    return user


@users_app.command("reset-password")
@friendly
def reset(email: str = typer.Option(..., help="The user who forgot their password.")) -> None:
    """Print a temporary password for someone who forgot theirs: good for one sign-in within
    24 hours, which must choose a new password. Their signed-in sessions end now."""
    with session_scope() as session:
        user = _user(session, email)
        temporary = reset_password(session=session, user=user, now=clock.now(session), actor="cli")
    typer.echo(temporary.password)
    typer.echo(
        f"temporary password for {user.email}, shown once: good for one sign-in until "
        f"{_when(temporary.expires_at)}, which must choose a new password",
        err=True,
    )


@users_app.command("token")
@friendly
def token(
    email: str = typer.Option(..., help="The user the token acts as."),
    name: str = typer.Option("script", help="What the token is for."),
    expires_in_days: int = typer.Option(
        TOKEN_DAYS, "--expires-in-days", help=f"Days it works (1-{TOKEN_MAX_DAYS})."
    ),
) -> None:
    """Print a new API token (shown once) for scripts: Authorization: Bearer TOKEN."""
    with session_scope() as session:
        user = _user(session, email)
        row, secret = issue_token(
            session=session, user=user, name=name, now=clock.now(session), days=expires_in_days
        )
        typer.echo(secret)
        typer.echo(
            f"token {row.id} ({row.name}) for {user.email}, expires {_when(row.expires_at)}",
            err=True,
        )


@users_app.command("tokens")
@friendly
def tokens(
    email: str = typer.Option(..., help="Whose tokens."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List a user's API tokens: name, status, expiry and when each was last used."""
    with session_scope() as session:
        user = _user(session, email)
        rows: list[dict[str, Any]] = [
            {
                "id": row.id,
                "name": row.name,
                "status": token_status(row),
                "created_at": row.created_at.isoformat(),
                "expires_at": row.expires_at.isoformat(),
                "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
                "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
            }
            for row in tokens_of(session, user.id)
        ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title=f"API tokens of {user.email}")
    for column in ("id", "name", "status", "created", "expires", "last used"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["name"]),
            str(r["status"]),
            _when(r["created_at"]),
            _when(r["expires_at"]),
            _when(r["last_used_at"]) if r["last_used_at"] else "never",
        )
    out.print(table)


@users_app.command("revoke-token")
@friendly
def revoke(
    token_id: int = typer.Argument(..., help="The token's id (see `users tokens`)."),
) -> None:
    """Revoke one API token at once; scripts using it get 401 from then on."""
    with session_scope() as session:
        try:
            row = revoke_token(
                session=session, token_id=token_id, by=None, now=clock.now(session), actor="cli"
            )
        except NotFound as exc:
            raise UserError(str(exc)) from None
        typer.echo(f"token {row.id} ({row.name}) of {row.user.email} revoked")


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.strftime("%Y-%m-%d %H:%M UTC")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
