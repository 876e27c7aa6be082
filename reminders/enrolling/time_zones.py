"""The time zones a therapist picks from: IANA place names ("America/Vancouver"), never an
abbreviation. "EST" is a fixed offset with no daylight saving time (and "CST" means three
different zones in the world), so a patient given one would get messages an hour off for half
the year."""

from __future__ import annotations

import zoneinfo
from functools import cache

from reminders.errors import InvalidInput

AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
# What a therapist in Canada or the US may type, and the place to choose instead.
ABBREVIATIONS = {
    "NST": "America/St_Johns",
    "NDT": "America/St_Johns",
    "AST": "America/Halifax",
    "ADT": "America/Halifax",
    "EST": "America/Toronto",
    "EDT": "America/Toronto",
    "CST": "America/Winnipeg",
    "CDT": "America/Winnipeg",
    "MST": "America/Edmonton",
    "MDT": "America/Edmonton",
    "PST": "America/Vancouver",
    "PDT": "America/Vancouver",
}


class UnknownTimeZone(InvalidInput):
    """A time zone that is not one of ours; the message says what to choose instead."""


@cache
def time_zones() -> tuple[str, ...]:
    """Every "Area/Place" zone this machine knows, sorted, and UTC."""
    places = (z for z in zoneinfo.available_timezones() if z.split("/", 1)[0] in AREAS)
    return (*sorted(places), "UTC")


def check_place(name: str, *, clinic_zone: str) -> str:
    """`name` if it is one of `time_zones()`; otherwise UnknownTimeZone saying what to pick."""
    name = name.strip()
    if name in time_zones() or name == clinic_zone:
        return name
    instead = ABBREVIATIONS.get(name.upper(), clinic_zone)
    shown = name if len(name) <= 40 else name[:40] + "..."
    if name.upper() in ABBREVIATIONS or (name.isalpha() and len(name) <= 5):
        raise UnknownTimeZone(
            f'time zone "{shown}" is an abbreviation, not a place (it would be an hour off for'
            f" half the year): choose a place from the list, such as {instead}"
        )
    raise UnknownTimeZone(f"unknown time zone '{shown}': choose an IANA place such as {instead}")
