"""`reminders patients erase ID` and `reminders retention run`: privacy on request and by age."""

from __future__ import annotations

import getpass
import json

import typer

from reminders import clock, erasure
from reminders.cli.errors import UserError, friendly
from reminders.config import get_settings
from reminders.db import session_scope
from reminders.models import Patient

patients_app = typer.Typer(help="Patients' records: erasure on request.", no_args_is_help=True)
retention_app = typer.Typer(help="Blank texts older than RETENTION_DAYS.", no_args_is_help=True)


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@patients_app.command("erase")
@friendly
def erase(
    patient_id: int = typer.Argument(..., min=1, help="The patient's id."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Erase a patient and everything that is theirs; the audit log keeps the id and counts."""
    with session_scope() as session:
        if session.get(Patient, patient_id) is None:
            raise UserError(f"there is no patient {patient_id}", 1)
    if not yes:
        typer.confirm(
            f"Erase patient {patient_id}: enrollments, messages, replies, flags, opt-outs?"
            " This cannot be undone.",
            abort=True,
        )
    with session_scope() as session:
        try:
            done = erasure.erase_patient(
                session, patient_id, actor=_operator(), now=clock.now(session)
            )
        except erasure.PatientNotFound:
            raise UserError(f"there is no patient {patient_id}", 1) from None
    if as_json:
        typer.echo(json.dumps({"id": done.patient_id, "removed": done.counts}))
        return
    parts = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in done.counts.items())
    typer.echo(f"patient {done.patient_id} erased ({parts})")


@retention_app.command("run")
@friendly
def run(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Blank reply texts and message bodies older than RETENTION_DAYS, now."""
    days = get_settings().retention_days
    if days is None:
        raise UserError("RETENTION_DAYS is not set: nothing is removed by age", 1)
    with session_scope() as session:
        counts = erasure.purge_old_texts(
            session, days=days, now=clock.now(session), actor=_operator()
        )
    if as_json:
        typer.echo(json.dumps({"days": days, **counts}))
        return
    typer.echo(
        f"older than {days} days: {counts['replies']} reply text(s) and"
        f" {counts['messages']} message body(ies) removed"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(patients_app, name="patients")
    app.add_typer(retention_app, name="retention")
