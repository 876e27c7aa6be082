"""Delivery benchmark: the real worker, scheduler, Redis and PostgreSQL, FakeTwilio as the provider.

    SEND_RATE_SMS=0 .venv/bin/python bench/delivery.py [--messages N] [--future N]
        [--provider-latency SECONDS] [--pool threads|prefork] [--concurrency N]

Prints one table (measure, value, unit, target, ok). Everything comes from one run against a
PostgreSQL database of its own (`reminders_bench_<pid>`, dropped at the end) and the Redis at
TEST_REDIS_URL (default redis://127.0.0.1:6379/15), on a queue of its own. The processes are
started by `tests/stack.py`'s Deployment exactly as the tests start them, except that the
test-only speed-ups (0.2 s dispatch tick, 4 s leases, 1.5 s Twilio timeout, short retries) are
removed so the worker and scheduler run with the production defaults from reminders/config.py.

Phases, in order (each worker is a fresh `python -m reminders worker`, with its defaults unless
--pool / --concurrency say otherwise: threads, WORKER_CONCURRENCY):

1. no-op: publish N `reminders.noop` tasks (same `apply_async(..., expires=lease)` call as
   `enqueue_delivery`) to the deployment's queue; rate = N / (first publish -> N-th task done).
2. batch 1: N text messages due at one instant, clock frozen just before; start the scheduler,
   move the clock 1 s past due, wait for FakeTwilio to hold N messages.
   rate = N / (clock moved -> N-th message received by the fake); lateness = per-message
   FakeTwilio `received_at` minus the real instant the clock was moved. Worker RSS afterwards.
2b. latency: as batch 1 on a fresh worker, FakeTwilio answering every message after
   --provider-latency seconds (default 0.2): the rate against batch 1's (target >= 0.8), the
   lateness p99 against the time the whole burst took at that rate (n / rate, target within
   25 %), worker CPU per delivered SMS against per no-op task (target <= 4), worker RSS, the
   connections the worker opened to FakeTwilio, and duplicates at the fake (target 0).
3. claim, 0 future: scheduler stopped; `claim_due(limit=1000)` on 1,000 due rows, timed.
4. --future scheduled rows due months ahead (INSERT ... SELECT generate_series, VACUUM ANALYZE);
   claim again.
5. batch 2: as batch 1 on a fresh worker, with the future rows in the table; worker RSS.
   (--future 0 skips 3-5.)

The table goes to stdout; progress and diagnostics go to stderr: load average, worker /
scheduler / bench-process CPU per message (from /proc), how busy all CPUs were, the worker's own
"succeeded in" task times, and EXPLAIN (ANALYZE, BUFFERS) of each claim series.

Bounded: every wait has a timeout; processes, the database and the Redis queue are cleaned up on
success, error, Ctrl-C or SIGTERM. Worker/scheduler logs are kept (path printed) only on failure.
A run during which someone else flushes Redis stops with an error instead of printing figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # stack.Deployment and the fakes
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from fakes import FakeSmtp, FakeTwilio  # noqa: E402
from sqlalchemy import Engine, create_engine, event, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from stack import Deployment  # noqa: E402

from reminders.sending.dispatch import claim_due  # noqa: E402

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)  # after-session SMS due 14:30 local
CLAIM_LIMIT = 1000
CLAIM_RUNS, CLAIM_WARMUP = 15, 1
FUTURE_ENROLLMENTS = 1000  # the future rows are spread over this many patients/enrollments
# Test-only speed-ups in Deployment.env; removed so the production defaults apply.
TEST_OVERRIDES = (
    "DISPATCH_INTERVAL_SECONDS",
    "REAPER_INTERVAL_SECONDS",
    "QUEUED_LEASE_SECONDS",
    "SENDING_LEASE_SECONDS",
    "RETRY_BASE_SECONDS",
    "RETRY_MAX_SECONDS",
    "TWILIO_TIMEOUT_SECONDS",
)
SUCCEEDED = re.compile(rb"Task reminders\.noop\[[^\]]+\] succeeded")
DELIVERED = re.compile(rb"Task reminders\.deliver\[[^\]]+\] succeeded in ([0-9.eE-]+)s")
WORKER_OPTIONS: list[str] = []  # --pool / --concurrency, when given


class BenchError(RuntimeError):
    pass


def say(message: str) -> None:
    stamp = f"{datetime.now():%H:%M:%S} load {os.getloadavg()[0]:.2f}"
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


class LogTail:
    """Reads a growing log file incrementally (cheap enough to poll every few ms)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def new_lines(self) -> list[bytes]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        return lines


