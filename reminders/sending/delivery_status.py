"""After sending: Twilio's status callbacks, and falling back to email when a text cannot arrive."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reminders.models import Message, OptOut
from reminders.sending.transitions import move
from reminders.transports.twilio_codes import undelivered
from reminders.vocabulary import Channel, MessageStatus

FINAL_STATUSES = {MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED}


def record_status(
    session: Session,
    *,
    message_id: int,
    status: str,
    provider_id: str,
    error_code: str,
    now: datetime,
) -> str:
    """Apply one status callback; callbacks arrive late, twice, or out of order.

    Only a final status (delivered, undelivered, failed) changes anything, and only a
    message still `sending` or `sent`: a final state is never overwritten. A callback for
    another attempt's provider id is ignored.
    """
    message = session.get(Message, message_id)
    if message is None:
        return "unknown message"
    if status not in FINAL_STATUSES:
        return "ignored"
    if message.provider_id and provider_id and message.provider_id != provider_id:
        return "ignored: another attempt"
    values: dict[str, object] = {
        "status": status,
        "provider_id": message.provider_id or provider_id,
    }
    meaning = undelivered(error_code)
    if status == MessageStatus.DELIVERED:
        values["delivered_at"] = now
    else:
        values["error_code"] = error_code or None
        values["reason"] = meaning.reason
    if not move(session, message_id, frm=(MessageStatus.SENDING, MessageStatus.SENT), **values):
        return "ignored: already final"
    if status != MessageStatus.DELIVERED and meaning.fall_back:
        fall_back_to_email(session, message, now)
    return status


def fall_back_to_email(session: Session, message: Message, now: datetime) -> Message | None:
    """Send this step by email instead, once, when the patient has an email address (the
    transport has said the text cannot arrive, and not because the patient said STOP)."""
    patient = message.patient
    if message.channel != Channel.SMS or not patient.email:
        return None
    if session.scalar(select(OptOut.active(patient.address(Channel.EMAIL), Channel.EMAIL))):
        return None
    fallback = Message(
        enrollment_id=message.enrollment_id,
        patient_id=patient.id,
        step_key=message.step_key,
        channel=Channel.EMAIL,
        locale=message.locale,
        template_version_id=message.template_version_id,
        checkin=message.checkin,
        status=MessageStatus.SCHEDULED,
        due_at=now,
        next_attempt_at=now,
        max_lateness_seconds=message.max_lateness_seconds,
        reason="instead of a text that could not be delivered",
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():  # unique (enrollment, step, channel): at most once
            session.add(fallback)
    except IntegrityError:
        return None
    return fallback
