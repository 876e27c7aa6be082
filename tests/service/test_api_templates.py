"""The template API through the web app in this process, on SQLite and PostgreSQL: an admin
edits, previews, publishes and rolls back; bad drafts and requests change nothing; only
admins get in. (The next text using a published edit, sent by the real worker: tests/system/
test_template_publishing.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import factories
import httpx
import pytest
from in_process import InProcessWeb, web_client
from sqlalchemy import delete, select
from stack import Deployment

from reminders.models import AuditEvent, MessageTemplate, TemplateVersion

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
PASSWORD = "a-long-password-1"
NEW_SMS = (
    "{{ clinic_name }}: Hi {{ first_name }}, thanks for coming in today. A day or two of "
    "soreness is normal. Reply STOP to opt out."
)
NEW_TEXT = (
    "Bow River Physiotherapy: Hi Alexandra, thanks for coming in today. A day or two of "
    "soreness is normal. Reply STOP to opt out."
)
PARTS = ("sms", "email_subject", "email_text", "email_html")


_BEARERS: dict[tuple[str, str], dict[str, str]] = {}


def bearer(stack: Deployment, role: str) -> dict[str, str]:
    """A user of this role and a token for it, made once per deployment (users outlive the
    reset between tests)."""
    if (stack.name, role) not in _BEARERS:
        _BEARERS[stack.name, role] = _new_bearer(stack, role)
    return _BEARERS[stack.name, role]


def _new_bearer(stack: Deployment, role: str) -> dict[str, str]:
    _, email = factories.new_user(stack, role, "Ada", email=f"{role}-{uuid4().hex}@clinic.example")
    return factories.bearer(stack, email)


def published(stack: Deployment) -> dict[tuple[str, str], tuple[int, dict[str, str]]]:
    with stack.session() as session:
        rows = session.execute(
            select(MessageTemplate.key, TemplateVersion)
            .join_from(TemplateVersion, MessageTemplate)
            .where(TemplateVersion.status == "published")
        ).all()
        return {(key, v.locale): (v.version, {p: getattr(v, p) for p in PARTS}) for key, v in rows}


@pytest.fixture
def admin(stack: Deployment) -> Iterator[httpx.Client]:
    with admin_client(stack) as client:
        yield client


@contextmanager
def admin_client(stack: Deployment) -> Iterator[httpx.Client]:
    """An admin's API client; afterwards the templates read as before (the deployment is
    shared): drafts removed, changed content published again from the version it had."""
    before = published(stack)
    with web_client(stack, bearer(stack, "admin")) as client:
        yield client
        with stack.session() as session:
            session.execute(delete(TemplateVersion).where(TemplateVersion.status == "draft"))
        for (key, locale), (version, parts) in before.items():
            if published(stack)[key, locale][1] != parts:
                back = client.post(
                    f"/api/templates/{key}/{locale}/rollback", json={"to_version": version}
                )
                assert back.status_code == 200, back.text


def current(admin: httpx.Client, key: str = "after-session", locale: str = "en") -> dict:
    answer = admin.get(f"/api/templates/{key}/{locale}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def parts_with(admin: httpx.Client, sms: str) -> dict[str, str]:
    return {**current(admin)["published"]["parts"], "sms": sms}


def template_audit(stack: Deployment) -> list[tuple[str, str]]:
    with stack.session() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.action.like("template.%"))
            .order_by(AuditEvent.id)
        ).all()
        return [(action, actor) for action, actor in rows]


def enroll_at_session(stack: Deployment, phone: str) -> int:
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    return stack.enroll(phone=phone, channel="sms", session_end=SESSION_END)


def test_it_shows_the_segment_count_change_as_the_admin_types_quickly(
    stack: InProcessWeb, admin: httpx.Client
) -> None:
    def typed(sms: str) -> dict:
        answer = admin.post(
            "/api/templates/preview", json={"key": "day-3", "locale": "en", "parts": {"sms": sms}}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    typed("warm up")
    started = time.monotonic()
    counts = [
        typed(text)["sms"]
        for text in ("a" * 160, "a" * 161, "a" * 69 + "✓", "a" * 70 + "✓", "{{ first_name }}")
    ]
    elapsed = time.monotonic() - started

    assert [(c["encoding"], c["segments"]) for c in counts] == [
        ("GSM-7", 1),
        ("GSM-7", 2),
        ("UCS-2", 1),
        ("UCS-2", 2),
        ("GSM-7", 1),
    ]
    assert elapsed < 5, f"five previews took {elapsed:.1f}s"
    escape = typed("{{ ''.__class__.__mro__ }}")
    assert escape["ok"] is False and escape["sms"] is None and escape["parts"]["sms"] == ""
    assert "unsafe" in escape["problems"][0]


@pytest.mark.parametrize(
    ("sms", "words"),
    [
        ("Hi {{ first_name }\nReply STOP to opt out.", "syntax error on line 1"),
        ("Hi {{ firstname }}. Reply STOP to opt out.", "{{ firstname }}"),
        ("{{ ''.__class__.__mro__ }} Reply STOP to opt out.", "unsafe"),
        ("{{ cycler.__init__.__globals__ }} Reply STOP to opt out.", "unsafe"),
        ("Hi {{ first_name }}, drink water.", "Reply STOP to opt out."),
        ("a" * 1601, "1,601 characters"),
    ],
    ids=["syntax", "unknown-variable", "mro-escape", "globals-escape", "no-opt-out", "too-long"],
)
def test_it_refuses_a_bad_draft_with_422_and_changes_nothing(
    stack: InProcessWeb, admin: httpx.Client, sms: str, words: str
) -> None:
    before = current(admin)

    refused = admin.put(
        "/api/templates/after-session/en/draft", json={"parts": parts_with(admin, sms)}
    )

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/json"
    assert any(words in problem for problem in refused.json()["problems"]), refused.json()
    assert refused.json()["detail"].startswith("The draft was not saved: 1 problem.")
    assert current(admin) == before
    assert template_audit(stack) == []


def test_it_lets_only_admins_in(stack: InProcessWeb) -> None:
    therapist = bearer(stack, "therapist")
    routes = [
        ("GET", "/api/templates", None),
        ("GET", "/api/templates/after-session/en", None),
        ("GET", "/api/templates/after-session/en/versions/1", None),
        ("POST", "/api/templates/preview", {"key": "day-3", "locale": "en", "parts": {}}),
        ("PUT", "/api/templates/after-session/en/draft", {"parts": {"sms": "x"}}),
        ("POST", "/api/templates/after-session/en/publish", {}),
        ("GET", "/api/templates/after-session/en/diff?from=1&to=1", None),
        ("POST", "/api/templates/after-session/en/rollback", {"to_version": 1}),
    ]
    with web_client(stack, therapist) as as_therapist, web_client(stack) as anonymous:
        for method, path, body in routes:
            refused = as_therapist.request(method, path, json=body)
            assert refused.status_code == 403, (path, refused.text)
            assert refused.json() == {"detail": "Only an admin can do this."}
            unknown = anonymous.request(method, path, json=body)
            assert unknown.status_code == 401, (path, unknown.text)
    assert template_audit(stack) == []


def test_it_lists_every_template_with_its_languages_and_versions(admin: httpx.Client) -> None:
    answer = admin.get("/api/templates")
    assert answer.status_code == 200, answer.text
    templates = {t["key"]: t for t in answer.json()["templates"]}
    assert {"after-session", "day-3", "clinic-alert", "reply-stop"} <= set(templates)
    languages = {row["locale"]: row for row in templates["after-session"]["locales"]}
    assert set(languages) == {"en", "fr"}
    assert languages["en"]["published_version"] >= 1 and languages["en"]["draft_version"] is None
    assert "patient_ref" in templates["clinic-alert"]["variables"]
    assert answer.json()["sample_variables"]["first_name"] == "Alexandra"


def test_it_diffs_and_rolls_back_through_the_api(stack: InProcessWeb, admin: httpx.Client) -> None:
    # Given a published edit of the day-3 text
    original = current(admin, "day-3")["published"]
    first = original["version"]
    parts = {**original["parts"], "sms": "Hi {{ first_name }}, how is the pain today (0-10)?"}
    assert admin.put("/api/templates/day-3/en/draft", json={"parts": parts}).status_code == 200
    assert admin.post("/api/templates/day-3/en/publish").status_code == 200

    # Then the diff shows the change, labelled
    diff = admin.get(f"/api/templates/day-3/en/diff?from={first}&to={first + 1}")
    assert diff.status_code == 200, diff.text
    text = diff.json()["diff"]
    assert text.startswith(f"--- day-3/en/v{first}/sms\n+++ day-3/en/v{first + 1}/sms\n")
    assert "\n+Hi {{ first_name }}, how is the pain today (0-10)?" in text

    # When the admin rolls back to the first version
    back = admin.post("/api/templates/day-3/en/rollback", json={"to_version": first})

    # Then a new version is published with the old content, and history is kept
    assert back.status_code == 200, back.text
    assert back.json()["published"]["version"] == first + 2
    assert back.json()["published"]["parts"] == original["parts"]
    assert back.json()["retired_version"] == first + 1
    old = admin.get(f"/api/templates/day-3/en/versions/{first + 1}")
    assert old.json()["parts"]["sms"] == parts["sms"] and old.json()["status"] == "retired"
    again = admin.post("/api/templates/day-3/en/rollback", json={"to_version": first + 2})
    assert again.status_code == 400 and "already the published" in again.json()["detail"]
    assert [action for action, _ in template_audit(stack)] == [
        "template.draft_saved",
        "template.published",
        "template.rolled_back",
    ]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("GET", "/api/templates/no-such-thing/en", None, 404, "no template called"),
        ("GET", "/api/templates/after-session/de", None, 404, "no such language"),
        ("GET", "/api/templates/After%20Session/en", None, 404, "no template with that name"),
        ("GET", "/api/templates/after-session/en/versions/999", None, 404, "no version 999"),
        ("GET", "/api/templates/after-session/en/versions/0", None, 422, "greater than"),
        ("GET", "/api/templates/after-session/en/diff?from=1&to=999", None, 404, "no version"),
        ("GET", "/api/templates/after-session/en/diff?from=1", None, 422, "Field required"),
        ("GET", "/api/templates/after-session/en/diff?from=x&to=1", None, 422, "integer"),
        ("POST", "/api/templates/preview", {"key": "nope", "locale": "en", "parts": {}}, 404, ""),
        ("POST", "/api/templates/preview", {"key": "day-3", "parts": {}}, 422, "Field required"),
        (
            "POST",
            "/api/templates/preview",
            {"key": "day-3", "locale": "en", "parts": {"body": "x"}},
            422,
            "Extra inputs",
        ),
        ("PUT", "/api/templates/after-session/en/draft", {"parts": {"sms": 5}}, 422, "string"),
        ("POST", "/api/templates/after-session/en/publish", {}, 400, "no draft"),
        ("POST", "/api/templates/after-session/en/rollback", {"to_version": 0}, 422, "greater"),
        ("POST", "/api/templates/after-session/en/rollback", {"to_version": 10**30}, 422, "less"),
        ("POST", "/api/templates/after-session/en/rollback", {"to_version": 999}, 404, "999"),
    ],
)
def test_it_answers_bad_requests_with_a_clear_json_error(
    stack: InProcessWeb,
    admin: httpx.Client,
    method: str,
    path: str,
    body: object,
    status: int,
    words: str,
) -> None:
    answer = admin.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert words.lower() in answer.text.lower()
    assert template_audit(stack) == []


def test_it_refuses_huge_and_malformed_bodies_without_touching_anything(
    stack: InProcessWeb, admin: httpx.Client
) -> None:
    before = current(admin)
    draft = "/api/templates/after-session/en/draft"
    huge = admin.put(draft, json={"parts": {"sms": "a" * (2 * 1024 * 1024)}})
    assert huge.status_code == 413 and huge.json() == {
        "detail": "The request body is over 1024 KiB."
    }
    big_email = admin.put(
        draft, json={"parts": parts_with(admin, "x") | {"email_text": "x" * 200_000}}
    )
    assert big_email.status_code == 422 and "bytes" in big_email.text
    for raw in (b'{"parts": ', b'{"parts": {"sms": "\\ud800"}}', b"[" * 50_000 + b"]" * 50_000):
        answer = admin.put(draft, content=raw, headers={"content-type": "application/json"})
        assert answer.status_code == 422, (raw[:20], answer.text)
    assert current(admin) == before and template_audit(stack) == []