class RedisWatch:
    """Notices when someone else empties our Redis (FLUSHALL/FLUSHDB) during a timed phase.

    The tests do that (test_resilience flushes Redis on purpose). Our queued tasks would then
    be lost and only come back when the reaper's lease (300 s by default) runs out, which would
    turn a throughput figure into a measure of the lease. Such a run is stopped, not reported.
    """

    def __init__(self, url: str, queue: str) -> None:
        self.broker = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)
        self.key = f"{queue}-sentinel"  # removed with the queue's keys at the end
        self.broker.set(self.key, "1")
        self.last = 0.0

    def check(self, phase: str, *, every: float = 0.0) -> None:
        if time.monotonic() - self.last < every:
            return
        self.last = time.monotonic()
        if not self.broker.exists(self.key):
            raise BenchError(
                f"{phase}: Redis was flushed by another process during the run (FLUSHALL or"
                " FLUSHDB); queued tasks were lost, so the figures would be wrong. Run again"
                " when nothing else flushes this Redis."
            )


# processes ------------------------------------------------------------------------------


def start(dep: Deployment, label: str, *args: str, ready: bytes, timeout: float = 90) -> int:
    log_path = dep.logdir / f"{label}.log"
    tail = LogTail(log_path)
    dep.start_process(label, *args)
    process = dep.processes[label]

    def is_ready() -> bool:
        if process.poll() is not None:
            raise BenchError(f"{label} exited with {process.returncode}; see {log_path}")
        return any(ready in line for line in tail.new_lines())

    wait_for(is_ready, timeout=timeout, what=f"{label} to start")
    return process.pid


def start_worker(dep: Deployment, label: str) -> int:
    # The worker's own defaults (or --pool / --concurrency); INFO so that task results are logged.
    return start(dep, label, "worker", *WORKER_OPTIONS, "--loglevel", "INFO", ready=b" ready.")


def start_scheduler(dep: Deployment) -> None:
    start(dep, "scheduler", "scheduler", ready=b"scheduler started")
    time.sleep(2.5)  # a few idle ticks first, so that start-up is not part of the timing


def stop(dep: Deployment, label: str) -> None:
    process = dep.processes.pop(label, None)
    if process is None:
        return
    for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)  # its own process group: reaches prefork children
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            say(f"{label} did not stop on {sig.name}")


