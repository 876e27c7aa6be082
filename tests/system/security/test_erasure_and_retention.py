"""Privacy: erasing a patient on request (API and CLI), blanking old texts (RETENTION_DAYS),
auditing who viewed a record, and an audit log that cannot be rewritten on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from factories import account
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from stack import Deployment
from test_api_enrollments import SESSION_END, api, audit

from reminders.db import make_engine, migrate
from reminders.models import (
    AuditEvent,
    ClinicAlert,
    DeliveryAttempt,
    Enrollment,
    Flag,
    Message,
    OptOut,
    Patient,
    Reply,
)

FIVE_PAST = SESSION_END + timedelta(minutes=5)
SHARED_PHONE = "403 555 0123"


def patient(stack: Deployment, first: str, phone: str = SHARED_PHONE) -> int:
    stack.set_clock(FIVE_PAST)
    enrollment_id = stack.enroll(
        first_name=first, last_name="Tremblay", phone=phone, session_end=SESSION_END
    )
    return stack.messages(enrollment_id=enrollment_id)[0].patient_id


def history(stack: Deployment, patient_id: int, *, words: str, opted_out: bool) -> None:
    """A sent text with its attempt, an emergency reply with a flag and a clinic alert, and
    (maybe) a STOP: what a patient leaves behind."""
    with stack.session() as session:
        message = session.scalars(
            select(Message).where(Message.patient_id == patient_id).order_by(Message.id)
        ).first()
        assert message is not None
        message.status, message.sent_at = "delivered", FIVE_PAST
        message.body = f"Hi {words}, some soreness is normal."
        message.to_address = session.get_one(Patient, patient_id).phone
        session.add(
            DeliveryAttempt(
                message_id=message.id,
                started_at=FIVE_PAST,
                transport="twilio",
                outcome="sent",
            )
        )
        reply = Reply(
            patient_id=patient_id,
            checkin_message_id=message.id,
            channel="sms",
            received_at=FIVE_PAST,
            text=f"{words} cannot breathe",
            kind="emergency",
        )
        session.add(reply)
        session.flush()
        session.add(
            Flag(patient_id=patient_id, reply_id=reply.id, reason="emergency", opened_at=FIVE_PAST)
        )
        session.add(
            ClinicAlert(reply_id=reply.id, status="sent", claimed_at=FIVE_PAST, channels=["email"])
        )
        if opted_out:
            session.add(
                OptOut(
                    patient_id=patient_id,
                    channel="sms",
                    address=message.to_address or "",
                    source="keyword",
                    opted_out_at=FIVE_PAST,
                )
            )


def owned(stack: Deployment, patient_id: int) -> dict[str, int]:
    """How many rows of each kind are the patient's."""
    with stack.session() as session:
        messages = select(Message.id).where(Message.patient_id == patient_id)
        replies = select(Reply.id).where(Reply.patient_id == patient_id)

        def count(model: type, where: object) -> int:
            query = select(func.count()).select_from(model).where(where)  # type: ignore[arg-type]
            return session.scalar(query) or 0

        return {
            "patient": count(Patient, Patient.id == patient_id),
            "enrollments": count(Enrollment, Enrollment.patient_id == patient_id),
            "messages": count(Message, Message.patient_id == patient_id),
            "attempts": count(DeliveryAttempt, DeliveryAttempt.message_id.in_(messages)),
            "replies": count(Reply, Reply.patient_id == patient_id),
            "flags": count(Flag, Flag.patient_id == patient_id),
            "alerts": count(ClinicAlert, ClinicAlert.reply_id.in_(replies)),
            "opt_outs": count(OptOut, OptOut.patient_id == patient_id),
        }


def test_it_erases_everything_of_a_patient_and_keeps_a_shared_numbers_opt_out(
    stack: Deployment,
) -> None:
    # Given Alexandra, who texted STOP, and two patients on the same number, Bianca (with a
    # history of her own) and Chloe: the number's STOP stops texts to all three
    # (enrolled apart, then sharing it, as a contact fix can make them)
    alexandra = patient(stack, "Alexandra")
    bianca = patient(stack, "Bianca", "403 555 0124")
    chloe = patient(stack, "Chloe", "403 555 0125")
    with stack.session() as session:
        session.execute(
            update(Patient).where(Patient.id.in_((bianca, chloe))).values(phone="+14035550123")
        )
    history(stack, alexandra, words="Alexandra", opted_out=True)
    history(stack, bianca, words="Bianca", opted_out=False)
    bianca_before = owned(stack, bianca)
    admin = account(stack, "admin")

    # When an admin erases Alexandra through the API
    with api(stack, admin) as client:
        answer = client.delete(f"/api/patients/{alexandra}")
        again = client.get(f"/api/patients/{alexandra}")

    # Then nothing of hers is left, and the answer says what went
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == alexandra
    assert answer.json()["removed"]["messages"] == 5
    assert set(owned(stack, alexandra).values()) == {0}
    assert again.status_code == 404
    # and Bianca is untouched but for the number's STOP, which she now carries: the number
    # stays opted out for her and Chloe
    assert owned(stack, bianca) == {**bianca_before, "opt_outs": 1}
    with stack.session() as session:
        active = select(OptOut.patient_id, OptOut.address).where(
            OptOut.channel == "sms", OptOut.opted_in_at.is_(None)
        )
        assert [tuple(row) for row in session.execute(active)] == [(bianca, "+14035550123")]
    # and the audit keeps her id and counts, and no personal data anywhere
    events = audit(stack)
    erased = [e for e in events if e.action == "patient.erased"]
    assert [(e.subject_id, e.actor) for e in erased] == [(alexandra, admin.email)]
    assert erased[0].detail["replies"] == 1 and erased[0].detail["opt_outs_carried_over"] == 1
    written = json.dumps([(e.actor, e.detail) for e in events])
    assert "Alexandra" not in written and "4035550123" not in written


