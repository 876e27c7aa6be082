"""`/metrics` in Prometheus text format, read from the database at scrape time.

A custom collector instead of counters kept in memory: web, worker and scheduler processes
come and go in any number, and the database already knows every message and attempt, so each
scrape gives the deployment's numbers from any web process, with no multiprocess files.
A scrape is a dozen small queries, each on an index except the two grouped counts (messages,
replies), which read the table once.

Labels are fixed vocabularies (status, channel, transport, reply kind, provider code):
never a name, number, address or message text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from reminders.config import Settings
from reminders.db import session_scope
from reminders.models import ClinicAlert, Message, Reply
from reminders.monitoring import heartbeat, recent
from reminders.monitoring.backlog import read_backlog
from reminders.vocabulary import NoticeStatus

log = logging.getLogger(__name__)
SAFE_LABEL = re.compile(r"^[A-Za-z0-9_.-]{1,20}$")


class DeploymentCollector(Collector):
    """Every series, for the whole deployment, on each collect()."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def describe(self) -> list[Metric]:
        return []  # nothing to read at registration: the database is read per scrape

    def collect(self) -> Iterator[Metric]:
        try:
            with session_scope() as session:
                families = list(_from_database(session, self.settings))
        except SQLAlchemyError as exc:
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
            families = []
        yield GaugeMetricFamily(
            "reminders_database_up",
            "1 if the database answered this scrape",
            value=int(bool(families)),
        )
        yield from families
        try:
            silent = heartbeat.seconds_since_tick(self.settings)
        except (redis.RedisError, OSError):
            silent = None
        if silent is not None:
            yield GaugeMetricFamily(
                "reminders_scheduler_last_tick_age_seconds",
                "Seconds since any scheduler's last good dispatch tick",
                value=silent,
            )


def render(settings: Settings) -> bytes:
    """One scrape, in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeploymentCollector(settings))
    return generate_latest(registry)


def _from_database(session: Session, settings: Settings) -> Iterator[Metric]:
    messages = GaugeMetricFamily(
        "reminders_messages", "Messages by status and channel", labels=["status", "channel"]
    )
    rows = session.execute(
        select(Message.status, Message.channel, func.count()).group_by(
            Message.status, Message.channel
        )
    ).all()
    for status, channel, count in rows:
        messages.add_metric([_label(status), _label(channel)], count)
    yield messages

    backlog = read_backlog(session)
    yield GaugeMetricFamily(
        "reminders_messages_due_unsent",
        "Messages whose time has come and that have not gone out (waiting, queued or sending)",
        value=backlog.due_unsent,
    )
    yield GaugeMetricFamily(
        "reminders_oldest_due_unsent_age_seconds",
        "Seconds since the oldest due, unsent message's time (deployment clock); 0 if none",
        value=backlog.oldest_due_age,
    )
    if backlog.worker_idle_for is not None:
        yield GaugeMetricFamily(
            "reminders_worker_last_start_age_seconds",
            "Seconds since a worker last started a delivery attempt",
            value=backlog.worker_idle_for,
        )
    failed = session.scalar(
        select(func.count()).where(
            ClinicAlert.status == NoticeStatus.FAILED, ClinicAlert.acknowledged_at.is_(None)
        )
    )
    yield GaugeMetricFamily(
        "reminders_clinic_alerts_failed_unacknowledged",
        "Emergency alerts that did not reach the clinic and nobody on the staff has seen",
        value=failed or 0,
    )
    replies = CounterMetricFamily("reminders_replies", "Patient replies by kind", labels=["kind"])
    for kind, count in session.execute(select(Reply.kind, func.count()).group_by(Reply.kind)):
        replies.add_metric([_label(kind)], count)
    yield replies
    yield from _recent(session)


def _recent(session: Session) -> Iterator[Metric]:
    window = recent.WINDOW.total_seconds()
    yield GaugeMetricFamily(
        "reminders_recent_window_seconds",
        "The window of the reminders_recent_* series and the two histograms (at most the"
        f" newest {recent.MAX_ATTEMPTS} delivery attempts)",
        value=window,
    )
    after = recent.first_id_after(session)
    errors = GaugeMetricFamily(
        "reminders_recent_provider_errors",
        f"Delivery attempts a provider refused in the last {window:g} s, by provider code",
        labels=["transport", "code"],
    )
    for transport, code, count in recent.provider_errors(session, after):
        errors.add_metric([_label(transport), _label(code)], count)
    yield errors
    families = (
        (
            "reminders_provider_response_seconds",
            "Provider response time of recent attempts",
            "transport",
            recent.RESPONSE_BUCKETS,
            recent.response_times(session, after),
        ),
        (
            "reminders_delivery_lateness_seconds",
            "Due time to sent time of recently sent messages (deployment clock)",
            "channel",
            recent.LATENESS_BUCKETS,
            recent.lateness(session, after),
        ),
    )
    for name, documentation, label, bounds, histograms in families:
        family = GaugeHistogramMetricFamily(name, documentation, labels=[label])
        for histogram in histograms:
            buckets = [(f"{b:g}", n) for b, n in zip(bounds, histogram.at_most, strict=True)]
            buckets.append(("+Inf", histogram.count))
            family.add_metric([_label(histogram.label)], buckets, gsum_value=histogram.total)
        yield family


def _label(value: object) -> str:
    """A label value from a closed vocabulary; anything else (never expected) is 'other'."""
    text = str(value)
    return text if SAFE_LABEL.match(text) else "other"
