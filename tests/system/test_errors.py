"""One error tree: a domain error reaches the command line as its exit code and one plain line,
through the one CLI handler. (Through the one web handler, to a script as its status:
tests/service/test_api_errors.py.)"""

from __future__ import annotations

from pathlib import Path

from test_cli import GOOD, run


def test_it_exits_2_on_bad_input_and_1_on_a_missing_patient(tmp_path: Path) -> None:
    # Given a clinic set up
    assert run(tmp_path, "init").returncode == 0

    # When an enrollment has a bad phone number
    bad = GOOD.copy()
    bad[bad.index("--phone") + 1] = "12345"
    refused = run(tmp_path, "enroll", *bad)

    # Then exit 2 and one line
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith("error: phone number is not")
    assert refused.stderr.count("\n") == 1

    # When someone erases a patient who does not exist
    missing = run(tmp_path, "patients", "erase", "999", "--yes")

    # Then exit 1 and one line
    assert missing.returncode == 1, missing.stderr
    assert missing.stderr == "error: there is no patient 999\n"
