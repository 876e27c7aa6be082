"""The patients API where the real worker sent, or failed to send, through the fake Twilio: a
timeline with failures in plain words, and fixing a mistyped number to resend what failed.
(The rest of the patients API: tests/service/test_api_patients.py.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stack import Deployment
from test_api_enrollments import SESSION_END, account, api, audit, enroll
from test_api_patients import flagged


def failed_first_text(stack: Deployment) -> tuple[dict[str, Any], int]:
    """A patient whose first text bounced off a mistyped number: (enrollment, message id)."""
    body = enroll(stack, account(stack))
    stack.twilio.fail_next(400, code=21211)
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    failed = stack.wait_until(
        lambda: [m for m in stack.messages(step_key="after-session") if m.status == "failed"],
        what="the first text failed",
    )
    return body, failed[0].id


def test_it_shows_the_timeline_with_failures_in_plain_words(stack: Deployment) -> None:
    body, failed_id = failed_first_text(stack)
    flag_id = flagged(stack, body["patient_id"])
    with api(stack, account(stack)) as client:
        answer = client.get(f"/api/patients/{body['patient_id']}")

    assert answer.status_code == 200, answer.text
    timeline = answer.json()
    assert (timeline["first_name"], timeline["phone"]) == ("Alexandra", "+14035550123")
    assert [e["id"] for e in timeline["enrollments"]] == [body["id"]]
    first = timeline["messages"][0]
    assert first["id"] == failed_id
    assert (first["status"], first["reason"], first["attempts"]) == (
        "failed",
        "invalid phone number",
        1,
    )
    assert first["due_at"] == "2026-11-24T14:30:00-07:00" and first["sent_at"] is None
    assert [m["status"] for m in timeline["messages"][1:]] == ["scheduled"] * 4
    assert timeline["replies"] == [
        {
            "id": timeline["replies"][0]["id"],
            "channel": "sms",
            "text": "9 it hurts",
            "kind": "score",
            "score": 9,
            "received_at": "2026-11-24T14:05:00-07:00",
        }
    ]
    assert [(f["id"], f["reason"], f["closed_at"]) for f in timeline["flags"]] == [
        (flag_id, "pain 8 or more", None)
    ]


def test_it_resends_what_failed_once_the_number_is_fixed(stack: Deployment) -> None:
    body, failed_id = failed_first_text(stack)
    therapist = account(stack)
    with api(stack, therapist) as client:
        fixed = client.patch(f"/api/patients/{body['patient_id']}", json={"phone": "403.555.0142"})

    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["resent"] == 1
    assert fixed.json()["patient"]["phone"] == "+14035550142"
    sent = stack.twilio.wait_for(1, timeout=30)
    assert sent[0]["to"] == "+14035550142"
    stack.wait_until(
        lambda: stack.statuses(step_key="after-session")[("after-session", "sms")] == "sent",
        what="the resent text recorded as sent",
    )
    event = next(e for e in audit(stack) if e.action == "patient.contact_fixed")
    assert (event.actor, event.subject_id) == (therapist.email, body["patient_id"])
    assert event.detail == {"channels": ["sms"]}
    assert stack.messages(step_key="after-session")[0].id == failed_id


def test_it_leaves_a_failure_alone_when_it_is_too_late_to_resend(stack: Deployment) -> None:
    body, _ = failed_first_text(stack)
    stack.set_clock(SESSION_END + timedelta(hours=4))  # after-session: at most 3 h late
    with api(stack, account(stack)) as client:
        fixed = client.patch(f"/api/patients/{body['patient_id']}", json={"phone": "4035550142"})

    assert fixed.status_code == 200 and fixed.json()["resent"] == 0
    assert stack.statuses(step_key="after-session")[("after-session", "sms")] == "failed"