def tree_cpu_seconds(pgid: int) -> float:
    """User + system CPU time used so far by the live processes of a process group."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid:
                ticks += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat, for a busy fraction over a window."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def tree_rss_kib(pgid: int) -> tuple[int, int]:
    """Sum of VmRSS over the worker's process group (celery parent + prefork children).

    Pages shared between the parent and its forked children are counted once per process,
    as VmRSS does; the figure is an upper bound of the physical memory used.
    """
    total = processes = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat[stat.rindex(")") + 2 :].split()[2]) != pgid:
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    processes += 1
        except (OSError, ValueError, IndexError):
            continue
    return total, processes


# data -----------------------------------------------------------------------------------


def reference_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        plan_id = c.scalar(text("SELECT id FROM aftercare_plan WHERE key = 'dry-needling'"))
        lateness = c.scalar(
            text(
                "SELECT max_lateness_seconds FROM plan_step WHERE plan_id = :p AND key = 'after-session'"
            ),
            {"p": plan_id},
        )
        version = c.scalar(
            text(
                "SELECT tv.id FROM template_version tv JOIN message_template mt ON mt.id = tv.template_id"
                " WHERE mt.key = 'after-session' AND tv.locale = 'en' AND tv.status = 'published'"
                " ORDER BY tv.version DESC LIMIT 1"
            )
        )
    if plan_id is None or lateness is None or version is None:
        raise BenchError("`reminders init` did not load the dry-needling plan and its templates")
    return {"plan": plan_id, "lateness": lateness, "version": version}


def add_patients(
    engine: Engine,
    ref: dict[str, int],
    tag: str,
    count: int,
    phone_base: int,
    session_end: datetime,
) -> None:
    """`count` SMS patients, one active dry-needling enrollment each, all tagged `tag`."""
    now = session_end + timedelta(minutes=5)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO patient (first_name, last_name, phone, email, language, time_zone, channel,"
                " consent_at, consent_method, consent_recorded_by, created_at)"
                " SELECT 'Patient' || g, :tag, '+1403' || (:base + g)::text, NULL, 'en',"
                " 'America/Edmonton', 'sms', :now, 'verbal', 'bench', :now"
                " FROM generate_series(1, :n) g"
            ),
            {"tag": tag, "base": phone_base, "n": count, "now": now},
        )
        c.execute(
            text(
                "INSERT INTO enrollment (patient_id, plan_id, therapist_name, session_end, status, created_at)"
                " SELECT p.id, :plan, 'Sam Chen', :end, 'active', :now FROM patient p"
                " WHERE p.last_name = :tag ORDER BY p.id"
            ),
            {"plan": ref["plan"], "end": session_end, "now": now, "tag": tag},
        )


def add_due_messages(
    engine: Engine,
    ref: dict[str, int],
    tag: str,
    due: datetime,
    spread_ms: int = 0,
    step: str = "after-session",
) -> int:
    """One `step` SMS (template ref["version"]) per `tag` enrollment, due at `due` (earlier by
    up to spread_ms)."""
    with engine.begin() as c:
        result = c.execute(
            text(
                "INSERT INTO message (enrollment_id, patient_id, step_key, channel, locale,"
                " template_version_id, checkin, status, due_at, next_attempt_at, max_lateness_seconds,"
                " attempts, created_at, updated_at)"
                " SELECT e.id, e.patient_id, :step, 'sms', 'en', :tv, false, 'scheduled',"
                " :due - (e.id % (:spread + 1)) * interval '1 millisecond',"
                " :due - (e.id % (:spread + 1)) * interval '1 millisecond', :lateness, 0, :now, :now"
                " FROM enrollment e JOIN patient p ON p.id = e.patient_id WHERE p.last_name = :tag"
            ),
            {
                "tv": ref["version"],
                "due": due,
                "spread": spread_ms,
                "lateness": ref["lateness"],
                "now": due - timedelta(minutes=25),
                "tag": tag,
                "step": step,
            },
        )
        return int(result.rowcount)


def add_future_messages(engine: Engine, ref: dict[str, int], count: int, after: datetime) -> None:
    """`count` scheduled rows due 90-150 days after `after`; unique step_key per row."""
    if count <= 0:
        return
    enrollments = min(FUTURE_ENROLLMENTS, count)
    add_patients(engine, ref, "bench-future", enrollments, 6_000_000, after - timedelta(minutes=30))
    with engine.begin() as c:
        c.execute(text("SET LOCAL statement_timeout = '20min'"))
        c.execute(
            text(
                "WITH fe AS (SELECT e.id, e.patient_id, row_number() OVER (ORDER BY e.id) - 1 AS rn"
                "  FROM enrollment e JOIN patient p ON p.id = e.patient_id"
                "  WHERE p.last_name = 'bench-future')"
                " INSERT INTO message (enrollment_id, patient_id, step_key, channel, locale,"
                " template_version_id, checkin, status, due_at, next_attempt_at, max_lateness_seconds,"
                " attempts, created_at, updated_at)"
                " SELECT fe.id, fe.patient_id, 'future-' || g, 'sms', 'en', :tv, false, 'scheduled',"
                " :base + (g % 5184000) * interval '1 second', :base + (g % 5184000) * interval '1 second',"
                " :lateness, 0, :now, :now"
                " FROM generate_series(0, :n - 1) g JOIN fe ON fe.rn = g % :e"
            ),
            {
                "tv": ref["version"],
                "base": after + timedelta(days=90),
                "lateness": ref["lateness"],
                "now": after,
                "n": count,
                "e": enrollments,
            },
        )


def vacuum_analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("SET statement_timeout = '20min'"))
        c.execute(text("VACUUM (ANALYZE) message"))


def count_status(engine: Engine, tag: str) -> dict[str, int]:
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT m.status, count(*) FROM message m JOIN patient p ON p.id = m.patient_id"
                " WHERE p.last_name = :tag GROUP BY m.status"
            ),
            {"tag": tag},
        )
        return {status: int(n) for status, n in rows}


def future_count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.scalar(text("SELECT count(*) FROM message WHERE step_key LIKE 'future-%'")))


# measurements ---------------------------------------------------------------------------


def noop_rate(dep: Deployment, n: int, watch: RedisWatch) -> tuple[float, float, float]:
    """Tasks/s of a fresh worker running N no-op tasks; also returns the publishing time and
    the worker's CPU seconds per task.

    Completion is counted from the worker's own log: Celery logs "Task reminders.noop[id]
    succeeded" in the pool child once the task has returned. With task_acks_late the parent
    acks right after it hears of that result (microseconds later), so the last line is within
    a tiny fraction of the measurement of "all acked". The log is polled every 10 ms, and at
    the end the queue must be empty (LLEN 0), so every task published was consumed.
    """
    os.environ.update(REDIS_URL=dep.redis_url, TASK_QUEUE=dep.queue, DATABASE_URL=dep.url)
    from reminders.config import get_settings

    get_settings.cache_clear()
    from reminders.tasks.noop import noop

    expires = get_settings().queued_lease_seconds  # what enqueue_delivery uses
    broker = redis.Redis.from_url(dep.redis_url)
    worker_pid = start_worker(dep, "worker-noop")
    tail = LogTail(dep.logdir / "worker-noop.log")
    tail.new_lines()  # skip start-up lines
    cpu_before, busy_before = tree_cpu_seconds(worker_pid), machine_busy()
    done = 0
    started = time.perf_counter()
    for i in range(n):
        noop.apply_async((i,), expires=expires)
    published = time.perf_counter() - started
    deadline = time.monotonic() + 60 + n * 0.05
    while done < n:
        done += sum(1 for line in tail.new_lines() if SUCCEEDED.search(line))
        if done >= n:
            break
        if time.monotonic() > deadline:
            raise BenchError(f"no-op: only {done} of {n} tasks finished in time")
        watch.check("no-op", every=0.5)
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    cpu, busy_after = tree_cpu_seconds(worker_pid) - cpu_before, machine_busy()
    busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    say(
        f"   diagnostics: worker CPU {cpu / n * 1000:.2f} ms/task; all CPUs {busy:.0%} busy; {load()}"
    )
    watch.check("no-op")
    if broker.llen(dep.queue) != 0:
        raise BenchError("no-op: the queue is not empty after all tasks succeeded")
    stop(dep, "worker-noop")
    return n / elapsed, published, cpu / n


def deliver_batch(
    dep: Deployment,
    ref: dict[str, int],
    label: str,
    tag: str,
    n: int,
    phone_base: int,
    session_end: datetime,
    watch: RedisWatch,
    latency: float = 0.0,
) -> dict[str, Any]:
    """N SMS due at one instant through a fresh worker and the scheduler, FakeTwilio answering
    each after `latency` seconds; timings in real time."""
    due = session_end + timedelta(minutes=30)
    dep.set_clock(due - timedelta(minutes=1))  # frozen just before due
    add_patients(dep.engine, ref, tag, n, phone_base, session_end)
    if add_due_messages(dep.engine, ref, tag, due) != n:
        raise BenchError(f"{tag}: not all {n} messages were inserted")
    vacuum_analyze(dep.engine)
    dep.twilio.reset()
    dep.twilio.response_delay = latency
    worker_pid = start_worker(dep, label)
    start_scheduler(dep)
    if dep.twilio.messages:
        raise BenchError(f"{tag}: messages went out before they were due")

    scheduler_pid = dep.processes["scheduler"].pid
    tail = LogTail(dep.logdir / f"{label}.log")
    tail.new_lines()
    cpu_before = (
        tree_cpu_seconds(worker_pid),
        tree_cpu_seconds(scheduler_pid),
        time.process_time(),
    )
    busy_before = machine_busy()
    moved = datetime.now(UTC)
    dep.set_clock(due + timedelta(seconds=1))  # frozen just after due
    deadline = time.monotonic() + 60 + n * 0.25
    while True:  # FakeTwilio.wait_for returns the moment the N-th message is recorded
        try:
            dep.twilio.wait_for(n, timeout=1.0)
            break
        except AssertionError:
            watch.check(tag)
            if time.monotonic() > deadline:
                got = len(dep.twilio.messages)
                raise BenchError(
                    f"{tag}: only {got} of {n} SMS reached FakeTwilio in time"
                ) from None
    watch.check(tag)
    busy_after = machine_busy()
    cpu_after = (tree_cpu_seconds(worker_pid), tree_cpu_seconds(scheduler_pid), time.process_time())
    received = sorted(m["received_at"] for m in dep.twilio.messages)[:n]
    lateness = [(r - moved).total_seconds() for r in received]
    wait_for(
        lambda: count_status(dep.engine, tag).get("sent", 0) >= n,
        timeout=120,
        what=f"{tag}: all {n} rows recorded as sent",
        every=0.2,
    )
    stop(dep, "scheduler")
    statuses = count_status(dep.engine, tag)
    if statuses != {"sent": n}:
        raise BenchError(f"{tag}: expected {n} sent, got {statuses}")
    sent = [(m["to"], m["body"]) for m in dep.twilio.messages]
    duplicates = len(sent) - len(set(sent))  # reported (target 0), not a reason to stop
    time.sleep(2)  # let the pool settle (results and acks flushed) before reading memory
    rss, processes = tree_rss_kib(worker_pid)
    if processes < 1:
        raise BenchError(f"{label}: no worker process found")
    runtimes = sorted(
        float(match.group(1)) for line in tail.new_lines() if (match := DELIVERED.search(line))
    )
    stop(dep, label)
    worker_cpu, scheduler_cpu, bench_cpu = (
        b - a for a, b in zip(cpu_before, cpu_after, strict=True)
    )
    busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    say(
        f"   diagnostics: worker CPU {worker_cpu / n * 1000:.1f} ms/msg, scheduler CPU"
        f" {scheduler_cpu / n * 1000:.2f} ms/msg, bench process (FakeTwilio) CPU"
        f" {bench_cpu / n * 1000:.2f} ms/msg; all CPUs {busy:.0%} busy during the batch;"
        f" deliver task run time median {percentile(runtimes, 50) * 1000:.1f} ms,"
        f" p99 {percentile(runtimes, 99) * 1000:.1f} ms ({len(runtimes)} logged); {load()}"
    )
    return {
        "rate": n / lateness[-1],
        "p50": percentile(lateness, 50),
        "p99": percentile(lateness, 99),
        "first": lateness[0],
        "rss_mib": rss / 1024,
        "cpu_per_msg": worker_cpu / n,
        "duplicates": duplicates,
        "connections": dep.twilio.connections,
        "requests": len(dep.twilio.requests),
    }


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of already-sorted values."""
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


