"""The red-flag alert runs as soon as a worker is free: it never waits for the scheduler."""

from __future__ import annotations

from reminders.replies import alerts
from reminders.tasks import app


@app.task(name="reminders.alert_clinic", ignore_result=True, acks_late=True)
def alert_clinic(reply_id: int) -> list[str]:
    return alerts.alert_clinic(reply_id)
