"""The template API as the message editor uses it, through the web app in this process on
SQLite and PostgreSQL: an email saved as structured text gets its HTML and text parts made by the app;
bad content is refused with its problems by field and changes nothing; the preview gives the
words changed since the published version."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import factories
import httpx
import pytest
from in_process import InProcessWeb, web_client
from sqlalchemy import select
from stack import Deployment

from reminders.content.rendering import SAMPLE_VARIABLES
from reminders.content.structured_email import email_parts
from reminders.models import AuditEvent

DRAFT = "/api/templates/day-7/en/draft"
BODY = """Hi {{ first_name }},

One week on. Please:

- keep moving gently
- [tell us how you feel]({{ checkin_url }})

Unsubscribe: {{ unsubscribe_url }}"""


@pytest.fixture
def admin(stack: Deployment) -> Iterator[httpx.Client]:
    """An admin's API client (the stack fixture puts the templates back as loaded)."""
    _, email = factories.new_user(
        stack, "admin", "Ada", email=f"admin-{uuid4().hex}@clinic.example"
    )
    headers = factories.bearer(stack, email)
    with web_client(stack, headers) as client:
        yield client


def published_parts(admin: httpx.Client, key: str = "day-7", locale: str = "en") -> dict:
    answer = admin.get(f"/api/templates/{key}/{locale}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def template_audit(stack: Deployment) -> list[str]:
    with stack.session() as session:
        return list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("template.%")))
        )


def test_it_makes_the_email_parts_from_structured_text_and_publishes_them(
    stack: InProcessWeb, admin: httpx.Client
) -> None:
    # Given the published day-7 message, its email written by hand
    before = published_parts(admin)["published"]
    parts = {**before["parts"], "email_body": BODY, "email_text": "", "email_html": ""}

    # When an admin previews it with the email as structured text
    shown = admin.post(
        "/api/templates/preview", json={"key": "day-7", "locale": "en", "parts": parts}
    )

    # Then the preview shows both parts as a patient gets them, and what would be saved
    assert shown.status_code == 200, shown.text
    out = shown.json()
    assert out["ok"] is True and out["fields"] == {}
    text, html = email_parts(BODY, subject=before["parts"]["email_subject"], locale="en")
    assert (out["sources"]["email_text"], out["sources"]["email_html"]) == (text, html)
    checkin = SAMPLE_VARIABLES["checkin_url"]
    assert out["parts"]["email_text"].endswith(
        f"- keep moving gently\n- tell us how you feel ({checkin})\n\n"
        f"Unsubscribe: {SAMPLE_VARIABLES['unsubscribe_url']}"
    )
    assert f'<a href="{checkin}" style=' in out["parts"]["email_html"]
    assert out["published_version"] == before["version"]

    # When they save and publish it
    saved = admin.put(DRAFT, json={"parts": parts})
    assert saved.status_code == 200, saved.text
    assert admin.post("/api/templates/day-7/en/publish").status_code == 200

    # Then the published version keeps the structured text and the parts made from it
    now = published_parts(admin)["published"]
    assert now["version"] == before["version"] + 1
    assert now["parts"] == {**parts, "email_text": text, "email_html": html}
    # and a roll back brings back the email written by hand, as it was
    back = admin.post("/api/templates/day-7/en/rollback", json={"to_version": before["version"]})
    assert back.status_code == 200 and back.json()["published"]["parts"] == before["parts"]


@pytest.mark.parametrize(
    ("part", "value", "field", "words"),
    [
        (
            "email_body",
            "Hi {{ first_name }\n\n{{ unsubscribe_url }}",
            "email_body",
            "syntax error on line 1",
        ),
        (
            "email_body",
            "Hi {{ firstname }}, {{ unsubscribe_url }}",
            "email_body",
            "{{ firstname }}",
        ),
        ("email_body", "Hi {{ first_name }}, no way out.", "email_body", "unsubscribe link"),
        ("email_body", "{{ unsubscribe_url }} " + "x" * 110_000, "email_body", "102,400"),
        ("sms", "Hi {{ first_name }}, {% for %}", "sms", "syntax error on line 1"),
        ("sms", "a" * 1601, "sms", "1,601 characters"),
        ("email_subject", "Hi {{ patient_ref }}", "email_subject", "{{ patient_ref }}"),
    ],
    ids=["syntax", "unknown", "no-unsubscribe", "oversized", "sms-syntax", "sms-long", "subject"],
)
def test_it_refuses_bad_content_next_to_its_field_and_changes_nothing(
    stack: InProcessWeb, admin: httpx.Client, part: str, value: str, field: str, words: str
) -> None:
    before = published_parts(admin)
    parts = {**before["published"]["parts"], "email_body": BODY, part: value}

    refused = admin.put(DRAFT, json={"parts": parts})
    shown = admin.post(
        "/api/templates/preview", json={"key": "day-7", "locale": "en", "parts": parts}
    )

    assert refused.status_code == 422, refused.text
    answer = refused.json()
    assert list(answer["fields"]) == [field] and len(answer["fields"][field]) == 1
    assert words in answer["fields"][field][0] and answer["problems"] == answer["fields"][field]
    assert shown.status_code == 200 and shown.json()["fields"] == answer["fields"]
    assert published_parts(admin) == before and template_audit(stack) == []


def test_it_previews_the_words_changed_since_the_published_version(admin: httpx.Client) -> None:
    published = published_parts(admin)["published"]["parts"]
    sms = published["sms"].replace("Hi {{ first_name }},", "Hello again {{ first_name }},", 1)
    assert sms != published["sms"]

    shown = admin.post(
        "/api/templates/preview",
        json={"key": "day-7", "locale": "en", "parts": {**published, "sms": sms}},
    )

    assert shown.status_code == 200, shown.text
    changes = {c["part"]: c for c in shown.json()["changes"]}
    assert list(changes) == ["sms", "email_subject", "email"]
    assert (changes["sms"]["added"], changes["sms"]["removed"]) == (2, 1)
    marked = [(c["kind"], c["text"]) for c in changes["sms"]["changes"] if c["kind"] != "same"]
    assert marked == [("removed", "Hi"), ("added", "Hello again")]
    assert changes["email"]["changes"] == [{"kind": "same", "text": published["email_text"]}]
