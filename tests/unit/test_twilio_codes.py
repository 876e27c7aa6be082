"""What Twilio's error codes mean for a patient's message (reminders.transports.twilio_codes)."""

from __future__ import annotations

from reminders.transports.twilio_codes import meaning, undelivered


def test_stop_at_the_carrier_is_an_opt_out_and_never_a_reason_to_email() -> None:
    stopped = meaning(21610)
    assert stopped is not None
    assert stopped.permanent and stopped.opted_out and not stopped.fall_back
    assert not undelivered("21610").fall_back


def test_a_number_that_cannot_get_texts_sends_the_step_by_email() -> None:
    landline = meaning(30006)
    assert landline is not None and landline.permanent and landline.fall_back
    assert not landline.opted_out


def test_a_carrier_that_gave_up_after_its_own_retries_sends_the_step_by_email() -> None:
    # 30003 is worth trying again when Twilio refuses at once; reported undelivered, it is final
    refused_now = meaning(30003)
    assert refused_now is not None and not refused_now.permanent
    assert undelivered("30003").fall_back
    assert undelivered("30003").reason == "handset unreachable"


def test_unknown_and_missing_codes_are_said_plainly_and_do_not_fall_back() -> None:
    assert meaning(99999) is None
    assert undelivered("99999").reason == "carrier error 99999"
    assert not undelivered("99999").fall_back
    assert undelivered("").reason == "not delivered"
