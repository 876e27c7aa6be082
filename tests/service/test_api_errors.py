"""One error tree: a domain error reaches a script as its status and one plain line, through
the one web handler (the web app in this process, on SQLite and PostgreSQL). (The command
line's exit codes: tests/system/test_errors.py.)"""

from __future__ import annotations

from datetime import timedelta

from factories import account
from in_process import InProcessWeb
from test_api_enrollments import PATIENT, SESSION_END, api, enroll


def test_it_answers_an_unknown_patient_with_a_404_and_one_plain_line(stack: InProcessWeb) -> None:
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
    stack: InProcessWeb,
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
