"""Commands about patients' answers: how a text is read, and the therapist's open flags."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from reminders import clock
from reminders.cli.errors import UserError, friendly
from reminders.db import session_scope
from reminders.enrolling import care_changes
from reminders.models import Flag
from reminders.replies import KINDS, evaluation, read_reply

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


@replies_app.command()
def evaluate(
    path: Path = typer.Argument(..., help="A labelled CSV: text,kind,score,flag[,note]."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """How well replies are read against a labelled file: per-kind precision and recall, and
    every missed emergency, one per line."""
    try:
        result = evaluation.evaluate(evaluation.load(path))
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    kinds = [k for k in KINDS if result.expected[k] or result.predicted[k]]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "replies": result.total,
                    "kinds_right": round(result.accuracy, 4),
                    "per_kind": {
                        k: {
                            "precision": result.precision(k),
                            "recall": result.recall(k),
                            "n": result.expected[k],
                        }
                        for k in kinds
                    },
                    "flags_raised": f"{result.flags_raised}/{result.flags_expected}",
                    "missed_emergencies": result.missed_emergencies,
                }
            )
        )
        return
    table = Table(title=f"{result.total} replies: {result.accuracy:.1%} of kinds right")
    for column in ("kind", "n", "precision", "recall"):
        table.add_column(column)
    for k in kinds:
        table.add_row(
            k, str(result.expected[k]), _percent(result.precision(k)), _percent(result.recall(k))
        )
    out.print(table)
    out.print(f"scores read right: {result.scores_right}/{result.scores_total}")
    out.print(
        f"replies that should be flagged and were: {result.flags_raised}/{result.flags_expected}"
    )
    out.print(f"missed emergencies: {len(result.missed_emergencies)}")
    for text in result.missed_emergencies:
        typer.echo(f"MISSED\t{text}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


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
    from reminders.reports.digest import send_digests

    out.print(f"{send_digests(get_settings())} digest(s) sent")


def register(app: typer.Typer) -> None:
    app.command()(digest)
    app.add_typer(replies_app, name="replies")
    app.add_typer(flags_app, name="flags")
