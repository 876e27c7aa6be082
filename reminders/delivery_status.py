"""After sending: Twilio's status callbacks, and falling back to email when a text cannot arrive."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reminders.models import Message, OptOut
from reminders.transitions import move
from reminders.transports.twilio_sms import PERMANENT_CODES, TRANSIENT_CODES
from reminders.vocabulary import MessageStatus

FINAL_STATUSES = {MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED}
NO_FALLBACK = {"21610"}  # the patient said STOP to texts: that is not a broken number
# Reported undelivered after the carrier's own retries: the phone stayed off or out of reach
# (30003) or the carrier's queue overflowed (30001). Nothing resends a text later, so the
# step goes by email, as for a number that can never get texts.
GAVE_UP = {code: TRANSIENT_CODES[code] for code in (30001, 30003)}
FALL_BACK = {*PERMANENT_CODES, *GAVE_UP}  # undelivered with these: the step goes by email


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
    code = int(error_code) if error_code.isdigit() else None
    if status == MessageStatus.DELIVERED:
        values["delivered_at"] = now
    else:
        values["error_code"] = error_code or None
        values["reason"] = (
            "not delivered"
            if code is None
            else PERMANENT_CODES.get(code) or GAVE_UP.get(code) or f"carrier error {code}"
        )
    if not move(session, message_id, frm=(MessageStatus.SENDING, MessageStatus.SENT), **values):
        return "ignored: already final"
    if status != MessageStatus.DELIVERED and code in FALL_BACK:
        fall_back_to_email(session, message, now, error_code=error_code)
    return status


def fall_back_to_email(
    session: Session, message: Message, now: datetime, *, error_code: str | None
) -> Message | None:
    """Send this step by email instead, once, when the patient has an email address."""
    patient = message.patient
    if message.channel != "sms" or not patient.email or (error_code or "") in NO_FALLBACK:
        return None
    if session.scalar(select(OptOut.active(patient.address("email"), "email"))):
        return None
    fallback = Message(
        enrollment_id=message.enrollment_id,
        patient_id=patient.id,
        step_key=message.step_key,
        channel="email",
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
