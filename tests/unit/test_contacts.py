"""What a therapist types for a patient: phone numbers, email addresses and time zones."""

from __future__ import annotations

import pytest

from reminders.enrolling.contacts import (
    InvalidContact,
    check_time_zone,
    mask_phone,
    normalize_email,
    normalize_phone,
)

# --- phone numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "(403) 555-0123",
        "403.555.0123",
        "+1 403 555 0123",
        "4035550123",
        "403-555-0123",
        "1 403 555 0123",
        "  403 555 0123  ",
    ],
)
def test_it_normalises_common_canadian_formats_to_e164(typed: str) -> None:
    assert normalize_phone(typed) == "+14035550123"


def test_it_keeps_an_international_mobile_number_in_its_own_country() -> None:
    assert normalize_phone("+44 7911 123456") == "+447911123456"
    assert normalize_phone("+31 6 12345678") == "+31612345678"


def test_it_reads_a_national_number_in_the_region_it_is_given() -> None:
    assert normalize_phone("07911 123456", region="GB") == "+447911123456"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("12", "not a valid number"),
        ("+1 555 555 5555", "not a valid number"),
        ("+1 403 555 01234", "not a valid number"),
        ("abc", "not a phone number"),
        ("", "not a phone number"),
    ],
)
def test_it_refuses_a_number_that_is_not_a_phone_number(typed: str, problem: str) -> None:
    with pytest.raises(InvalidContact, match=problem):
        normalize_phone(typed)


@pytest.mark.parametrize("typed", ["12", "+1 555 555 5555", "abc", "+1 403 555 01234"])
def test_it_never_echoes_the_number_in_its_error(typed: str) -> None:
    with pytest.raises(InvalidContact) as refused:
        normalize_phone(typed)

    message = str(refused.value)
    digits = "".join(c for c in typed if c.isdigit())
    assert typed.strip() not in message
    assert not any(c.isdigit() for c in message), message
    assert digits == "" or digits not in message


def test_it_refuses_a_landline_that_cannot_receive_texts() -> None:
    # Given a London landline (phonenumbers knows UK landlines from mobiles)
    with pytest.raises(InvalidContact, match="landline") as refused:
        normalize_phone("+44 20 7946 0958")

    assert "7946" not in str(refused.value)


def test_it_masks_a_number_for_confirmation_screens() -> None:
    assert mask_phone("+14035550123") == "+1******0123"


# --- email addresses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("alex@example.com", "alex@example.com"),
        (" Alex@Example.COM ", "Alex@example.com"),
        ("alex.chen+aftercare@Clinic.Example.ORG", "alex.chen+aftercare@clinic.example.org"),
        ("josé@example.com", "josé@example.com"),
    ],
)
def test_it_normalises_an_email_address(typed: str, stored: str) -> None:
    # Then surrounding spaces go and the domain is lower-cased; the mailbox part is kept as typed
    assert normalize_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "alex",
        "alex@",
        "@example.com",
        "alex@@example.com",
        "alex chen@example.com",
        "alex@example",
        "alex..chen@example.com",
        "alex@localhost",
        "alex@example.com.",
    ],
)
def test_it_refuses_an_email_address_that_is_not_valid(typed: str) -> None:
    with pytest.raises(InvalidContact, match="email address is not valid") as refused:
        normalize_email(typed)

    mailbox = typed.split("@")[0].strip()
    if len(mailbox) > 1:
        assert mailbox not in str(refused.value)


# --- time zones ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["America/Edmonton", "America/Toronto", "America/Vancouver", "Asia/Kolkata", "UTC"],
)
def test_it_accepts_an_iana_time_zone(name: str) -> None:
    assert check_time_zone(name) == name


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "Edmonton", "America/", "../../etc/passwd", "MST+7"]
)
def test_it_refuses_a_time_zone_that_is_not_an_iana_name(name: str) -> None:
    with pytest.raises(InvalidContact, match="unknown time zone"):
        check_time_zone(name)


@pytest.mark.parametrize(
    ("name", "place"), [("EST", "America/Toronto"), ("pst", "America/Vancouver")]
)
def test_it_refuses_an_abbreviation_and_names_the_place_to_choose(name: str, place: str) -> None:
    # EST is a fixed offset: a patient given it would get messages an hour off half the year
    with pytest.raises(InvalidContact, match=f"abbreviation, not a place.*{place}"):
        check_time_zone(name)
