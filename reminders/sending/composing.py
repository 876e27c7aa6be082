"""Turning a message row into what the transport sends: rendered text, links and headers."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy.orm import Session

from reminders.clinic import ClinicRules
from reminders.config import Settings
from reminders.content.rendering import gsm7_spelling, render, sms_cost
from reminders.links import message_links
from reminders.models import Message
from reminders.transports import Outgoing
from reminders.vocabulary import Channel

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


def sms_text(source: str, variables: dict[str, Any], *, locale: str, first_sms: bool) -> str:
    """The text as sent: rendered, the opt-out line added to a first text, and the first
    name spelled in GSM-7 (François -> Francois) when that alone keeps the whole text in
    GSM-7, at up to a third of the cost. Emails keep the name as it is written."""
    text = _with_opt_out(render(source, variables), locale=locale, first_sms=first_sms)
    if sms_cost(text).encoding == "GSM-7":
        return text
    name = str(variables["first_name"])
    spelled = gsm7_spelling(name)
    if spelled == name:
        return text
    plain = _with_opt_out(
        render(source, {**variables, "first_name": spelled}), locale=locale, first_sms=first_sms
    )
    # When the template itself needs UCS-2, the name costs nothing: leave it as written.
    return plain if sms_cost(plain).encoding == "GSM-7" else text


def _with_opt_out(text: str, *, locale: str, first_sms: bool) -> str:
    if first_sms and not OPT_OUT_KEYWORD.search(text):
        return f"{text}\n{OPT_OUT_LINES.get(locale, OPT_OUT_LINES['en'])}"
    return text


def compose(
    session: Session, message: Message, rules: ClinicRules, settings: Settings, *, first_sms: bool
) -> Outgoing:
    version = message.template_version
    variables = template_variables(message, rules, settings)
    patient = message.patient
    if message.channel == Channel.SMS:
        assert patient.phone is not None
        text = sms_text(version.sms, variables, locale=message.locale, first_sms=first_sms)
        callback = (
            f"{settings.public_base_url.rstrip('/')}/twilio/status/{message.id}"
            if settings.public_base_url
            else None
        )
        return Outgoing(message.id, Channel.SMS, patient.phone, text, status_callback_url=callback)
    assert patient.email is not None
    unsubscribe = str(variables["unsubscribe_url"])
    return Outgoing(
        message.id,
        Channel.EMAIL,
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
