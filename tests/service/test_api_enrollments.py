"""The enrollments API, through the web app in this process on SQLite and PostgreSQL: a
therapist's script enrolls, repeats a request safely, lists, pauses and cancels; bad input
changes nothing. (Pausing with the worker holding a due message back: tests/system/
test_enrollment_pauses.py.)"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from factories import PASSWORD, Account, account
from in_process import InProcessWeb, web_client
from sqlalchemy import func, select
from stack import Deployment

from reminders.models import AuditEvent, Enrollment, Message, Patient

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
PATIENT = {
    "first_name": "Alexandra",
    "last_name": "Tremblay",
    "phone": "(403) 555-0123",
    "channel": "sms",
    "session_end": "2026-11-24T14:00:00-07:00",
}


def api(stack: Deployment, who: Account | None = None) -> httpx.Client:
    """A script's client of the stack's web app, with `who`'s bearer token."""
    return web_client(stack, who.headers if who else None)


def counts(stack: Deployment) -> dict[str, int]:
    with stack.session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Patient, Enrollment, Message, AuditEvent)
        }


def audit(stack: Deployment) -> list[AuditEvent]:
    with stack.session() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def enroll(stack: Deployment, who: Account, **changes: Any) -> dict[str, Any]:
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    with api(stack, who) as client:
        answer = client.post("/api/enrollments", json={**PATIENT, **changes})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_it_enrolls_a_patient_and_answers_with_the_messages_in_local_time(
    stack: InProcessWeb,
) -> None:
    therapist = account(stack)
    body = enroll(stack, therapist)

    assert body["status"] == "active" and body["dry_run"] is False
    assert body["therapist_name"] == therapist.name and body["therapist_id"] == therapist.id
    assert [(m["step"], m["due_at"]) for m in body["messages"]][:2] == [
        ("after-session", "2026-11-24T14:30:00-07:00"),
        ("same-evening", "2026-11-24T19:00:00-07:00"),
    ]
    with stack.session() as session:
        row = session.get_one(Enrollment, body["id"])
        assert (row.patient_id, row.therapist_id) == (body["patient_id"], therapist.id)
        assert session.get_one(Patient, body["patient_id"]).phone == "+14035550123"
    assert len(stack.messages(enrollment_id=body["id"])) == len(body["messages"]) == 5
    created = [e for e in audit(stack) if e.action == "enrollment.created"]
    assert [e.actor for e in created] == [therapist.email]
    assert "Alexandra" not in json.dumps(created[0].detail)
    assert "4035550123" not in json.dumps(created[0].detail)


def test_it_enrolls_once_for_a_repeated_idempotency_key(stack: InProcessWeb) -> None:
    therapist = account(stack)
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    key = {"Idempotency-Key": f"tablet-{uuid.uuid4()}"}
    with api(stack, therapist) as client:
        first = client.post("/api/enrollments", json=PATIENT, headers=key)
        before = counts(stack)
        again = client.post("/api/enrollments", json=PATIENT, headers=key)
        assert counts(stack) == before
        other = client.post("/api/enrollments", json={**PATIENT, "first_name": "Sam"}, headers=key)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert other.status_code == 409
    assert other.json() == {"detail": "This Idempotency-Key was used for a different enrollment."}
    assert counts(stack) == before
    with stack.session() as session:
        assert session.scalar(select(func.count()).select_from(Enrollment)) == 1


def test_it_plans_without_saving_anything_on_a_dry_run(stack: InProcessWeb) -> None:
    therapist = account(stack)
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    before = counts(stack)
    with api(stack, therapist) as client:
        answer = client.post("/api/enrollments", json={**PATIENT, "dry_run": True})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["id"], body["status"], body["dry_run"]) == (None, "dry_run", True)
    assert body["messages"][0] == {
        "id": None,
        "step": "after-session",
        "channel": "sms",
        "due_at": "2026-11-24T14:30:00-07:00",
        "status": "scheduled",
        "reason": None,
    }
    assert counts(stack) == before