def claim_times(engine: Engine, now: datetime) -> tuple[float, list[float], str]:
    """Median wall time of claim_due(limit=1000) in its own transaction, as dispatch_due runs it.

    Each run is followed by putting the claimed rows back to `scheduled`. One warm-up run is
    discarded. Also returns EXPLAIN (ANALYZE, BUFFERS) of the claim, run in a rolled-back
    transaction, for the reading of the figures.
    """
    lease = timedelta(seconds=300)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE MESSAGE") and not captured:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    times: list[float] = []
    try:
        for run in range(CLAIM_WARMUP + CLAIM_RUNS):
            with Session(engine) as session:
                started = time.perf_counter()
                with session.begin():
                    ids = claim_due(session, now=now, limit=CLAIM_LIMIT, lease=lease)
                elapsed = time.perf_counter() - started
            if len(ids) != CLAIM_LIMIT:
                raise BenchError(f"claim_due returned {len(ids)} rows, expected {CLAIM_LIMIT}")
            with engine.begin() as c:
                c.execute(
                    text(
                        "UPDATE message SET status = 'scheduled', lease_expires_at = NULL WHERE id = ANY(:ids)"
                    ),
                    {"ids": ids},
                )
            if run >= CLAIM_WARMUP:
                times.append(elapsed)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plan = ""
    if captured:
        statement, parameters = captured[0]
        with engine.connect() as c:
            rows = c.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = "\n".join(row[0] for row in rows)
            c.rollback()
    return statistics.median(times), times, plan


