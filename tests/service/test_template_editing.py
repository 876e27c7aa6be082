"""Admins editing templates, against a real SQLite database migrated and loaded as
`reminders init` does: validation, drafts, publishing, re-pinning, history, diff, roll back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from reminders.clock import real_now
from reminders.config import Settings
from reminders.content import template_editing as editing
from reminders.content.defaults import load_defaults
from reminders.content.template_editing import TemplateEditError, TemplateNotFound, TemplateRejected
from reminders.db import make_engine, migrate
from reminders.enrolling.enrollment import EnrollmentRequest, enroll
from reminders.models import AuditEvent, Message, MessageTemplate, TemplateVersion, User

MESSAGES = Path(__file__).resolve().parents[2] / "templates" / "messages"
OPT_OUT = "Reply STOP to opt out."


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'templates.db'}"
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        load_defaults(session, Settings())
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@pytest.fixture
def admin(session: Session) -> User:
    user = User(
        email="ada@clinic.example",
        name="Ada",
        role="admin",
        password_hash="not used here",
        created_at=real_now(),
    )
    session.add(user)
    session.flush()
    return user


def default_parts(key: str, locale: str) -> dict[str, str]:
    folder = MESSAGES / key
    return {
        part: (folder / f"{part}.{locale}.j2").read_text(encoding="utf-8")
        if (folder / f"{part}.{locale}.j2").exists()
        else ""
        for part in editing.PARTS
    }


def with_sms(text: str, key: str = "after-session", locale: str = "en") -> dict[str, str]:
    return {**default_parts(key, locale), "sms": text}


def versions(session: Session, key: str = "after-session", locale: str = "en") -> list[tuple]:
    return [
        (v.version, v.status, v.sms)
        for v in editing.history(session=session, key=key, locale=locale)
    ]


def audit(session: Session) -> list[tuple[str, str, dict]]:
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("template.%")).order_by(AuditEvent.id)
    )
    return [(e.actor, e.action, e.detail) for e in rows]


# --- validation -----------------------------------------------------------------------------


def test_it_accepts_every_default_template_in_both_languages() -> None:
    checked = 0
    for folder in sorted(MESSAGES.iterdir()):
        for locale in editing.LOCALES:
            parts = default_parts(folder.name, locale)
            if not any(parts.values()):
                continue
            result = editing.validate(parts, key=folder.name, locale=locale)
            assert result.problems == [], (folder.name, locale)
            assert result.sms is not None and result.sms.encoding == "GSM-7"
            checked += 1
    assert checked == 27


def test_it_reports_a_syntax_error_with_its_line_number() -> None:
    result = editing.validate(
        with_sms(f"Hi {{{{ first_name }}}},\n{OPT_OUT}\n{{% if clinic_name %}}no end"),
        key="after-session",
        locale="en",
    )
    assert len(result.problems) == 1
    assert result.problems[0].startswith("The SMS has a syntax error on line 3:")
    assert "endif" in result.problems[0]
    assert result.sms is None


def test_it_names_a_variable_that_messages_cannot_use() -> None:
    result = editing.validate(
        with_sms(f"Hi {{{{ firstname }}}}, {{{{ diagnosis }}}}. {OPT_OUT}"),
        key="after-session",
        locale="en",
    )
    assert len(result.problems) == 1
    assert "{{ diagnosis }}, {{ firstname }}" in result.problems[0]
    assert "first_name" in result.problems[0]  # the list to choose from


def test_it_lets_only_the_clinic_alert_use_the_alert_variables() -> None:
    parts = {"sms": "Alert {{ patient_ref }}: {{ patient_url }}"}
    assert editing.validate(parts, key="clinic-alert", locale="en").problems == []
    problems = editing.validate(parts, key="day-3", locale="en").problems
    assert len(problems) == 1 and "{{ patient_ref }}, {{ patient_url }}" in problems[0]


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ first_name.__class__.__base__.__subclasses__() }}",
        "{{ first_name|attr('__class__') }}",
    ],
)
@pytest.mark.parametrize("part", ["sms", "email_text", "email_html"])
def test_it_reports_sandbox_escapes_in_any_part(escape: str, part: str) -> None:
    parts = default_parts("day-3", "en")
    parts[part] += escape
    result = editing.validate(parts, key="day-3", locale="en")
    assert len(result.problems) == 1
    assert "cannot be rendered safely" in result.problems[0]
    assert "unsafe" in result.problems[0]
    assert editing.PART_LABELS[part] in result.problems[0]


def test_it_requires_the_opt_out_line_on_the_first_text_in_each_language() -> None:
    def problems(text: str, locale: str, key: str = "after-session") -> list[str]:
        return editing.validate(with_sms(text, key, locale), key=key, locale=locale).problems

    assert problems(f"Hi {{{{ first_name }}}}. {OPT_OUT}", "en") == []
    assert problems("Bonjour. Répondez ARRET pour vous désabonner.", "fr") == []
    assert problems("Bonjour. Répondez ARRÊT pour vous désabonner.", "fr") == []
    missing = problems("Hi {{ first_name }}, drink water.", "en")
    assert len(missing) == 1 and "Reply STOP to opt out." in missing[0]
    assert problems("Bleeding that won't stop? Call us.", "en") == missing  # lowercase: advice
    assert len(problems("Bonjour. Reply STOP to opt out.", "fr")) == 1  # French needs ARRET
    # Later messages need no opt-out line
    assert problems("Hi {{ first_name }}, how is the pain?", "en", key="day-3") == []


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("[" * 80, "GSM-7", 160, 1),  # extension characters take two septets
        ("a" * 69 + "✓", "UCS-2", 70, 1),
        ("a" * 70 + "✓", "UCS-2", 71, 2),
        ("é" * 160, "GSM-7", 160, 1),  # é is in the GSM-7 alphabet
        ("ê" * 70, "UCS-2", 70, 1),  # ê is not
    ],
)
def test_it_counts_the_encoding_and_segments_of_the_rendered_sms(
    text: str, encoding: str, units: int, segments: int
) -> None:
    result = editing.validate({"sms": text}, key="day-3", locale="en")
    assert result.problems == []
    assert (result.sms.encoding, result.sms.units, result.sms.segments) == (
        encoding,
        units,
        segments,
    )


def test_it_counts_segments_after_the_variables_are_filled_in() -> None:
    # "Alexandra" (9) + 151 = 160: one segment; one more character: two
    one = editing.validate({"sms": "{{ first_name }}" + "a" * 151}, key="day-3", locale="en").sms
    two = editing.validate({"sms": "{{ first_name }}" + "a" * 152}, key="day-3", locale="en").sms
    assert one is not None and two is not None
    assert (one.units, one.segments, two.segments) == (160, 1, 2)


def test_it_refuses_oversized_parts() -> None:
    result = editing.validate(
        {
            "sms": "a" * 1601,
            "email_subject": "Hello",
            "email_text": "x" * (100 * 1024 + 1) + "{{ unsubscribe_url }}",
            "email_html": "<p>{{ unsubscribe_url }}</p>",
        },
        key="day-3",
        locale="en",
    )
    assert result.problems == [
        "The SMS template is 1,601 characters long; the most is 1,600.",
        "The email text is 102,422 bytes; the most is 102,400 (100 KB).",
    ]
    assert editing.validate({"sms": "a" * 1600}, key="day-3", locale="en").problems == []


def test_it_refuses_a_short_template_that_renders_too_long() -> None:
    source = "{% for url in checkin_urls %}{{ url }} {{ url }} {{ url }} {{ url }} {% endfor %}"
    problems = editing.validate({"sms": source}, key="day-3", locale="en").problems
    assert len(problems) == 1 and "characters long" in problems[0]


def test_it_refuses_keyword_answers_longer_than_one_text() -> None:
    problems = editing.validate({"sms": "a" * 161}, key="reply-help", locale="en").problems
    assert len(problems) == 1 and "cut at 160" in problems[0]


@pytest.mark.parametrize(
    "source",
    [
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        "{{ 'a' * 100000 * 100000 }}",
        "{{ first_name" + "|replace('a', 'aaaaaaaaaaaaaaaa')" * 20 + " }}",
        "{{ " + "(" * 400 + "1" + ")" * 400 + " }}",
    ],
    ids=["endless-loop", "huge-string", "doubling-replace", "deep-nesting"],
)
def test_it_reports_templates_too_costly_to_render_and_keeps_working(source: str) -> None:
    result = editing.validate({"sms": source}, key="day-3", locale="en")
    assert len(result.problems) == 1 and result.sms is None
    assert any(w in result.problems[0] for w in ("too long", "memory", "deeply", "rendered"))
    # The checker is still there for the next admin
    after = editing.validate({"sms": "Hi {{ first_name }}"}, key="day-3", locale="en")
    assert after.problems == [] and after.sms is not None


def test_it_requires_the_parts_a_message_is_sent_with(session: Session) -> None:
    required = editing.required_parts(session=session, key="after-session")
    assert required == editing.PARTS
    assert editing.required_parts(session=session, key="reply-help") == ("sms",)
    problems = editing.validate(
        {"sms": f"Hi. {OPT_OUT}"}, key="after-session", locale="en", required=required
    ).problems
    assert problems == [
        "The email subject cannot be empty: this message is sent with one.",
        "The email text cannot be empty: this message is sent with one.",
        "The email HTML cannot be empty: this message is sent with one.",
    ]


def test_it_wants_a_whole_email_one_line_subject_and_an_unsubscribe_link() -> None:
    half = editing.validate(
        {"sms": "x", "email_subject": "Hi", "email_text": "{{ unsubscribe_url }}"},
        key="day-3",
        locale="en",
    ).problems
    assert half == [
        "An email needs a subject, a text part and an HTML part; the email HTML is empty."
    ]
    parts = {
        "email_subject": "Hi\n{{ first_name }}",
        "email_text": "No link here",
        "email_html": "<p>{{ unsubscribe_url }}</p>",
    }
    problems = editing.validate(parts, key="day-3", locale="en").problems
    assert problems == [
        "The email subject must be a single line.",
        "The email text must include the unsubscribe link {{ unsubscribe_url }}.",
    ]


def test_it_previews_every_part_with_sample_data_and_raises_nothing() -> None:
    shown = editing.preview(default_parts("after-session", "fr"), key="after-session", locale="fr")
    assert shown.ok and shown.problems == []
    assert shown.parts["sms"].startswith("Bow River Physiotherapy: Alexandra,")
    assert shown.parts["email_subject"] == "À quoi vous attendre après votre visite d'aujourd'hui"
    assert "https://clinic.example/u/sample-token" in shown.parts["email_text"]
    assert '<html lang="fr">' in shown.parts["email_html"]
    assert shown.sms is not None and shown.sms.segments == 2

    broken = editing.preview(
        {"sms": "{{ ''.__class__ }}", "email_subject": "{% if %}", "nonsense": "x"},
        key="day-3",
        locale="xx",
    )
    assert not broken.ok and broken.parts["sms"] == "" and broken.sms is None
    assert len(broken.problems) == 5  # language, unknown part, SMS, subject, incomplete email


def test_it_escapes_sample_values_in_the_html_preview() -> None:
    shown = editing.preview(
        {
            "sms": "{{ '<b>' }}",
            "email_subject": "s",
            "email_text": "{{ unsubscribe_url }}",
            "email_html": "<p>{{ '<b>' }}</p>{{ unsubscribe_url }}",
        },
        key="day-3",
        locale="en",
    )
    assert shown.problems == []
    assert shown.parts["sms"] == "<b>"
    assert shown.parts["email_html"].startswith("<p>&lt;b&gt;</p>")


# --- drafts, publishing, history ------------------------------------------------------------


def test_it_keeps_one_draft_per_key_and_language(session: Session, admin: User) -> None:
    first = editing.save_draft(
        session=session,
        key="after-session",
        locale="en",
        parts=with_sms(f"One. {OPT_OUT}"),
        user=admin,
    )
    again = editing.save_draft(
        session=session,
        key="after-session",
        locale="en",
        parts=with_sms(f"Two. {OPT_OUT}"),
        user=admin,
    )
    french = editing.save_draft(
        session=session,
        key="after-session",
        locale="fr",
        parts=with_sms("Deux. Répondez ARRET.", locale="fr"),
        user=admin,
    )
    assert first.id == again.id and (again.version, again.status) == (2, "draft")
    assert (french.version, french.locale) == (2, "fr") and french.id != first.id
    assert [v[:2] for v in versions(session)] == [(2, "draft"), (1, "published")]
    assert versions(session)[0][2] == f"Two. {OPT_OUT}"
    assert again.created_by == "ada@clinic.example"
    assert [(a, act, d["version"], d["locale"]) for a, act, d in audit(session)] == [
        ("ada@clinic.example", "template.draft_saved", 2, "en"),
        ("ada@clinic.example", "template.draft_saved", 2, "en"),
        ("ada@clinic.example", "template.draft_saved", 2, "fr"),
    ]


def test_it_refuses_a_draft_with_problems_and_changes_nothing(
    session: Session, admin: User
) -> None:
    before = versions(session)
    with pytest.raises(TemplateRejected) as refused:
        editing.save_draft(
            session=session,
            key="after-session",
            locale="en",
            parts=with_sms("{{ ''.__class__.__mro__ }}"),
            user=admin,
        )
    assert len(refused.value.problems) == 1 and "unsafe" in refused.value.problems[0]
    assert isinstance(refused.value, ValueError)
    assert versions(session) == before and audit(session) == []


def test_it_refuses_unknown_keys_and_languages(session: Session, admin: User) -> None:
    with pytest.raises(TemplateNotFound):
        editing.history(session=session, key="no-such-key", locale="en")
    with pytest.raises(TemplateNotFound):
        editing.history(session=session, key="after-session", locale="de")
    with pytest.raises(TemplateNotFound):
        editing.save_draft(session=session, key="nope", locale="en", parts={"sms": "x"}, user=admin)
    with pytest.raises(TemplateEditError, match="no draft"):
        editing.publish(session=session, key="after-session", locale="en", user=admin)


def test_it_publishes_the_draft_and_retires_the_old_version(session: Session, admin: User) -> None:
    editing.save_draft(
        session=session,
        key="after-session",
        locale="en",
        parts=with_sms(f"New. {OPT_OUT}"),
        user=admin,
    )
    published = editing.publish(session=session, key="after-session", locale="en", user=admin)
    assert (published.version, published.status) == (2, "published")
    assert [v[:2] for v in versions(session)] == [(2, "published"), (1, "retired")]
    assert audit(session)[-1] == (
        "ada@clinic.example",
        "template.published",
        {
            "locale": "en",
            "version": 2,
            "key": "after-session",
            "retired_version": 1,
            "apply_to_pending": False,
            "repinned": 0,
        },
    )
    # French is untouched
    assert [v[:2] for v in versions(session, locale="fr")] == [(1, "published")]
    # The next enrollment is planned with the new version
    enrollment = enroll(
        session,
        EnrollmentRequest(
            first_name="Alexandra",
            last_name="Tremblay",
            session_end=real_now() - timedelta(minutes=10),
            phone="+14035550123",
        ),
        now=real_now(),
    )
    session.flush()
    first = session.scalar(
        select(Message).where(
            Message.enrollment_id == enrollment.id, Message.step_key == "after-session"
        )
    )
    assert first is not None and first.template_version_id == published.id


def patient(session: Session, n: int, language: str = "en") -> int:
    enrollment = enroll(
        session,
        EnrollmentRequest(
            first_name=f"Patient{n}",
            last_name="Test",
            session_end=real_now() - timedelta(minutes=10),
            phone=f"+1403555{n:04d}",
            language=language,
        ),
        now=real_now(),
    )
    session.flush()
    return enrollment.id


def test_it_moves_only_unsent_messages_to_the_new_version_when_asked(
    session: Session, admin: User
) -> None:
    # Given four English patients whose first text is in each state, and a French one
    states = ["sent", "scheduled", "retry_wait", "queued"]
    firsts: dict[str, Message] = {}
    for n, status in enumerate(states):
        enrollment_id = patient(session, n)
        message = session.scalars(
            select(Message).where(
                Message.enrollment_id == enrollment_id, Message.step_key == "after-session"
            )
        ).one()
        message.status = status
        if status == "sent":
            message.body = "what was sent"
        firsts[status] = message
    french = patient(session, 9, language="fr")
    session.flush()
    v1 = {m.template_version_id for m in firsts.values()}
    assert len(v1) == 1
    waiting = editing.waiting_messages(session=session, key="after-session", locale="en")
    assert waiting == {1: 2}

    # When an admin publishes a new English version for pending messages too
    editing.save_draft(
        session=session,
        key="after-session",
        locale="en",
        parts=with_sms(f"New. {OPT_OUT}"),
        user=admin,
    )
    new = editing.publish(
        session=session, key="after-session", locale="en", user=admin, apply_to_pending=True
    )
    session.expire_all()

    # Then the scheduled and retrying texts use it; sent, in-flight and French ones do not
    (old_id,) = v1
    pinned = {s: session.get_one(Message, m.id).template_version_id for s, m in firsts.items()}
    assert pinned == {"sent": old_id, "scheduled": new.id, "retry_wait": new.id, "queued": old_id}
    assert session.get_one(Message, firsts["sent"].id).body == "what was sent"
    french_versions = set(
        session.scalars(select(Message.template_version_id).where(Message.enrollment_id == french))
    )
    assert new.id not in french_versions
    # Other steps of the same patients keep their own templates
    day3 = session.scalars(select(Message).where(Message.step_key == "day-3")).all()
    assert all(m.template_version_id != new.id for m in day3)
    assert audit(session)[-1][2]["repinned"] == 2
    assert editing.waiting_messages(session=session, key="after-session", locale="en") == {2: 2}


def test_it_leaves_pending_messages_alone_unless_asked(session: Session, admin: User) -> None:
    enrollment_id = patient(session, 1)
    editing.save_draft(
        session=session,
        key="after-session",
        locale="en",
        parts=with_sms(f"New. {OPT_OUT}"),
        user=admin,
    )
    editing.publish(session=session, key="after-session", locale="en", user=admin)
    first = session.scalars(
        select(Message).where(
            Message.enrollment_id == enrollment_id, Message.step_key == "after-session"
        )
    ).one()
    assert first.template_version.version == 1


def test_it_rolls_back_by_publishing_a_new_copy_of_an_old_version(
    session: Session, admin: User
) -> None:
    original = default_parts("after-session", "en")
    editing.save_draft(
        session=session,
        key="after-session",
        locale="en",
        parts=with_sms(f"Two. {OPT_OUT}"),
        user=admin,
    )
    editing.publish(session=session, key="after-session", locale="en", user=admin)

    back = editing.roll_back(
        session=session, key="after-session", locale="en", to_version=1, user=admin
    )

    assert (back.version, back.status, back.created_by) == (3, "published", "ada@clinic.example")
    assert {p: getattr(back, p) for p in editing.PARTS} == original
    assert [v[:2] for v in versions(session)] == [(3, "published"), (2, "retired"), (1, "retired")]
    assert versions(session)[1][2] == f"Two. {OPT_OUT}"  # history kept as it was
    assert audit(session)[-1][1:] == (
        "template.rolled_back",
        {
            "locale": "en",
            "version": 3,
            "key": "after-session",
            "copied_from": 1,
            "retired_version": 2,
            "apply_to_pending": False,
            "repinned": 0,
        },
    )
    with pytest.raises(TemplateEditError, match="already the published"):
        editing.roll_back(
            session=session, key="after-session", locale="en", to_version=3, user=admin
        )
    with pytest.raises(TemplateNotFound):
        editing.roll_back(
            session=session, key="after-session", locale="en", to_version=9, user=admin
        )


def test_it_keeps_an_open_draft_through_a_roll_back_and_publishes_it_last(
    session: Session, admin: User
) -> None:
    editing.save_draft(
        session=session, key="day-3", locale="en", parts=with_sms("Two", "day-3"), user=admin
    )
    editing.publish(session=session, key="day-3", locale="en", user=admin)
    editing.save_draft(
        session=session, key="day-3", locale="en", parts=with_sms("Three", "day-3"), user=admin
    )
    with pytest.raises(TemplateEditError, match="never published"):
        editing.roll_back(session=session, key="day-3", locale="en", to_version=3, user=admin)
    editing.roll_back(session=session, key="day-3", locale="en", to_version=1, user=admin)
    assert [v[:2] for v in versions(session, "day-3")] == [
        (4, "published"),
        (3, "draft"),
        (2, "retired"),
        (1, "retired"),
    ]

    published = editing.publish(session=session, key="day-3", locale="en", user=admin)

    assert (published.version, published.sms) == (5, "Three")
    assert [v[:2] for v in versions(session, "day-3")] == [
        (5, "published"),
        (4, "retired"),
        (2, "retired"),
        (1, "retired"),
    ]


def test_it_refuses_to_publish_or_roll_back_to_content_that_no_longer_passes(
    session: Session, admin: User
) -> None:
    # An old version written before the rules (here: put in the database by hand)
    template_id = session.scalar(
        select(MessageTemplate.id).where(MessageTemplate.key == "after-session")
    )
    session.add(
        TemplateVersion(
            template_id=template_id,
            locale="en",
            version=7,
            status="retired",
            sms="{{ ''.__class__ }}",
            created_at=real_now(),
            created_by="someone",
        )
    )
    session.flush()
    with pytest.raises(TemplateRejected):
        editing.roll_back(
            session=session, key="after-session", locale="en", to_version=7, user=admin
        )
    assert [v[:2] for v in versions(session)] == [(7, "retired"), (1, "published")]


def test_it_diffs_two_versions_part_by_part(session: Session, admin: User) -> None:
    parts = default_parts("day-3", "en")
    editing.save_draft(
        session=session,
        key="day-3",
        locale="en",
        parts={
            **parts,
            "sms": "Hi {{ first_name }}, how is it going?",
            "email_subject": parts["email_subject"] + " (updated)",
        },
        user=admin,
    )
    editing.publish(session=session, key="day-3", locale="en", user=admin)

    text = editing.diff(session=session, key="day-3", locale="en", from_version=1, to_version=2)

    old_sms = parts["sms"].splitlines()
    assert text.startswith("--- day-3/en/v1/sms\n+++ day-3/en/v2/sms\n@@ ")
    assert f"\n-{old_sms[-1]}\n" in text
    assert "\n+Hi {{ first_name }}, how is it going?\n" in text
    assert "--- day-3/en/v1/email_subject\n+++ day-3/en/v2/email_subject\n" in text
    assert f"\n+{parts['email_subject']} (updated)" in text
    assert "email_text" not in text and "email_html" not in text  # unchanged parts
    assert (
        editing.diff(session=session, key="day-3", locale="en", from_version=2, to_version=2) == ""
    )
    with pytest.raises(TemplateNotFound):
        editing.diff(session=session, key="day-3", locale="en", from_version=1, to_version=3)


def test_it_gives_an_overview_of_every_template(session: Session, admin: User) -> None:
    editing.save_draft(
        session=session, key="day-3", locale="fr", parts=with_sms("Deux", "day-3", "fr"), user=admin
    )
    summaries = {s.key: s for s in editing.overview(session=session)}
    assert len(summaries) == 14
    day3 = {s.locale: (s.published, s.draft) for s in summaries["day-3"].locales}
    assert day3 == {"en": (1, None), "fr": (1, 2)}
    alert = {s.locale: (s.published, s.draft) for s in summaries["clinic-alert"].locales}
    assert alert == {"en": (1, None), "fr": (None, None)}
    assert "patient_ref" in summaries["clinic-alert"].variables
    assert "patient_ref" not in summaries["day-3"].variables
