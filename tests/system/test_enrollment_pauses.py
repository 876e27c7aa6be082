"""Pausing an enrollment through the API while the real worker and scheduler run: the worker
holds a due message back while paused and sends it at once on resuming; cancelling stops the
rest. (The rest of the enrollments API: tests/service/test_api_enrollments.py.)"""

from __future__ import annotations

from datetime import timedelta

from factories import account
from stack import Deployment
from test_api_enrollments import SESSION_END, api, audit, enroll


def test_it_pauses_resumes_and_cancels_the_remaining_messages(stack: Deployment) -> None:
    therapist = account(stack)
    body = enroll(stack, therapist)
    path = f"/api/enrollments/{body['id']}"
    with api(stack, therapist) as client:
        paused = client.post(f"{path}/pause")
        paused_again = client.post(f"{path}/pause")
        # While paused, the 14:30 message is due but the worker keeps it back
        stack.set_clock(SESSION_END + timedelta(minutes=31))
        stack.wait_until(
            lambda: (
                stack.messages(step_key="after-session")[0].next_attempt_at
                > SESSION_END + timedelta(minutes=40)
            ),
            what="the paused message deferred",
        )
        assert stack.twilio.messages == []
        # Once resumed, it goes out at once, not at the end of its deferral
        resumed = client.post(f"{path}/resume")
        stack.wait_until(
            lambda: stack.statuses(step_key="after-session")[("after-session", "sms")] == "sent",
            what="the first message sent after resuming",
        )
        cancelled = client.post(f"{path}/cancel")
        after_cancel = client.post(f"{path}/resume")

    assert (paused.status_code, paused.json()["status"]) == (200, "paused")
    assert paused_again.status_code == 409 and "not active" in paused_again.json()["detail"]
    assert (resumed.status_code, resumed.json()["status"]) == (200, "active")
    assert cancelled.json()["status"] == "cancelled"
    assert [(m["status"], m["reason"]) for m in cancelled.json()["messages"]] == [
        ("sent", None),
        *[("cancelled", "enrollment cancelled")] * 4,
    ]
    assert after_cancel.status_code == 409
    assert after_cancel.json()["detail"] == f"enrollment {body['id']} is cancelled, not paused"
    assert len(stack.twilio.messages) == 1
    changes = [
        (e.action, e.actor, e.subject_id, e.detail)
        for e in audit(stack)
        if e.action.startswith("enrollment.")
        and e.action not in ("enrollment.created", "enrollment.requested")
    ]
    assert changes == [
        ("enrollment.paused", therapist.email, body["id"], {}),
        ("enrollment.resumed", therapist.email, body["id"], {}),
        ("enrollment.cancelled", therapist.email, body["id"], {}),
    ]