# report ---------------------------------------------------------------------------------


def table(rows: list[tuple[str, str, str, str, str]]) -> str:
    header = ("measure", "value", "unit", "target", "ok")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            f" {cell.rjust(w) if i == 1 else cell.ljust(w)} "
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "|" + "|".join(cells) + "|"

    return "\n".join([line, fmt(header), line, *(fmt(r) for r in rows), line])


def machine() -> str:
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return f"{os.cpu_count()} CPUs, {mem_kib / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}"


def clean_up(
    dep: Deployment | None,
    twilio: FakeTwilio,
    smtp: FakeSmtp,
    admin: Engine,
    database: str | None,
    *,
    failed: bool,
) -> None:
    """Stop the processes and fakes, empty the Redis queue, drop the database (if made);
    keep the logs only when the run failed."""
    if dep is not None:
        for label in list(dep.processes):
            stop(dep, label)
        dep.engine.dispose()
        try:
            broker = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
            for key in broker.scan_iter(f"*{dep.queue}*"):
                broker.delete(key)
        except redis.RedisError as exc:
            say(f"could not delete the Redis queue {dep.queue}: {exc}")
        if failed:
            say(f"logs kept in {dep.logdir}")
        else:
            shutil.rmtree(dep.logdir, ignore_errors=True)
    twilio.stop()
    smtp.stop()
    if database is not None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


