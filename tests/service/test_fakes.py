"""The fake providers, exercised with the real clients: the twilio SDK and smtplib."""

from __future__ import annotations

import re
import smtplib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import requests
from fakes import FakeSmtp, FakeTwilio
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

PATIENT, CLINIC = "+31612345678", "+3197010250000"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as fake:
        yield fake


def sdk(fake: FakeTwilio, http_client: TwilioHttpClient | None = None, token: str = "") -> Client:
    client = Client(fake.account_sid, token or fake.auth_token, http_client=http_client)
    client.api.base_url = fake.base_url
    return client


def email(subject: str = "Nazorg na je dry-needling behandeling ✓") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "kliniek@example.nl",
        "p@example.nl",
        subject,
    )
    message.set_content("Drink vandaag extra water en beweeg rustig.")
    return message


# Twilio ---------------------------------------------------------------------------------


def test_it_creates_a_message_through_the_sdk_and_records_it(twilio: FakeTwilio) -> None:
    # Given an SDK client pointed at the fake
    client = sdk(twilio)
    # When a message is created
    sent = client.messages.create(to=PATIENT, from_=CLINIC, body="Hoe gaat het na je sessie?")
    # Then the SDK parses a realistic queued message
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.sid or "")
    assert (sent.status, sent.direction, sent.num_segments) == ("queued", "outbound-api", "1")
    assert (sent.to, sent.from_, sent.account_sid) == (PATIENT, CLINIC, twilio.account_sid)
    assert sent.date_created is not None and sent.date_sent is not None
    assert abs(sent.date_created - datetime.now(UTC)) < timedelta(seconds=5)
    # And the fake recorded exactly what it received
    [recorded] = twilio.messages
    assert recorded["sid"] == sent.sid and recorded["body"] == "Hoe gaat het na je sessie?"
    assert (recorded["to"], recorded["from_"], recorded["status_callback"]) == (
        PATIENT,
        CLINIC,
        None,
    )
    assert recorded["received_at"].tzinfo is UTC


def test_it_records_messaging_service_and_status_callback(twilio: FakeTwilio) -> None:
    # Given a client that sends through a messaging service with a status callback
    service = "MG" + "a" * 32
    # When a message is created
    sent = sdk(twilio).messages.create(
        to=PATIENT, messaging_service_sid=service, body="Hi", status_callback="https://x.test/cb"
    )
    # Then the service and callback are recorded and there is no From
    [recorded] = twilio.messages
    assert (recorded["messaging_service_sid"], recorded["from_"]) == (service, None)
    assert recorded["status_callback"] == "https://x.test/cb"
    assert (sent.messaging_service_sid, sent.from_) == (service, None)


def test_it_counts_segments_like_twilio(twilio: FakeTwilio) -> None:
    # Given bodies of one GSM-7 segment, two GSM-7 segments and two UCS-2 segments
    bodies = {"é" * 160: "1", "a" * 161: "2", "Привет" * 12: "2"}
    # When they are sent, Then num_segments follows the GSM-7 / UCS-2 limits
    for body, segments in bodies.items():
        assert sdk(twilio).messages.create(to=PATIENT, from_=CLINIC, body=body).num_segments == (
            segments
        )


def test_it_lists_messages_newest_first_filtered_by_to_and_from(twilio: FakeTwilio) -> None:
    # Given messages to two patients from two senders
    client, other = sdk(twilio), "+31687654321"
    first = client.messages.create(to=PATIENT, from_=CLINIC, body="1").sid
    client.messages.create(to=other, from_=CLINIC, body="2")
    third = client.messages.create(to=PATIENT, from_=CLINIC, body="3").sid
    client.messages.create(to=PATIENT, from_="+3197010259999", body="4")
    # When listing by recipient and sender
    listed = client.messages.list(to=PATIENT, from_=CLINIC)
    # Then only the matching ones come back, newest first
    assert [m.sid for m in listed] == [third, first]
    assert len(client.messages.list()) == 4


def test_it_pages_through_more_messages_than_the_page_size(twilio: FakeTwilio) -> None:
    # Given five messages
    client = sdk(twilio)
    sids = [client.messages.create(to=PATIENT, from_=CLINIC, body=str(i)).sid for i in range(5)]
    # When listing two per page, Then the SDK follows next_page_uri to get all of them
    assert [m.sid for m in client.messages.list(page_size=2)] == sids[::-1]
    assert len(client.messages.list(limit=3, page_size=2)) == 3


def test_it_filters_date_sent_by_calendar_day_only(twilio: FakeTwilio) -> None:
    # Given a message sent today (UTC)
    client = sdk(twilio)
    client.messages.create(to=PATIENT, from_=CLINIC, body="x")
    day = twilio.messages[0]["received_at"].replace(hour=0, minute=0, second=0, microsecond=0)
    late, one_day = day + timedelta(hours=23, minutes=59), timedelta(days=1)

    def count(**filters: Any) -> int:
        return len(client.messages.list(**filters))

    # When filtering, Then the time of day is ignored and bounds are inclusive
    assert count(date_sent_after=late) == count(date_sent_before=day) == count(date_sent=late) == 1
    assert count(date_sent_after=day + one_day) == count(date_sent_before=day - one_day) == 0
    assert count(date_sent=day - one_day) == 0


