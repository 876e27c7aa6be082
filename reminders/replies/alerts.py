"""Alerting the clinic at once when a patient's reply mentions a red flag.

Sent straight through the transports (email to the clinic's alert address, SMS to the
on-call number): an alert must not wait for the scheduler, quiet hours or caps. Each alert
has its row (ClinicAlert), which is also its claim: `sending` while a task sends it, then
`sent`, or `failed` with the reason in plain words. A failed alert stays on every staff page
until someone acknowledges it. Once the clinic really has it, the patient who texted is told
so, once (template `reply-alerted`); the immediate answer to their text only says 911.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reminders import audit, clock
from reminders.clinic import clinic_rules
from reminders.config import get_settings
from reminders.content.rendering import ALERT_VARIABLES, VARIABLES, TemplateProblem, render
from reminders.content.template_history import published_or_none
from reminders.db import session_scope
from reminders.models import (
    ClinicAlert,
    Reply,
    TemplateVersion,
)
from reminders.replies.alert_sending import in_words, send_alert
from reminders.replies.inbound import answer_text
from reminders.transports import Outgoing, TransportError
from reminders.vocabulary import Channel, NoticeStatus, ReplyKind

log = logging.getLogger(__name__)
ALERT_GRACE = timedelta(minutes=1)  # after this with no alert recorded, its task was lost
# A task that started sending longer ago than this has died: well past three tries on each
# channel at their timeouts (SMTP 20 s, Twilio 15 s) and the pauses between them.
CLAIM = timedelta(minutes=10)
NO_DESTINATION = "no alert destination set (CLINIC_ALERT_EMAIL / ONCALL_PHONE)"
NO_TEMPLATE = "no published clinic-alert template"
BAD_TEMPLATE = "the published clinic-alert template does not render"
PATIENT_TOLD = "reply-alerted"  # the template of the follow-up text to the patient


def alert_clinic(reply_id: int) -> list[str]:
    """Send the red-flag alert for a reply; returns the channels it went out on. A copy of the
    task (the reaper queues one when an alert looks lost) finds it claimed and does nothing."""
    attempt = _claim(reply_id)
    if attempt is None:
        log.info("reply %s: clinic alert already sent or under way", reply_id)
        return []
    with session_scope() as session:
        outgoing = _alert_messages(session, reply_id)
    if isinstance(outgoing, str):
        log.error("reply %s: %s; alert not sent", reply_id, outgoing)
        _finish(reply_id, attempt, sent=[], reason=outgoing, retry=False)
        return []
    if not outgoing:
        log.error(
            "reply %s: no CLINIC_ALERT_EMAIL or ONCALL_PHONE configured; alert not sent", reply_id
        )
        _finish(reply_id, attempt, sent=[], reason=NO_DESTINATION, retry=False)
        return []
    sent: list[str] = []
    failures: list[TransportError] = []
    problems: list[str] = []
    for item in outgoing:
        error = send_alert(reply_id, item)
        if error is None:
            sent.append(item.channel)
        else:
            failures.append(error)
            problems.append(f"{item.channel} {in_words(error)}")
    if not _finish(
        reply_id,
        attempt,
        sent=sent,
        reason="; ".join(problems)[:200] or None,
        # every channel failing is not an alert: unless each was refused for good, the reaper
        # queues it again
        retry=not sent and any(not error.permanent for error in failures),
    ):
        return sent
    if sent:
        _tell_patient(reply_id)
    return sent


def lost_alerts(session: Session, now: datetime) -> list[int]:
    """Emergency replies of the last day whose alert needs a task: none started a minute on
    (its task was lost: Redis emptied or down), a task that died while sending, or every
    channel failed for now. An alert that failed for good (no destination, refused) is not
    tried again: it waits on the staff pages for someone to acknowledge it."""
    taken_over = clock.real_now() - CLAIM
    return list(
        session.scalars(
            select(Reply.id)
            .outerjoin(ClinicAlert, ClinicAlert.reply_id == Reply.id)
            .where(
                Reply.kind == ReplyKind.EMERGENCY,
                Reply.received_at <= now - ALERT_GRACE,
                Reply.received_at > now - timedelta(days=1),
                or_(
                    ClinicAlert.id.is_(None),
                    _may_take_over(taken_over),
                ),
            )
            .order_by(Reply.id)
        )
    )


def unacknowledged(session: Session) -> list[tuple[int, int | None]]:
    """Alerts that did not reach the clinic and that nobody on the staff has seen yet, as
    (alert id, patient id or None for a number we do not know)."""
    rows = session.execute(
        select(ClinicAlert.id, Reply.patient_id)
        .join(Reply, Reply.id == ClinicAlert.reply_id)
        .where(ClinicAlert.status == NoticeStatus.FAILED, ClinicAlert.acknowledged_at.is_(None))
        .order_by(ClinicAlert.id)
    )
    return [(alert_id, patient_id) for alert_id, patient_id in rows]


def acknowledge(session: Session, alert_id: int, *, user_name: str, actor: str) -> bool:
    """Record who saw a failed alert, and when; False if there is no such unseen alert."""
    now = clock.now(session)
    done = session.execute(
        update(ClinicAlert)
        .where(
            ClinicAlert.id == alert_id,
            ClinicAlert.status == NoticeStatus.FAILED,
            ClinicAlert.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=now, acknowledged_by=user_name)
    )
    if not getattr(done, "rowcount", 0):
        return False
    audit.record(
        session,
        actor=actor,
        action="clinic_alert.acknowledged",
        subject_type="clinic_alert",
        subject_id=alert_id,
        at=now,
    )
    return True


def _may_take_over(taken_over: datetime) -> Any:
    """An alert row a new task may claim: its task died while sending, or it failed for now."""
    return or_(
        and_(ClinicAlert.status == NoticeStatus.SENDING, ClinicAlert.claimed_at < taken_over),
        and_(ClinicAlert.status == NoticeStatus.FAILED, ClinicAlert.retry.is_(True)),
    )


def _claim(reply_id: int) -> int | None:
    """This task's claim on the alert (its attempt number), or None if another task sent it,
    is sending it, or it failed for good. One conditional INSERT ... ON CONFLICT DO UPDATE."""
    real_now = clock.real_now()
    with session_scope() as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        first = insert(ClinicAlert).values(
            reply_id=reply_id,
            status=NoticeStatus.SENDING,
            attempts=1,
            claimed_at=real_now,
            channels=[],
            retry=False,
        )
        claim = first.on_conflict_do_update(
            index_elements=[ClinicAlert.reply_id],
            set_={
                "status": NoticeStatus.SENDING,
                "attempts": ClinicAlert.attempts + 1,
                "claimed_at": real_now,
                "finished_at": None,
                "reason": None,
                "retry": False,
            },
            where=_may_take_over(real_now - CLAIM),
        ).returning(ClinicAlert.attempts)
        attempt: int | None = session.scalar(claim)
        return attempt


def _finish(
    reply_id: int, attempt: int, *, sent: list[str], reason: str | None, retry: bool
) -> bool:
    """Record the outcome if the claim is still this task's (False if another took it over),
    with its audit event (history only: nothing reads those to decide)."""
    with session_scope() as session:
        now = clock.now(session)
        done = session.execute(
            update(ClinicAlert)
            .where(
                ClinicAlert.reply_id == reply_id,
                ClinicAlert.status == NoticeStatus.SENDING,
                ClinicAlert.attempts == attempt,
            )
            .values(
                status=NoticeStatus.SENT if sent else NoticeStatus.FAILED,
                finished_at=now,
                channels=sent,
                reason=reason,
                retry=retry,
            )
        )
        if not getattr(done, "rowcount", 0):
            log.warning("reply %s: another task took this clinic alert over", reply_id)
            return False
        detail: dict[str, Any] = {"channels": sent}
        if not sent:
            detail.update(reason=reason, retry=retry)
        audit.record(
            session,
            actor="system",
            action="clinic_alerted" if sent else "clinic_alert_failed",
            subject_type="reply",
            subject_id=reply_id,
            at=now,
            **detail,
        )
    return True


def _alert_messages(session: Session, reply_id: int) -> list[Outgoing] | str:
    """The alert by each configured channel, or why it cannot be written."""
    settings = get_settings()
    reply = session.get_one(Reply, reply_id)
    rules = clinic_rules(session)
    version = published_or_none(session, "clinic-alert", "en")
    if version is None:
        return NO_TEMPLATE
    variables: dict[str, object] = dict.fromkeys((*VARIABLES, *ALERT_VARIABLES), "")
    patient_ref = f"P-{reply.patient_id:06d}" if reply.patient_id else "unknown number"
    variables.update(
        first_name=reply.patient.first_name if reply.patient else "(unknown)",
        clinic_name=rules.name,
        clinic_phone=rules.phone,
        checkin_urls=[],
        clinic_closed=False,
        flagged=False,
        patient_ref=patient_ref,
        reply_text=reply.text,
        reply_from=reply.from_address or "",
        received_at=reply.received_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M"),
        patient_url=f"{settings.link_base_url}/patients/{reply.patient_id or ''}",
    )
    try:
        return _rendered(reply_id, version, variables, rules.alert_email)
    except TemplateProblem:
        return BAD_TEMPLATE


def _rendered(
    reply_id: int, version: TemplateVersion, variables: dict[str, object], alert_email: str
) -> list[Outgoing]:
    """The alert for each destination set: the clinic settings' alert address (else
    CLINIC_ALERT_EMAIL) and ONCALL_PHONE. Raises TemplateProblem."""
    settings = get_settings()
    email_to = alert_email or settings.clinic_alert_email
    outgoing: list[Outgoing] = []
    if email_to:
        outgoing.append(
            Outgoing(
                reply_id,
                Channel.EMAIL,
                email_to,
                render(version.email_text, variables),
                subject=render(version.email_subject, variables),
                html=render(version.email_html, variables, html=True),
                headers={"Message-ID": f"<alert-{reply_id}@{settings.email_domain}>"},
            )
        )
    if settings.oncall_phone:
        outgoing.append(
            Outgoing(reply_id, Channel.SMS, settings.oncall_phone, render(version.sms, variables))
        )
    return outgoing


def _tell_patient(reply_id: int) -> None:
    """Text the patient that the clinic has their message, once: only the task whose alert
    went out gets here. Like the first answer to their text it ignores quiet hours and an
    opt-out (it is part of the emergency answer); only texts from known patients get it."""
    with session_scope() as session:
        reply = session.get_one(Reply, reply_id)
        patient = reply.patient
        phone = reply.from_address or (patient.phone if patient else None)
        if reply.channel != Channel.SMS or patient is None or not phone:
            return
        text = answer_text(session, PATIENT_TOLD, patient, now=clock.now(session))
        if text is None:
            log.warning(
                "reply %s: no published %s template; the patient was not told",
                reply_id,
                PATIENT_TOLD,
            )
            return
    if send_alert(reply_id, Outgoing(reply_id, Channel.SMS, phone, text), "follow-up") is not None:
        log.error("reply %s: the patient could not be told the clinic was alerted", reply_id)
        return
    with session_scope() as session:
        session.execute(
            update(ClinicAlert)
            .where(ClinicAlert.reply_id == reply_id)
            .values(patient_told_at=clock.now(session))
        )
