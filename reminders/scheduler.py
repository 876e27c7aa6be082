"""The scheduler process: the dispatcher tick (every second) and the reaper, on APScheduler.

Running two of these by mistake is safe: every claim is a conditional UPDATE.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler

from reminders.config import Settings
from reminders.monitoring import heartbeat
from reminders.sending import send_turns
from reminders.sending.dispatch import dispatch_due, reap

log = logging.getLogger(__name__)


def _enqueue(settings: Settings) -> Callable[[int], None]:
    from reminders.tasks.delivery import enqueue_delivery

    return lambda mid: enqueue_delivery(mid, expires=settings.queued_lease_seconds)


def dispatch_tick(settings: Settings) -> None:
    try:
        count = dispatch_due(settings, _enqueue(settings))
    except Exception:  # keep ticking; the reaper returns whatever this tick left queued
        log.exception("dispatch tick failed")
        return
    heartbeat.record_tick(settings)  # only a good tick counts: /healthz reads it
    if count:
        log.info("dispatched %s messages", count)


def reaper_pass(settings: Settings) -> None:
    try:
        reap(settings)
    except Exception:
        log.exception("reaper pass failed")
    try:  # on its own: a failing message reap must not keep lost emergency alerts lost
        requeue_lost_alerts(settings)
    except Exception:
        log.exception("requeueing lost clinic alerts failed")


def requeue_lost_alerts(settings: Settings) -> None:
    from reminders import clock
    from reminders.db import session_scope
    from reminders.replies import alerts
    from reminders.tasks.alerts import alert_clinic

    with session_scope() as session:
        lost = alerts.lost_alerts(session, clock.now(session))
    for reply_id in lost:
        log.warning("reply %s: clinic alert lost or failed for now; queueing it again", reply_id)
        # expires: a copy nobody took before the next pass makes way for that pass's copy
        alert_clinic.apply_async((reply_id,), expires=4 * settings.reaper_interval_seconds)


def digest_pass(settings: Settings) -> None:
    from reminders.reports.digest import send_digests

    try:
        log.info("sent %s therapist digests", send_digests(settings))
    except Exception:
        log.exception("digest pass failed")


def retention_pass(settings: Settings) -> None:
    from reminders import clock
    from reminders.db import session_scope
    from reminders.erasure import purge_old_texts

    if settings.retention_days is None:
        return
    try:
        with session_scope() as session:
            counts = purge_old_texts(
                session, days=settings.retention_days, now=clock.now(session), actor="system"
            )
        log.info("retention: %s reply texts and %s message bodies removed", *counts.values())
    except Exception:
        log.exception("retention pass failed")


def run(settings: Settings) -> None:
    scheduler = BlockingScheduler(timezone=UTC)
    common = {"max_instances": 1, "coalesce": True, "next_run_time": datetime.now(UTC)}
    scheduler.add_job(
        dispatch_tick,
        "interval",
        args=[settings],
        seconds=settings.dispatch_interval_seconds,
        id="dispatch",
        **common,
    )
    scheduler.add_job(
        reaper_pass,
        "interval",
        args=[settings],
        seconds=settings.reaper_interval_seconds,
        id="reaper",
        **common,
    )
    digest_at = settings.digest_time
    scheduler.add_job(
        digest_pass,
        "cron",
        args=[settings],
        hour=digest_at.hour,
        minute=digest_at.minute,
        timezone=settings.zone,
        id="digest",
        max_instances=1,
        coalesce=True,
    )
    if settings.retention_days is not None:  # nightly, 03:00 clinic time
        scheduler.add_job(
            retention_pass,
            "cron",
            args=[settings],
            hour=3,
            minute=0,
            timezone=settings.zone,
            id="retention",
            max_instances=1,
            coalesce=True,
        )
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: still running" is normal

    # Messages held back by the send rate come back at their turn, to the millisecond: the
    # dispatcher's tick is too coarse for a rate of a few texts per second.
    releases_stop = threading.Event()
    releases = threading.Thread(
        target=send_turns.run_releases,
        args=(settings, _enqueue(settings), releases_stop),
        name="send-rate-releases",
        daemon=True,
    )
    releases.start()

    def stop(signum: int, _frame: FrameType | None) -> None:
        releases_stop.set()
        # Ctrl-C reaches us twice under `reminders up`, and the second signal can land inside
        # the first one's handler: whichever stops the scheduler second has nothing to do.
        with contextlib.suppress(SchedulerNotRunningError):
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "scheduler started: dispatch every %ss, reaper every %ss",
        settings.dispatch_interval_seconds,
        settings.reaper_interval_seconds,
    )
    try:
        scheduler.start()
    finally:
        releases_stop.set()
