"""Send-rate benchmark: N one-segment texts due at one instant, SEND_RATE_SMS=R, two workers.

    .venv/bin/python bench/rate_limit.py [--messages 200] [--rate 5] [--workers 2]

Real worker processes (each `python -m reminders worker --concurrency 2`), the real scheduler,
PostgreSQL (a database of its own, `reminders_rate_<pid>`, dropped at the end), the Redis at
TEST_REDIS_URL, FakeTwilio as the provider; the production defaults (1 s dispatch tick), as in
bench/delivery.py. Each patient was texted before, so every text is the one-segment
`same-evening` reminder without the first text's opt-out line.

Prints one table: the most segments FakeTwilio received in any one-second window (a window
starting at each arrival: the sliding window, stricter than calendar seconds), the run's
duration (clock moved past due -> last text at FakeTwilio) against the ideal of
(N - R) / R seconds (the first R go at once), the rate used, how many times a text was held
back, and duplicates. Texts per calendar second go to stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from delivery import (
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    ROOT,
    SESSION_END,
    TEST_OVERRIDES,
    BenchError,
    Deployment,
    RedisWatch,
    add_due_messages,
    add_patients,
    clean_up,
    load,
    say,
    start,
    table,
    vacuum_analyze,
)
from fakes import FakeSmtp, FakeTwilio
from sqlalchemy import create_engine, text

from reminders.content.rendering import sms_cost

STEP = "same-evening"


def texted_before(dep: Deployment, tag: str) -> None:
    """One earlier text to each patient, so the reminder carries no opt-out line."""
    with dep.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO message (enrollment_id, patient_id, step_key, channel, locale,"
                " template_version_id, checkin, status, due_at, next_attempt_at,"
                " max_lateness_seconds, attempts, created_at, updated_at, sent_at, to_address)"
                " SELECT m.enrollment_id, m.patient_id, 'earlier', 'sms', 'en',"
                " m.template_version_id, false, 'sent', m.due_at - interval '1 day',"
                " m.due_at - interval '1 day', 3600, 1, m.created_at, m.created_at,"
                " m.due_at - interval '1 day', p.phone"
                " FROM message m JOIN patient p ON p.id = m.patient_id WHERE p.last_name = :tag"
            ),
            {"tag": tag},
        )


def busiest_second(received: list[tuple[datetime, int]]) -> int:
    return max(
        sum(s for at, s in received if start <= at < start + timedelta(seconds=1))
        for start, _ in received
    )


def run(n: int, rate: int, workers: int) -> dict[str, Any]:
    name = f"reminders_rate_{os.getpid()}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    twilio, smtp = FakeTwilio().start(), FakeSmtp().start()
    dep: Deployment | None = None
    failed, created = True, False
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
            created = True
        dep = Deployment("rate", url, REDIS_URL, twilio, smtp, ROOT)
        for key in TEST_OVERRIDES:
            dep.env.pop(key, None)
        dep.env.update(SEND_RATE_SMS=str(rate))
        dep.init()
        with dep.engine.connect() as c:
            plan = c.scalar(text("SELECT id FROM aftercare_plan WHERE key = 'dry-needling'"))
            version = c.scalar(
                text(
                    "SELECT tv.id FROM template_version tv JOIN message_template mt"
                    " ON mt.id = tv.template_id WHERE mt.key = :step AND tv.locale = 'en'"
                    " AND tv.status = 'published' ORDER BY tv.version DESC LIMIT 1"
                ),
                {"step": STEP},
            )
        ref = {"plan": plan, "version": version, "lateness": 3600}
        due = SESSION_END + timedelta(minutes=30)
        dep.set_clock(due - timedelta(minutes=1))
        add_patients(dep.engine, ref, "rate", n, 5_000_000, SESSION_END)
        if add_due_messages(dep.engine, ref, "rate", due, step=STEP) != n:
            raise BenchError("not all messages were inserted")
        texted_before(dep, "rate")
        vacuum_analyze(dep.engine)
        watch = RedisWatch(REDIS_URL, dep.queue)
        for w in range(workers):
            start(dep, f"worker-{w}", "worker", "--concurrency", "2", ready=b" ready.")
        start(dep, "scheduler", "scheduler", ready=b"scheduler started")
        time.sleep(2.5)  # a few idle ticks, as bench/delivery.py
        say(f"{n} texts due, SEND_RATE_SMS={rate}, {workers} workers; {load()}")
        moved = datetime.now(UTC)
        dep.set_clock(due + timedelta(seconds=1))  # frozen just after due
        deadline = time.monotonic() + 60 + 2 * n / rate
        while len(twilio.messages) < n:
            watch.check("rate")
            if time.monotonic() > deadline:
                raise BenchError(f"only {len(twilio.messages)} of {n} texts arrived in time")
            time.sleep(0.2)
        time.sleep(2)  # anything extra (a duplicate) would arrive now
        received = sorted(
            (m["received_at"], sms_cost(str(m["body"])).segments) for m in twilio.messages
        )
        with dep.engine.connect() as c:
            statuses = dict(
                c.execute(
                    text(
                        "SELECT status, count(*) FROM message WHERE step_key = :s GROUP BY status"
                    ),
                    {"s": STEP},
                ).all()
            )
        held = sum(
            (dep.logdir / f"worker-{w}.log").read_text().count(": waiting its turn")
            for w in range(workers)
        )
        per_second: dict[int, int] = {}
        for at, segments in received:
            second = math.floor((at - moved).total_seconds())
            per_second[second] = per_second.get(second, 0) + segments
        say(
            "segments per calendar second after due: "
            + " ".join(f"{per_second.get(s, 0)}" for s in range(max(per_second) + 1))
        )
        failed = False
        return {
            "received": received,
            "moved": moved,
            "statuses": statuses,
            "held": held,
            "distinct": len({m["to"] for m in twilio.messages}),
        }
    finally:
        clean_up(dep, twilio, smtp, admin, name if created else None, failed=failed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=int, default=5, help="SEND_RATE_SMS (segments/s)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    n, rate = args.messages, args.rate
    result = run(n, rate, args.workers)
    received = result["received"]
    busiest = busiest_second(received)
    segments = sum(s for _, s in received)
    duration = (received[-1][0] - result["moved"]).total_seconds()
    spread = (received[-1][0] - received[0][0]).total_seconds()
    ideal = (segments - rate) / rate
    target = 1.05 * segments / rate  # 95 % of the rate from the moment they are due: 42 s
    extra = len(received) - result["distinct"]
    ok = {True: "yes", False: "NO"}
    rows = [
        ("texts (segments) at FakeTwilio", f"{len(received)} ({segments})", "", f"{n}", ok[len(received) == n]),
        ("most segments in any 1 s window", f"{busiest}", "segments", f"<= {rate}", ok[busiest <= rate]),
        ("due -> last text at FakeTwilio", f"{duration:.1f}", "s", f"<= {target:.0f}", ok[duration <= target]),
        ("first -> last text at FakeTwilio", f"{spread:.1f}", "s", f"ideal {ideal:.0f}", ""),
        ("rate used, first -> last", f"{(segments - rate) / spread / rate:.1%}", "of rate", ">= 95%", ok[(segments - rate) / spread >= 0.95 * rate]),
        ("times a text was held back", f"{result['held']}", "", "", ""),
        ("rows sent / duplicates at FakeTwilio", f"{result['statuses'].get('sent', 0)} / {extra}", "", f"{n} / 0", ok[result["statuses"] == {"sent": n} and extra == 0]),
    ]  # fmt: skip
    print(table(rows))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, AssertionError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        sys.exit(1)
