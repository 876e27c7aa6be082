"""Alerting the clinic at once when a patient's reply mentions a red flag.

Sent straight through the transports (email to the clinic's alert address, SMS to the
on-call number): an alert must not wait for the scheduler, quiet hours or caps.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from reminders import clock
from reminders.clinic import clinic_rules
from reminders.config import get_settings
from reminders.db import session_scope
from reminders.models import AuditEvent, MessageTemplate, Reply, TemplateVersion
from reminders.rendering import ALERT_VARIABLES, VARIABLES, render
from reminders.transports import Outgoing, TransportError, transport_for

log = logging.getLogger(__name__)
RETRY_PAUSES = (1.0, 4.0)  # seconds between the three tries of one alert
ALERT_GRACE = timedelta(minutes=1)  # after this with no alert recorded, its task was lost
# A task that started sending longer ago than this has died: well past three tries on each
# channel at their timeouts (SMTP 20 s, Twilio 15 s) and the pauses between them.
CLAIM = timedelta(minutes=10)


def alert_clinic(reply_id: int) -> list[str]:
    """Send the red-flag alert for a reply; returns the channels it went out on. A copy of the
    task (the reaper queues one when an alert looks lost) finds it claimed and does nothing."""
    settings = get_settings()
    if not _claim(reply_id):
        return []
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
                # every channel failing is not an alert: the reaper queues it again
                action="clinic_alerted" if sent or not outgoing else "clinic_alert_failed",
                subject_type="reply",
                subject_id=reply_id,
                detail={"channels": sent},
            )
        )
    return sent


def lost_alerts(session: Session, now: datetime) -> list[int]:
    """Emergency replies of the last day with no alert recorded or under way a minute on:
    their task was lost (Redis emptied or down), or every channel failed. The reaper queues
    them again."""
    return list(
        session.scalars(
            select(Reply.id).where(
                Reply.kind == "emergency",
                Reply.received_at <= now - ALERT_GRACE,
                Reply.received_at > now - timedelta(days=1),
                Reply.id.not_in(_taken(clock.real_now())),
            )
        )
    )


def _taken(real_now: datetime) -> Select[int | None]:
    """Replies whose alert was sent, or is being sent by a task that started lately."""
    return select(AuditEvent.subject_id).where(
        AuditEvent.subject_type == "reply",
        (AuditEvent.action == "clinic_alerted")
        | ((AuditEvent.action == "clinic_alert_started") & (AuditEvent.at > real_now - CLAIM)),
    )


def _claim(reply_id: int) -> bool:
    """Whether this task may send the alert: no other has sent it or is sending it. The reply's
    row is locked meanwhile (SQLite: the write transaction is)."""
    with session_scope() as session:
        session.scalar(select(Reply.id).where(Reply.id == reply_id).with_for_update())
        real_now = clock.real_now()
        if session.scalar(
            select(_taken(real_now).where(AuditEvent.subject_id == reply_id).exists())
        ):
            return False
        session.add(
            AuditEvent(
                at=real_now,
                actor="system",
                action="clinic_alert_started",
                subject_type="reply",
                subject_id=reply_id,
                detail={},
            )
        )
    return True


def _send(reply_id: int, item: Outgoing) -> bool:
    """Send one alert, trying again within seconds on a transient error: it must not wait
    for the reaper's next pass, which only queues alerts lost or failed a minute on. An unsure
    failure (a timeout after the request went out) is tried again too: for an emergency, a
    second alert costs less than none."""
    for attempt, pause in enumerate((*RETRY_PAUSES, 0.0), start=1):
        try:
            transport_for(item.channel).send(item)
            return True
        except TransportError as exc:
            final = attempt > len(RETRY_PAUSES) or exc.permanent
            log.error(
                "reply %s: %s alert failed, attempt %s (%s)%s",
                reply_id,
                item.channel,
                attempt,
                exc.code,
                "" if final else "; trying again",
            )
            if final:
                return False
            time.sleep(pause)
    return False
