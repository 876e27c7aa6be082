"""Turning a message row into what the transport sends: rendered text, links and headers."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy.orm import Session

from reminders.clinic import ClinicRules
from reminders.config import Settings
from reminders.links import message_links
from reminders.models import Message
from reminders.rendering import render
from reminders.transports import Outgoing

# CASL and carrier rules: the first text a patient gets says how to stop them.
OPT_OUT_LINES = {"en": "Reply STOP to opt out.", "fr": "Répondez ARRET pour vous désabonner."}
# Case matters: "bleeding that won't stop" is advice, not the opt-out keyword.
OPT_OUT_KEYWORD = re.compile(r"\b(STOP|ARRET|ARRÊT)\b")


def template_variables(message: Message, rules: ClinicRules, settings: Settings) -> dict[str, Any]:
    enrollment, patient = message.enrollment, message.patient
    session_day = enrollment.session_end.astimezone(ZoneInfo(patient.time_zone)).date()
    locale = "fr_CA" if message.locale == "fr" else "en_CA"
    return {
        "first_name": patient.first_name,
        "clinic_name": rules.name,
        "clinic_phone": rules.phone,
        "therapist_name": enrollment.therapist_name or rules.name,
        "session_date": format_date(
            session_day,
            format="EEEE, MMMM d" if message.locale == "en" else "EEEE d MMMM",
            locale=locale,
        ),
        "clinic_hours": rules.hours.describe(message.locale),
        # Judged at the planned time, so that a retried message says the same as its first try.
        "clinic_closed": not rules.hours.is_open(
            message.due_at.astimezone(ZoneInfo(rules.time_zone))
        ),
        "flagged": False,
        **message_links(settings.link_base_url, settings.secret_key, message.id),
    }


def compose(
    session: Session, message: Message, rules: ClinicRules, settings: Settings, *, first_sms: bool
) -> Outgoing:
    version = message.template_version
    variables = template_variables(message, rules, settings)
    patient = message.patient
    if message.channel == "sms":
        assert patient.phone is not None
        text = render(version.sms, variables)
        if first_sms and not OPT_OUT_KEYWORD.search(text):
            text = f"{text}\n{OPT_OUT_LINES.get(message.locale, OPT_OUT_LINES['en'])}"
        callback = (
            f"{settings.public_base_url.rstrip('/')}/twilio/status/{message.id}"
            if settings.public_base_url
            else None
        )
        return Outgoing(message.id, "sms", patient.phone, text, status_callback_url=callback)
    assert patient.email is not None
    unsubscribe = str(variables["unsubscribe_url"])
    return Outgoing(
        message.id,
        "email",
        patient.email,
        render(version.email_text, variables),
        subject=render(version.email_subject, variables),
        html=render(version.email_html, variables, html=True),
        headers={
            # Stable per message: a resend after a lost worker is recognisably the same email.
            "Message-ID": f"<reminder-{message.id}@{settings.email_domain}>",
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058
        },
    )
