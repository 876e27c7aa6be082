"""The admin API through the web app in this process, on SQLite and PostgreSQL: clinic
settings, plans, users and the audit log, for admins only. Settings and plans outlive
stack.reset(), so each test puts them back."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from factories import PASSWORD, account, new_token
from in_process import InProcessWeb
from test_api_enrollments import PATIENT, Account, api, audit, enroll

SETTINGS = {
    "name": "Elbow River Physio",
    "phone": "403-555-0199",
    "time_zone": "America/Toronto",
    "alert_email": "Alerts@Elbow.example",
    "quiet_hours_start": "22:00",
    "quiet_hours_end": "7:30",
    "cap_per_day": 1,
    "cap_per_week": 3,
}


@contextmanager
def restored(client: httpx.Client, path: str) -> Iterator[dict[str, Any]]:
    """The resource as it is now; put back as it was whatever the test does to it."""
    original = client.get(path).json()
    try:
        yield copy.deepcopy(original)
    finally:
        body = {k: v for k, v in original.items() if k not in ("key", "updated_at")}
        client.put(path, json=body).raise_for_status()


def plan_body(plan: dict[str, Any]) -> dict[str, Any]:
    steps = [{k: v for k, v in s.items() if v is not None} for s in plan["steps"]]
    return {"name": plan["name"], "description": plan["description"], "steps": steps}


def test_it_keeps_admin_routes_from_therapists_and_strangers(stack: InProcessWeb) -> None:
    therapist, admin = account(stack), account(stack, "admin")
    routes = [
        ("GET", "/api/settings", None),
        ("PUT", "/api/settings", SETTINGS),
        ("GET", "/api/plans", None),
        ("GET", "/api/plans/dry-needling", None),
        ("PUT", "/api/plans/dry-needling", {"name": "x", "steps": []}),
        ("GET", "/api/users", None),
        ("POST", "/api/users", {"email": "x@example.com", "name": "X", "password": PASSWORD}),
        ("POST", f"/api/users/{admin.id}/deactivate", None),
        ("POST", f"/api/users/{admin.id}/reset-password", None),
        ("GET", "/api/audit", None),
    ]
    before = audit(stack)
    for who, status in ((therapist, 403), (None, 401)):
        with api(stack, who) as client:
            for method, path, body in routes:
                answer = client.request(method, path, json=body)
                assert answer.status_code == status, (method, path, answer.text)
                assert answer.json()["detail"] in ("Only an admin can do this.", "Sign in first.")
    assert len(audit(stack)) == len(before)
    with api(stack, admin) as client:
        assert client.get("/api/settings").json()["name"] == "Bow River Physiotherapy"


def test_it_edits_the_clinic_settings_and_audits_which_fields_changed(stack: InProcessWeb) -> None:
    admin = account(stack, "admin")
    with api(stack, admin) as client, restored(client, "/api/settings") as original:
        assert original["time_zone"] == "America/Edmonton"
        changed = client.put("/api/settings", json=SETTINGS)
        shown = client.get("/api/settings").json()

    assert changed.status_code == 200, changed.text
    assert shown == changed.json()
    assert shown["alert_email"] == "Alerts@elbow.example"  # the domain part is normalised
    assert (shown["quiet_hours_end"], shown["cap_per_week"]) == ("07:30", 3)
    events = [e for e in audit(stack) if e.action == "settings.updated"]
    assert events[0].actor == admin.email
    assert events[0].detail["fields"] == list(SETTINGS)
    assert "Elbow" not in str(events[0].detail)


def test_it_refuses_bad_settings_and_changes_nothing(stack: InProcessWeb) -> None:
    with api(stack, account(stack, "admin")) as client:
        before = client.get("/api/settings").json()
        for change in (
            {"time_zone": "Mars/Olympus"},
            {"quiet_hours_start": "25:00"},
            {"quiet_hours_end": "8h"},
            {"cap_per_day": 0},
            {"alert_email": "alerts@"},
            {"name": ""},
            {"name": "x" * 121},
            {"phone": "403\n555"},
            {"colour": "blue"},
        ):
            answer = client.put("/api/settings", json={**SETTINGS, **change})
            assert answer.status_code == 422, (change, answer.text)
            assert answer.json()["detail"].startswith(f"{next(iter(change))}: "), answer.text
        assert client.get("/api/settings").json() == before
    assert [e for e in audit(stack) if e.action == "settings.updated"] == []


def test_it_edits_a_plan_and_leaves_planned_messages_as_they_were(stack: InProcessWeb) -> None:
    admin = account(stack, "admin")
    enrolled = enroll(stack, admin)
    planned = [(m.step_key, m.due_at) for m in stack.messages(enrollment_id=enrolled["id"])]
    with api(stack, admin) as client, restored(client, "/api/plans/dry-needling") as plan:
        assert [p["key"] for p in client.get("/api/plans").json()] == ["dry-needling"]
        assert plan["steps"][0] == {
            "key": "after-session",
            "message": "after-session",
            "offset": "30m",
            "day": None,
            "at": None,
            "not_sooner_than": "0m",
            "max_lateness": "3h",
            "channels": ["sms", "email"],
            "checkin": False,
            "send_in_quiet_hours_if_session_ends_before": "23:00",
        }
        edited = plan_body(plan)
        edited["steps"] = edited["steps"][:4]
        edited["steps"][0].update(offset="45m", max_lateness="1d2h30m")
        saved = client.put("/api/plans/dry-needling", json=edited)
        shown = client.get("/api/plans/dry-needling").json()
        dry_run = client.post("/api/enrollments", json={**PATIENT, "dry_run": True}).json()

    assert saved.status_code == 200, saved.text
    assert plan_body(shown) == edited
    assert [s["key"] for s in shown["steps"]][-1] == "day-3"
    first = dry_run["messages"][0]
    assert (first["step"], first["due_at"]) == ("after-session", "2026-11-24T14:45:00-07:00")
    assert len(dry_run["messages"]) == 4
    assert [(m.step_key, m.due_at) for m in stack.messages(enrollment_id=enrolled["id"])] == planned
    event = next(e for e in audit(stack) if e.action == "plan.updated")
    assert event.actor == admin.email and event.detail["key"] == "dry-needling"


def test_it_refuses_a_bad_plan_and_keeps_the_old_one(stack: InProcessWeb) -> None:
    with api(stack, account(stack, "admin")) as client:
        plan = client.get("/api/plans/dry-needling").json()
        good = plan_body(plan)["steps"][0]
        cases = {
            "not a duration: 'soon'": [{**good, "offset": "soon"}],
            "no message template named 'cake'": [{**good, "message": "cake"}],
            "either an offset, or both a day and a time": [{**good, "day": 1, "at": "10:00"}],
            "repeats a step key": [good, good],
            "at most 60 days after the session": [{**good, "max_lateness": "61d"}],
            "a duration is far too long": [{**good, "offset": "999999999999d"}],
        }
        for words, steps in cases.items():
            answer = client.put("/api/plans/dry-needling", json={"name": "x", "steps": steps})
            assert answer.status_code == 422, (steps, answer.text)
            assert words in answer.json()["detail"], answer.text
        for steps in ([], [{**good, "channels": ["fax"]}], [{**good, "key": ""}]):
            answer = client.put("/api/plans/dry-needling", json={"name": "x", "steps": steps})
            assert answer.status_code == 422, (steps, answer.text)
        missing = client.put("/api/plans/hip", json=plan_body(plan))
        assert missing.status_code == 404 and missing.json() == {
            "detail": "There is no plan 'hip'."
        }
        assert client.get("/api/plans/hip").status_code == 404
        assert client.get("/api/plans/dry-needling").json() == plan
    assert [e for e in audit(stack) if e.action == "plan.updated"] == []


def test_it_adds_and_deactivates_users(stack: InProcessWeb) -> None:
    admin = account(stack, "admin")
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    person = {"email": email, "name": "Riley Park", "role": "therapist", "password": PASSWORD}
    with api(stack, admin) as client:
        made = client.post("/api/users", json=person)
        assert made.status_code == 201, made.text
        again = client.post("/api/users", json={**person, "email": email.upper()})
        refused = [
            client.post("/api/users", json={**person, "email": f"2{email}", **change})
            for change in (
                {"password": "short"},
                {"password": "a" * 12},
                {"role": "owner"},
                {"email": "riley@"},
            )
        ]
        listed = [u["email"] for u in client.get("/api/users").json()]
        token = new_token(stack, email)
        riley = Account(
            made.json()["id"], email, "Riley Park", {"Authorization": f"Bearer {token}"}
        )
        with api(stack, riley) as as_riley:
            assert as_riley.get("/api/enrollments").status_code == 200
            off = client.post(f"/api/users/{riley.id}/deactivate")
            assert as_riley.get("/api/enrollments").status_code == 401
        myself = client.post(f"/api/users/{admin.id}/deactivate")
        nobody = client.post("/api/users/424242/deactivate")

    assert made.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "email": email,
        "name": "Riley Park",
        "role": "therapist",
        "active": True,
        "created_at": "",
        "last_login_at": None,
    }
    assert again.status_code == 409
    assert [answer.status_code for answer in refused] == [422, 422, 422, 422]
    assert refused[1].json()["detail"].startswith("password is too easy to guess"), refused[1].text
    assert email in listed and admin.email in listed
    assert (off.status_code, off.json()["active"]) == (200, False)
    assert myself.status_code == 409 and nobody.status_code == 404
    actions = [
        (e.action, e.actor, e.subject_id) for e in audit(stack) if e.action.startswith("user.")
    ]
    assert actions[-2:] == [
        ("user.created", admin.email, riley.id),
        ("user.deactivated", admin.email, riley.id),
    ]


def test_it_shows_the_audit_log_newest_first_a_page_at_a_time(stack: InProcessWeb) -> None:
    admin = account(stack, "admin")
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)  # after the CLI's events
    with api(stack, admin) as client:
        stack.set_clock(later)
        enrolled = client.post("/api/enrollments", json={**PATIENT, "session_end": "now"}).json()
        stack.set_clock(later + timedelta(minutes=1))
        client.post(f"/api/enrollments/{enrolled['id']}/pause").raise_for_status()
        stack.set_clock(later + timedelta(minutes=2))
        client.post(f"/api/enrollments/{enrolled['id']}/cancel").raise_for_status()
        newest = client.get("/api/audit", params={"limit": 2}).json()
        older = client.get("/api/audit", params={"limit": 2, "offset": 2}).json()
        too_many = client.get("/api/audit", params={"limit": 501})

    assert [e["action"] for e in newest["items"]] == ["enrollment.cancelled", "enrollment.paused"]
    at = datetime.fromisoformat(newest["items"][0]["at"])
    assert at == later + timedelta(minutes=2)
    assert newest["items"][0]["subject_id"] == enrolled["id"]
    assert newest["items"][0]["actor"] == admin.email
    assert older["items"][0]["action"] == "enrollment.created"
    assert newest["total"] == older["total"] == len(audit(stack))
    assert too_many.status_code == 422
