"""Web benchmark: `reminders web` against PostgreSQL, enrollments through the API and page times.

    .venv/bin/python bench/web.py [--messages-small N] [--messages-large N] [--requests N]
                                  [--enrollments N] [--clients N] [--quick]

Prints two tables from one run, both to stdout:

1. Enrollments: `POST /api/enrollments` with a bearer token (the body tests/system/test_api_enrollments.py
   sends, a unique phone number per request) from --clients threads (httpx, keep-alive), against
   `reminders web --workers 1` and then `--workers 2`. Rate = enrollments / (first request sent ->
   last answer received); p50/p99 of each request's wall time. 2 x --clients warm-up requests per
   server are not counted. Every answer must be 201.
2. Pages: `GET /` (dashboard) and `GET /patients` signed in through /login with the form's CSRF
   token (as tests/browser.py `signed_in_client` does), and `GET /api/patients?limit=50` with a
   bearer token; p50 of --requests sequential requests per page (the three interleaved, after 5
   warm-ups each), with --messages-small and then --messages-large rows in `message`, and the
   ratio large / small (target <= 1.5).

The page data is made in bulk with SQL (INSERT ... SELECT generate_series), not through the API:
1,000 patients with one enrollment each (plan dry-needling), messages spread over 60 days around
the frozen clock (08:00-21:00 Edmonton), 70 % SMS, a quarter of them check-ins, statuses as the
due date makes them (past: delivered, sent, undelivered, failed, skipped, cancelled; future:
scheduled, some cancelled), a score reply to 40 % of the check-ins sent, and flags on high scores
(a fifth of them open). The large set is the small set plus more rows of the same shape.
The API enrollments are removed before the page data goes in.

Everything runs in a PostgreSQL database of its own (`bench_web_<pid>`, dropped at the end) at
TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test, trust auth), with
REDIS_URL at --redis-url (default redis://127.0.0.1:6379/14, a db nothing else uses: the web app
only needs it for sign-in limits). The web processes are the real `python -m reminders web`,
started through tests/stack.py's Deployment; accounts and tokens are made in process as
tests/factories.py makes them.

Progress and diagnostics go to stderr: load average at start and end, web-process CPU per
enrollment, and, at each message count, the SQL statements each page runs (captured by calling
the same handlers in this process) with EXPLAIN (ANALYZE, BUFFERS) times; the full plan of the
slowest statement of each page is printed at the large count. No patient data is printed.

Bounded: every wait has a timeout; processes and the database are cleaned up on success, error,
Ctrl-C or SIGTERM. Web logs are kept (path printed) only on failure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # stack.Deployment, factories and the fakes
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import redis  # noqa: E402
from factories import PASSWORD, account  # noqa: E402
from fakes import FakeSmtp, FakeTwilio  # noqa: E402
from sqlalchemy import Engine, create_engine, event, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from stack import Deployment  # noqa: E402

from reminders.models import User  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
NOW = SESSION_END + timedelta(minutes=5)  # the frozen clock, as the API tests set it
SPREAD_DAYS = 60  # messages are due from NOW - 30 days to NOW + 30 days
PATIENTS = 1000  # the page data's patients, one enrollment each
PAGE_WARMUP = 5
PAGES = (
    ("dashboard  GET /", "/", "cookie"),
    ("patients   GET /api/patients?limit=50", "/api/patients?limit=50", "bearer"),
    ("patients   GET /patients", "/patients", "cookie"),
)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class BenchError(RuntimeError):
    pass


def say(message: str) -> None:
    stamp = f"{datetime.now():%H:%M:%S} load {os.getloadavg()[0]:.2f}"
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> str:
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return f"{os.cpu_count()} CPUs, {mem_kib / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}"


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of already-sorted values."""
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


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


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], numeric: set[int]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            f" {cell.rjust(w) if i in numeric else cell.ljust(w)} "
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "|" + "|".join(cells) + "|"

    return "\n".join([line, fmt(header), line, *(fmt(r) for r in rows), line])


