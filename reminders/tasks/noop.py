"""A task that does nothing, for the benchmark: the worker's own ceiling with our settings."""

from __future__ import annotations

from reminders.tasks import app


@app.task(name="reminders.noop", ignore_result=True)
def noop(_message_id: int) -> None:
    return None
