"""Is the deployment doing its work? Plain rules over plain numbers, each with a plain reason.

Degraded when (issue 10): no scheduler has ticked for 30 s; work is queued, something has
been due for over a minute and no worker has started a delivery for a minute; the oldest due
message is more than 5 minutes late. Lateness is in real seconds: a demo clock at 3,000x is
scaled back, and a frozen test clock makes nothing late.
"""

from __future__ import annotations

from reminders.monitoring.backlog import Backlog

SCHEDULER_SILENCE_SECONDS = 30.0
WORKER_SILENCE_SECONDS = 60.0
MAX_LATENESS_SECONDS = 300.0
OK = "ok"


def scheduler_state(silent_for: float | None) -> str:
    """`silent_for`: seconds since the last good dispatch tick, None if there is none."""
    if silent_for is None:
        return "no dispatch tick on record: is `reminders scheduler` running?"
    if silent_for > SCHEDULER_SILENCE_SECONDS:
        return (
            f"no dispatch tick for {duration(silent_for)} (limit"
            f" {duration(SCHEDULER_SILENCE_SECONDS)}): is `reminders scheduler` running?"
        )
    return OK


def workers_state(backlog: Backlog) -> str:
    """Work sits in the queue, something has been due over a minute, and no worker has
    started a delivery for a minute. (The queue's own age says nothing: the reaper hands a
    row untaken for QUEUED_LEASE_SECONDS back to the dispatcher, which queues it afresh.)"""
    late = backlog.late_by
    idle = backlog.worker_idle_for
    if not backlog.queued or late is None or late <= WORKER_SILENCE_SECONDS:
        return OK
    if idle is not None and idle <= WORKER_SILENCE_SECONDS:
        return OK  # workers are busy, just behind: the lateness rule speaks for that
    since = "ever" if idle is None else f"for {duration(idle)}"
    return (
        f"{backlog.queued} message(s) wait in the queue, the oldest due message is"
        f" {duration(late)} late, and no worker has started a delivery {since} (limit"
        f" {duration(WORKER_SILENCE_SECONDS)}): is `reminders worker` running, and reaching"
        " Redis?"
    )


def backlog_state(backlog: Backlog) -> str:
    late = backlog.late_by
    if late is None or late <= MAX_LATENESS_SECONDS:
        return OK
    return (
        f"the oldest of {backlog.due_unsent} due message(s) is {duration(late)} late"
        f" (limit {duration(MAX_LATENESS_SECONDS)})"
    )


def duration(seconds: float) -> str:
    """'42 s', '6 min 3 s', '2 h 5 min': how long, for people."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(whole, 3600)
    return f"{hours} h {rest // 60} min"
