"""bench/web.py --quick runs end to end and prints its tables: a smoke test, no timings checked.

It needs PostgreSQL and Redis as the rest of the suite does; the script makes and drops a
database of its own, and uses the suite's Redis database (BENCH_WEB_REDIS_URL), not the
script's default db 14, which other runs on this machine may be using.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    "dashboard  GET /",
    "patients   GET /api/patients?limit=50",
    "patients   GET /patients",
)


def test_the_quick_web_benchmark_prints_a_row_per_server_and_per_page(redis_url: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "web.py"), "--quick"],
        env={**os.environ, "BENCH_WEB_REDIS_URL": redis_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("| POST /api/enrollments ") for line in lines), done.stdout
    assert any(line.startswith("| page (p50 of ") for line in lines), done.stdout
    for workers in (1, 2):
        assert sum(line.startswith(f"| web --workers {workers} ") for line in lines) == 1
    for page in PAGES:
        rows = [line for line in lines if line.startswith(f"| {page} ")]
        assert len(rows) == 1, done.stdout
        # yes or NO, however wide the column (a loaded machine may answer NO on every row)
        assert re.search(r"\| (yes|NO) +\|$", rows[0].rstrip()), rows[0]
    # the fake patients' names and numbers are never printed
    for private in ("Alexandra", "Bench", "+1403", "@example.com"):
        assert private not in done.stdout + done.stderr
