"""The patients and messages API through the web app in this process, on SQLite and
PostgreSQL: search, refusing a bad correction, closing flags, listing messages, privacy.
(A timeline with failures the real worker met, and fixing a mistyped number to resend:
tests/system/test_failed_texts_api.py.)"""

from __future__ import annotations

from datetime import timedelta

from in_process import InProcessWeb
from sqlalchemy import event, select
from stack import Deployment
from test_api_enrollments import SESSION_END, account, api, audit, counts, enroll

from reminders.api.patients import patient_out
from reminders.models import Flag, Patient, Reply
from reminders.replies import inbound
from reminders.reports.timeline import find_patients, opted_out_by_patient

FIVE_PAST = SESSION_END + timedelta(minutes=5)


def patient_with(stack: Deployment, first: str, last: str, phone: str) -> int:
    stack.set_clock(FIVE_PAST)
    enrollment_id = stack.enroll(
        first_name=first, last_name=last, phone=phone, session_end=SESSION_END
    )
    return stack.messages(enrollment_id=enrollment_id)[0].patient_id


def flagged(stack: Deployment, patient_id: int, score: int = 9) -> int:
    """A check-in answer that raised a flag, as the inbound handler records them."""
    with stack.session() as session:
        reply = Reply(
            patient_id=patient_id,
            channel="sms",
            received_at=FIVE_PAST,
            text=f"{score} it hurts",
            kind="score",
            score=score,
        )
        session.add(reply)
        session.flush()
        flag = Flag(
            patient_id=patient_id, reply_id=reply.id, reason="pain 8 or more", opened_at=FIVE_PAST
        )
        session.add(flag)
        session.flush()
        return flag.id


def test_it_finds_patients_by_part_of_their_name_a_page_at_a_time(stack: InProcessWeb) -> None:
    alexandra = patient_with(stack, "Alexandra", "Tremblay", "403 555 0123")
    alex = patient_with(stack, "Alex", "Martin", "403 555 0124")
    patient_with(stack, "Jordan", "Lee", "403 555 0125")
    with api(stack, account(stack)) as client:
        found = client.get("/api/patients", params={"name": "ALEX"}).json()
        second = client.get("/api/patients", params={"name": "alex", "limit": 1, "offset": 1})
        full_name = client.get("/api/patients", params={"name": "x mar"}).json()
        wildcard = client.get("/api/patients", params={"name": "%"}).json()
        everyone = client.get("/api/patients").json()
        too_long = client.get("/api/patients", params={"name": "x" * 81})

    assert [p["id"] for p in found["items"]] == [alex, alexandra] and found["total"] == 2
    assert [p["id"] for p in second.json()["items"]] == [alexandra]
    assert second.json()["total"] == 2
    assert [p["id"] for p in full_name["items"]] == [alex]
    assert wildcard["items"] == [] and everyone["total"] == 3
    assert found["items"][1]["phone"] == "+14035550123"
    assert too_long.status_code == 422


