"""The Celery application. Only ids travel through Redis: never names, numbers or bodies.

Settings follow DESIGN.md: late acks and reject-on-worker-lost (a task whose worker dies
runs again), prefetch 1, no results, and a visibility timeout far above the longest send.
The default pool is threads (`reminders worker`, WORKER_CONCURRENCY): a delivery mostly waits
on the provider. Celery enforces its time limits (TASK_SOFT_TIME_LIMIT, TASK_TIME_LIMIT) only
under prefork; under threads every send is bounded by its transport's own deadline (Twilio: 2 x
TWILIO_TIMEOUT_SECONDS in all, SMTP: SMTP_TIMEOUT_SECONDS), which the sending lease outlasts, and
a thread stuck past it anyway has lost its claim: nothing it does after can send twice.
Future messages are never sent through the broker with eta/countdown: Redis holds only
work that is due now, and losing all of it loses nothing (the reaper re-dispatches).
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from reminders.config import get_settings
from reminders.db import reset_engine

settings = get_settings()
app = Celery(
    "reminders",
    broker=settings.redis_url,
    include=["reminders.tasks.delivery", "reminders.tasks.alerts", "reminders.tasks.noop"],
)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_default_queue=settings.task_queue,
    task_routes={"reminders.alert_clinic": {"queue": settings.alert_queue}},
    broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout_seconds},
    broker_connection_retry_on_startup=True,
    task_soft_time_limit=settings.task_soft_time_limit,
    task_time_limit=settings.task_time_limit,
    task_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
    worker_redirect_stdouts=False,  # the console transport prints messages as they are
)


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked worker child must not share its parent's database connections."""
    reset_engine()