# web processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def web(dep: Deployment, workers: int) -> Iterator[tuple[str, int]]:
    """`reminders web --workers N` on a free port: (its URL, its process group)."""
    label = f"web-{workers}"
    port = free_port()
    dep.start_process(
        label, "web", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)
    )
    process = dep.processes[label]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not answers(f"{url}/login"):  # /login, as stack.web_url waits (health may be degraded)
        if process.poll() is not None:
            raise BenchError(f"{label} exited with {process.returncode}; see {dep.logdir}")
        if time.monotonic() > deadline:
            raise BenchError(f"{label} did not answer on /login within 60 s")
        time.sleep(0.1)
    try:
        yield url, process.pid
    finally:
        stop(dep, label)


def stop(dep: Deployment, label: str) -> None:
    process = dep.processes.pop(label, None)
    if process is None:
        return
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)  # its own process group: reaches uvicorn's workers
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            say(f"{label} did not stop on {sig.name}")


def signed_in(url: str, email: str) -> httpx.Client:
    """An httpx client signed in through /login, as tests/browser.py signed_in_client does."""
    client = httpx.Client(base_url=url, timeout=60)
    found = CSRF.search(client.get("/login").text)
    if found is None:
        raise BenchError("no CSRF token in the /login form")
    done = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": found.group(1)}
    )
    if done.status_code != 303:
        raise BenchError(f"sign-in answered {done.status_code}, not 303")
    return client


# 1. enrollments through the API -----------------------------------------------------------


def enrollment_body(phone_number: int) -> dict[str, Any]:
    return {
        "first_name": "Alexandra",
        "last_name": "Bench",
        "phone": f"+1403{phone_number:07d}",
        "channel": "sms",
        "session_end": SESSION_END.isoformat(),
    }


def enroll_load(
    url: str, headers: dict[str, str], *, n: int, clients: int, phone_base: int, pgid: int
) -> dict[str, float]:
    """N enrollments from `clients` threads; each thread takes the next number until none left."""
    counter = iter(range(phone_base, phone_base + n + 2 * clients))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def next_number() -> int | None:
        with lock:
            return next(counter, None)

    def run(http: httpx.Client, count: int | None, record: bool) -> None:
        done = 0
        while count is None or done < count:
            number = next_number()
            if number is None:
                return
            started = time.perf_counter()
            try:
                answer = http.post("/api/enrollments", json=enrollment_body(number))
            except httpx.HTTPError as exc:
                failures.append(type(exc).__name__)
                return
            elapsed = time.perf_counter() - started
            if answer.status_code != 201:
                failures.append(str(answer.status_code))
                return
            done += 1
            if record:
                with lock:
                    latencies.append(elapsed)

    sessions = [httpx.Client(base_url=url, headers=headers, timeout=60) for _ in range(clients)]
    try:
        # warm-up: two requests a client, so every connection and process has answered once
        warm = [threading.Thread(target=run, args=(s, 2, False)) for s in sessions]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join(timeout=120)
        if failures:
            raise BenchError(f"warm-up enrollments failed: {failures[:5]}")
        cpu_before, bench_before = tree_cpu_seconds(pgid), time.process_time()
        threads = [threading.Thread(target=run, args=(s, None, True)) for s in sessions]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60 + n)
        wall = time.perf_counter() - started
        cpu, bench_cpu = tree_cpu_seconds(pgid) - cpu_before, time.process_time() - bench_before
    finally:
        for s in sessions:
            s.close()
    if failures or len(latencies) != n:
        raise BenchError(f"{len(latencies)} of {n} enrollments made; failures {failures[:5]}")
    latencies.sort()
    say(
        f"   web CPU {cpu / n * 1000:.1f} ms/enrollment, {cpu / wall:.2f} cores busy;"
        f" bench process (clients) {bench_cpu / n * 1000:.2f} ms/enrollment; {load()}"
    )
    return {
        "rate": n / wall,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "cores": cpu / wall,
    }


# 2. page data in bulk ---------------------------------------------------------------------


def reference_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        plan = c.scalar(text("SELECT id FROM aftercare_plan WHERE key = 'dry-needling'"))
        version = c.scalar(
            text(
                "SELECT tv.id FROM template_version tv JOIN message_template mt ON mt.id = tv.template_id"
                " WHERE mt.key = 'after-session' AND tv.locale = 'en' AND tv.status = 'published'"
                " ORDER BY tv.version DESC LIMIT 1"
            )
        )
    if plan is None or version is None:
        raise BenchError("`reminders init` did not load the dry-needling plan and its templates")
    return {"plan": plan, "version": version}


