"""Checking and normalising what a therapist types: phone numbers, emails, time zones."""

from __future__ import annotations

import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from reminders.channels import rules_for
from reminders.enrolling.time_zones import UnknownTimeZone, check_place
from reminders.errors import InvalidInput


class InvalidContact(InvalidInput):
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


def check_time_zone(name: str, *, clinic_zone: str = "America/Edmonton") -> str:
    """An IANA place ("America/Vancouver") from reminders.enrolling.time_zones, never an abbreviation
    such as EST (an hour off for half the year); the error says which place to choose."""
    try:
        return check_place(name, clinic_zone=clinic_zone)
    except UnknownTimeZone as exc:
        raise InvalidContact(str(exc)) from None


def mask_phone(e164: str) -> str:
    """For screens that confirm a number without showing it all: +1******0123."""
    return e164[:2] + "*" * max(len(e164) - 6, 0) + e164[-4:]


def mask_email(email: str) -> str:
    """For the audit log: the first letter and the domain only, frank@example.com ->
    f***@example.com."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def email_address(email: str) -> str:
    """An email as a contact point (the opt-out's and the sharing's key): one address in any
    case, since mailboxes ignore it in practice."""
    return email.strip().lower()


def contact_point(channel: str, address: str) -> str:
    """An address as opt-outs key it: a number (E.164) as it is, an email in lower case."""
    return rules_for(channel).key(address)


def same_person(first_a: str, last_a: str, first_b: str, last_b: str) -> bool:
    """Whether two names are one person's as typed: trimmed, any case, with or without
    accents and doubled spaces ("Francois  tremblay" is "François Tremblay")."""
    return _name_key(first_a, last_a) == _name_key(first_b, last_b)


def _name_key(first: str, last: str) -> tuple[str, str]:
    def plain(name: str) -> str:
        decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
        return " ".join(bare.split())

    return plain(first), plain(last)
