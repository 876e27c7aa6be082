"""One error tree: a domain error reaches a script as its status and one plain line, and the
command line as its exit code, through the one web handler and the one CLI handler."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from factories import account
from stack import Deployment
from test_api_enrollments import PATIENT, SESSION_END, api, enroll
from test_cli import GOOD, run


def test_it_answers_an_unknown_patient_with_a_404_and_one_plain_line(stack: Deployment) -> None:
    # Given an admin's script
    admin = account(stack, "admin")

    # When it erases a patient who does not exist
    with api(stack, admin) as client:
        answer = client.delete("/api/patients/999999")

    # Then 404, JSON, and the domain's own words
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"detail": "There is no patient 999999."}


def test_it_answers_a_bad_enrollment_with_a_422_and_a_refused_change_with_a_409(
    stack: Deployment,
) -> None:
    # Given a therapist's script
    therapist = account(stack)
    stack.set_clock(SESSION_END + timedelta(minutes=5))

    with api(stack, therapist) as client:
        # When it enrolls a session that ends tomorrow
        future = client.post(
            "/api/enrollments", json={**PATIENT, "session_end": "2026-11-25T14:00:00-07:00"}
        )
        # Then 422, saying why in one line
        assert future.status_code == 422, future.text
        assert list(future.json()) == ["detail"]
        assert future.json()["detail"].startswith("session end is in the future")

    # When it pauses an enrollment twice
    enrolled = enroll(stack, therapist)
    with api(stack, therapist) as client:
        assert client.post(f"/api/enrollments/{enrolled['id']}/pause").status_code == 200
        again = client.post(f"/api/enrollments/{enrolled['id']}/pause")

    # Then 409, saying why
    assert again.status_code == 409
    assert again.json() == {"detail": f"enrollment {enrolled['id']} is paused, not active"}


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
