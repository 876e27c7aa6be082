"""Reproductions from the security review (issue 8, point 1): a family shares a phone or an
email. Enrolling one of them never takes over another's record, opt-outs belong to the number
or the address, and a reply belongs to the patient last texted on its number, old numbers
included."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from browser import make_user
from in_process import csrf_in, signed_in_client
from sqlalchemy import select, text
from stack import Deployment
from test_api_enrollments import PATIENT, Account, account, api, audit
from test_migrations import database_at
from test_two_way import PUBLIC, answered, text_in

from reminders.db import migrate
from reminders.models import Enrollment, Flag, Message, OptOut, Patient, Reply

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
FRANK_PHONE, GINA_PHONE = "+14035550123", "+14035550124"
FAMILY_EMAIL = "tremblays@example.com"
FRANK = {**PATIENT, "first_name": "Frank", "phone": FRANK_PHONE, "email": FAMILY_EMAIL}
GINA = {**PATIENT, "first_name": "Gina", "phone": GINA_PHONE, "email": FAMILY_EMAIL}


def enroll(stack: Deployment, who: Account, **fields: Any) -> dict[str, Any]:
    with api(stack, who) as client:
        answer = client.post("/api/enrollments", json=fields)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def patients(stack: Deployment) -> list[tuple[str, str, str | None, str | None]]:
    with stack.session() as session:
        rows = session.scalars(select(Patient).order_by(Patient.id))
        return [(p.first_name, p.last_name, p.phone, p.email) for p in rows]


def texts_to(stack: Deployment, number: str) -> list[str]:
    return [str(m["body"]) for m in stack.twilio.messages if m["to"] == number]


def sent(
    stack: Deployment, patient_id: int, step: str = "after-session", channel: str = "sms"
) -> None:
    stack.wait_until(
        lambda: [
            m
            for m in stack.messages(patient_id=patient_id, step_key=step, channel=channel)
            if m.status == "sent"
        ],
        what=f"patient {patient_id}'s {step} {channel} recorded as sent",
    )


def reply_owners(stack: Deployment) -> list[tuple[str, int | None]]:
    with stack.session() as session:
        rows = session.execute(select(Reply.text, Reply.patient_id).order_by(Reply.id))
        return [(t, p) for t, p in rows]


def sms_statuses(stack: Deployment, patient_id: int) -> set[tuple[str, str | None]]:
    return {(m.status, m.reason) for m in stack.messages(patient_id=patient_id, channel="sms")}


# enrolling --------------------------------------------------------------------------------


def test_it_enrolls_a_family_member_on_a_shared_email_as_a_patient_of_their_own(
    stack: Deployment,
) -> None:
    # Given Frank, enrolled with his mobile and the family's email
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    therapist = account(stack)
    frank = enroll(stack, therapist, **FRANK)

    # When Gina is enrolled with her own mobile and the same family email
    gina = enroll(stack, therapist, **GINA)

    # Then Gina is a patient of her own, Frank's record is as it was, and the answer says
    # who else uses the contact
    assert gina["patient_id"] != frank["patient_id"]
    assert patients(stack) == [
        ("Frank", "Tremblay", FRANK_PHONE, FAMILY_EMAIL),
        ("Gina", "Tremblay", GINA_PHONE, FAMILY_EMAIL),
    ]
    assert gina["shares_contact_with"] == ["Frank"]
    assert frank["shares_contact_with"] == []
    with api(stack, therapist) as client:
        again = client.get(f"/api/enrollments/{frank['id']}")
    assert again.json()["shares_contact_with"] == ["Gina"]
    assert [e.action for e in audit(stack)].count("patient.contact_changed") == 0

    # When their first texts are due
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    stack.twilio.wait_for(2, timeout=30)

    # Then Frank's goes to Frank's phone and greets Frank; Gina's goes to hers
    frank_texts, gina_texts = texts_to(stack, FRANK_PHONE), texts_to(stack, GINA_PHONE)
    assert len(frank_texts) == 1 and "Hi Frank," in frank_texts[0]
    assert len(gina_texts) == 1 and "Hi Gina," in gina_texts[0]


def test_it_plans_a_shared_contacts_enrollment_as_a_new_patient_in_a_dry_run(
    stack: Deployment,
) -> None:
    # Given Frank
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    therapist = account(stack)
    enroll(stack, therapist, **FRANK)

    # When Gina's enrollment on Frank's mobile is previewed
    with api(stack, therapist) as client:
        preview = client.post(
            "/api/enrollments", json={**GINA, "phone": FRANK_PHONE, "dry_run": True}
        )

    # Then she would be a new patient, and the preview names Frank
    assert preview.status_code == 200, preview.text
    assert preview.json()["patient_id"] is None
    assert preview.json()["shares_contact_with"] == ["Frank"]


def test_it_reuses_the_same_persons_record_and_audits_a_new_number_masked(
    stack: Deployment,
) -> None:
    # Given Zoé, enrolled with her mobile and email
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    therapist = account(stack)
    first = enroll(stack, therapist, **{**FRANK, "first_name": "Zoé", "email": "zoe@example.com"})

    # When she comes back, typed without the accent and in another case, with a new mobile
    # and the same email
    second = enroll(
        stack,
        therapist,
        **{
            **FRANK,
            "first_name": " zoe ",
            "last_name": "TREMBLAY",
            "phone": "403 555 0199",
            "email": "Zoe@Example.com",
        },
    )

    # Then it is her record, her name as first written, her new mobile on it
    assert second["patient_id"] == first["patient_id"]
    assert patients(stack) == [("Zoé", "Tremblay", "+14035550199", "zoe@example.com")]
    assert second["shares_contact_with"] == []
    # and the change is audited, the numbers masked
    changed = [e for e in audit(stack) if e.action == "patient.contact_changed"]
    assert [(e.subject_id, e.actor) for e in changed] == [(first["patient_id"], therapist.email)]
    assert changed[0].detail == {"phone": {"old": "+1******0123", "new": "+1******0199"}}
    written = json.dumps([e.detail for e in audit(stack)])
    assert "4035550123" not in written and "4035550199" not in written
    assert "zoe@" not in written.lower()


def test_it_audits_a_contact_fix_with_the_old_and_new_values_masked(stack: Deployment) -> None:
    # Given Frank
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    therapist = account(stack)
    frank = enroll(stack, therapist, **FRANK)

    # When his number and email are corrected
    with api(stack, therapist) as client:
        fixed = client.patch(
            f"/api/patients/{frank['patient_id']}",
            json={"phone": "403 555 0142", "email": "frank.t@example.org"},
        )

    # Then the change is audited masked, and nothing unmasked is written
    assert fixed.status_code == 200, fixed.text
    changed = [e for e in audit(stack) if e.action == "patient.contact_changed"]
    assert [e.detail for e in changed] == [
        {
            "phone": {"old": "+1******0123", "new": "+1******0142"},
            "email": {"old": "t***@example.com", "new": "f***@example.org"},
        }
    ]
    written = json.dumps([e.detail for e in audit(stack)])
    assert "4035550142" not in written and "frank.t" not in written


def test_the_enroll_form_says_who_else_uses_the_number(stack: Deployment) -> None:
    # Given Frank (a name with markup in it, to be shown as text), and a signed-in therapist
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(first_name="Frank <b>", phone=FRANK_PHONE, session_end=SESSION_END)
    email = make_user(stack, "therapist", "Sam Chen")

    with signed_in_client(stack, email) as client:
        # When Gina is enrolled on Frank's number with the web form
        form = {
            "csrf": csrf_in(client.get("/enroll").text),
            "first_name": "Gina",
            "last_name": "Tremblay",
            "phone": "(403) 555-0123",
            "email": "",
            "channel": "sms",
            "language": "en",
            "time_zone": "America/Edmonton",
            "session_end": "2026-11-24T14:00",
            "plan": "dry-needling",
            "consent": "verbal",
        }
        preview = client.post("/enroll", data={**form, "action": "preview"})
        saved = client.post("/enroll", data={**form, "action": "save"})
        location = saved.headers["location"]
        shown = client.get(location)

    # Then the preview and the page after enrolling say who else uses the number, escaped,
    # and the address carries the enrollment's id only
    notice = "This number is also used by Frank &lt;b&gt;."
    assert preview.status_code == 200 and notice in preview.text
    assert saved.status_code == 303
    gina = [p for p in patients(stack) if p[0] == "Gina"]
    assert gina == [("Gina", "Tremblay", FRANK_PHONE, None)]
    with stack.session() as session:
        enrollment_id = session.scalars(
            select(Enrollment.id).join(Patient).where(Patient.first_name == "Gina")
        ).one()
    assert location.endswith(f"?enrolled={enrollment_id}")
    assert "Gina" not in location and "555" not in location
    assert shown.status_code == 200 and notice in shown.text
    assert "<b>." not in shown.text


# opting out -------------------------------------------------------------------------------


def test_a_stop_from_a_shared_number_stops_texts_to_everyone_on_it_until_start(
    stack: Deployment,
) -> None:
    # Given Frank and Gina, who share the family's mobile
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    therapist = account(stack)
    frank = enroll(stack, therapist, **{**FRANK, "email": None})
    gina = enroll(stack, therapist, **{**GINA, "phone": FRANK_PHONE, "email": None})
    assert gina["patient_id"] != frank["patient_id"]

    # When the family texts STOP from that mobile
    confirmed = answered(text_in(stack, "STOP", sender=FRANK_PHONE))

    # Then every pending text to either of them is cancelled, and the number is opted out
    assert "START" in confirmed
    for who in (frank, gina):
        assert sms_statuses(stack, who["patient_id"]) == {("cancelled", "opted out")}
    with stack.session() as session:
        rows = session.execute(select(OptOut.address, OptOut.channel, OptOut.opted_in_at))
        assert [tuple(r) for r in rows] == [(FRANK_PHONE, "sms", None)]
    # and a third person enrolled on that number later gets no texts planned either
    hugo = enroll(stack, therapist, **{**GINA, "first_name": "Hugo", "phone": FRANK_PHONE})
    assert sms_statuses(stack, hugo["patient_id"]) == {("skipped", "opted out")}
    assert hugo["shares_contact_with"] == ["Frank", "Gina"]
    with api(stack, therapist) as client:
        timeline = client.get(f"/api/patients/{gina['patient_id']}").json()
    assert timeline["opted_out"] == ["sms"]

    # When the family texts START
    restarted = answered(text_in(stack, "START", sender=FRANK_PHONE))

    # Then texts to that number are allowed again, for all three
    assert "STOP" in restarted
    for who in (frank, gina, hugo):
        assert sms_statuses(stack, who["patient_id"]) == {("scheduled", None)}

    # and when the first texts are due, each goes out, once
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    sent_texts = stack.twilio.wait_for(3, timeout=30)
    greetings = sorted(re.findall(r"Hi (\w+),", str(m["body"]))[0] for m in sent_texts)
    assert greetings == ["Frank", "Gina", "Hugo"]
    assert {m["to"] for m in sent_texts} == {FRANK_PHONE}


def test_it_skips_a_text_due_to_a_number_that_opted_out_after_it_was_planned(
    stack: Deployment,
) -> None:
    # Given Gina, on her own mobile, and Frank, who said STOP from his
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    therapist = account(stack)
    gina = enroll(stack, therapist, **{**GINA, "email": None})
    enroll(stack, therapist, **{**FRANK, "email": None})
    answered(text_in(stack, "STOP", sender=FRANK_PHONE))

    # When Gina's mobile is changed to the family's (Frank's) and her first text is due
    with api(stack, therapist) as client:
        moved = client.patch(f"/api/patients/{gina['patient_id']}", json={"phone": FRANK_PHONE})
    assert moved.status_code == 200, moved.text
    stack.set_clock(SESSION_END + timedelta(minutes=31))

    # Then the worker skips it: that number opted out
    stack.wait_until(
        lambda: (
            ("skipped", "opted out")
            in {
                (m.status, m.reason)
                for m in stack.messages(patient_id=gina["patient_id"], step_key="after-session")
            }
        ),
        what="Gina's text skipped",
    )
    assert stack.twilio.messages == []


def test_an_unsubscribe_link_stops_emails_to_that_address_for_everyone_on_it(
    stack: Deployment,
) -> None:
    # Given Frank and Gina, who get emails at the family's address, and Frank's first email
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    therapist = account(stack)
    frank = enroll(stack, therapist, **{**FRANK, "channel": "email"})
    email = stack.smtp.wait_for(1, timeout=30)[0]
    gina = enroll(stack, therapist, **{**GINA, "channel": "email"})
    stack.smtp.wait_for(2, timeout=30)  # hers, due already, went out at once
    sent(stack, gina["patient_id"], channel="email")

    # When the family unsubscribes with the link in Frank's email
    url = email["List-Unsubscribe"].strip("<>").replace(PUBLIC, stack.web_url())
    done = httpx.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10)

    # Then no more emails are planned to that address, for either of them
    assert done.status_code == 200 and "no more aftercare emails" in done.text
    pending = [
        m.status
        for who in (frank, gina)
        for m in stack.messages(patient_id=who["patient_id"], channel="email")
        if m.status != "sent"
    ]
    assert pending and set(pending) == {"cancelled"}
    with stack.session() as session:
        assert session.scalars(select(OptOut.address)).all() == [FAMILY_EMAIL]


# replies ----------------------------------------------------------------------------------


def test_a_reply_belongs_to_the_patient_last_texted_on_that_number(stack: Deployment) -> None:
    # Given Frank, who got his first text on the family's mobile, then Gina, enrolled on the
    # same mobile after it (the newer patient, not texted yet)
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    therapist = account(stack)
    frank = enroll(stack, therapist, **{**FRANK, "email": None})
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    sent(stack, frank["patient_id"])
    gina = enroll(
        stack,
        therapist,
        **{
            **GINA,
            "phone": FRANK_PHONE,
            "email": None,
            "session_end": "2026-11-24T14:20:00-07:00",
        },
    )

    # When the mobile answers "8"
    answered(text_in(stack, "8", sender=FRANK_PHONE))

    # Then it is Frank's answer, and Frank is flagged
    assert reply_owners(stack) == [("8", frank["patient_id"])]
    with stack.session() as session:
        flagged = session.scalars(select(Flag.patient_id)).all()
    assert flagged == [frank["patient_id"]]

    # When Gina's first text goes out, and the mobile answers again
    stack.set_clock(SESSION_END + timedelta(minutes=51))
    sent(stack, gina["patient_id"])
    answered(text_in(stack, "3", sender=FRANK_PHONE))

    # Then that answer is Gina's
    assert reply_owners(stack)[-1] == ("3", gina["patient_id"])


def test_a_reply_from_a_patients_old_number_still_lands_on_them(stack: Deployment) -> None:
    # Given Frank, texted on his mobile, whose number was then changed
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    therapist = account(stack)
    frank = enroll(stack, therapist, **{**FRANK, "email": None})
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    sent(stack, frank["patient_id"])
    with api(stack, therapist) as client:
        moved = client.patch(f"/api/patients/{frank['patient_id']}", json={"phone": GINA_PHONE})
    assert moved.status_code == 200, moved.text

    # When the old mobile answers "8"
    answer = answered(text_in(stack, "8", sender=FRANK_PHONE))

    # Then the answer is his, flagged, and acknowledged
    assert reply_owners(stack) == [("8", frank["patient_id"])]
    with stack.session() as session:
        assert session.scalars(select(Flag.patient_id)).all() == [frank["patient_id"]]
    assert answer != ""


def test_retention_blanks_where_a_text_went_and_keeps_the_row(stack: Deployment) -> None:
    # Given Frank's first text, sent 40 days ago
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    therapist = account(stack)
    frank = enroll(stack, therapist, **{**FRANK, "email": None})
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    sent(stack, frank["patient_id"])
    with stack.session() as session:
        message = session.scalars(select(Message).where(Message.status == "sent")).one()
        assert message.to_address == FRANK_PHONE
        message.sent_at = SESSION_END - timedelta(days=40)

    # When retention runs with RETENTION_DAYS=30
    ran = stack.cli("retention", "run", "--json", env={"RETENTION_DAYS": "30"})

    # Then the text and where it went are gone, the row stays
    assert ran.returncode == 0, ran.stderr
    with stack.session() as session:
        row = session.scalars(select(Message).where(Message.status == "sent")).one()
    assert (row.body, row.to_address) == ("(removed after 30 days)", None)


# the migration ----------------------------------------------------------------------------

OLD_ROWS = [
    "INSERT INTO aftercare_plan (id, key, name, description, updated_at) VALUES (1, 'p', 'Plan', '', :now)",
    "INSERT INTO patient (id, first_name, last_name, phone, email, language, time_zone, channel, consent_at,"
    " consent_method, consent_recorded_by, created_at) VALUES (1, 'A', 'B', '+14035550123',"
    " 'Family@Example.com', 'en', 'America/Edmonton', 'both', :now, 'verbal', 'cli', :now)",
    "INSERT INTO enrollment (id, patient_id, plan_id, therapist_name, session_end, status, idempotency_key,"
    " created_at) VALUES (1, 1, 1, 'Sam', :now, 'active', NULL, :now)",
    "INSERT INTO message_template (id, key) VALUES (1, 'after-session')",
    "INSERT INTO template_version (id, template_id, locale, version, status, sms, email_subject, email_text,"
    " email_html, created_at, created_by) VALUES (1, 1, 'en', 1, 'published', 'hi', '', '', '', :now, 'init')",
    "INSERT INTO message (id, enrollment_id, patient_id, step_key, channel, locale, template_version_id, checkin,"
    " status, due_at, next_attempt_at, max_lateness_seconds, attempts, body, sent_at, created_at, updated_at)"
    " VALUES (1, 1, 1, 'after-session', 'sms', 'en', 1, false, 'delivered', :now, :now, 3600, 1, 'hi',"
    " :now, :now, :now)",
    "INSERT INTO message (id, enrollment_id, patient_id, step_key, channel, locale, template_version_id, checkin,"
    " status, due_at, next_attempt_at, max_lateness_seconds, attempts, body, sent_at, created_at, updated_at)"
    " VALUES (2, 1, 1, 'after-session', 'email', 'en', 1, false, 'sent', :now, :now, 3600, 1, 'hi',"
    " :now, :now, :now)",
    "INSERT INTO message (id, enrollment_id, patient_id, step_key, channel, locale, template_version_id, checkin,"
    " status, due_at, next_attempt_at, max_lateness_seconds, attempts, created_at, updated_at) VALUES"
    " (3, 1, 1, 'day-3', 'sms', 'en', 1, false, 'scheduled', :now, :now, 3600, 0, :now, :now)",
    "INSERT INTO opt_out (id, patient_id, channel, source, opted_out_at) VALUES (1, 1, 'sms', 'keyword', :now)",
    "INSERT INTO opt_out (id, patient_id, channel, source, opted_out_at) VALUES (2, 1, 'email', 'email-link', :now)",
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_keys_opt_outs_and_sent_messages_by_their_contact_point(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Given a database at the schema before contact points, with opt-outs and sent messages
    url, engine = database_at("0007", OLD_ROWS, backend, tmp_path, request)

    # When it is upgraded
    migrate(url)

    # Then each opt-out stops its contact point, and each sent message says where it went
    with engine.connect() as connection:
        opt_outs = connection.execute(text("SELECT channel, address FROM opt_out ORDER BY id"))
        messages = connection.execute(text("SELECT id, to_address FROM message ORDER BY id"))
        assert [tuple(r) for r in opt_outs] == [
            ("sms", "+14035550123"),
            ("email", "family@example.com"),
        ]
        assert [tuple(r) for r in messages] == [
            (1, "+14035550123"),
            (2, "Family@Example.com"),
            (3, None),
        ]
    engine.dispose()


def _message(id_: int, enrollment: int, step: str, status: str, body: str | None) -> str:
    sent = ":now" if body else "NULL"
    text_value = f"'{body}'" if body else "NULL"
    return (
        "INSERT INTO message (id, enrollment_id, patient_id, step_key, channel, locale,"
        " template_version_id, checkin, status, due_at, next_attempt_at, max_lateness_seconds,"
        " attempts, body, sent_at, created_at, updated_at)"
        f" VALUES ({id_}, {enrollment}, 1, '{step}', 'sms', 'en', 1, false, '{status}', :now, :now,"
        f" 3600, 0, {text_value}, {sent}, :now, :now)"
    )


MERGED_ROWS = [
    *OLD_ROWS[:1],
    # Gina took over Frank's record (his name and phone were overwritten) by enrolling on the
    # family's email; each enrollment's first text still greets its own patient
    "INSERT INTO patient (id, first_name, last_name, phone, email, language, time_zone, channel, consent_at,"
    " consent_method, consent_recorded_by, created_at) VALUES (1, 'Gina', 'Ross', '+14035550177',"
    " 'family@example.com', 'en', 'America/Edmonton', 'both', :now, 'verbal', 'cli', :now)",
    "INSERT INTO enrollment (id, patient_id, plan_id, therapist_name, session_end, status, idempotency_key,"
    " created_at) VALUES (1, 1, 1, 'Sam', :now, 'active', NULL, :now)",
    "INSERT INTO enrollment (id, patient_id, plan_id, therapist_name, session_end, status, idempotency_key,"
    " created_at) VALUES (2, 1, 1, 'Sam', :now, 'active', NULL, :now)",
    *OLD_ROWS[3:5],
    _message(
        1, 1, "after-session", "delivered", "Bow River Physiotherapy: Hi Frank, soreness is normal."
    ),
    _message(2, 1, "day-3", "scheduled", None),
    _message(
        3, 2, "after-session", "delivered", "Bow River Physiotherapy: Hi Gina, soreness is normal."
    ),
    _message(4, 2, "day-3", "scheduled", None),
    "INSERT INTO reply (id, patient_id, checkin_message_id, channel, provider_id, received_at, text, kind,"
    " score, answer) VALUES (1, 1, 1, 'sms', 'SM1', :now, '8', 'score', 8, NULL)",
    "INSERT INTO flag (id, patient_id, reply_id, reason, opened_at) VALUES (1, 1, 1, 'pain 8 or more', :now)",
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_splits_a_record_whose_enrollments_greet_two_people(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Given a database from before contact points where Gina's enrollment took over Frank's
    # (ids given by hand leave PostgreSQL's sequence behind: move it on, as real use would)
    moved_on = ["SELECT setval('patient_id_seq', 1)"] if backend == "postgresql" else []
    url, engine = database_at("0007", [*MERGED_ROWS, *moved_on], backend, tmp_path, request)

    # When it is upgraded
    migrate(url)

    # Then Frank has a record of his own with his enrollment, message, reply and flag; his
    # unsent message is held (his number is lost) rather than sent to Gina; Gina's is intact
    with engine.connect() as connection:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in connection.execute(text(sql))]

        assert rows("SELECT id, first_name, last_name, phone, email FROM patient ORDER BY id") == [
            (1, "Gina", "Ross", "+14035550177", "family@example.com"),
            (2, "Frank", "Ross", None, None),
        ]
        assert rows("SELECT id, patient_id FROM enrollment ORDER BY id") == [(1, 2), (2, 1)]
        assert rows("SELECT id, patient_id, status, reason FROM message ORDER BY id") == [
            (1, 2, "delivered", None),
            (2, 2, "cancelled", "held: record split, contact unknown"),
            (3, 1, "delivered", None),
            (4, 1, "scheduled", None),
        ]
        assert rows("SELECT patient_id FROM reply") == [(2,)]
        assert rows("SELECT patient_id FROM flag") == [(2,)]
        assert rows("SELECT subject_id FROM audit_event WHERE action = 'patient.split'") == [(1,)]
    engine.dispose()
