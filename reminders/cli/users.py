"""Commands for accounts: create users (the first admin too) and API tokens."""

from __future__ import annotations

import typer
from sqlalchemy import func, select

from reminders import clock
from reminders.accounts import InvalidAccount, create_user, issue_token
from reminders.cli.errors import UserError, friendly
from reminders.db import session_scope
from reminders.models import User

users_app = typer.Typer(help="Admins and therapists who sign in.", no_args_is_help=True)


@users_app.command("create")
@friendly
def create(
    email: str = typer.Option(..., help="Sign-in email."),
    name: str = typer.Option(..., help="Name as colleagues and patients know it."),
    role: str = typer.Option("therapist", help="admin or therapist."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="At least 12 characters."
    ),
) -> None:
    """Create a user; the first admin is made this way."""
    with session_scope() as session:
        try:
            user = create_user(
                session=session,
                email=email,
                name=name,
                role=role,
                password=password,
                now=clock.now(session),
                actor="cli",
            )
        except InvalidAccount as exc:
            raise UserError(str(exc)) from None
        typer.echo(f"user {user.id} created ({user.role})")


@users_app.command("token")
@friendly
def token(
    email: str = typer.Option(..., help="The user the token acts as."),
    name: str = typer.Option("script", help="What the token is for."),
) -> None:
    """Print a new API token (shown once) for scripts: Authorization: Bearer TOKEN."""
    with session_scope() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None:
            raise UserError("no user with that email")
        typer.echo(issue_token(session=session, user=user, name=name, now=clock.now(session)))


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
