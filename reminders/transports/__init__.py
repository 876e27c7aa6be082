"""Transports: how a message leaves (Twilio SMS, SMTP email, or the console for local use)."""

from __future__ import annotations

from reminders.built_once import BuiltOnce
from reminders.config import get_settings
from reminders.transports.base import (
    ClaimLost,
    GoAhead,
    MaybeSent,
    Outgoing,
    Transport,
    TransportError,
)
from reminders.transports.console import ConsoleTransport
from reminders.vocabulary import Channel

__all__ = [
    "ClaimLost",
    "GoAhead",
    "MaybeSent",
    "Outgoing",
    "Transport",
    "TransportError",
    "transport_for",
]


def _build(channel: str) -> Transport:
    """This process's transport for a channel, as configured (built once, then reused by
    every thread: each transport is safe to share)."""
    settings = get_settings()
    if channel == Channel.SMS and settings.sms_transport == "twilio":
        from reminders.transports.twilio_sms import TwilioTransport

        return TwilioTransport(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_base_url=settings.twilio_api_base_url,
            timeout=settings.twilio_timeout_seconds,
            connections=settings.deliveries_per_process,
        )
    if channel == Channel.EMAIL and settings.email_transport == "smtp":
        from reminders.transports.smtp_email import SmtpTransport

        return SmtpTransport(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.email_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            security=settings.smtp_security,
            timeout=settings.smtp_timeout_seconds,
        )
    return ConsoleTransport(channel, settings.console_outbox)


transport_for = BuiltOnce(_build)
