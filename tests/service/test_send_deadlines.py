"""The transports on their own, against the fake providers: one deadline per SMTP send, the
point of no return, and a Twilio look-up that reads newest first and stops in time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fakes import FakeSmtp, FakeTwilio

from reminders.transports import ClaimLost, MaybeSent, Outgoing, TransportError
from reminders.transports.smtp_email import MAYBE_ACCEPTED, SmtpTransport
from reminders.transports.twilio_sms import TwilioTransport

EMAIL = Outgoing(
    7,
    "email",
    "pat@example.com",
    "Ice, then gentle movement.",
    subject="Aftercare",
    headers={"Message-ID": "<reminder-7@bowriver.example>"},  # as composing sets it
)
PHONE = "+14035550123"


def smtp(fake: FakeSmtp, timeout: float) -> SmtpTransport:
    fake.reset()
    return SmtpTransport(
        host=fake.host,
        port=fake.port,
        sender="care@bowriver.example",
        security="none",
        timeout=timeout,
    )


def twilio(fake: FakeTwilio) -> TwilioTransport:
    fake.reset()
    return TwilioTransport(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number="+15875550100",
        api_base_url=fake.base_url,
        timeout=5,
    )


def test_one_deadline_covers_every_smtp_step(fake_smtp: FakeSmtp) -> None:
    # Given a server that takes 0.8 s per step: each under 1.5 s, together over it
    transport = smtp(fake_smtp, timeout=1.5)
    fake_smtp.answer_late_next(0.8, on="MAIL")
    fake_smtp.answer_late_next(0.8, on="RCPT")

    # When an email is sent with a 1.5 s deadline
    started = time.monotonic()
    with pytest.raises(TransportError) as failure:
        transport.send(EMAIL)

    # Then the send stopped before DATA, as a plain failure to retry
    assert not isinstance(failure.value, MaybeSent)
    assert time.monotonic() - started < 10  # (not 0.8 s per step forever)
    assert "DATA" not in fake_smtp.commands and fake_smtp.messages == []


def test_a_connection_dropped_after_the_message_may_have_delivered_it(
    fake_smtp: FakeSmtp,
) -> None:
    # Given a server that takes the message and hangs up without a word
    transport = smtp(fake_smtp, timeout=5)
    fake_smtp.drop_after_data_next()

    # When an email is sent
    with pytest.raises(MaybeSent) as unsure:
        transport.send(EMAIL)

    # Then it is "maybe sent", with the Message-ID it went with
    assert unsure.value.reason == MAYBE_ACCEPTED
    [received] = fake_smtp.messages
    assert unsure.value.provider_id == received["Message-ID"] == "<reminder-7@bowriver.example>"


def test_a_lost_claim_stops_an_email_before_data(fake_smtp: FakeSmtp) -> None:
    # Given a worker whose claim was taken over while it talked to the server
    transport = smtp(fake_smtp, timeout=5)

    def taken_over() -> None:
        raise ClaimLost("message 7 was taken over")

    # When it reaches the point of no return
    with pytest.raises(ClaimLost):
        transport.send(EMAIL, go_ahead=taken_over)

    # Then the server never got DATA
    assert fake_smtp.commands == ["MAIL", "RCPT"] and fake_smtp.messages == []


def test_a_lost_claim_stops_a_text_before_twilio(fake_twilio: FakeTwilio) -> None:
    transport = twilio(fake_twilio)

    def taken_over() -> None:
        raise ClaimLost("message 8 was taken over")

    with pytest.raises(ClaimLost):
        transport.send(Outgoing(8, "sms", PHONE, "Hello"), go_ahead=taken_over)
    assert fake_twilio.requests == []


def test_a_look_up_reads_newest_first_and_stops_at_older_messages(
    fake_twilio: FakeTwilio,
) -> None:
    # Given 25 texts to the patient (more than a page), the newest being the attempt's
    transport = twilio(fake_twilio)
    for number in range(24):
        transport.send(Outgoing(number, "sms", PHONE, f"Older reminder {number}"))
    sent = transport.send(Outgoing(99, "sms", PHONE, "Today's reminder"))
    fake_twilio.wait_for(25)

    # When the attempt's text is looked up, and an old one since a time after all of them
    since_attempt = datetime.now(UTC) - timedelta(minutes=2)
    found = transport.find_sent(Outgoing(99, "sms", PHONE, "Today's reminder"), since_attempt)
    after_all = datetime.now(UTC) + timedelta(minutes=1)
    missed = transport.find_sent(Outgoing(3, "sms", PHONE, "Older reminder 3"), after_all)

    # Then the first is found on the first page, the second is not looked for past the first
    # older message: one request of 20 each, and no DateSent filter
    assert (found, missed) == (sent, None)
    assert len(fake_twilio.look_ups) == 2
    for query in fake_twilio.look_ups:
        assert query["PageSize"] == "20" and not any(k.startswith("DateSent") for k in query)