def report_latency(
    n: int,
    latency: float,
    noop: float,
    noop_cpu: float,
    first: dict[str, Any],
    slow: dict[str, Any],
    rows: list[tuple[str, str, str, str, str]] | None = None,
) -> int:
    """Print the provider-latency figures (and `rows` before them)."""
    ratio = slow["rate"] / first["rate"]
    burst_time = n / slow["rate"]  # the whole burst at the measured rate
    tail = slow["p99"] / burst_time
    cpu_ratio = slow["cpu_per_msg"] / noop_cpu
    dupes = first["duplicates"] + slow["duplicates"]
    lat = f"{latency:g} s"

    def ok(good: bool) -> str:
        return "yes" if good else "NO"

    print(
        table(
            [
                *(rows or [(f"no-op task rate ({n} tasks)", f"{noop:.1f}", "msg/s", "", "")]),
                (
                    f"delivery rate, provider at 0 s ({n} SMS)",
                    f"{first['rate']:.1f}",
                    "msg/s",
                    "",
                    "",
                ),
                (
                    f"delivery rate, provider at {lat} ({n} SMS)",
                    f"{slow['rate']:.1f}",
                    "msg/s",
                    "",
                    "",
                ),
                (
                    f"rate at {lat} / rate at 0 s",
                    f"{ratio:.2f}",
                    "ratio",
                    ">= 0.8",
                    ok(ratio >= 0.8),
                ),
                (
                    f"lateness p50 / p99 at {lat}",
                    f"{slow['p50']:.2f} / {slow['p99']:.2f}",
                    "s",
                    "",
                    "",
                ),
                (
                    f"lateness p99 / (burst / rate) at {lat}",
                    f"{tail:.2f}",
                    "ratio",
                    "0.75-1.25",
                    ok(0.75 <= tail <= 1.25),
                ),
                (
                    "worker CPU per SMS (at 0 s / at latency)",
                    f"{first['cpu_per_msg'] * 1000:.1f} / {slow['cpu_per_msg'] * 1000:.1f}",
                    "ms",
                    "",
                    "",
                ),
                ("worker CPU per no-op task", f"{noop_cpu * 1000:.2f}", "ms", "", ""),
                (
                    f"CPU per SMS at {lat} / per no-op",
                    f"{cpu_ratio:.1f}",
                    "ratio",
                    "<= 4",
                    ok(cpu_ratio <= 4),
                ),
                (
                    "worker RSS after batch (0 s / latency)",
                    f"{first['rss_mib']:.0f} / {slow['rss_mib']:.0f}",
                    "MiB",
                    "",
                    "",
                ),
                (
                    f"connections opened to FakeTwilio at {lat}",
                    f"{slow['connections']} for {slow['requests']} requests",
                    "",
                    "",
                    "",
                ),
                (
                    "SMS received twice at the fake (both batches)",
                    str(dupes),
                    "msgs",
                    "0",
                    ok(dupes == 0),
                ),
            ]
        )
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--messages", type=int, default=2000, help="messages per batch (default 2000)"
    )
    parser.add_argument(
        "--future", type=int, default=1_000_000, help="future rows (default 1000000)"
    )
    parser.add_argument(
        "--provider-latency",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="FakeTwilio's answer time in the latency batch (default 0.2)",
    )
    parser.add_argument("--pool", choices=("threads", "prefork"), help="the worker's pool")
    parser.add_argument("--concurrency", type=int, help="the worker's concurrency")
    args = parser.parse_args()
    if args.messages < 1 or args.future < 0 or args.provider_latency < 0:
        parser.error("--messages must be >= 1, --future and --provider-latency >= 0")
    n, future, latency = args.messages, args.future, args.provider_latency
    if args.pool:
        WORKER_OPTIONS.extend(["--pool", args.pool])
    if args.concurrency:
        WORKER_OPTIONS.extend(["--concurrency", str(args.concurrency)])

    def on_sigterm(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)

    name = f"reminders_bench_{os.getpid()}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    twilio, smtp = FakeTwilio(), FakeSmtp()
    dep: Deployment | None = None
    failed = True
    created = False
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        with admin.connect() as c:
            versions = {
                "postgres": c.scalar(text("SHOW server_version")),
            }
            c.execute(text(f'CREATE DATABASE "{name}"'))
            created = True
        versions["redis"] = redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
        say(f"{machine()}, PostgreSQL {versions['postgres']}, Redis {versions['redis']}")
        twilio.start()
        smtp.start()
        dep = Deployment("bench", url, REDIS_URL, twilio, smtp, ROOT)
        for key in TEST_OVERRIDES:
            dep.env.pop(key, None)
        say(f"database {name}, queue {dep.queue}, logs {dep.logdir}")
        dep.init()
        ref = reference_ids(dep.engine)

        say(f"worker: `reminders worker {' '.join(WORKER_OPTIONS) or '(defaults)'}`")
        say(f"1. no-op: {n} tasks")
        watch = RedisWatch(REDIS_URL, dep.queue)
        noop, published, noop_cpu = noop_rate(dep, n, watch)
        say(f"   {noop:.1f} tasks/s (publishing alone took {published:.2f}s)")

        say(f"2. batch 1: {n} SMS due at one instant, {future_count(dep.engine)} future rows")
        first = deliver_batch(
            dep, ref, "worker-batch1", "bench-batch1", n, 2_000_000, SESSION_END, watch
        )
        say(f"   {first}")

        say(f"2b. latency: {n} SMS due at one instant, FakeTwilio answering after {latency:g} s")
        slow = deliver_batch(
            dep,
            ref,
            "worker-latency",
            "bench-latency",
            n,
            5_000_000,
            SESSION_END + timedelta(hours=5),
            watch,
            latency=latency,
        )
        say(f"   {slow}")
        if not future:
            failed = False
            return report_latency(n, latency, noop, noop_cpu, first, slow)

        say("3. claim, 0 future rows")
        claim_due_at = SESSION_END + timedelta(hours=2)
        add_patients(dep.engine, ref, "bench-claim", CLAIM_LIMIT, 4_000_000, SESSION_END)
        add_due_messages(dep.engine, ref, "bench-claim", claim_due_at, spread_ms=60_000)
        vacuum_analyze(dep.engine)
        claim_now = claim_due_at + timedelta(seconds=1)
        claim0, runs0, plan0 = claim_times(dep.engine, claim_now)
        say(
            f"   median {claim0 * 1000:.1f} ms, runs {[round(t * 1000, 1) for t in runs0]}\n{plan0}"
        )

        say(f"4. inserting {future:,} future rows")
        started = time.perf_counter()
        add_future_messages(dep.engine, ref, future, SESSION_END + timedelta(hours=3))
        vacuum_analyze(dep.engine)
        say(
            f"   {future_count(dep.engine):,} future rows in {time.perf_counter() - started:.0f}s; claim again"
        )
        claim1, runs1, plan1 = claim_times(dep.engine, claim_now)
        say(
            f"   median {claim1 * 1000:.1f} ms, runs {[round(t * 1000, 1) for t in runs1]}\n{plan1}"
        )
        with dep.engine.begin() as c:  # the claim rows would otherwise be due for batch 2
            c.execute(
                text(
                    "DELETE FROM message WHERE patient_id IN (SELECT id FROM patient WHERE last_name = 'bench-claim')"
                )
            )

        say(f"5. batch 2: {n} SMS due at one instant, {future_count(dep.engine):,} future rows")
        second = deliver_batch(
            dep,
            ref,
            "worker-batch2",
            "bench-batch2",
            n,
            3_000_000,
            SESSION_END + timedelta(hours=1),
            watch,
        )
        say(f"   {second}")
        failed = False
    finally:
        clean_up(dep, twilio, smtp, admin, name if created else None, failed=failed)

    def ok(good: bool) -> str:
        return "yes" if good else "NO"

    delivery_ratio = first["rate"] / noop
    claim_ratio = claim1 / claim0
    rss_ratio = second["rss_mib"] / first["rss_mib"]
    fut = f"{future:,}"
    rows = [
        (f"no-op task rate ({n} tasks)", f"{noop:.1f}", "msg/s", "", ""),
        (f"end-to-end delivery rate ({n} SMS, 0 future)", f"{first['rate']:.1f}", "msg/s", "", ""),
        (
            "delivery rate / no-op rate",
            f"{delivery_ratio:.3f}",
            "ratio",
            ">= 0.5",
            ok(delivery_ratio >= 0.5),
        ),
        ("due-to-sent lateness p50 (0 future)", f"{first['p50']:.2f}", "s", "", ""),
        ("due-to-sent lateness p99 (0 future)", f"{first['p99']:.2f}", "s", "", ""),
        (
            f"claim 1,000 due, 0 future (median of {CLAIM_RUNS})",
            f"{claim0 * 1000:.1f}",
            "ms",
            "",
            "",
        ),
        (
            f"claim 1,000 due, {fut} future (median of {CLAIM_RUNS})",
            f"{claim1 * 1000:.1f}",
            "ms",
            "",
            "",
        ),
        (
            "claim time ratio (future / 0)",
            f"{claim_ratio:.2f}",
            "ratio",
            "<= 1.2",
            ok(claim_ratio <= 1.2),
        ),
        ("worker RSS after batch, 0 future", f"{first['rss_mib']:.1f}", "MiB", "", ""),
        (f"worker RSS after batch, {fut} future", f"{second['rss_mib']:.1f}", "MiB", "", ""),
        (
            "worker RSS ratio (future / 0)",
            f"{rss_ratio:.3f}",
            "ratio",
            "<= 1.05",
            ok(rss_ratio <= 1.05),
        ),
        (
            f"end-to-end delivery rate ({fut} future, info)",
            f"{second['rate']:.1f}",
            "msg/s",
            "",
            "",
        ),
        (
            f"due-to-sent lateness p50 / p99 ({fut} future, info)",
            f"{second['p50']:.2f} / {second['p99']:.2f}",
            "s",
            "",
            "",
        ),
    ]
    return report_latency(n, latency, noop, noop_cpu, first, slow, rows)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, AssertionError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench interrupted", file=sys.stderr)
        sys.exit(130)
