"""The `reminders` command line."""

from __future__ import annotations

import sys

import typer

from reminders.cli import patients, processes, replies, users
from reminders.cli.errors import UserError

app = typer.Typer(
    help="Aftercare reminders for physiotherapy clinics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
processes.register(app)
patients.register(app)
replies.register(app)
users.register(app)


def main() -> None:
    try:
        app()
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