def test_it_lets_only_admins_erase_and_says_when_there_is_no_such_patient(
    stack: Deployment,
) -> None:
    # Given a patient, a therapist and an admin
    alexandra = patient(stack, "Alexandra")

    # When the therapist tries to erase her, and the admin an id nobody has
    with api(stack, account(stack)) as client:
        refused = client.delete(f"/api/patients/{alexandra}")
    with api(stack, account(stack, "admin")) as client:
        unknown = client.delete("/api/patients/999999")

    # Then the therapist is refused, the unknown id is a plain 404, and she is still there
    assert refused.status_code == 403
    assert unknown.status_code == 404 and unknown.json()["detail"] == "There is no patient 999999."
    assert owned(stack, alexandra)["patient"] == 1


def test_it_erases_from_the_command_line_only_once_confirmed(stack: Deployment) -> None:
    # Given a patient with a history
    alexandra = patient(stack, "Alexandra")
    history(stack, alexandra, words="Alexandra", opted_out=False)

    # When the operator does not confirm, then erases with --yes, then tries again
    unconfirmed = stack.cli("patients", "erase", str(alexandra))
    kept = owned(stack, alexandra)
    done = stack.cli("patients", "erase", str(alexandra), "--yes", "--json")
    twice = stack.cli("patients", "erase", str(alexandra), "--yes")

    # Then nothing happens without confirmation, everything goes with it, and a second
    # erasure says there is no such patient
    assert unconfirmed.returncode == 1 and kept["patient"] == 1
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["removed"]["flags"] == 1
    assert set(owned(stack, alexandra).values()) == {0}
    assert twice.returncode == 1 and f"no patient {alexandra}" in twice.stderr
    assert [e.subject_id for e in audit(stack) if e.action == "patient.erased"] == [alexandra]


def test_it_blanks_old_texts_and_keeps_the_rows_for_counts(stack: Deployment) -> None:
    # Given a reply and a sent text from 40 days ago, and a reply from today
    alexandra = patient(stack, "Alexandra")
    history(stack, alexandra, words="Alexandra", opted_out=False)
    long_ago = FIVE_PAST - timedelta(days=40)
    with stack.session() as session:
        session.execute(update(Reply).values(received_at=long_ago))
        session.execute(update(Message).where(Message.body.is_not(None)).values(sent_at=long_ago))
        session.add(
            Reply(
                patient_id=alexandra,
                channel="sms",
                received_at=FIVE_PAST,
                text="3 better today",
                kind="score",
                score=3,
            )
        )

    # When retention runs with RETENTION_DAYS=30 (and once more)
    ran = stack.cli("retention", "run", "--json", env={"RETENTION_DAYS": "30"})
    again = stack.cli("retention", "run", "--json", env={"RETENTION_DAYS": "30"})
    unset = stack.cli("retention", "run")

    # Then the old words are gone, the rows, statuses and today's reply stay
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"days": 30, "replies": 1, "messages": 1}
    assert json.loads(again.stdout) == {"days": 30, "replies": 0, "messages": 0}
    assert unset.returncode == 1 and "RETENTION_DAYS" in unset.stderr
    with stack.session() as session:
        texts = session.execute(select(Reply.text, Reply.kind).order_by(Reply.id)).all()
        bodies = session.execute(
            select(Message.status, Message.body).where(Message.sent_at.is_not(None))
        ).all()
    assert [tuple(t) for t in texts] == [
        ("(removed after 30 days)", "emergency"),
        ("3 better today", "score"),
    ]
    assert [tuple(b) for b in bodies] == [("delivered", "(removed after 30 days)")]
    assert owned(stack, alexandra)["messages"] == 5
    assert [e.action for e in audit(stack)].count("retention.purged") == 1


def test_it_audits_who_viewed_a_patients_record(stack: Deployment) -> None:
    # Given a patient and a therapist
    alexandra = patient(stack, "Alexandra")
    therapist = account(stack)

    # When the therapist opens her timeline, and an id nobody has
    with api(stack, therapist) as client:
        seen = client.get(f"/api/patients/{alexandra}")
        client.get("/api/patients/999999")

    # Then one "patient.viewed" names who and which patient, without personal data
    assert seen.status_code == 200
    viewed = [e for e in audit(stack) if e.action == "patient.viewed"]
    assert [(e.actor, e.subject_type, e.subject_id) for e in viewed] == [
        (therapist.email, "patient", alexandra)
    ]
    assert viewed[0].detail == {}


def test_it_refuses_to_change_or_remove_an_audit_row_on_postgresql(
    postgres_database: Callable[[str], str],
) -> None:
    # Given a PostgreSQL database at the newest schema with one audit event
    url = postgres_database("append_only")
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_event (at, actor, action, subject_type, subject_id, detail)"
                " VALUES (now(), 'system', 'patient.viewed', 'patient', 1, '{}')"
            )
        )

    # When someone updates it, or deletes it
    # Then both are refused, and the row is as written
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.begin() as connection:
        assert connection.execute(select(AuditEvent.action)).scalars().all() == ["patient.viewed"]
        connection.execute(text("TRUNCATE audit_event"))  # emptying it whole stays possible
        assert connection.execute(select(func.count()).select_from(AuditEvent)).scalar() == 0
    engine.dispose()