def test_it_fetches_a_message_by_sid_or_answers_404(twilio: FakeTwilio) -> None:
    # Given a sent message
    client = sdk(twilio)
    sid = client.messages.create(to=PATIENT, from_=CLINIC, body="x").sid
    # When it is fetched, Then it comes back
    assert client.messages(sid).fetch().body == "x"
    # When an unknown sid is fetched, Then Twilio's 404 error is raised
    with pytest.raises(TwilioRestException) as raised:
        client.messages("SM" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_it_rejects_wrong_credentials_with_20003(twilio: FakeTwilio) -> None:
    # Given a client with a wrong auth token
    client = sdk(twilio, token="wrong")
    # When it creates a message, Then it gets 401 / 20003 and nothing is recorded as sent
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=PATIENT, from_=CLINIC, body="x")
    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert twilio.messages == []
    assert [(r["status"], r["code"]) for r in twilio.requests] == [(401, 20003)]


def test_it_answers_twilio_validation_errors(twilio: FakeTwilio) -> None:
    # Given a create without a body, When it is sent, Then Twilio's 21602 comes back
    with pytest.raises(TwilioRestException) as raised:
        sdk(twilio).messages.create(to=PATIENT, from_=CLINIC)
    assert (raised.value.status, raised.value.code) == (400, 21602)


def test_it_injects_a_server_error_once_then_succeeds(twilio: FakeTwilio) -> None:
    # Given one injected 500
    twilio.fail_next(500)
    client = sdk(twilio)
    # When sending twice, Then the first fails and the second is recorded
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=PATIENT, from_=CLINIC, body="x")
    assert (raised.value.status, raised.value.code) == (500, 20500)
    client.messages.create(to=PATIENT, from_=CLINIC, body="x")
    assert len(twilio.messages) == 1
    assert [r["status"] for r in twilio.requests] == [500, 201]


@pytest.mark.parametrize(
    ("code", "text"),
    [(21211, "Invalid 'To' Phone Number"), (21610, "Attempt to send to unsubscribed recipient")],
)
def test_it_injects_permanent_errors(twilio: FakeTwilio, code: int, text: str) -> None:
    # Given an injected permanent error, When sending, Then the SDK raises it with its code
    twilio.fail_next(400, code=code)
    with pytest.raises(TwilioRestException) as raised:
        sdk(twilio).messages.create(to=PATIENT, from_=CLINIC, body="x")
    assert (raised.value.status, raised.value.code) == (400, code)
    assert text in raised.value.msg
    assert twilio.messages == [] and twilio.requests[0]["code"] == code


