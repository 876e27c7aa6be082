"""Commands about patients' answers: how a text is read, and the therapist's open flags."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from reminders import care_changes, clock
from reminders.cli.errors import UserError, friendly
from reminders.db import session_scope
from reminders.models import Flag
from reminders.replies import read_reply

replies_app = typer.Typer(help="Patients' replies.", no_args_is_help=True)
flags_app = typer.Typer(help="Flags raised for therapists by replies.", invoke_without_command=True)
out = Console(highlight=False)


@replies_app.command()
def classify(
    text: str = typer.Argument(..., help="A reply, as a patient would type it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """How a reply would be read: kind and 0-10 score (emergency wins over everything)."""
    reading = read_reply(text)
    if as_json:
        typer.echo(json.dumps({"kind": reading.kind, "score": reading.score}))
    else:
        typer.echo(f"{reading.kind}" + (f" {reading.score}" if reading.score is not None else ""))


@flags_app.callback()
@friendly
def list_flags(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Open flags, newest first (`reminders flags close ID --by NAME` closes one)."""
    if ctx.invoked_subcommand is not None:
        return
    with session_scope() as session:
        rows = [
            {
                "id": f.id,
                "patient": f.patient_id,
                "reason": f.reason,
                "opened_at": f.opened_at.isoformat(),
                "reply": f.reply.text,
            }
            for f in session.scalars(
                select(Flag).where(Flag.closed_at.is_(None)).order_by(Flag.opened_at.desc())
            )
        ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title="Open flags")
    for column in ("id", "patient", "reason", "opened_at", "reply"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("id", "patient", "reason", "opened_at", "reply")))
    out.print(table)


@flags_app.command("close")
@friendly
def close_flag(
    flag_id: int = typer.Argument(..., help="The flag to close."),
    by: str = typer.Option(..., "--by", help="Who looked at it."),
) -> None:
    """Close a flag, recording who and when."""
    with session_scope() as session:
        try:
            care_changes.close_flag(
                session=session, flag_id=flag_id, actor=by.strip(), now=clock.now(session)
            )
        except care_changes.CareChangeRefused as exc:
            raise UserError(str(exc)) from None
    out.print(f"flag {flag_id} closed")


@friendly
def digest() -> None:
    """Send each therapist's digest of new answers and flags now (the scheduler does it daily)."""
    from reminders.config import get_settings
    from reminders.digest import send_digests

    out.print(f"{send_digests(get_settings())} digest(s) sent")


def register(app: typer.Typer) -> None:
    app.command()(digest)
    app.add_typer(replies_app, name="replies")
    app.add_typer(flags_app, name="flags")