def clear_patients(engine: Engine) -> None:
    """Forget the API's enrollments, in this database of our own (CASCADE: the tables that
    point at these are empty too). The audit log keeps its rows: it is append-only."""
    with engine.begin() as c:
        c.execute(
            text(
                "TRUNCATE flag, reply, delivery_attempt, message, opt_out, enrollment, patient CASCADE"
            )
        )


def add_patients(engine: Engine, ref: dict[str, int], therapist_id: int) -> None:
    """PATIENTS patients (a third reachable by email too), one dry-needling enrollment each."""
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO patient (first_name, last_name, phone, email, language, time_zone,"
                " channel, consent_at, consent_method, consent_recorded_by, created_at)"
                " SELECT 'Pat', 'Bench' || g, '+1403' || (3000000 + g)::text,"
                " CASE WHEN g % 3 = 0 THEN 'pat' || g || '@example.com' END,"
                " CASE WHEN g % 5 = 0 THEN 'fr' ELSE 'en' END, 'America/Edmonton',"
                " CASE WHEN g % 3 = 0 THEN 'both' ELSE 'sms' END,"
                " :now - (g % 90) * interval '1 day', 'verbal', 'bench',"
                " :now - (g % 90) * interval '1 day'"
                " FROM generate_series(1, :n) g"
            ),
            {"n": PATIENTS, "now": NOW},
        )
        c.execute(
            text(
                "INSERT INTO enrollment (patient_id, plan_id, therapist_name, therapist_id,"
                " session_end, status, created_at)"
                " SELECT p.id, :plan, 'Sam Chen', :therapist, p.created_at,"
                " CASE WHEN p.id % 20 = 0 THEN 'cancelled' ELSE 'active' END, p.created_at"
                " FROM patient p ORDER BY p.id"
            ),
            {"plan": ref["plan"], "therapist": therapist_id},
        )


