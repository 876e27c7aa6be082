"""What an operator watches: /metrics (Prometheus text) and /healthz, against real processes."""

from __future__ import annotations

import re
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from stack import Deployment
from test_two_way import text_in

from reminders.monitoring import health
from reminders.monitoring.backlog import Backlog

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
PHONE = "+14035550123"
SERIES = {
    "reminders_database_up",
    "reminders_messages",
    "reminders_messages_due_unsent",
    "reminders_oldest_due_unsent_age_seconds",
    "reminders_worker_last_start_age_seconds",
    "reminders_scheduler_last_tick_age_seconds",
    "reminders_clinic_alerts_failed_unacknowledged",
    "reminders_replies",
    "reminders_recent_window_seconds",
    "reminders_recent_provider_errors",
    "reminders_provider_response_seconds",
    "reminders_delivery_lateness_seconds",
}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str, **headers: str) -> tuple[set[str], Samples]:
    answer = httpx.get(f"{url}/metrics", headers=headers, timeout=20)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    families = list(text_string_to_metric_families(answer.text))
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in families
        for sample in family.samples
    }
    return {family.name for family in families}, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_it_exposes_every_series_and_counts_a_sent_text_and_a_reply(stack: Deployment) -> None:
    # Given a patient enrolled after a 14:00 session, their first text due at 14:30
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(phone=PHONE, channel="sms", session_end=SESSION_END)
    url = stack.web_url()
    _, before = scrape(url)
    assert value(before, "reminders_messages", status="sent", channel="sms") == 0
    assert value(before, "reminders_messages", status="scheduled", channel="sms") >= 1

    # When its time comes and the worker sends it, and the patient answers
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    stack.twilio.wait_for(1, timeout=30)
    stack.wait_until(lambda: stack.messages(status="sent"), what="first text recorded as sent")
    assert text_in(stack, "4").status_code == 200

    # Then /metrics names every series, and the counts moved by exactly that
    names, after = scrape(url)
    assert names >= SERIES, SERIES - names
    assert value(after, "reminders_database_up") == 1
    assert value(after, "reminders_messages", status="sent", channel="sms") == 1
    assert sum(v for (n, _), v in after.items() if n == "reminders_replies_total") == 1
    assert value(after, "reminders_provider_response_seconds_bucket", transport="twilio", le="+Inf")
    lateness = value(after, "reminders_delivery_lateness_seconds_bucket", channel="sms", le="+Inf")
    assert lateness == 1
    assert value(after, "reminders_messages_due_unsent") == 0
    assert 0 <= value(after, "reminders_scheduler_last_tick_age_seconds") < 30
    # and no label carries a number, a name or a text
    body = httpx.get(f"{url}/metrics", timeout=20).text
    for private in ("4035550123", "Alexandra", "Tremblay", "Sam Chen"):
        assert private not in body
    labels = {v for (_, pairs) in after for _, v in pairs}
    assert all(re.fullmatch(r"[a-z_]+|\+Inf|[0-9.e+]+", v) for v in labels), labels


