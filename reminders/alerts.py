"""Alerting the clinic at once when a patient's reply mentions a red flag.

Sent straight through the transports (email to the clinic's alert address, SMS to the
on-call number): an alert must not wait for the scheduler, quiet hours or caps.
"""

from __future__ import annotations

import logging
import time

from reminders import clock
from reminders.clinic import clinic_rules
from reminders.config import get_settings
from reminders.db import session_scope
from reminders.models import AuditEvent, MessageTemplate, Reply, TemplateVersion
from reminders.rendering import ALERT_VARIABLES, VARIABLES, render
from reminders.transports import Outgoing, TransportError, transport_for

log = logging.getLogger(__name__)
RETRY_PAUSES = (1.0, 4.0)  # seconds between the three tries of one alert


def alert_clinic(reply_id: int) -> list[str]:
    """Send the red-flag alert for a reply; returns the channels it went out on."""
    settings = get_settings()
    with session_scope() as session:
        reply = session.get_one(Reply, reply_id)
        rules = clinic_rules(session)
        version = (
            session.query(TemplateVersion)
            .join(MessageTemplate)
            .filter(
                MessageTemplate.key == "clinic-alert",
                TemplateVersion.locale == "en",
                TemplateVersion.status == "published",
            )
            .order_by(TemplateVersion.version.desc())
            .first()
        )
        if version is None:
            log.error("reply %s: no published clinic-alert template; alert not sent", reply_id)
            return []
        variables: dict[str, object] = dict.fromkeys((*VARIABLES, *ALERT_VARIABLES), "")
        patient_ref = f"P-{reply.patient_id:06d}" if reply.patient_id else "unknown number"
        variables.update(
            first_name=reply.patient.first_name if reply.patient else "(unknown)",
            clinic_name=rules.name,
            clinic_phone=rules.phone,
            checkin_urls=[],
            patient_ref=patient_ref,
            reply_text=reply.text,
            received_at=reply.received_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M"),
            patient_url=f"{settings.link_base_url}/patients/{reply.patient_id or ''}",
        )
        email_to = rules.alert_email or settings.clinic_alert_email
        outgoing = []
        if email_to:
            outgoing.append(
                Outgoing(
                    reply_id,
                    "email",
                    email_to,
                    render(version.email_text, variables),
                    subject=render(version.email_subject, variables),
                    html=render(version.email_html, variables, html=True),
                    headers={"Message-ID": f"<alert-{reply_id}@{settings.email_domain}>"},
                )
            )
        if settings.oncall_phone:
            outgoing.append(
                Outgoing(reply_id, "sms", settings.oncall_phone, render(version.sms, variables))
            )
    sent = [item.channel for item in outgoing if _send(reply_id, item)]
    if not outgoing:
        log.error(
            "reply %s: no CLINIC_ALERT_EMAIL or ONCALL_PHONE configured; alert not sent", reply_id
        )
    with session_scope() as session:
        session.add(
            AuditEvent(
                at=clock.now(session),
                actor="system",
                action="clinic_alerted",
                subject_type="reply",
                subject_id=reply_id,
                detail={"channels": sent},
            )
        )
    return sent


def _send(reply_id: int, item: Outgoing) -> bool:
    """Send one alert, trying again at once-ish on a transient error: it must not wait for
    the next reply, and no scheduler step would send it later."""
    for attempt, pause in enumerate((*RETRY_PAUSES, None), start=1):
        try:
            transport_for(item.channel).send(item)
            return True
        except TransportError as exc:
            final = pause is None or exc.permanent
            log.error(
                "reply %s: %s alert failed, attempt %s (%s)%s",
                reply_id,
                item.channel,
                attempt,
                exc.code,
                "" if final else "; trying again",
            )
            if pause is None or exc.permanent:
                return False
            time.sleep(pause)
    return False