def test_it_rate_limits_with_a_retry_after_readable_through_the_sdk(twilio: FakeTwilio) -> None:
    # Given a 429 with Retry-After, and a client whose response hook keeps the header
    twilio.fail_next(429, retry_after=7, times=2)
    seen = threading.local()

    def keep_retry_after(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen.retry_after = response.headers.get("Retry-After")

    client = sdk(twilio, TwilioHttpClient(request_hooks={"response": [keep_retry_after]}))
    # When sending, Then the exception has status/code and the hook saw Retry-After
    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            client.messages.create(to=PATIENT, from_=CLINIC, body="x")
        assert (raised.value.status, raised.value.code) == (429, 20429)
        assert seen.retry_after == "7"
    # And the default http client's last response carries it too
    last = client.http_client._test_only_last_response
    assert last is not None and last.headers["retry-after"] == "7"


@pytest.mark.parametrize("how", ["delay_next", "response_delay"])
def test_it_records_a_message_whose_response_times_the_client_out(
    twilio: FakeTwilio, how: str
) -> None:
    # Given a slow create response and a client with a short timeout
    if how == "delay_next":
        twilio.delay_next(3)
    else:
        twilio.response_delay = 3
    client = sdk(twilio, TwilioHttpClient(timeout=0.3))
    # When sending, Then the client times out
    with pytest.raises(requests.exceptions.Timeout):
        client.messages.create(to=PATIENT, from_=CLINIC, body="x")
    # But the fake did receive and record the message
    assert [m["body"] for m in twilio.messages] == ["x"]
    assert [r["status"] for r in twilio.requests] == [201]


def test_it_waits_for_messages_sent_from_another_thread(twilio: FakeTwilio) -> None:
    # Given a message sent from a background thread
    def send() -> None:
        sdk(twilio).messages.create(to=PATIENT, from_=CLINIC, body="x")

    threading.Timer(0.2, send).start()
    # When waiting, Then it is returned
    assert [m["to"] for m in twilio.wait_for(1, timeout=5)] == [PATIENT]
    # And waiting for more than arrives fails clearly
    with pytest.raises(AssertionError, match="expected at least 2 message"):
        twilio.wait_for(2, timeout=0.2)


def test_it_resets_messages_requests_and_failures(twilio: FakeTwilio) -> None:
    # Given a recorded message and a queued failure
    client = sdk(twilio)
    client.messages.create(to=PATIENT, from_=CLINIC, body="x")
    twilio.fail_next(500)
    # When reset, Then all is cleared and the next send succeeds
    twilio.reset()
    assert twilio.messages == [] and twilio.requests == []
    client.messages.create(to=PATIENT, from_=CLINIC, body="x")
    assert len(twilio.messages) == 1


def test_it_writes_nothing_to_stderr(twilio: FakeTwilio, capfd: pytest.CaptureFixture[str]) -> None:
    # Given traffic including a failure and a client that hangs up early
    client = sdk(twilio, TwilioHttpClient(timeout=0.2))
    client.messages.create(to=PATIENT, from_=CLINIC, body="geheim")
    twilio.fail_next(500)
    with pytest.raises(TwilioRestException):
        client.messages.create(to=PATIENT, from_=CLINIC, body="geheim")
    twilio.delay_next(0.5)
    with pytest.raises(requests.exceptions.Timeout):
        client.messages.create(to=PATIENT, from_=CLINIC, body="geheim")
    threading.Event().wait(0.6)  # let the delayed response hit the closed socket
    # Then no access log, number or body was written
    assert capfd.readouterr().err == ""


# SMTP -----------------------------------------------------------------------------------


def test_it_accepts_and_records_a_plain_message(smtp: FakeSmtp) -> None:
    # Given an SMTP client without auth
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
        # Then AUTH is not offered
        client.ehlo()
        assert not client.has_extn("auth")
        # When a message is sent
        client.send_message(email(), to_addrs=["p@example.nl", "cc@example.nl"])
    # Then it is recorded, parsed, with its envelope
    [received] = smtp.messages
    assert received["Subject"] == "Nazorg na je dry-needling behandeling ✓"
    assert received.get_content().strip() == "Drink vandaag extra water en beweeg rustig."
    assert received.mail_from == "kliniek@example.nl"
    assert received.rcpt_tos == ["p@example.nl", "cc@example.nl"]
    assert received.received_at.tzinfo is UTC and received.authenticated_as is None


def test_it_requires_and_checks_auth_when_configured() -> None:
    # Given a fake that requires authentication
    with FakeSmtp(username="clinic", password="s3cret") as smtp:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
            # When sending without logging in, Then MAIL FROM is refused with 530
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.send_message(email())
            assert refused.value.smtp_code == 530
        with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
            # When logging in with a wrong password, Then it is refused with 535
            with pytest.raises(smtplib.SMTPAuthenticationError) as denied:
                client.login("clinic", "wrong")
            assert denied.value.smtp_code == 535
        with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
            # When logging in correctly, Then the message is accepted
            client.login("clinic", "s3cret")
            client.send_message(email())
        assert [m.authenticated_as for m in smtp.wait_for(1)] == ["clinic"]


def test_it_injects_a_transient_failure_on_data(smtp: FakeSmtp) -> None:
    # Given one injected 451 on DATA
    smtp.fail_next(451, "4.3.0 Try again later")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
        # When sending, Then smtplib raises SMTPDataError with 451
        with pytest.raises(smtplib.SMTPDataError) as failed:
            client.send_message(email())
        assert (failed.value.smtp_code, failed.value.smtp_error) == (451, b"4.3.0 Try again later")
        assert smtp.messages == []
        # And the next attempt is accepted
        client.send_message(email())
    assert len(smtp.messages) == 1


def test_it_injects_a_permanent_failure_on_data(smtp: FakeSmtp) -> None:
    # Given one injected 550 on DATA
    smtp.fail_next(550, "5.7.1 Message rejected")
    # When sending, Then smtplib raises SMTPDataError with 550 and nothing is recorded
    with (
        smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client,
        pytest.raises(smtplib.SMTPDataError) as failed,
    ):
        client.send_message(email())
    assert failed.value.smtp_code == 550 and smtp.messages == []


def test_it_injects_a_refused_recipient(smtp: FakeSmtp) -> None:
    # Given a 550 for the next RCPT
    smtp.fail_next(550, "5.1.1 No such user", on="RCPT")
    # When sending to that single recipient, Then all recipients are refused
    with (
        smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        client.send_message(email())
    assert refused.value.recipients == {"p@example.nl": (550, b"5.1.1 No such user")}
    assert smtp.messages == []


def test_it_injects_a_refused_sender(smtp: FakeSmtp) -> None:
    # Given a 451 for the next MAIL FROM
    smtp.fail_next(451, "4.7.1 Slow down", on="MAIL")
    # When sending, Then smtplib raises SMTPSenderRefused with 451
    with (
        smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        client.send_message(email())
    assert refused.value.smtp_code == 451 and smtp.messages == []


def test_it_resets_and_waits(smtp: FakeSmtp) -> None:
    # Given a recorded message and a queued failure
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
        client.send_message(email())
    smtp.fail_next(451, "later")
    # When reset, Then nothing is recorded or queued
    smtp.reset()
    assert smtp.messages == []
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
        client.send_message(email())
    assert len(smtp.wait_for(1)) == 1
    # And waiting for more than arrives fails clearly
    with pytest.raises(AssertionError, match="expected at least 2 message"):
        smtp.wait_for(2, timeout=0.2)
