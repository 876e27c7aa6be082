"""Tasks are thin: take an id, call the service, let it record the result."""

from __future__ import annotations

from reminders.sending import delivery
from reminders.tasks import app


@app.task(name="reminders.deliver", ignore_result=True)
def deliver(message_id: int) -> str:
    return delivery.deliver(message_id)


def enqueue_delivery(message_id: int, *, expires: float) -> None:
    """Queue a due message now; `expires` (seconds) matches the claim's lease, after which the
    reaper has taken the row back anyway."""
    deliver.apply_async((message_id,), expires=expires)
