"""Where one delivery's time goes: `reminders.sending.delivery.deliver` in this process, no Celery.

    .venv/bin/python bench/deliver_profile.py [--messages N] [--database sqlite|postgresql]
                                              [--profile] [--statements]

Prints one table: per message delivered, the SQL statements and transactions it took (these
counts do not depend on how busy the machine is), and the CPU and wall time of the calling
thread, split into preparing (claim to rendered body), sending (the Twilio SDK call to
FakeTwilio) and recording the outcome. FakeTwilio runs in this process on its own threads, so
"thread CPU" excludes it and "process CPU" includes it. With --profile, the 30 functions with
the most cumulative thread CPU go to stderr (PROFILE_SORT, PROFILE_LINES to change); with --statements, the SQL of the last delivery (each
statement's start, never its values).

PostgreSQL is TEST_POSTGRES_URL's server (default postgresql+psycopg://postgres@127.0.0.1:5432/
test); the script creates `reminders_prof_<pid>` and drops it at the end. SQLite is a file in a
temporary folder. No Redis is needed: the messages are claimed as the dispatcher would claim
them, then delivered one by one.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the fakes
sys.path.insert(0, str(ROOT))

from fakes import FakeTwilio  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=ZoneInfo("America/Edmonton"))


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="reminders-prof-") as folder:
            yield f"sqlite:///{folder}/reminders.db"
        return
    name = f"reminders_prof_{os.getpid()}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from reminders.db import reset_engine

        reset_engine()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Counter:
    """SQL statements and transactions on the service's engine."""

    def __init__(self) -> None:
        self.statements = 0
        self.transactions = 0
        self.seen: list[str] = []  # statements since the last clear, for --statements

    def attach(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements += 1
        self.seen.append(" ".join(statement.split())[:140])

    def _commit(self, *_: Any) -> None:
        self.transactions += 1
        self.seen.append("-- COMMIT")


class Phases:
    """Thread CPU and wall time spent in each phase of `deliver`, summed over messages."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}

    def wrap(self, owner: Any, attribute: str, phase: str) -> None:
        inner = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.cpu[phase] = self.cpu.get(phase, 0.0) + time.thread_time() - cpu
                self.wall[phase] = self.wall.get(phase, 0.0) + time.perf_counter() - wall

        setattr(owner, attribute, timed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--statements", action="store_true")
    args = parser.parse_args()

    with FakeTwilio() as twilio, database(args.database) as url:
        os.environ.update(
            DATABASE_URL=url,
            SECRET_KEY="bench-secret",
            SMS_TRANSPORT="twilio",
            TWILIO_ACCOUNT_SID=twilio.account_sid,
            TWILIO_AUTH_TOKEN=twilio.auth_token,
            TWILIO_FROM_NUMBER="+15875550100",
            TWILIO_API_BASE_URL=twilio.base_url,
            EMAIL_TRANSPORT="console",
            PUBLIC_BASE_URL="https://clinic.example",
            # No send rate (it needs Redis and is measured by bench/rate_limit.py): at the
            # default 1 segment/s, every text but the first would wait its turn.
            SEND_RATE_SMS="0",
            SEND_RATE_EMAIL="0",
        )
        done = subprocess.run(
            [sys.executable, "-m", "reminders", "init"], capture_output=True, text=True
        )
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        return measure(args, twilio)


def measure(args: argparse.Namespace, twilio: FakeTwilio) -> int:
    from reminders import clock
    from reminders.db import get_engine, session_scope
    from reminders.enrolling.enrollment import EnrollmentRequest, enroll
    from reminders.sending import delivery
    from reminders.sending.dispatch import claim_due
    from reminders.transports import transport_for

    with session_scope() as session:
        clock.set_clock(session, simulated=SESSION_END, speed=0)
        for i in range(args.messages + 1):  # one more: the first warms caches and connections
            enroll(
                session,
                EnrollmentRequest(
                    first_name="Alexandra",
                    last_name="Tremblay",
                    therapist_name="Sam Chen",
                    phone=f"+1403555{i:04d}",
                    channel="sms",
                    session_end=SESSION_END,
                ),
                now=SESSION_END,
            )
    with session_scope() as session:
        clock.set_clock(session, simulated=SESSION_END + timedelta(minutes=31), speed=0)
    with session_scope() as session:
        ids = claim_due(
            session,
            now=SESSION_END + timedelta(minutes=31),
            limit=args.messages + 1,
            lease=timedelta(hours=1),
        )
    assert len(ids) == args.messages + 1, f"claimed {len(ids)} of {args.messages + 1}"
    first, ids = ids[0], ids[1:]
    warm_up = delivery.deliver(first)
    assert warm_up == "sent", warm_up

    counter = Counter()
    counter.attach(get_engine())
    phases = Phases()
    phases.wrap(delivery, "_prepare", "prepare")
    phases.wrap(transport_for("sms"), "send", "send")
    phases.wrap(delivery, "_record_sent", "record")
    # Timed on this thread's CPU, not the wall: waits for PostgreSQL or FakeTwilio are not cost.
    profiler = cProfile.Profile(time.thread_time) if args.profile else None

    cpu, process_cpu, wall = time.thread_time(), time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    outcomes = [delivery.deliver(message_id) for message_id in ids[:-1]]
    counter.seen.clear()
    outcomes.append(delivery.deliver(ids[-1]))
    if profiler:
        profiler.disable()
    cpu, process_cpu = time.thread_time() - cpu, time.process_time() - process_cpu
    wall = time.perf_counter() - wall

    n = len(ids)
    if outcomes.count("sent") != n or len(twilio.messages) != n + 1:
        print(
            f"only {outcomes.count('sent')} of {n} sent: {sorted(set(outcomes))}", file=sys.stderr
        )
        return 1
    rows = [
        ("messages delivered", f"{n}", ""),
        ("SQL statements per message", f"{counter.statements / n:.1f}", "statements"),
        ("transactions per message", f"{counter.transactions / n:.1f}", "commits"),
        ("thread CPU per message", f"{cpu / n * 1000:.2f}", "ms"),
        ("process CPU per message (with FakeTwilio)", f"{process_cpu / n * 1000:.2f}", "ms"),
        ("wall time per message", f"{wall / n * 1000:.2f}", "ms"),
    ]
    for phase in ("prepare", "send", "record"):
        rows.append(
            (
                f"  {phase}: thread CPU / wall",
                f"{phases.cpu[phase] / n * 1000:.2f} / {phases.wall[phase] / n * 1000:.2f}",
                "ms",
            )
        )
    print(f"deliver() in process, {args.database}, {n} SMS to FakeTwilio")
    width = max(len(r[0]) for r in rows)
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>14}  {unit}")
    if args.statements:
        print("\n".join(["statements of the last delivery:", *counter.seen]), file=sys.stderr)
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(
            os.environ.get("PROFILE_SORT", "cumulative")
        ).print_stats(int(os.environ.get("PROFILE_LINES", "30")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