def add_messages(engine: Engine, ref: dict[str, int], first: int, last: int) -> None:
    """Message rows number `first` to `last - 1` (and their replies and flags): the same rows
    whatever the batches, so the large set is the small set plus more of the same."""
    if last <= first:
        return
    start = (NOW - timedelta(days=SPREAD_DAYS // 2)).astimezone(EDMONTON)
    start = start.replace(hour=8, minute=0, second=0, microsecond=0)
    with engine.begin() as c:
        c.execute(text("SET LOCAL statement_timeout = '30min'"))
        top_message = c.scalar(text("SELECT coalesce(max(id), 0) FROM message"))
        top_reply = c.scalar(text("SELECT coalesce(max(id), 0) FROM reply"))
        c.execute(
            text(
                "WITH fe AS (SELECT e.id, e.patient_id, row_number() OVER (ORDER BY e.id) - 1 AS rn"
                "  FROM enrollment e),"
                " s AS (SELECT g, :start + ((g * 7919) % :days) * interval '1 day'"
                "  + ((g * 104729) % 46800) * interval '1 second' AS due, (g * 31) % 100 AS r"
                "  FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint) - 1) g),"
                " t AS (SELECT s.*, CASE WHEN s.due < :now THEN CASE"
                "   WHEN r < 70 THEN 'delivered' WHEN r < 85 THEN 'sent' WHEN r < 88 THEN 'undelivered'"
                "   WHEN r < 90 THEN 'failed' WHEN r < 95 THEN 'skipped' ELSE 'cancelled' END"
                "  ELSE CASE WHEN r < 95 THEN 'scheduled' ELSE 'cancelled' END END AS status,"
                "  CASE WHEN g % 10 < 7 THEN 'sms' ELSE 'email' END AS channel FROM s)"
                " INSERT INTO message (enrollment_id, patient_id, step_key, channel, locale,"
                " template_version_id, checkin, status, due_at, next_attempt_at,"
                " max_lateness_seconds, lease_expires_at, attempts, provider_id, subject, body,"
                " to_address, sent_at, delivered_at, error_code, reason, created_at, updated_at)"
                " SELECT fe.id, fe.patient_id, 'day-' || (t.g / :e), t.channel, 'en', :tv,"
                " t.g % 4 = 0, t.status, t.due, t.due, 10800, NULL,"
                " CASE WHEN t.status IN ('scheduled', 'skipped', 'cancelled') THEN 0 ELSE 1 END,"
                " CASE WHEN t.channel = 'sms' AND t.status IN ('sent', 'delivered', 'undelivered')"
                "  THEN 'SM' || md5(t.g::text) END,"
                " CASE WHEN t.channel = 'email' THEN 'Your care after today''s session' END,"
                " CASE WHEN t.status IN ('sent', 'delivered', 'undelivered', 'failed') THEN"
                "  'Hi Pat, this is Bow River Physiotherapy. How is your pain today, 0 to 10?'"
                "  || ' Reply with a number. Reply STOP to opt out.' END,"
                " CASE WHEN t.status IN ('sent', 'delivered', 'undelivered', 'failed') THEN"
                "  '+1403' || (3000000 + fe.rn + 1)::text END,"
                " CASE WHEN t.status IN ('sent', 'delivered', 'undelivered')"
                "  THEN t.due + interval '2 seconds' END,"
                " CASE WHEN t.status = 'delivered' THEN t.due + interval '5 seconds' END,"
                " CASE WHEN t.status IN ('undelivered', 'failed') THEN '30003' END,"
                " CASE WHEN t.status = 'skipped' THEN 'Too late to send: past the step''s window'"
                "  WHEN t.status = 'cancelled' THEN 'The enrollment was cancelled' END,"
                " t.due - interval '1 day', t.due - interval '1 day'"
                " FROM t JOIN fe ON fe.rn = t.g % :e"
            ),
            {
                "start": start,
                "days": SPREAD_DAYS,
                "first": first,
                "last": last,
                "now": NOW,
                "e": PATIENTS,
                "tv": ref["version"],
            },
        )
        c.execute(
            text(
                "INSERT INTO reply (patient_id, checkin_message_id, channel, provider_id,"
                " from_address, received_at, text, kind, score, answer)"
                " SELECT m.patient_id, m.id, m.channel,"
                " CASE WHEN m.channel = 'sms' THEN 'SMr' || md5(m.id::text) END,"
                " m.to_address, m.sent_at + interval '20 minutes', (m.id % 11)::text, 'score',"
                " m.id % 11, NULL"
                " FROM message m WHERE m.id > :top AND m.checkin"
                " AND m.status IN ('sent', 'delivered') AND m.id % 10 < 4"
            ),
            {"top": top_message},
        )
        c.execute(
            text(
                "INSERT INTO flag (patient_id, reply_id, reason, opened_at, closed_at, closed_by)"
                " SELECT r.patient_id, r.id, 'Pain 9 or more out of 10', r.received_at,"
                " CASE WHEN r.id % 5 = 0 THEN NULL ELSE r.received_at + interval '1 day' END,"
                " CASE WHEN r.id % 5 = 0 THEN NULL ELSE 'Sam Chen' END"
                " FROM reply r WHERE r.id > :top AND r.score >= 9"
            ),
            {"top": top_reply},
        )


def vacuum_analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("SET statement_timeout = '30min'"))
        for name in ("patient", "enrollment", "message", "reply", "flag"):
            c.execute(text(f"VACUUM (ANALYZE) {name}"))
        # the inserted rows are written out now, not by a checkpoint during the timed requests
        c.execute(text("CHECKPOINT"))


def data_counts(engine: Engine) -> str:
    with engine.connect() as c:
        parts = []
        for name in ("patient", "enrollment", "message", "reply", "flag"):
            parts.append(f"{name} {c.scalar(text(f'SELECT count(*) FROM {name}')):,}")
        parts.append(
            "message table + indexes "
            + str(c.scalar(text("SELECT pg_size_pretty(pg_total_relation_size('message'))")))
        )
        return ", ".join(parts)


# 2. page times ----------------------------------------------------------------------------


def page_times(
    url: str, email: str, headers: dict[str, str], requests: int
) -> dict[str, list[float]]:
    """Sequential requests, the pages interleaved: each page sees the same machine."""
    cookie = signed_in(url, email)
    bearer = httpx.Client(base_url=url, headers=headers, timeout=60)
    times: dict[str, list[float]] = {label: [] for label, _, _ in PAGES}
    try:
        for round_number in range(PAGE_WARMUP + requests):
            for label, path, how in PAGES:
                client = cookie if how == "cookie" else bearer
                started = time.perf_counter()
                answer = client.get(path)
                elapsed = time.perf_counter() - started
                if answer.status_code != 200:
                    raise BenchError(f"{path} answered {answer.status_code}")
                if round_number >= PAGE_WARMUP:
                    times[label].append(elapsed)
    finally:
        cookie.close()
        bearer.close()
    return times


def page_statements(engine: Engine, user_id: int) -> dict[str, list[tuple[str, Any]]]:
    """The SQL each page's handler runs, captured by calling it in this process (the request's
    own sign-in and session statements are left out: they do not read messages)."""
    from reminders.api.patients import list_patients
    from reminders.web.dashboard import home
    from reminders.web.patient_list import patients_page

    calls: dict[str, Callable[[User, Session], Any]] = {
        PAGES[0][0]: lambda user, session: home(user, session),
        PAGES[1][0]: lambda user, session: list_patients(
            user, session, name="", limit=50, offset=0
        ),
        PAGES[2][0]: lambda user, session: patients_page(user, session, q="", page_number="1"),
    }
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    found: dict[str, list[tuple[str, Any]]] = {}
    for label, call in calls.items():
        with Session(engine) as session:
            user = session.get(User, user_id)
            assert user is not None
            event.listen(engine, "before_cursor_execute", capture)
            try:
                call(user, session)
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            session.rollback()
        found[label] = [s for s in captured if "clock_setting" not in s[0]]
        captured.clear()
    return found


def explain(engine: Engine, statement: str, parameters: Any) -> tuple[float, str]:
    with engine.connect() as c:
        rows = c.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = "\n".join(row[0] for row in rows)
        c.rollback()
    found = re.search(r"Execution Time: ([0-9.]+) ms", plan)
    return (float(found.group(1)) if found else 0.0), plan


def explain_pages(engine: Engine, user_id: int, messages: int, *, full: bool) -> None:
    for label, statements in page_statements(engine, user_id).items():
        timed = [(*explain(engine, s, p), s) for s, p in statements]
        summary = ", ".join(f"{ms:.1f}" for ms, _, _ in timed)
        say(
            f"   SQL of {label.split()[-1]} at {messages:,} messages: {len(timed)} statements, ms {summary}"
        )
        if full and timed:
            ms, plan, statement = max(timed, key=lambda item: item[0])
            one_line = " ".join(statement.split())
            say(f"   slowest ({ms:.1f} ms): {one_line[:300]}\n{plan}")


# main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages-small", type=int, default=10_000)
    parser.add_argument("--messages-large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--enrollments", type=int, default=400, help="timed, per server")
    parser.add_argument("--clients", type=int, default=8, help="concurrent API clients")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_WEB_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="a Redis db nothing else uses (sign-in limits only)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2k / 20k messages, 100 enrollments"
    )
    args = parser.parse_args()
    if args.quick:
        args.messages_small, args.messages_large = 2_000, 20_000
        args.enrollments, args.requests = 100, 10
    if not 0 < args.messages_small < args.messages_large:
        parser.error("need 0 < --messages-small < --messages-large")
    if args.requests < 1 or args.enrollments < 1 or args.clients < 1:
        parser.error("--requests, --enrollments and --clients must be >= 1")

    def on_sigterm(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)

    started_at = datetime.now(UTC)
    load_at_start = load()
    print(f"# {started_at:%Y-%m-%d %H:%M} UTC, {machine()}, {load_at_start}", file=sys.stderr)
    name = f"bench_web_{os.getpid()}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    twilio, smtp = FakeTwilio(), FakeSmtp()
    dep: Deployment | None = None
    failed, created = True, False
    api: dict[int, dict[str, float]] = {}
    pages: dict[int, dict[str, list[float]]] = {}
    try:
        redis.Redis.from_url(args.redis_url, socket_connect_timeout=3).ping()
        with admin.connect() as c:
            postgres = c.scalar(text("SHOW server_version"))
            c.execute(text(f'CREATE DATABASE "{name}"'))
            created = True
        say(f"PostgreSQL {postgres}, database {name}, Redis {args.redis_url}")
        twilio.start()  # Deployment's environment names them; the web app never calls them
        smtp.start()
        dep = Deployment("bench-web", url, args.redis_url, twilio, smtp, ROOT)
        dep.init()
        dep.set_clock(NOW)
        therapist = account(dep)

        for number, workers in enumerate((1, 2)):
            say(
                f"1. {args.enrollments} enrollments, {args.clients} clients, web --workers {workers}"
            )
            with web(dep, workers) as (base, pgid):
                api[workers] = enroll_load(
                    base,
                    therapist.headers,
                    n=args.enrollments,
                    clients=args.clients,
                    phone_base=2_000_000 + number * 1_000_000,
                    pgid=pgid,
                )
            say(f"   {api[workers]['rate']:.1f} enrollments/s")

        say(f"2. page data: {PATIENTS} patients, {args.messages_small:,} messages")
        clear_patients(dep.engine)
        ref = reference_ids(dep.engine)
        add_patients(dep.engine, ref, therapist.id)
        add_messages(dep.engine, ref, 0, args.messages_small)
        vacuum_analyze(dep.engine)
        say(f"   {data_counts(dep.engine)}")
        with web(dep, 1) as (base, _):
            pages[args.messages_small] = page_times(
                base, therapist.email, therapist.headers, args.requests
            )
            explain_pages(dep.engine, therapist.id, args.messages_small, full=False)
            say(f"3. inserting up to {args.messages_large:,} messages")
            began = time.perf_counter()
            add_messages(dep.engine, ref, args.messages_small, args.messages_large)
            vacuum_analyze(dep.engine)
            say(f"   {data_counts(dep.engine)}; {time.perf_counter() - began:.0f} s")
            pages[args.messages_large] = page_times(
                base, therapist.email, therapist.headers, args.requests
            )
            explain_pages(dep.engine, therapist.id, args.messages_large, full=True)
        failed = False
    finally:
        if dep is not None:
            for label in list(dep.processes):
                stop(dep, label)
            dep.engine.dispose()
            if failed:
                say(f"logs kept in {dep.logdir}")
            else:
                shutil.rmtree(dep.logdir, ignore_errors=True)
        with contextlib.suppress(redis.RedisError):
            broker = redis.Redis.from_url(args.redis_url, socket_connect_timeout=3)
            for key in broker.scan_iter("reminders:login-fail:*"):
                broker.delete(key)
        twilio.stop()
        smtp.stop()
        if created:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print(f"# started {started_at:%Y-%m-%d %H:%M} UTC, {load_at_start}; at the end {load()}")
    api_rows = [
        (
            f"web --workers {workers}",
            str(args.clients),
            str(args.enrollments),
            f"{figures['rate']:.1f}",
            f"{figures['p50'] * 1000:.0f}",
            f"{figures['p99'] * 1000:.0f}",
            f"{figures['cores']:.2f}",
        )
        for workers, figures in api.items()
    ]
    print(
        table(
            (
                "POST /api/enrollments",
                "clients",
                "timed",
                "enrollments/s",
                "p50 ms",
                "p99 ms",
                "web cores",
            ),
            api_rows,
            {1, 2, 3, 4, 5, 6},
        )
    )
    small, large = args.messages_small, args.messages_large
    page_rows = []
    for label, _, _ in PAGES:
        a, b = statistics.median(pages[small][label]), statistics.median(pages[large][label])
        ratio = b / a
        page_rows.append(
            (
                label,
                f"{a * 1000:.1f}",
                f"{b * 1000:.1f}",
                f"{ratio:.2f}",
                "<= 1.5",
                "yes" if ratio <= 1.5 else "NO",
            )
        )
    print(
        table(
            (
                f"page (p50 of {args.requests})",
                f"{small:,} msgs ms",
                f"{large:,} msgs ms",
                "ratio",
                "target",
                "ok",
            ),
            page_rows,
            {1, 2, 3},
        )
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, AssertionError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        sys.exit(1)
