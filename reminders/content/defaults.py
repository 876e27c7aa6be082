"""`reminders init`: load the clinic settings, default plans and templates, once.

Idempotent: what exists already (an admin's edits included) is left alone.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders.channels import TEMPLATE_PARTS
from reminders.clock import now
from reminders.config import Settings
from reminders.models import AftercarePlan, ClinicSettings, MessageTemplate, TemplateVersion
from reminders.planning.clinic_hours import format_open_days, parse_open_days
from reminders.planning.plans import parse_plan, step_to_row
from reminders.vocabulary import TemplateStatus

PARTS = TEMPLATE_PARTS  # what is sent: one file per part and language
# The email as structured text, when its author wrote it so (reminders.content.structured_email):
# the text and HTML parts are then made from it. Saved with each version, never sent.
EMAIL_BODY = "email_body"
EDITABLE_PARTS = (*PARTS, EMAIL_BODY)
LOCALES = ("en", "fr")


@dataclass
class Loaded:
    plans: int = 0
    template_versions: int = 0
    clinic: bool = False


def load_defaults(session: Session, settings: Settings) -> Loaded:
    loaded = Loaded()
    loaded.clinic = _seed_clinic(session, settings)
    for path in sorted((settings.templates_dir / "messages").iterdir()):
        if path.is_dir():
            loaded.template_versions += _load_template(session, path)
    for path in sorted((settings.templates_dir / "plans").glob("*.toml")):
        loaded.plans += _load_plan(session, path)
    return loaded


def _seed_clinic(session: Session, settings: Settings) -> bool:
    if session.get(ClinicSettings, 1) is not None:
        return False
    session.add(
        ClinicSettings(
            id=1,
            name=settings.clinic_name,
            phone=settings.clinic_phone,
            time_zone=settings.clinic_timezone,
            alert_email=settings.clinic_alert_email,
            open_days=format_open_days(parse_open_days(settings.clinic_open_days)),
            opens_at=settings.clinic_opens.strftime("%H:%M"),
            closes_at=settings.clinic_closes.strftime("%H:%M"),
            quiet_hours_start=settings.quiet_hours_start.strftime("%H:%M"),
            quiet_hours_end=settings.quiet_hours_end.strftime("%H:%M"),
            cap_per_day=settings.cap_per_day,
            cap_per_week=settings.cap_per_week,
            updated_at=now(session),
        )
    )
    return True


def _load_template(session: Session, folder: Path) -> int:
    template = session.scalar(select(MessageTemplate).where(MessageTemplate.key == folder.name))
    if template is None:
        template = MessageTemplate(key=folder.name)
        session.add(template)
        session.flush()
    added = 0
    for locale in LOCALES:
        parts = {part: _read(folder / f"{part}.{locale}.j2") for part in PARTS}
        if not any(parts.values()):
            continue
        exists = session.scalar(
            select(TemplateVersion.id).where(
                TemplateVersion.template_id == template.id, TemplateVersion.locale == locale
            )
        )
        if exists is None:
            session.add(
                TemplateVersion(
                    template_id=template.id,
                    locale=locale,
                    version=1,
                    status=TemplateStatus.PUBLISHED,
                    created_at=now(session),
                    created_by="reminders init",
                    **parts,
                )
            )
            added += 1
    return added


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _load_plan(session: Session, path: Path) -> int:
    spec = parse_plan(tomllib.loads(path.read_text(encoding="utf-8")))
    if session.scalar(select(AftercarePlan.id).where(AftercarePlan.key == spec.key)) is not None:
        return 0
    session.add(
        AftercarePlan(
            key=spec.key,
            name=spec.name,
            description=spec.description,
            updated_at=now(session),
            steps=[step_to_row(i, step) for i, step in enumerate(spec.steps)],
        )
    )
    return 1
