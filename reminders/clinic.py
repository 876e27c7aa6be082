"""The clinic's sending rules, read from its settings row."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from reminders.errors import NotReady
from reminders.models import ClinicSettings
from reminders.planning.clinic_hours import ClinicHours, clinic_hours
from reminders.planning.scheduling import Caps, QuietHours, parse_wall_time


class ClinicNotSetUp(NotReady):
    """No clinic settings yet: `reminders init` has not run against this database."""


@dataclass(frozen=True)
class ClinicRules:
    name: str
    phone: str
    time_zone: str
    alert_email: str
    quiet: QuietHours
    caps: Caps
    hours: ClinicHours


def clinic_rules(session: Session) -> ClinicRules:
    row = session.get(ClinicSettings, 1)
    if row is None:
        raise ClinicNotSetUp("the database has no clinic settings: run `reminders init` first")
    return ClinicRules(
        name=row.name,
        phone=row.phone,
        time_zone=row.time_zone,
        alert_email=row.alert_email,
        quiet=QuietHours(
            parse_wall_time(row.quiet_hours_start), parse_wall_time(row.quiet_hours_end)
        ),
        caps=Caps(row.cap_per_day, row.cap_per_week),
        hours=clinic_hours(row.open_days, row.opens_at, row.closes_at),
    )
