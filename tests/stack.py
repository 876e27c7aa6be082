"""A whole deployment for tests: database, `reminders init`, worker and scheduler processes.

The processes are the real ones (`python -m reminders worker|scheduler`), configured by
environment variables exactly as an operator would, pointed at the fake providers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import redis
from fakes import FakeSmtp, FakeTwilio
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from reminders import clock
from reminders.config import Settings
from reminders.content.defaults import load_defaults
from reminders.db import make_engine
from reminders.enrolling.enrollment import EnrollmentRequest, enroll
from reminders.models import (
    AftercarePlan,
    AuditEvent,
    ClinicSettings,
    ClockSetting,
    DeliveryAttempt,
    Enrollment,
    Flag,
    Message,
    OptOut,
    Patient,
    PlanStep,
    Reply,
    TemplateVersion,
)

T = TypeVar("T")
FROM_NUMBER = "+15875550100"
RESTING_CLOCK = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # before any test's dates
STANDARD_PROCESSES = {
    "worker": ("worker", "--concurrency", "2", "--loglevel", "INFO"),
    "scheduler": ("scheduler",),
}
# What each process writes once it is ready for work.
READY = {"worker": " ready.", "scheduler": "scheduler started"}


class Deployment:
    def __init__(
        self, name: str, url: str, redis_url: str, twilio: FakeTwilio, smtp: FakeSmtp, root: Path
    ) -> None:
        self.name = name
        self.url = url
        self.redis_url = redis_url
        self.twilio = twilio
        self.smtp = smtp
        self.queue = f"reminders-test-{name}-{os.getpid()}"
        self.logdir = Path(tempfile.mkdtemp(prefix=f"reminders-{name}-"))
        self.engine = make_engine(url)
        self.broker = redis.Redis.from_url(redis_url)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TWILIO_", "SMTP_", "REMINDERS_"))
        }
        env.update(
            DATABASE_URL=url,
            REDIS_URL=redis_url,
            TASK_QUEUE=self.queue,
            SECRET_KEY="test-secret",
            SMS_TRANSPORT="twilio",
            TWILIO_ACCOUNT_SID=twilio.account_sid,
            TWILIO_AUTH_TOKEN=twilio.auth_token,
            TWILIO_FROM_NUMBER=FROM_NUMBER,
            TWILIO_API_BASE_URL=twilio.base_url,
            TWILIO_TIMEOUT_SECONDS="1.5",
            SMTP_TIMEOUT_SECONDS="3",  # the whole conversation; the 4 s sending lease outlasts it
            EMAIL_TRANSPORT="smtp",
            SMTP_HOST=smtp.host,
            SMTP_PORT=str(smtp.port),
            SMTP_SECURITY="none",
            EMAIL_FROM="Bow River Physiotherapy <care@bowriver.example>",
            PUBLIC_BASE_URL="https://clinic.example",
            DISPATCH_INTERVAL_SECONDS="0.2",
            REAPER_INTERVAL_SECONDS="0.5",
            QUEUED_LEASE_SECONDS="4",
            SENDING_LEASE_SECONDS="4",
            RETRY_BASE_SECONDS="0.5",
            RETRY_MAX_SECONDS="2",
            PYTHONUNBUFFERED="1",
            # No send rate unless a test sets one (tests/system/test_send_rate.py): the others
            # send a few texts at once and time their waits.
            SEND_RATE_SMS="0",
            SEND_RATE_EMAIL="0",
            CLINIC_ALERT_EMAIL="alerts@bowriver.example",
            ONCALL_PHONE="+15875550111",
        )
        self.env = env

    # processes -------------------------------------------------------------------------

    def cli(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reminders", *args],
            env={**self.env, **(env or {})},
            cwd=self.logdir,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def init(self) -> None:
        done = self.cli("init")
        assert done.returncode == 0, done.stderr
        self.set_clock(RESTING_CLOCK)

    def start(self) -> None:
        self._start_ready(list(STANDARD_PROCESSES))

    def _start_ready(self, labels: list[str]) -> None:
        """Start these standard processes and wait until each says it is ready, so that a
        test's own waits measure the work, not a slow start on a loaded machine."""
        offsets = {}
        for label in labels:
            log = self.logdir / f"{label}.log"
            offsets[label] = log.stat().st_size if log.exists() else 0
            self.start_process(label, *STANDARD_PROCESSES[label])
        for label in labels:
            said = READY.get(label)
            if said is None:
                continue

            def ready(label: str = label, said: str = said) -> bool:
                log = self.logdir / f"{label}.log"
                process = self.processes[label]
                assert process.poll() is None, f"the {label} ended; logs in {self.logdir}"
                with log.open("rb") as file:
                    file.seek(offsets[label])
                    return said.encode() in file.read()

            self.wait_until(ready, timeout=120, what=f"the {label} to be ready")

    def start_process(self, label: str, *args: str) -> None:
        log = (self.logdir / f"{label}.log").open("ab")
        self.processes[label] = subprocess.Popen(
            [sys.executable, "-m", "reminders", *args],
            env=self.env,
            cwd=self.logdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches prefork children
        )

    def web_url(self) -> str:
        """Start `reminders web` on a free port the first time it is asked for."""
        if "web" not in self.processes:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.web_port = probe.getsockname()[1]
            self.start_process(
                "web", "web", "--host", "127.0.0.1", "--port", str(self.web_port), "--workers", "1"
            )
            url = f"http://127.0.0.1:{self.web_port}"
            # /login, not /healthz: health is degraded while the scheduler is stopped on purpose
            self.wait_until(lambda: _answers(f"{url}/login"), timeout=30, what="the web app")
        return f"http://127.0.0.1:{self.web_port}"

    def kill(self, label: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(label)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop(self) -> None:
        for label in list(self.processes):
            self.kill(label, signal.SIGTERM)
        self.engine.dispose()
        self.broker.close()

    def stop_extras(self) -> None:
        """Stop every process a test added beside the web app and the standard ones, so
        that a test that failed half-way leaves no second worker to take the next one's work."""
        for label in [name for name in self.processes if name not in (*STANDARD_PROCESSES, "web")]:
            self.kill(label)

    def ensure_running(self) -> None:
        """Start again, and wait for, each standard process that is not running."""
        stopped = [
            label
            for label in STANDARD_PROCESSES
            if (process := self.processes.get(label)) is None or process.poll() is not None
        ]
        self._start_ready(stopped)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logdir.glob("*.log")))

    # data ------------------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def reset(self) -> None:
        """Forget every patient and message; default clinic rules; fakes emptied."""
        self._settle()
        with self.session() as session:
            for model in (
                Flag,
                Reply,
                DeliveryAttempt,
                Message,
                OptOut,
                Enrollment,
                Patient,
            ):
                session.execute(delete(model))
            # The audit log is append-only on PostgreSQL (a row trigger refuses DELETE);
            # TRUNCATE is not a row operation, so it empties the table there.
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("TRUNCATE audit_event"))
            else:
                session.execute(delete(AuditEvent))
            # Always a recorded clock: with none, each process would use real time for a
            # second (reminders.clock remembers "no clock"), and send today's messages.
            clock.set_clock(session, simulated=RESTING_CLOCK, speed=0)
            # templates as `reminders init` loaded them: version 1, published
            session.execute(delete(TemplateVersion).where(TemplateVersion.version > 1))
            session.execute(update(TemplateVersion).values(status="published"))
            session.execute(
                update(ClinicSettings).values(
                    name="Bow River Physiotherapy",
                    phone="403-555-0100",
                    time_zone="America/Edmonton",
                    alert_email="alerts@bowriver.example",
                    quiet_hours_start="21:00",
                    quiet_hours_end="08:00",
                    cap_per_day=None,
                    cap_per_week=None,
                )
            )
            # plans as the files define them (an admin test may have edited one)
            session.execute(delete(PlanStep))
            session.execute(delete(AftercarePlan))
            load_defaults(session, Settings(_env_file=None))
        self.broker.delete(self.queue, f"{self.queue}-alerts")
        # failed sign-ins are counted per address (127.0.0.1 for every test): each test starts
        # with none, whatever the one before it tried
        stale = list(self.broker.scan_iter("reminders:login-fail:*", count=500))
        if stale:
            self.broker.delete(*stale)
        self.twilio.reset()
        self.smtp.reset()

    def _settle(self) -> None:
        """Stop the clock and let deliveries in flight finish before rows are deleted: SQLite
        reuses the ids of deleted rows, and a late "sent" for the last test's message 4 would
        otherwise land on this test's message 4. Waits on signals, never a fixed time: a
        dispatch tick begun after the clock stopped (one begun before may still claim with
        the old time), then no message queued or sending (a delivery records its result in
        the same transaction that moves its message out of `sending`)."""
        with self.session() as session:
            was = session.get(ClockSetting, 1)
            resting = was is not None and was.speed == 0 and _same_moment(was.anchor_simulated)
        self.set_clock(RESTING_CLOCK)
        if not resting:  # at the resting clock nothing is due, so no tick can claim anything
            self._wait_for_a_tick_begun_now()
        busy = select(Message.id).where(Message.status.in_(("queued", "sending"))).limit(1)

        def idle() -> bool:
            with self.session() as session:
                return session.scalar(busy) is None

        poll(idle, timeout=15)  # then delete anyway, as a stuck row would be reaped later

    def _wait_for_a_tick_begun_now(self) -> None:
        """Until the scheduler's heartbeat (written at the end of each dispatch tick) changes
        twice: the second tick began after the first ended, so after now. Ticks are serial."""
        scheduler = self.processes.get("scheduler")
        if scheduler is None or scheduler.poll() is not None:
            return  # stopped by the test: nothing dispatches
        key = f"{self.queue}:scheduler:last-tick"
        seen = [self.broker.get(key)]

        def ticked_twice() -> bool:
            value = self.broker.get(key)
            if value != seen[-1]:
                seen.append(value)
            return len(seen) > 2

        poll(ticked_twice, timeout=15)  # a failing tick records nothing, and claims nothing

    def set_clock(self, when: datetime, speed: float = 0.0) -> None:
        with self.session() as session:
            clock.set_clock(session, simulated=when, speed=speed)

    def enroll(self, **fields: Any) -> int:
        fields.setdefault("first_name", "Alexandra")
        fields.setdefault("last_name", "Tremblay")
        fields.setdefault("therapist_name", "Sam Chen")
        with self.session() as session:
            enrollment = enroll(session, EnrollmentRequest(**fields), now=clock.now(session))
            return enrollment.id

    def messages(self, **where: Any) -> list[Message]:
        with self.session() as session:
            query = select(Message).order_by(Message.due_at, Message.channel)
            for name, value in where.items():
                query = query.where(getattr(Message, name) == value)
            return list(session.scalars(query))

    def statuses(self, **where: Any) -> dict[tuple[str, str], str]:
        return {(m.step_key, m.channel): m.status for m in self.messages(**where)}

    def wait_until(
        self, check: Callable[[], T], *, timeout: float = 30.0, what: str = "condition"
    ) -> T:
        found: list[T] = []

        def holds() -> bool:
            result = check()
            if result:
                found.append(result)
            return bool(result)

        if not poll(holds, timeout=timeout, every=0.1):
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; logs in {self.logdir}"
            )
        return found[0]


def _same_moment(recorded: datetime) -> bool:
    """The recorded clock reads RESTING_CLOCK (SQLite gives it back without a time zone)."""
    if recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=UTC)
    return recorded == RESTING_CLOCK


def poll(check: Callable[[], bool], *, timeout: float, every: float = 0.02) -> bool:
    """Ask every `every` seconds until `check` holds or `timeout` seconds pass; whether it
    held."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