def test_it_refuses_a_bad_correction_and_changes_nothing(stack: InProcessWeb) -> None:
    patient_id = patient_with(stack, "Alexandra", "Tremblay", "403 555 0123")
    therapist = account(stack)
    before = counts(stack)
    with api(stack, therapist) as client:
        for change, words in (
            ({"phone": "12"}, "phone number is not"),
            ({"phone": "403 555 0142", "email": "alex@"}, "email address is not valid"),
            ({}, "Send the corrected phone or email."),
        ):
            answer = client.patch(f"/api/patients/{patient_id}", json=change)
            assert answer.status_code == 422 and words in answer.json()["detail"], answer.text
        assert client.patch(f"/api/patients/{patient_id}", json={"phone": ""}).status_code == 422
        missing = client.patch("/api/patients/424242", json={"phone": "403 555 0142"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "There is no patient 424242."}
    assert counts(stack) == before
    with stack.session() as session:
        assert session.get_one(Patient, patient_id).phone == "+14035550123"


def test_it_closes_a_flag_recording_who_and_when(stack: InProcessWeb) -> None:
    patient_id = patient_with(stack, "Alexandra", "Tremblay", "403 555 0123")
    other = patient_with(stack, "Jordan", "Lee", "403 555 0124")
    flag_id = flagged(stack, patient_id)
    therapist = account(stack)
    stack.set_clock(SESSION_END + timedelta(minutes=10))  # before any message is due
    with api(stack, therapist) as client:
        wrong_patient = client.post(f"/api/patients/{other}/flags/{flag_id}/close")
        closed = client.post(f"/api/patients/{patient_id}/flags/{flag_id}/close")
        stack.set_clock(SESSION_END + timedelta(minutes=20))
        again = client.post(f"/api/patients/{patient_id}/flags/{flag_id}/close")

    assert wrong_patient.status_code == 404
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_by"] == therapist.email
    assert closed.json()["closed_at"] == "2026-11-24T14:10:00-07:00"
    assert again.status_code == 409
    assert again.json() == {"detail": f"flag {flag_id} was closed already by {therapist.email}"}
    with stack.session() as session:
        flag = session.scalars(select(Flag)).one()
        assert (flag.closed_by, flag.closed_at) == (
            therapist.email,
            SESSION_END + timedelta(minutes=10),
        )
    events = [(e.actor, e.subject_id) for e in audit(stack) if e.action == "flag.closed"]
    assert events == [(therapist.email, flag_id)]


def test_it_lists_messages_by_status_patient_enrollment_and_day(stack: InProcessWeb) -> None:
    therapist = account(stack)
    first = enroll(stack, therapist)
    second = enroll(stack, therapist, phone="403 555 0124", first_name="Jordan")
    with api(stack, therapist) as client:
        client.post(f"/api/enrollments/{second['id']}/cancel").raise_for_status()

        def listed(**params: object) -> list[tuple[int, str]]:
            answer = client.get("/api/messages", params=params)  # type: ignore[arg-type]
            assert answer.status_code == 200, answer.text
            return [(m["enrollment_id"], m["step"]) for m in answer.json()["items"]]

        day_3 = {"due_from": "2026-11-27", "due_to": "2026-11-27"}
        assert listed(**day_3) == [(first["id"], "day-3"), (second["id"], "day-3")]
        assert listed(status="cancelled", **day_3) == [(second["id"], "day-3")]
        assert listed(patient_id=first["patient_id"], due_to="2026-11-24") == [
            (first["id"], "after-session"),
            (first["id"], "same-evening"),
        ]
        assert len(listed(enrollment_id=second["id"])) == 5
        page = client.get("/api/messages", params={"limit": 3, "offset": 9}).json()
        assert (len(page["items"]), page["total"]) == (1, 10)
        assert page["items"][0]["due_at"] == "2026-12-01T10:00:00-07:00"
        for bad in (
            {"status": "lost"},
            {"due_from": "2026-11-28", "due_to": "2026-11-27"},
            {"due_from": "tomorrow"},
            {"limit": 0},
        ):
            assert client.get("/api/messages", params=bad).status_code == 422, bad


def test_it_keeps_patients_private_from_anyone_not_signed_in(stack: InProcessWeb) -> None:
    patient_id = patient_with(stack, "Alexandra", "Tremblay", "403 555 0123")
    with api(stack) as client:
        for answer in (
            client.get("/api/patients"),
            client.get(f"/api/patients/{patient_id}"),
            client.get("/api/messages"),
            client.patch(f"/api/patients/{patient_id}", json={"phone": "403 555 0142"}),
        ):
            assert answer.status_code == 401
            assert "Alexandra" not in answer.text


def test_a_page_of_patients_costs_the_same_few_queries_however_many_are_on_it(
    stack: InProcessWeb,
) -> None:
    # Given 12 patients, two of whom share a number that texted STOP, and one who
    # unsubscribed their email
    ids = [patient_with(stack, f"P{i}", "Lee", f"+1403555{i:04d}") for i in range(10)]
    shared = [patient_with(stack, name, "Roy", "+14035559999") for name in ("Ann", "Bea")]
    with stack.session() as session:
        first = session.get_one(Patient, shared[0])
        inbound.opt_out(
            session, first, channel="sms", address="+14035559999", source="keyword", now=FIVE_PAST
        )
        third = session.get_one(Patient, ids[3])
        third.email = "P3@Example.com"
        inbound.opt_out(
            session,
            third,
            channel="email",
            address="p3@example.com",
            source="email-link",
            now=FIVE_PAST,
        )
    therapist = account(stack)

    # When the API lists them, and a page of 2 and one of 12 are read with the SQL counted
    with api(stack, therapist) as client:
        listed = client.get("/api/patients", params={"limit": 50}).json()["items"]
    statements = {size: statements_for_a_page(stack, size) for size in (2, 12)}

    # Then each shows the opt-outs of its contact points, and a page costs the same whatever
    # its size
    opted = {item["id"]: item["opted_out"] for item in listed}
    assert opted[shared[0]] == opted[shared[1]] == ["sms"]
    assert opted[ids[3]] == ["email"]
    assert all(opted[i] == [] for i in ids if i != ids[3])
    assert statements[2] == statements[12] <= 4  # count, page, opt-outs (SQLite: BEGIN too)


def statements_for_a_page(stack: Deployment, size: int) -> int:
    """SQL statements run to build one page of the patients list (as the API builds it)."""
    seen: list[str] = []
    with stack.session() as session:
        bind = session.get_bind()
        listen = event.listen
        counter = lambda *args: seen.append(args[2])  # noqa: E731 (statement text)
        listen(bind, "before_cursor_execute", counter)
        try:
            rows, _ = find_patients(session, limit=size, offset=0)
            stopped = opted_out_by_patient(session, rows)
            [patient_out(session, p, stopped[p.id]) for p in rows]
        finally:
            event.remove(bind, "before_cursor_execute", counter)
    return len(seen)
