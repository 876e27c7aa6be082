"""Checking and normalising what a therapist types: phone numbers, emails, time zones."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidContact(ValueError):
    """Bad contact details; the message says what is wrong without echoing personal data."""


def normalize_phone(raw: str, *, region: str = "CA") -> str:
    """Any common format ("(403) 555-0123", "403.555.0123", "+1 403 555 0123") -> E.164."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidContact("phone number is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("phone number is not a valid number for its country")
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        raise InvalidContact("phone number is a landline, which cannot receive text messages")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidContact(f"email address is not valid: {exc}") from None


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidContact(
            f"unknown time zone {name!r} (use an IANA name such as America/Edmonton)"
        ) from None
    return name


def mask_phone(e164: str) -> str:
    """For screens that confirm a number without showing it all: +1******0123."""
    return e164[:2] + "*" * max(len(e164) - 6, 0) + e164[-4:]
