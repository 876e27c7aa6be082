"""How the clinic's patients are doing: median check-in pain (0-10) at day 1, 3 and 7 after
their session, and how many improved by the pain scale's minimal important change.

Plain functions over plain rows; the dashboard fetches the rows in one query.

A score counts towards the day its reply arrived, in days since the session ended:
- day 1: from the session's end to under 2 days after (0-1.99 days);
- day 3: from 2 to under 5 days (days 2-4);
- day 7: from 5 to under 10 days (days 5-9).
Scores from 10 days on belong to no bucket. A patient with two scores in one bucket counts
once, with the latest of them: where they were by the end of it.

Improving means a day-7 score 2 or more points below the patient's first score: about 2
points is the smallest change patients feel as real on the Numeric Pain Rating Scale
(pubmed 11690728). Only patients with a first score before their day-7 one are counted.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

MINIMAL_IMPORTANT_CHANGE = 2  # points on the 0-10 scale
WINDOW = timedelta(days=90)  # patients enrolled this recently
# (label, first day, day after the last): start <= days since the session < end
BUCKETS: tuple[tuple[str, float, float], ...] = (("day 1", 0, 2), ("day 3", 2, 5), ("day 7", 5, 10))
DAY_7 = "day 7"


@dataclass(frozen=True)
class CheckInScore:
    """One row of the dashboard's query: a score a patient sent after their session."""

    patient_id: int
    session_end: datetime
    received_at: datetime
    score: int


@dataclass(frozen=True)
class BucketMedian:
    label: str  # "day 1"
    start: float  # days since the session, inclusive
    end: float  # exclusive
    median: float | None  # None: nobody answered in this bucket
    patients: int


@dataclass(frozen=True)
class Outcomes:
    medians: tuple[BucketMedian, ...]
    improved: int  # patients whose day-7 score is 2 or more below their first
    compared: int  # patients with both a first score and a later day-7 one

    @property
    def improved_share(self) -> float | None:
        """0-1, or None when nobody had both scores."""
        return self.improved / self.compared if self.compared else None


def bucket_of(days: float) -> str | None:
    """The bucket a score `days` after the session falls in; None past day 9."""
    for label, start, end in BUCKETS:
        if start <= days < end:
            return label
    return None


def _latest_sessions(rows: Iterable[CheckInScore]) -> dict[int, list[CheckInScore]]:
    """Each patient's scores after their latest session in the rows, oldest first; a score
    joined to an earlier session of theirs (or twice to one) is counted once."""
    by_patient: dict[int, list[CheckInScore]] = {}
    for row in rows:
        by_patient.setdefault(row.patient_id, []).append(row)
    latest: dict[int, list[CheckInScore]] = {}
    for patient_id, scores in by_patient.items():
        session_end = max(row.session_end for row in scores)
        kept = {row for row in scores if row.session_end == session_end}
        latest[patient_id] = sorted(kept, key=lambda row: (row.received_at, row.score))
    return latest


def outcomes(rows: Iterable[CheckInScore]) -> Outcomes:
    """Medians per bucket and the share improving, from (patient, session end, received at,
    score) rows in any order."""
    per_bucket: dict[str, dict[int, int]] = {label: {} for label, _, _ in BUCKETS}
    improved = compared = 0
    for patient_id, scores in _latest_sessions(rows).items():
        first: CheckInScore | None = None
        day_7: CheckInScore | None = None
        for row in scores:
            days = (row.received_at - row.session_end).total_seconds() / 86400
            label = bucket_of(days)
            if label is None:
                continue
            first = first or row
            per_bucket[label][patient_id] = row.score  # oldest first: the latest wins
            if label == DAY_7:
                day_7 = row
        if first is not None and day_7 is not None and first.received_at < day_7.received_at:
            compared += 1
            improved += first.score - day_7.score >= MINIMAL_IMPORTANT_CHANGE
    medians = tuple(
        BucketMedian(
            label,
            start,
            end,
            statistics.median(per_bucket[label].values()) if per_bucket[label] else None,
            len(per_bucket[label]),
        )
        for label, start, end in BUCKETS
    )
    return Outcomes(medians, improved, compared)
