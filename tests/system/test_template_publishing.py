"""Publishing a template edit through the API while the real worker and scheduler run: the
next text uses the new version, an earlier patient's keeps the old one unless the admin asks
to move texts not sent yet. (The rest of the template API: tests/service/
test_api_templates.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from stack import Deployment
from test_api_templates import (
    NEW_SMS,
    NEW_TEXT,
    SESSION_END,
    admin_client,
    current,
    enroll_at_session,
    parts_with,
    template_audit,
)


@pytest.fixture
def admin(stack: Deployment) -> Iterator[httpx.Client]:
    with admin_client(stack) as client:
        yield client


def test_it_lets_an_admin_edit_preview_and_publish_and_the_next_text_uses_it(
    stack: Deployment, admin: httpx.Client
) -> None:
    # Given a patient enrolled before the edit, and the version published now
    earlier = enroll_at_session(stack, "+14035550101")
    before = current(admin)
    old_version = before["published"]["version"]
    assert before["draft"] is None and "first_name" in before["variables"]

    # When an admin previews, saves and publishes a new first text
    shown = admin.post(
        "/api/templates/preview",
        json={"key": "after-session", "locale": "en", "parts": parts_with(admin, NEW_SMS)},
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["ok"] is True and shown.json()["problems"] == []
    assert shown.json()["parts"]["sms"] == NEW_TEXT
    assert shown.json()["sms"] == {"encoding": "GSM-7", "units": len(NEW_TEXT), "segments": 1}
    saved = admin.put(
        "/api/templates/after-session/en/draft", json={"parts": parts_with(admin, NEW_SMS)}
    )
    assert saved.status_code == 200, saved.text
    assert (saved.json()["version"], saved.json()["status"]) == (old_version + 1, "draft")
    done = admin.post("/api/templates/after-session/en/publish", json={})
    assert done.status_code == 200, done.text
    assert done.json()["published"]["version"] == old_version + 1
    assert (done.json()["retired_version"], done.json()["repinned"]) == (old_version, 0)

    # Then a new enrollment's first text is the new one; the earlier patient keeps the old
    later = enroll_at_session(stack, "+14035550102")
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    sent = {m["to"]: m["body"] for m in stack.twilio.wait_for(2, timeout=30)}
    assert sent["+14035550102"] == NEW_TEXT
    assert sent["+14035550101"].startswith(
        "Bow River Physiotherapy: Hi Alexandra, soreness for up to 3 days is normal."
    )
    assert earlier != later
    after = current(admin)
    assert [(v["version"], v["status"]) for v in after["history"][:2]] == [
        (old_version + 1, "published"),
        (old_version, "retired"),
    ]
    actor = after["published"]["created_by"]
    assert actor.startswith("admin-") and actor.endswith("@clinic.example")
    assert template_audit(stack) == [
        ("template.draft_saved", actor),
        ("template.published", actor),
    ]


def test_it_moves_texts_not_sent_yet_onto_the_new_version_when_asked(
    stack: Deployment, admin: httpx.Client
) -> None:
    enroll_at_session(stack, "+14035550103")
    assert current(admin)["waiting"] == [
        {"version": current(admin)["published"]["version"], "messages": 1}
    ]
    saved = admin.put(
        "/api/templates/after-session/en/draft", json={"parts": parts_with(admin, NEW_SMS)}
    )
    assert saved.status_code == 200, saved.text

    done = admin.post("/api/templates/after-session/en/publish", json={"apply_to_pending": True})

    assert done.status_code == 200, done.text
    assert done.json()["repinned"] == 1
    assert current(admin)["waiting"] == [{"version": saved.json()["version"], "messages": 1}]
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    assert stack.twilio.wait_for(1, timeout=30)[0]["body"] == NEW_TEXT
