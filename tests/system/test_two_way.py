"""Two-way messaging through the real web app: signed Twilio webhooks, keywords, check-ins,
emergencies, status callbacks, email links. Signatures are built with the SDK's validator."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis
from browser import browser_page, make_user, sign_in
from factories import new_user
from sqlalchemy import select, update
from stack import Deployment
from twilio.request_validator import RequestValidator

from reminders import clock
from reminders.config import get_settings
from reminders.db import reset_engine
from reminders.links import CHECKIN, make_token
from reminders.models import (
    AuditEvent,
    ClinicAlert,
    DigestRun,
    Flag,
    Message,
    OptOut,
    Reply,
    User,
)
from reminders.replies import alerts
from reminders.reports import digest
from reminders.transports import Outgoing

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
PUBLIC = "https://clinic.example"
PHONE = "+14035550123"


def post_signed(
    stack: Deployment, path: str, form: dict[str, str], *, sign: bool = True
) -> httpx.Response:
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = RequestValidator(stack.twilio.auth_token).compute_signature(
            PUBLIC + path, form
        )
    return httpx.post(stack.web_url() + path, data=form, headers=headers, timeout=10)


def text_in(stack: Deployment, body: str, *, sender: str = PHONE, **extra: str) -> httpx.Response:
    form = {
        "From": sender,
        "To": "+15875550100",
        "Body": body,
        "MessageSid": "SM" + uuid.uuid4().hex,
        **extra,
    }
    return post_signed(stack, "/twilio/inbound", form)


def answered(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    start = response.text.find("<Message>")
    return "" if start < 0 else response.text[start + 9 : response.text.find("</Message>")]


def enrolled(stack: Deployment, **fields: object) -> int:
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    fields.setdefault("channel", "sms")
    return stack.enroll(phone=PHONE, session_end=SESSION_END, **fields)


def replies(stack: Deployment) -> list[Reply]:
    with stack.session() as session:
        return list(session.scalars(select(Reply).order_by(Reply.id)))


def flags(stack: Deployment) -> list[str]:
    with stack.session() as session:
        return list(session.scalars(select(Flag.reason).order_by(Flag.id)))


def test_it_refuses_an_unsigned_or_forged_webhook_and_changes_nothing(stack: Deployment) -> None:
    enrolled(stack)
    form = {"From": PHONE, "Body": "STOP", "MessageSid": "SM1"}
    assert post_signed(stack, "/twilio/inbound", form, sign=False).status_code == 403
    forged = httpx.post(
        stack.web_url() + "/twilio/inbound",
        data=form,
        headers={"X-Twilio-Signature": "bm90IGl0"},
        timeout=10,
    )
    assert forged.status_code == 403
    assert replies(stack) == [] and {m.status for m in stack.messages()} == {"scheduled"}


def test_an_emergency_with_oversized_ids_is_still_answered_and_kept(stack: Deployment) -> None:
    # Given an enrolled patient, and a signed text whose MessageSid and sender are longer
    # than any Twilio sends (the columns hold 64 characters)
    enrolled(stack)
    long_sid = "SM" + "a" * 98

    # When it says they cannot breathe
    answer = answered(text_in(stack, "I can't breathe", MessageSid=long_sid))
    again = answered(text_in(stack, "I can't breathe", MessageSid=long_sid))

    # Then the 911 answer goes back, the reply is kept once, and a repeat is not a new reply
    assert "911" in answer and again == ""
    assert [(r.kind, r.provider_id) for r in replies(stack)] == [("emergency", long_sid[:64])]


def test_it_stops_texts_at_once_confirms_once_and_restarts_on_start(stack: Deployment) -> None:
    # Given an enrolled patient
    enrolled(stack)

    # When they text STOP, then STOP again
    first = answered(text_in(stack, "Stop."))
    second = answered(text_in(stack, "STOP"))

    # Then one confirmation, every pending text cancelled, the opt-out on record
    assert "START" in first and len(first) <= 160
    assert second == ""
    assert {m.status for m in stack.messages()} == {"cancelled"}
    with stack.session() as session:
        assert session.scalars(select(OptOut.source)).all() == ["keyword"]

    # When they text START
    again = answered(text_in(stack, "start"))

    # Then they are subscribed again and future texts are back on the schedule
    assert "STOP" in again
    assert {m.status for m in stack.messages()} == {"scheduled"}


def test_it_restores_a_returning_patients_new_texts_when_they_opt_back_in(
    stack: Deployment,
) -> None:
    # Given a patient who texted STOP, then came back and was enrolled again
    enrolled(stack)
    answered(text_in(stack, "stop"))
    second = stack.enroll(phone=PHONE, channel="sms", session_end=SESSION_END)
    assert {m.status for m in stack.messages(enrollment_id=second)} == {"skipped"}

    # When they text START
    answered(text_in(stack, "start"))

    # Then the new enrollment's texts are on the schedule again, as the first one's are
    assert {(m.status, m.reason) for m in stack.messages()} == {("scheduled", None)}


def test_it_still_answers_help_after_an_opt_out_and_nothing_else(stack: Deployment) -> None:
    # Given a patient who texted STOP
    enrolled(stack)
    answered(text_in(stack, "stop"))

    # When they text HELP, then an answer to a check-in
    help_text = answered(text_in(stack, "help"))
    score_answer = answered(text_in(stack, "4"))

    # Then HELP is answered (carriers require it), and nothing else is
    assert "Bow River Physiotherapy" in help_text and "403-555-0100" in help_text
    assert score_answer == ""


def test_it_answers_arret_and_aide_in_french(stack: Deployment) -> None:
    enrolled(stack, language="fr")
    help_text = answered(text_in(stack, "aide"))
    assert (
        "Bow River Physiotherapy" in help_text
        and "403-555-0100" in help_text
        and "ARRET" in help_text
    )
    assert len(help_text) <= 160
    stop_text = answered(text_in(stack, "ARRÊT"))
    assert stop_text and len(stop_text) <= 160
    assert {m.status for m in stack.messages()} == {"cancelled"}


def test_it_honours_twilio_own_opt_out_without_a_second_confirmation(stack: Deployment) -> None:
    enrolled(stack)
    assert answered(text_in(stack, "unsubscribe", OptOutType="STOP")) == ""
    assert {m.status for m in stack.messages()} == {"cancelled"}


def test_it_answers_an_emergency_at_3am_and_alerts_the_clinic_at_once(stack: Deployment) -> None:
    # Given an enrolled patient, at 3 a.m. local time, with the scheduler stopped
    enrolled(stack)
    stack.set_clock(datetime(2026, 11, 25, 3, 0, tzinfo=EDMONTON))
    stack.kill("scheduler")

    # When they text that they cannot breathe
    answer = answered(text_in(stack, "i cant breathe properly and my chest hurts"))

    # Then the answer says 911 at once, and the clinic's alert email and on-call text arrive,
    # and then the patient's text saying the team was alerted
    assert "911" in answer and len(answer) <= 160
    alert_email = stack.smtp.wait_for(1, timeout=30)[0]
    assert alert_email["To"] == "alerts@bowriver.example"
    assert "i cant breathe properly" in alert_email.get_body(("plain",)).get_content()
    oncall, told = stack.twilio.wait_for(2, timeout=30)
    assert (oncall["to"], told["to"]) == ("+15875550111", PHONE)
    assert "P-" in oncall["body"]
    assert "Alexandra" not in oncall["body"]  # a lock screen shows it: no name, no symptoms
    assert flags(stack) == ["possible red flag"]


def test_an_on_call_text_twilio_took_after_our_timeout_is_looked_up_not_sent_twice(
    stack: Deployment,
) -> None:
    # Given Twilio will create the next text (the on-call alert) 2 s after its request, when
    # our 1.5 s timeout is over
    enrolled(stack)
    stack.twilio.create_late_next(2.0)

    # When the patient texts an emergency
    assert "911" in answered(text_in(stack, "my chest is tight and I can't breathe"))

    # Then the on-call text is found at Twilio after the pause, not sent again; the patient
    # is then told the team was alerted
    oncall, told = stack.twilio.wait_for(2, timeout=30)
    assert (oncall["to"], told["to"]) == ("+15875550111", PHONE)
    stack.wait_until(lambda: told_of_alert(stack), what="the patient told of the alert")
    assert [m["to"] for m in stack.twilio.messages] == ["+15875550111", PHONE]
    assert len(stack.twilio.look_ups) >= 1
    assert "had gone out after all" in stack.logs()


def test_it_queues_the_clinic_alert_apart_and_sends_it_through_a_mail_hiccup(
    stack: Deployment,
) -> None:
    # Given an enrolled patient, no worker running, and a mail server that will turn the next
    # message away with a temporary error
    enrolled(stack)
    stack.kill("worker")
    stack.smtp.fail_next(451, "4.3.0 Try again later")
    broker = redis.Redis.from_url(stack.redis_url)

    # When the patient texts an emergency
    assert "911" in answered(text_in(stack, "chest feels heavy"))

    # Then the alert waits in a queue of its own, never behind the deliveries' queue
    stack.wait_until(lambda: broker.llen(f"{stack.queue}-alerts") == 1, what="alert queued")
    assert broker.llen(stack.queue) == 0

    # And once a worker runs, the alert reaches the clinic despite the first refusal
    stack.ensure_running()
    alert = stack.smtp.wait_for(1, timeout=30)[0]
    assert alert["To"] == "alerts@bowriver.example"
    assert "email alert failed, attempt 1 (451); trying again" in stack.logs()


def test_it_queues_an_alert_again_when_redis_lost_it_and_sends_it_once(
    stack: Deployment,
) -> None:
    # Given an emergency text whose queued alert was lost with Redis, while no worker ran
    enrolled(stack)
    stack.kill("worker")
    assert "911" in answered(text_in(stack, "I feel like I might pass out"))
    broker = redis.Redis.from_url(stack.redis_url)
    stack.wait_until(lambda: broker.delete(f"{stack.queue}-alerts") == 1, what="alert lost")

    # When a minute passes with no alert recorded, and a worker runs again
    stack.set_clock(SESSION_END + timedelta(minutes=7))
    stack.ensure_running()

    # Then the reaper has queued it again, and the clinic is alerted, once: the reaper finds
    # nothing more to queue, and the patient is told once
    assert stack.smtp.wait_for(1, timeout=30)[0]["To"] == "alerts@bowriver.example"
    stack.wait_until(lambda: told_of_alert(stack), what="the patient told of the alert")
    with stack.session() as session:
        assert alerts.lost_alerts(session, clock.now(session)) == []
    assert len(stack.smtp.messages) == 1
    assert [m["to"] for m in stack.twilio.messages] == ["+15875550111", PHONE]


def told_of_alert(stack: Deployment) -> bool:
    with stack.session() as session:
        return session.scalar(select(ClinicAlert.patient_told_at)) is not None


def test_it_reads_check_in_answers_and_flags_what_the_therapist_must_see(stack: Deployment) -> None:
    # Given the next-morning check-in went out
    enrolled(stack)
    stack.set_clock(datetime(2026, 11, 25, 10, 1, tzinfo=EDMONTON))
    stack.twilio.wait_for(1, timeout=30)  # after-session and evening are too late by now: skipped
    checkin = stack.wait_until(
        lambda: [m for m in stack.messages(step_key="next-morning") if m.status == "sent"],
        what="check-in sent",
    )[0]

    # When the patient answers in their own words, three times
    thanks = answered(text_in(stack, "about a 4 today"))
    answered(text_in(stack, "Six"))
    answered(text_in(stack, "still sore, maybe worse"))

    # Then each answer is kept raw, scored when possible, tied to the check-in
    got = [(r.text, r.kind, r.score, r.checkin_message_id) for r in replies(stack)]
    assert got == [
        ("about a 4 today", "score", 4, checkin.id),
        ("Six", "score", 6, checkin.id),
        ("still sore, maybe worse", "worse", None, checkin.id),
    ]
    assert thanks and len(thanks) <= 160
    # And the rise of 2 and the "worse" are flagged; a 4 alone is not
    assert flags(stack) == [
        "score rose by 2 since the last answer",
        "says it is worse or not going away",
    ]


def test_it_keeps_answers_it_cannot_read(stack: Deployment) -> None:
    enrolled(stack)
    text = "can I come ten minutes late tomorrow?"
    assert "911" in answered(text_in(stack, text))  # acknowledged, with the emergency line
    assert [(r.kind, r.score, r.text) for r in replies(stack)] == [("other", None, text)]
    assert flags(stack) == []


def sent_text(stack: Deployment) -> Message:
    enrolled(stack, email="alexandra@example.com")
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    stack.twilio.wait_for(1, timeout=30)
    return stack.wait_until(
        lambda: [m for m in stack.messages(step_key="after-session") if m.status == "sent"],
        what="sent",
    )[0]


def callback(stack: Deployment, message: Message, status: str, error: str = "") -> httpx.Response:
    form = {"MessageSid": message.provider_id or "", "MessageStatus": status, "ErrorCode": error}
    return post_signed(stack, f"/twilio/status/{message.id}", form)


def test_it_applies_status_callbacks_in_any_order_once(stack: Deployment) -> None:
    message = sent_text(stack)
    assert callback(stack, message, "delivered").status_code == 200
    assert callback(stack, message, "sent").status_code == 200  # late, out of order
    assert (
        callback(stack, message, "undelivered", "30003").status_code == 200
    )  # after a final state
    row = stack.messages(step_key="after-session")[0]
    assert (row.status, row.error_code) == ("delivered", None) and row.delivered_at is not None


def test_it_answers_200_to_a_callback_for_an_unknown_message(stack: Deployment) -> None:
    form = {"MessageSid": "SMx", "MessageStatus": "delivered"}
    assert post_signed(stack, "/twilio/status/999999", form).status_code == 200
    assert post_signed(stack, "/twilio/status/999999", form, sign=False).status_code == 403


def test_it_falls_back_to_email_once_when_a_text_cannot_arrive(stack: Deployment) -> None:
    # Given a text that went out, to a number the carrier then reports as a landline
    message = sent_text(stack)

    # When the failure is reported, twice
    callback(stack, message, "undelivered", "30006")
    callback(stack, message, "undelivered", "30006")

    # Then the step goes by email instead, exactly once: both callbacks were answered, so any
    # second fallback would be a row by now; once the one email row is sent, nothing is left
    email = stack.smtp.wait_for(1, timeout=30)
    expected = [("email", "sent"), ("sms", "undelivered")]
    stack.wait_until(
        lambda: (
            sorted((m.channel, m.status) for m in stack.messages(step_key="after-session"))
            == expected
        ),
        what=str(expected),
    )
    assert len(stack.smtp.messages) == 1 and email[0]["To"] == "alexandra@example.com"
    assert (
        stack.messages(step_key="after-session", channel="sms")[0].reason
        == "landline or unreachable carrier"
    )


def test_it_sends_the_step_by_email_when_the_phone_stayed_unreachable(stack: Deployment) -> None:
    message = sent_text(stack)
    callback(stack, message, "undelivered", "30003")
    assert stack.smtp.wait_for(1, timeout=30)[0]["To"] == "alexandra@example.com"
    assert (
        stack.messages(step_key="after-session", channel="sms")[0].reason == "handset unreachable"
    )


def test_it_falls_back_to_email_when_twilio_refuses_the_number(stack: Deployment) -> None:
    enrolled(stack, email="alexandra@example.com")
    stack.twilio.fail_next(400, code=21614)
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    stack.smtp.wait_for(1, timeout=30)
    expected = {("after-session", "sms"): "failed", ("after-session", "email"): "sent"}
    stack.wait_until(
        lambda: stack.statuses(step_key="after-session") == expected, what=str(expected)
    )


def checkin_email(stack: Deployment) -> Message:
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(email="alexandra@example.com", channel="email", session_end=SESSION_END)
    stack.set_clock(datetime(2026, 11, 25, 10, 1, tzinfo=EDMONTON))
    return stack.wait_until(
        lambda: [m for m in stack.messages(step_key="next-morning") if m.status == "sent"],
        what="sent",
    )[0]


def test_it_records_an_email_score_when_the_patient_sends_it(stack: Deployment) -> None:
    # Given a check-in email with its 0-10 links
    message = checkin_email(stack)
    html = stack.smtp.wait_for(1, timeout=30)[-1].get_body(("html",)).get_content()
    link = next(
        part.split('"')[0]
        for part in html.split('href="')
        if "/checkin/" in part and "score=8" in part
    )
    local = link.replace(PUBLIC, stack.web_url()).replace("&amp;", "&")

    # When the patient clicks 8 (a mail scanner may open it too), then presses Send
    opened = httpx.get(local, timeout=10)
    assert opened.status_code == 200 and replies(stack) == []  # opening records nothing
    sent = httpx.post(local.split("?")[0], data={"score": "8"}, timeout=10)

    # Then the answer is recorded and flagged (tests/system/security/test_patient_links.py has the rest)
    assert sent.status_code == 200 and "8 out of 10" in sent.text
    assert [(r.channel, r.score, r.checkin_message_id) for r in replies(stack)] == [
        ("email", 8, message.id)
    ]
    assert flags(stack) == ["score 8 or more"]


def test_it_refuses_forged_and_expired_check_in_links(stack: Deployment) -> None:
    message = checkin_email(stack)
    forged = make_token("not-our-secret", CHECKIN, message.id)
    with mock.patch("time.time", return_value=time.time() - 30 * 24 * 3600):
        expired = make_token("test-secret", CHECKIN, message.id)
    for token, words in ((forged, "not valid"), (expired, "expired")):
        page = httpx.get(f"{stack.web_url()}/checkin/{token}?score=3", timeout=10)
        assert page.status_code == 400 and words in page.text
    assert replies(stack) == []


def test_it_unsubscribes_by_email_in_one_click(stack: Deployment) -> None:
    # Given an email patient who got the after-session email
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    stack.enroll(email="alexandra@example.com", channel="email", session_end=SESSION_END)
    email = stack.smtp.wait_for(1, timeout=30)[0]
    url = email["List-Unsubscribe"].strip("<>").replace(PUBLIC, stack.web_url())

    # When the mail client posts the RFC 8058 one-click request
    done = httpx.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10)

    # Then every later email is cancelled and nothing more goes out
    assert done.status_code == 200 and "no more aftercare emails" in done.text
    later = [m.status for m in stack.messages() if m.step_key != "after-session"]
    assert set(later) == {"cancelled"}
    assert httpx.get(url, timeout=10).status_code == 200  # the confirm page still answers


def test_it_lists_open_flags_and_records_who_closed_one(stack: Deployment) -> None:
    # Given a patient who says it is worse
    enrolled(stack)
    answered(text_in(stack, "it's getting worse"))

    # When the therapist lists open flags and closes the one they read
    listed = stack.cli("flags", "--json")
    assert listed.returncode == 0, listed.stderr
    open_flags = json.loads(listed.stdout)
    assert [(f["reason"], f["reply"]) for f in open_flags] == [
        ("says it is worse or not going away", "it's getting worse")
    ]
    closed = stack.cli("flags", "close", str(open_flags[0]["id"]), "--by", "Sam Chen")
    again = stack.cli("flags", "close", str(open_flags[0]["id"]), "--by", "Sam Chen")

    # Then who and when are recorded, the list is empty, and closing twice is refused
    assert closed.returncode == 0, closed.stderr
    with stack.session() as session:
        flag = session.scalars(select(Flag)).one()
    assert flag.closed_by == "Sam Chen" and flag.closed_at is not None
    assert json.loads(stack.cli("flags", "--json").stdout) == []
    assert again.returncode == 2 and "closed already by Sam Chen" in again.stderr


def test_it_sends_each_therapist_a_digest_of_their_patients_answers_once(stack: Deployment) -> None:
    # Given a therapist whose patient answered 8 to a check-in
    therapist_id, email = new_user(stack, "therapist", "Sam Chen")
    enrolled(stack, therapist_id=therapist_id)
    answered(text_in(stack, "8"))

    # When the digest runs, twice
    first = stack.cli("digest")
    second = stack.cli("digest")

    # Then the therapist got one email listing the flag and the answer, without names
    assert first.returncode == 0 and "1 digest(s) sent" in first.stdout, first.stderr
    assert "0 digest(s) sent" in second.stdout
    digest = stack.smtp.wait_for(1, timeout=10)[0]
    body = digest.get_body(("plain",)).get_content()
    assert digest["To"] == email and "1 new flag(s), 1 answer(s)" in digest["Subject"]
    assert "score 8 or more" in body and '"8" = 8/10' in body and "Alexandra" not in body


def test_it_sends_a_digest_once_when_two_schedulers_run_it_at_once(
    stack: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a therapist whose patient answered a check-in
    email = make_user(stack, "therapist", "Sam Chen")
    with stack.session() as session:
        therapist_id = session.scalars(select(User.id).where(User.email == email)).one()
    enrolled(stack, therapist_id=therapist_id)
    answered(text_in(stack, "3"))

    # And two schedulers' digest passes that both reach the sending step together, if they can
    both_sending = threading.Barrier(2, timeout=3)
    sent: list[str] = []

    class MeetingTransport:
        def send(self, outgoing: Outgoing) -> str:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_sending.wait()
            sent.append(outgoing.to)
            return "ok"

    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(digest, "transport_for", lambda channel: MeetingTransport())
    get_settings.cache_clear()
    reset_engine()
    try:
        # When both run at once
        passes = [
            threading.Thread(target=digest.send_digests, args=(get_settings(),)) for _ in "ab"
        ]
        for each in passes:
            each.start()
        for each in passes:
            each.join(timeout=30)
    finally:
        reset_engine()
        get_settings.cache_clear()

    # Then the therapist got exactly one digest, recorded once
    assert sent == [email]
    with stack.session() as session:
        recorded = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("digest.%"))
        ).all()
    assert recorded == ["digest.sent"]
    assert digest_runs(stack, therapist_id) == ["sent"]


def digest_runs(stack: Deployment, therapist_id: int) -> list[str]:
    """The therapist's digests, oldest first (users outlive each test's reset)."""
    with stack.session() as session:
        query = select(DigestRun.status).where(DigestRun.therapist_id == therapist_id)
        return list(session.scalars(query.order_by(DigestRun.id)))


def test_a_digest_that_could_not_be_sent_goes_with_the_next_pass(stack: Deployment) -> None:
    # Given a therapist whose patient answered a check-in, and a mail server that turns the
    # next message away
    email = make_user(stack, "therapist", "Sam Chen")
    with stack.session() as session:
        therapist_id = session.scalars(select(User.id).where(User.email == email)).one()
    enrolled(stack, therapist_id=therapist_id)
    answered(text_in(stack, "3"))
    stack.smtp.fail_next(451, "4.3.0 Try again later")

    # When the digest runs and fails, then runs again
    first = stack.cli("digest")
    second = stack.cli("digest")

    # Then the second pass sends what the first could not, once, and both are on record
    assert "0 digest(s) sent" in first.stdout, first.stderr
    assert "1 digest(s) sent" in second.stdout, second.stderr
    (mail,) = stack.smtp.wait_for(1, timeout=10)
    assert mail["To"] == email and "1 answer(s)" in mail["Subject"]
    assert digest_runs(stack, therapist_id) == ["failed", "sent"]


def test_it_takes_a_delivered_callback_that_beats_the_worker_to_the_database(
    stack: Deployment,
) -> None:
    # Given a text Twilio accepted while our row still says "sending"
    message = sent_text(stack)
    with stack.session() as session:
        session.execute(
            update(Message)
            .where(Message.id == message.id)
            .values(status="sending", provider_id=None)
        )

    # When the delivered callback arrives first, then a duplicate
    callback(stack, message, "delivered")
    callback(stack, message, "delivered")

    # Then the message is delivered, with Twilio's id, once
    row = stack.messages(step_key="after-session")[0]
    assert (row.status, row.provider_id) == ("delivered", message.provider_id)
    assert row.delivered_at is not None


def test_it_shows_open_flags_to_a_signed_in_therapist_who_can_close_them(stack: Deployment) -> None:
    # Given a flag raised by a reply of 9
    enrolled(stack)
    answered(text_in(stack, "9"))
    email = make_user(stack, "therapist", "Sam Chen")

    with browser_page() as page:
        # When the therapist opens the list of open flags and closes the one they read
        sign_in(page, stack.web_url(), email)
        page.goto(f"{stack.web_url()}/flags")
        assert "<li>score 8 or more</li>" in page.content()
        assert '<blockquote class="reply-text">9</blockquote>' in page.content()
        page.get_by_role("button", name="Close").click()

        # Then the list is empty and the flag records who closed it
        page.get_by_text("No open flags.").wait_for()
    with stack.session() as session:
        assert session.scalars(select(Flag.closed_by)).all() == ["Sam Chen"]
