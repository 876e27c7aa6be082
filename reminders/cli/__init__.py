"""The `reminders` command line."""

from __future__ import annotations

import sys

import typer

from reminders.cli import erasure, patients, processes, replies, users
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
erasure.register(app)


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:
        # Click's usage errors (a missing or unknown option, a bad value): one line, code 2,
        # instead of a usage box. They are Click's own classes, inside Typer, so they are
        # known by what they carry rather than imported.
        show, message = getattr(exc, "show", None), getattr(exc, "format_message", None)
        if not (callable(message) and isinstance(getattr(exc, "exit_code", None), int)):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError" and callable(show):
            show()  # `reminders` alone prints the help
        else:
            typer.echo(f"error: {message()} (see --help)", err=True)
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    sys.exit(code if isinstance(code, int) else 0)
