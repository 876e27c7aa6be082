"""Clinic alerts for emergency replies: each has a row of its own (its claim and its outcome);
the patient is told the team was alerted only once it really was; an alert that could not be
sent stays on every staff page until someone acknowledges it; production needs a
destination. Real web app, worker and scheduler; only Twilio and SMTP are fakes."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
from browser import PASSWORD, make_user
from in_process import login_form
from sqlalchemy import select, update
from stack import STANDARD_PROCESSES, Deployment
from test_two_way import PHONE, SESSION_END, answered, enrolled, text_in

from reminders import clock
from reminders.config import get_settings
from reminders.content.rendering import VARIABLES, render
from reminders.db import reset_engine
from reminders.models import (
    AuditEvent,
    ClinicAlert,
    ClinicSettings,
    MessageTemplate,
    Patient,
    Reply,
    TemplateVersion,
    User,
)
from reminders.replies import alerts
from reminders.transports import transport_for

ONCALL = "+15875550111"
ALERT_EMAIL = "alerts@bowriver.example"
EMERGENCY = "I can't breathe properly and my chest hurts"
BANNER = "A patient's emergency reply could not be sent to the clinic"


def the_alert(stack: Deployment) -> ClinicAlert | None:
    with stack.session() as session:
        return session.scalars(select(ClinicAlert)).one_or_none()


def alert_when(stack: Deployment, status: str, *, told: bool = False) -> ClinicAlert:
    """Wait for the alert to reach `status` (and, with `told`, the patient's follow-up)."""

    def reached() -> ClinicAlert | None:
        alert = the_alert(stack)
        if alert and alert.status == status and (alert.patient_told_at or not told):
            return alert
        return None

    return stack.wait_until(reached, what=f"the clinic alert {status}", timeout=60)


def texts_to(stack: Deployment, number: str) -> list[str]:
    return [str(m["body"]) for m in stack.twilio.messages if m["to"] == number]


def follow_up_text(stack: Deployment) -> str:
    """What the published `reply-alerted` template says to the patient, rendered here."""
    with stack.session() as session:
        source = session.scalars(
            select(TemplateVersion.sms)
            .join(MessageTemplate)
            .where(
                MessageTemplate.key == "reply-alerted",
                TemplateVersion.locale == "en",
                TemplateVersion.status == "published",
            )
            .order_by(TemplateVersion.version.desc())
        ).first()
    assert source, "no published reply-alerted template"
    variables: dict[str, object] = dict.fromkeys(VARIABLES, "")
    variables.update(
        first_name="Alexandra",
        clinic_name="Bow River Physiotherapy",
        clinic_phone="403-555-0100",
        checkin_urls=[],
        clinic_closed=False,
        flagged=False,
    )
    return render(source, variables)[:160]


def lost(stack: Deployment, later: timedelta = timedelta(minutes=5)) -> list[int]:
    """What the reaper would queue again, as if it looked `later` from now."""
    with stack.session() as session:
        return alerts.lost_alerts(session, clock.now(session) + later)


@contextmanager
def as_a_worker(stack: Deployment, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run alert code in this process, configured exactly as the deployment's worker."""
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    for name in ("CLINIC_ALERT_EMAIL", "ONCALL_PHONE"):
        if name not in stack.env:
            monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    transport_for.cache_clear()
    reset_engine()
    try:
        yield
    finally:
        reset_engine()
        transport_for.cache_clear()
        get_settings.cache_clear()


@pytest.fixture
def no_destination(stack: Deployment) -> Iterator[Deployment]:
    """The shared deployment with no alert email and no on-call phone (development allows it)."""
    stack.kill("worker")
    saved = {name: stack.env.pop(name) for name in ("CLINIC_ALERT_EMAIL", "ONCALL_PHONE")}
    with stack.session() as session:
        session.execute(update(ClinicSettings).values(alert_email=""))
    stack.start_process("worker", *STANDARD_PROCESSES["worker"])
    try:
        yield stack
    finally:
        stack.kill("worker")
        stack.env.update(saved)  # the stack fixture starts the worker again, as it was


@contextmanager
def signed_in(stack: Deployment) -> Iterator[httpx.Client]:
    email = make_user(stack, "therapist", "Sam Chen")
    with httpx.Client(base_url=stack.web_url(), timeout=10) as client:
        csrf = login_form(client)
        done = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
        assert done.status_code == 303, done.text
        yield client


def test_it_alerts_the_clinic_once_and_only_then_tells_the_patient_once(
    stack: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an enrolled patient, and both an alert email and an on-call phone set
    enrolled(stack)

    # When they text that they cannot breathe
    answer = answered(text_in(stack, EMERGENCY))

    # Then the answer says 911 at once, and the clinic gets one email and one on-call text
    assert "911" in answer
    alert = alert_when(stack, "sent", told=True)
    assert sorted(alert.channels) == ["email", "sms"] and alert.reason is None
    assert [m["To"] for m in stack.smtp.messages] == [ALERT_EMAIL]
    assert len(texts_to(stack, ONCALL)) == 1
    # And then the patient is told, once, in the words of the published reply-alerted template
    assert texts_to(stack, PHONE) == [follow_up_text(stack)]
    with stack.session() as session:
        events = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("clinic_alert%"))
        ).all()
    assert events == ["clinic_alerted"]

    # When a copy of the alert task runs, and the reaper looks for lost alerts
    with as_a_worker(stack, monkeypatch):
        copy = alerts.alert_clinic(alert.reply_id)

    # Then the copy finds the alert sent and sends nothing, and the reaper leaves it alone
    assert copy == [] and lost(stack) == []
    assert len(stack.smtp.messages) == 1 and len(stack.twilio.messages) == 2


def test_it_takes_over_an_alert_whose_task_died_while_sending(
    stack: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an emergency text whose alert a task claimed a moment ago, then died with
    stack.kill("worker")
    enrolled(stack)
    answered(text_in(stack, EMERGENCY))
    broker = redis.Redis.from_url(stack.redis_url)
    stack.wait_until(lambda: broker.delete(f"{stack.queue}-alerts") == 1, what="task taken")
    with stack.session() as session:
        reply_id = session.scalars(select(Reply.id)).one()
        session.add(ClinicAlert(reply_id=reply_id, status="sending", claimed_at=clock.real_now()))

    with as_a_worker(stack, monkeypatch):
        # When a copy of the task runs while the claim is young
        early = alerts.alert_clinic(reply_id)

        # Then it leaves the alert to its claimant, and so does the reaper
        assert early == [] and lost(stack) == []
        assert stack.smtp.messages == [] and stack.twilio.messages == []

        # When the claim is older than a task could take, and the reaper looks again
        with stack.session() as session:
            session.execute(
                update(ClinicAlert).values(claimed_at=clock.real_now() - timedelta(minutes=11))
            )
        assert lost(stack) == [reply_id]
        late = alerts.alert_clinic(reply_id)

    # Then that copy takes the alert over: the clinic is alerted, the patient told, once
    assert sorted(late) == ["email", "sms"]
    alert = the_alert(stack)
    assert alert is not None and (alert.status, alert.attempts) == ("sent", 2)
    assert alert.patient_told_at is not None
    assert len(stack.smtp.messages) == 1 and len(texts_to(stack, ONCALL)) == 1
    assert texts_to(stack, PHONE) == [follow_up_text(stack)]


def test_it_tries_again_when_every_channel_failed_for_now_and_tells_the_patient_once(
    stack: Deployment,
) -> None:
    # Given an enrolled patient, a mail server and Twilio that turn away the next three tries
    enrolled(stack)
    stack.smtp.fail_next(451, "4.3.0 Try again later", times=3)
    stack.twilio.fail_next(500, times=3)

    # When they text an emergency
    assert "911" in answered(text_in(stack, EMERGENCY))

    # Then the alert failed for now, saying why in plain words, and the patient is not told
    failed = alert_when(stack, "failed")
    assert failed.retry and failed.reason is not None
    assert "email failed for now (451)" in failed.reason and "sms failed for now" in failed.reason
    assert stack.twilio.messages == []

    # When a minute passes
    stack.set_clock(SESSION_END + timedelta(minutes=7))

    # Then the reaper queues it again: the clinic is alerted and the patient told, once
    alert = alert_when(stack, "sent", told=True)
    assert alert.attempts == 2 and sorted(alert.channels) == ["email", "sms"]
    assert len(stack.smtp.messages) == 1 and len(texts_to(stack, ONCALL)) == 1
    assert texts_to(stack, PHONE) == [follow_up_text(stack)]
    assert lost(stack) == []


def test_it_shows_an_alert_that_could_not_be_sent_on_every_staff_page_until_acknowledged(
    no_destination: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = no_destination
    # Given an enrolled patient, and no alert destination set
    enrolled(stack)
    with stack.session() as session:
        patient_id = session.scalars(select(Patient.id)).one()

    # When they text an emergency
    assert "911" in answered(text_in(stack, EMERGENCY))

    # Then the alert has failed for good, saying why, and nothing went to anyone
    alert = alert_when(stack, "failed")
    assert alert.reason == "no alert destination set (CLINIC_ALERT_EMAIL / ONCALL_PHONE)"
    assert not alert.retry and alert.patient_told_at is None
    assert stack.twilio.requests == [] and stack.smtp.messages == []
    # And neither the reaper nor a copy of the task tries it again
    assert lost(stack) == []
    with as_a_worker(stack, monkeypatch):
        assert alerts.alert_clinic(alert.reply_id) == []
    assert stack.twilio.requests == [] and stack.smtp.messages == []

    with signed_in(stack) as client:
        # When a therapist opens any of their pages
        pages = {path: client.get(path) for path in ("/", "/patients", "/flags", "/enroll")}

        # Then each shows the red banner, with the patient's page and an Acknowledge button
        for path, shown in pages.items():
            assert shown.status_code == 200, path
            assert BANNER in shown.text, path
            assert f'<a href="/patients/{patient_id}">open the patient</a>' in shown.text
        form = re.search(
            r'action="(/alerts/\d+/acknowledge)"><input type="hidden" name="csrf" value="([^"]+)">'
            r'<input type="hidden" name="next" value="([^"]*)">',
            pages["/patients"].text,
        )
        assert form is not None
        action, csrf, back = form.groups()

        # When a forged form tries to acknowledge it
        forged = client.post(action, data={"csrf": "forged", "next": back})

        # Then it is refused and the banner stays
        assert forged.status_code == 403
        assert BANNER in client.get("/").text

        # When the therapist acknowledges it
        done = client.post(action, data={"csrf": csrf, "next": back})

        # Then they are back on the page they were on, and no page shows the banner
        assert done.status_code == 303 and done.headers["location"] == "/patients"
        for path in pages:
            assert BANNER not in client.get(path).text, path

    # And who acknowledged it, and when, are recorded and audited
    acknowledged = the_alert(stack)
    assert acknowledged is not None and acknowledged.acknowledged_at is not None
    assert acknowledged.acknowledged_by == "Sam Chen"
    with stack.session() as session:
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "clinic_alert.acknowledged")
        ).one()
    assert (audited.subject_type, audited.subject_id) == ("clinic_alert", acknowledged.id)


def test_it_counts_alerts_that_could_not_be_sent_in_the_therapists_digest(
    no_destination: Deployment,
) -> None:
    stack = no_destination
    # Given a therapist, and a patient's emergency text that could not reach the clinic
    email = make_user(stack, "therapist", "Sam Chen")
    with stack.session() as session:
        therapist_id = session.scalars(select(User.id).where(User.email == email)).one()
    enrolled(stack, therapist_id=therapist_id)
    answered(text_in(stack, EMERGENCY))
    alert_when(stack, "failed")

    # When the daily digest runs
    done = stack.cli("digest")

    # Then the therapist's digest says an emergency alert could not be delivered
    assert done.returncode == 0, done.stderr
    mine = [m for m in stack.smtp.wait_for(1, timeout=10) if m["To"] == email]
    assert len(mine) == 1
    body = mine[0].get_body(("plain",)).get_content()
    assert "1 emergency alert could not be delivered" in body
    assert "1 emergency alert(s) not delivered" in mine[0]["Subject"]
    assert "Alexandra" not in body


def production(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """`reminders init` configured for production, with real transports, plus `extra`."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        "REMINDERS_ENV": "production",
        "SECRET_KEY": "s3cret-for-test-0123456789abcdefghij",
        "SMS_TRANSPORT": "twilio",
        "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
        "TWILIO_AUTH_TOKEN": "x",
        "TWILIO_FROM_NUMBER": "+15875550100",
        "EMAIL_TRANSPORT": "smtp",
        "EMAIL_FROM": "care@bowriver.example",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "reminders", "init"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_in_production_with_nowhere_to_send_alerts(tmp_path: Path) -> None:
    # Given a production configuration with no alert email and no on-call phone
    # When a process starts
    refused = production(tmp_path)

    # Then it stops with one line naming both settings, as for a missing SECRET_KEY
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("error: CLINIC_ALERT_EMAIL or ONCALL_PHONE must be set")

    # When either one is set
    # Then it starts
    for setting in ({"ONCALL_PHONE": ONCALL}, {"CLINIC_ALERT_EMAIL": ALERT_EMAIL}):
        done = production(tmp_path, **setting)
        assert done.returncode == 0, done.stderr


def plain_text(email: object) -> str:
    part = email.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content())


def test_an_emergency_from_an_old_number_alerts_with_that_number_and_is_answered_there(
    stack: Deployment,
) -> None:
    # Given a patient who got their after-session text, then changed their mobile
    enrolled(stack)
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    stack.wait_until(lambda: texts_to(stack, PHONE), what="the after-session text")
    new_phone = "+15875550177"
    with stack.session() as session:
        session.execute(update(Patient).values(phone=new_phone))

    # When the old number texts an emergency
    assert "911" in answered(text_in(stack, EMERGENCY))

    # Then the reply is theirs, the clinic's email says which number to call back, and the
    # follow-up goes to the number that wrote (not to the new one, which said nothing)
    alert = alert_when(stack, "sent", told=True)
    with stack.session() as session:
        reply = session.get_one(Reply, alert.reply_id)
        assert reply.patient_id is not None
    (email,) = stack.smtp.messages
    assert f"Texted from: {PHONE}" in plain_text(email)
    assert texts_to(stack, PHONE)[-1] == follow_up_text(stack)
    assert texts_to(stack, new_phone) == []


def test_an_emergency_from_a_number_nobody_uses_gives_the_clinic_the_number_to_call(
    stack: Deployment,
) -> None:
    # Given no patient on this number
    stranger = "+15875550199"
    stack.set_clock(SESSION_END)

    # When it texts an emergency
    assert "911" in answered(text_in(stack, EMERGENCY, sender=stranger))

    # Then the clinic is alerted with the number to call back, and the reply is kept
    alert_when(stack, "sent")
    (email,) = stack.smtp.messages
    text = plain_text(email)
    assert f"Texted from: {stranger}" in text and "unknown number" in text
    assert texts_to(stack, stranger) == []