@contextmanager
def web_process(stack: Deployment, label: str, **env: str) -> Iterator[str]:
    """One more `reminders web` of the same deployment, with some variables changed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = dict(stack.env)
    stack.env.update(env)
    try:
        stack.start_process(label, "web", "--host", "127.0.0.1", "--port", str(port))
    finally:
        stack.env.clear()
        stack.env.update(saved)
    url = f"http://127.0.0.1:{port}"
    try:
        stack.wait_until(lambda: _any_answer(f"{url}/login"), timeout=60, what=f"web {label}")
        yield url
    finally:
        stack.kill(label, signal.SIGTERM)


def _any_answer(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return False
    return True


@pytest.mark.parametrize("deployment", ["sqlite"], indirect=True)
def test_it_asks_for_the_metrics_token_and_is_off_in_production_without_one(
    stack: Deployment,
) -> None:
    # Given a production web app with METRICS_TOKEN set
    production = {"REMINDERS_ENV": "production", "SECRET_KEY": "x" * 40}
    with web_process(stack, "web-token", METRICS_TOKEN="scrape-me", **production) as url:
        # When Prometheus scrapes without the token, or with a wrong one, then with it
        missing = httpx.get(f"{url}/metrics", timeout=20)
        wrong = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer no"}, timeout=20)
        names, _ = scrape(url, Authorization="Bearer scrape-me")

        # Then only the right token reads the series
        assert missing.status_code == wrong.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert "METRICS_TOKEN" in missing.json()["detail"]
        assert "reminders_messages" in names

    # Given production with no METRICS_TOKEN: the series are not served at all
    with web_process(stack, "web-closed", **production) as url:
        closed = httpx.get(f"{url}/metrics", timeout=20)
        assert closed.status_code == 403
        assert "set METRICS_TOKEN" in closed.json()["detail"]


def healthz(url: str) -> httpx.Response:
    return httpx.get(f"{url}/healthz", timeout=20)


@pytest.mark.parametrize("deployment", ["postgresql"], indirect=True)
def test_health_turns_degraded_when_the_scheduler_stops_and_says_why(stack: Deployment) -> None:
    # Given a running deployment that reports ok
    url = stack.web_url()
    ok = stack.wait_until(lambda: (answer := healthz(url)).status_code == 200 and answer)
    assert ok.json()["status"] == "ok" and ok.json()["reasons"] == []

    # When the scheduler is stopped
    stack.kill("scheduler", signal.SIGTERM)

    # Then, once 30 s pass without a tick, health says degraded (503), and why
    degraded = stack.wait_until(
        lambda: (answer := healthz(url)).status_code == 503 and answer,
        timeout=90,
        what="health to report the silent scheduler",
    )
    body = degraded.json()
    assert body["status"] == "degraded"
    assert body["scheduler"].startswith("no dispatch tick for ")
    assert "reminders scheduler" in body["scheduler"]
    assert body["reasons"] == [f"scheduler: {body['scheduler']}"]
    assert (body["database"], body["redis"], body["workers"], body["backlog"]) == ("ok",) * 4

    # When it is started again, health is ok again
    stack.ensure_running()
    stack.wait_until(lambda: healthz(url).status_code == 200, timeout=60, what="health ok again")


def backlog(**fields: float | None) -> Backlog:
    values: dict = {
        "due_unsent": 0,
        "oldest_due_age": 0.0,
        "clock_speed": 1.0,
        "queued": 0,
        "worker_idle_for": None,
    }
    values.update(fields)
    return Backlog(**values)


def test_it_says_the_scheduler_is_silent_past_30_seconds_or_never_ticked() -> None:
    assert health.scheduler_state(29.9) == "ok"
    assert health.scheduler_state(42).startswith("no dispatch tick for 42 s (limit 30 s)")
    assert "no dispatch tick on record" in health.scheduler_state(None)


def test_it_blames_the_workers_only_when_none_has_taken_work_for_a_minute() -> None:
    # Work queued and due 75 s ago while a worker started something 5 s ago: busy, not gone
    due = {"due_unsent": 3, "oldest_due_age": 75.0}
    assert health.workers_state(backlog(queued=3, worker_idle_for=5, **due)) == "ok"
    # Nothing queued (the scheduler's silence is its own reason), or nothing due long
    assert health.workers_state(backlog(queued=0, worker_idle_for=600, **due)) == "ok"
    recent = {"due_unsent": 3, "oldest_due_age": 30.0}
    assert health.workers_state(backlog(queued=3, worker_idle_for=600, **recent)) == "ok"
    # Work queued, due 75 s ago, and no worker started anything for 2 min, or ever
    said = health.workers_state(backlog(queued=3, worker_idle_for=120, **due))
    assert said.startswith("3 message(s) wait in the queue, the oldest due message is 1 min 15")
    assert "no worker has started a delivery for 2 min" in said and "reminders worker" in said
    never = health.workers_state(backlog(queued=1, worker_idle_for=None, **due))
    assert "no worker has started a delivery ever" in never


def test_it_calls_the_backlog_late_past_5_real_minutes() -> None:
    assert health.backlog_state(backlog(due_unsent=2, oldest_due_age=300)) == "ok"
    said = health.backlog_state(backlog(due_unsent=2, oldest_due_age=363))
    assert said == "the oldest of 2 due message(s) is 6 min 3 s late (limit 5 min)"
    # A demo clock at 3,000x: 10 simulated hours behind is 12 real seconds
    assert health.backlog_state(backlog(due_unsent=1, oldest_due_age=36_000, clock_speed=3000)) == (
        "ok"
    )
    # A frozen test clock makes nothing late
    assert health.backlog_state(backlog(due_unsent=1, oldest_due_age=99_999, clock_speed=0)) == (
        "ok"
    )
