"""When the clinic is open to read replies and answer the phone: plain data, no I/O.

Messages that go out while the clinic is closed name Health Link (811) for non-urgent
questions, and the acknowledgement of a reply says when the clinic will read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from reminders.planning.scheduling import parse_wall_time

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SHOWN = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "fr": ("lun", "mar", "mer", "jeu", "ven", "sam", "dim"),
}


@dataclass(frozen=True)
class ClinicHours:
    """Open on `days` (0 = Monday) from `opens` to `closes`, clinic local time."""

    days: frozenset[int] = frozenset(range(5))
    opens: time = time(8, 0)
    closes: time = time(18, 0)

    def is_open(self, local: datetime) -> bool:
        """Whether the clinic is open at this local (clinic zone) instant."""
        return local.weekday() in self.days and self.opens <= local.time() < self.closes

    def describe(self, locale: str) -> str:
        """ "Mon-Fri 8:00-18:00" (en) or "lun-ven 8 h-18 h" (fr): short enough for an SMS."""
        names = _SHOWN.get(locale, _SHOWN["en"])
        days = _day_ranges(sorted(self.days), names)
        if locale == "fr":
            return f"{days} {_fr_time(self.opens)}-{_fr_time(self.closes)}"
        return f"{days} {self.opens.hour}:{self.opens.minute:02d}-{self.closes.hour}:{self.closes.minute:02d}"


def parse_open_days(text: str) -> frozenset[int]:
    """ "mon-fri", "mon,wed,fri", "mon-fri sat" -> weekday numbers. Raises ValueError."""
    days: set[int] = set()
    for part in text.replace(",", " ").lower().split():
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(
                f"not a list of days: {text!r} (use forms like mon-fri or mon,wed,fri)"
            )
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        if end < start:
            raise ValueError(f"a range of days runs from Monday to Sunday: {part!r}")
        days.update(range(start, end + 1))
    if not days:
        raise ValueError("the clinic must be open on at least one day (use forms like mon-fri)")
    return frozenset(days)


def format_open_days(days: frozenset[int]) -> str:
    """The stored form of `parse_open_days`' result: "mon-fri", "mon,wed,fri"."""
    return _day_ranges(sorted(days), DAY_NAMES, ",")


def clinic_hours(open_days: str, opens: str, closes: str) -> ClinicHours:
    """From the stored settings; raises ValueError when they make no sense."""
    hours = ClinicHours(parse_open_days(open_days), parse_wall_time(opens), parse_wall_time(closes))
    if hours.closes <= hours.opens:
        raise ValueError("the clinic must close after it opens (use HH:MM, 24-hour)")
    return hours


def _day_ranges(days: list[int], names: tuple[str, ...], joiner: str = ", ") -> str:
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return joiner.join(
        names[run[0]] if len(run) == 1 else f"{names[run[0]]}-{names[run[-1]]}" for run in runs
    )


def _fr_time(wall: time) -> str:
    return f"{wall.hour} h" if wall.minute == 0 else f"{wall.hour} h {wall.minute:02d}"
