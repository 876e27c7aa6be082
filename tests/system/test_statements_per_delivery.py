"""How much SQL one delivery takes (issue 10): bench/deliver_profile.py delivers a few texts in
process, against FakeTwilio and a SQLite file, and counts statements and commits.

The counts do not depend on the machine's load, so they are held exactly: a change that adds a
statement to every delivery shows here, and docs/benchmarks.md says what each one is for.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project (this file is in tests/system/)


def test_it_delivers_a_text_in_nine_statements_and_three_transactions() -> None:
    done = subprocess.run(
        [sys.executable, "bench/deliver_profile.py", "--messages", "5", "--database", "sqlite"],
        cwd=ROOT,
        env={**os.environ, "SEND_RATE_SMS": "0", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-4000:]
    counts = dict(
        re.findall(r"^(SQL statements|transactions) per message\s+([0-9.]+)", done.stdout, re.M)
    )
    # SQLite: each of the 3 transactions also counts its BEGIN IMMEDIATE (reminders/db.py);
    # the 9 others: the recorded clock (the script records one), the claim, the message, the
    # clinic rules, the attempt; the hand-over (lease, attempt); the outcome (attempt, message).
    assert counts == {"SQL statements": "12.0", "transactions": "3.0"}, done.stdout