def test_it_refuses_bad_enrollments_with_a_clear_reason_and_writes_nothing(
    stack: InProcessWeb,
) -> None:
    therapist = account(stack)
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    before = counts(stack)
    cases = {
        "phone number is not": {"phone": "12345"},
        "email address is not valid": {"channel": "email", "email": "alex@@example"},
        "unknown time zone 'Mars/Olympus'": {"time_zone": "Mars/Olympus"},
        "session end is in the future": {"session_end": "2026-11-25T14:00:00-07:00"},
        "session_end needs a UTC offset": {"session_end": "2026-11-24T14:00:00"},
        "session_end must be 'now' or ISO 8601": {"session_end": "yesterday"},
        "unknown plan 'hip'": {"plan_key": "hip"},
        "needs an email address": {"channel": "both"},
    }
    with api(stack, therapist) as client:
        for words, change in cases.items():
            answer = client.post("/api/enrollments", json={**PATIENT, **change})
            assert answer.status_code == 422, (change, answer.text)
            assert words in answer.json()["detail"], (change, answer.text)
        for change in ({"first_name": "x" * 81}, {"channel": "fax"}, {"shoe_size": 9}):
            answer = client.post("/api/enrollments", json={**PATIENT, **change})
            assert answer.status_code == 422, (change, answer.text)
            assert answer.json()["detail"].startswith(f"{next(iter(change))}: "), answer.text
        huge = client.post("/api/enrollments", json={**PATIENT, "last_name": "x" * 70_000})
        assert huge.status_code == 413
        assert huge.json() == {"detail": "The request body is over 64 KiB."}
    assert counts(stack) == before


def test_it_lists_every_enrollment_to_every_therapist_with_filters(stack: InProcessWeb) -> None:
    first, second = account(stack), account(stack)
    mine = enroll(stack, first)
    theirs = enroll(stack, second, phone="403 555 0124", first_name="Jordan")
    with api(stack, first) as client:
        client.post(f"/api/enrollments/{theirs['id']}/cancel").raise_for_status()
        everyone = client.get("/api/enrollments").json()
        cancelled = client.get("/api/enrollments", params={"status": "cancelled"}).json()
        by_patient = client.get("/api/enrollments", params={"patient_id": mine["patient_id"]})
        one = client.get(f"/api/enrollments/{theirs['id']}")
        bad_status = client.get("/api/enrollments", params={"status": "finished"})

    assert [e["id"] for e in everyone["items"]] == [theirs["id"], mine["id"]]
    assert everyone["total"] == 2
    assert [e["id"] for e in cancelled["items"]] == [theirs["id"]]
    assert [e["id"] for e in by_patient.json()["items"]] == [mine["id"]]
    assert everyone["items"][0]["patient_name"] == "Jordan Tremblay"
    assert one.json()["status"] == "cancelled" and one.json()["therapist_id"] == second.id
    assert bad_status.status_code == 422


def test_it_answers_404_for_an_enrollment_that_does_not_exist(stack: InProcessWeb) -> None:
    with api(stack, account(stack)) as client:
        for answer in (
            client.get("/api/enrollments/424242"),
            client.post("/api/enrollments/424242/pause"),
            client.post("/api/enrollments/424242/resume"),
            client.post("/api/enrollments/424242/cancel"),
        ):
            assert answer.status_code == 404
            assert answer.json() == {"detail": "There is no enrollment 424242."}
        assert client.get("/api/enrollments/99999999999").status_code == 422


def test_it_requires_a_valid_token(stack: InProcessWeb) -> None:
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    before = counts(stack)
    forged = Account(0, "", "", {"Authorization": "Bearer rmd_not-a-real-token"})
    for who in (None, forged):
        with api(stack, who) as client:
            assert client.get("/api/enrollments").status_code == 401
            answer = client.post("/api/enrollments", json=PATIENT)
            assert answer.status_code == 401 and answer.json()["detail"]
    assert counts(stack) == before


def test_it_refuses_a_cookie_session_post_without_the_csrf_header(stack: InProcessWeb) -> None:
    therapist = account(stack)
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    with api(stack) as browser:
        form = browser.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        signed_in = browser.post(
            "/login", data={"email": therapist.email, "password": PASSWORD, "csrf": csrf}
        )
        assert signed_in.status_code == 303
        assert browser.get("/api/enrollments").status_code == 200
        # The sign-in's audit event is committed after its response (request_context.get_db)
        stack.wait_until(lambda: [e for e in audit(stack) if e.action == "login"], what="login")
        before = counts(stack)
        refused = browser.post("/api/enrollments", json=PATIENT)
        assert refused.status_code == 403 and "form expired" in refused.json()["detail"]
        assert counts(stack) == before
        cookie = browser.cookies["reminders_session"].split(".")[0]
        token = json.loads(base64.b64decode(cookie + "=" * (-len(cookie) % 4)))["csrf"]
        accepted = browser.post("/api/enrollments", json=PATIENT, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["therapist_id"] == therapist.id
