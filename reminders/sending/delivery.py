"""Delivering one message: what the `deliver` task does with a message id.

1. `queued` -> `sending` with one conditional UPDATE (exactly one row, or stop: another
   worker or the reaper got there first).
2. Re-check cancellation, opt-out, lateness, quiet hours and caps as of now.
3. Render the pinned template version, record a DeliveryAttempt, commit, and only then
   call the transport; just before the provider, confirm the claim is still this worker's
   (send_claim.hand_over); record `sent` or the failure after, only while it still is.
4. A fate unknown is never resent blindly: an email counts as sent (unsure); a text stays
   `sending` until the reaper has looked it up at Twilio (dispatch.resolve_stuck_send).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import aliased, joinedload

from reminders import clock
from reminders.clinic import clinic_rules
from reminders.config import Settings, get_settings
from reminders.content.rendering import TemplateProblem
from reminders.db import session_scope
from reminders.enrolling.contacts import contact_point
from reminders.models import DeliveryAttempt, Message, OptOut, Patient
from reminders.sending import send_rate
from reminders.sending.backoff import retry_delay
from reminders.sending.composing import compose
from reminders.sending.delivery_status import fall_back_to_email
from reminders.sending.hold_back import hold_back
from reminders.sending.send_claim import (
    SENT_WINS_OVER,
    SendClaim,
    close_other_attempts,
    finish_attempt,
    hand_over,
    leave_for_look_up,
    record_maybe_sent,
    still_mine,
)
from reminders.sending.transitions import move, move_reading
from reminders.transports import ClaimLost, MaybeSent, Outgoing, TransportError, transport_for
from reminders.vocabulary import WENT_OUT, AttemptOutcome, Channel, MessageStatus

log = logging.getLogger(__name__)

_earlier = aliased(Message)
# Where the message would go now: the patient's mobile (sms) or email, as opt-outs key it.
_destination = (
    select(Patient.address_on(Message.channel))
    .where(Patient.id == Message.patient_id)
    .correlate(Message)
    .scalar_subquery()
)
# The message with everything composing it needs, in one query built once: whether its
# contact point (the number or the email, whoever shares it) opted out of its channel, and
# whether an SMS has already reached that number (the first one carries the opt-out line).
_LOAD = (
    select(
        Message,
        OptOut.active(_destination, Message.channel),
        exists().where(
            Message.channel == Channel.SMS,
            _earlier.to_address == _destination,
            _earlier.channel == Channel.SMS,
            _earlier.status.in_(WENT_OUT),
        ),
    )
    .where(Message.id == bindparam("message_id"))
    .options(
        joinedload(Message.enrollment),
        joinedload(Message.patient),
        joinedload(Message.template_version),
    )
)


def deliver(message_id: int) -> str:
    """Deliver one queued message; returns what happened, in one word, for the task log."""
    settings = get_settings()
    prepared = _prepare(message_id, settings)
    if isinstance(prepared, str):
        log.info("message %s: %s", message_id, prepared)
        return prepared
    outgoing, claim, tell_time = prepared
    transport = transport_for(outgoing.channel)
    started = time.monotonic()
    try:
        provider_id = transport.send(
            outgoing, go_ahead=lambda: hand_over(claim, settings.sending_lease_seconds)
        )
    except ClaimLost:
        log.warning("message %s: taken over before it was handed to the provider", message_id)
        with session_scope() as session:  # unless whoever took it over has settled it already
            finish_attempt(
                session, claim.attempt_id, AttemptOutcome.LOST, detail="taken over; not sent"
            )
        return "taken over"
    except MaybeSent as exc:
        record_maybe_sent(claim, exc, _ms_since(started), now=tell_time())
        log.warning("message %s: sent, unsure (no answer after the message)", message_id)
        return "sent, unsure"
    except TransportError as exc:
        if exc.ambiguous and transport.can_look_up:
            settle = max(1.0, settings.twilio_timeout_seconds)  # as long again as we waited
            leave_for_look_up(claim, exc, _ms_since(started), settle_seconds=settle)
            log.warning("message %s: unclear answer; looked up before any resend", message_id)
            return "unsure"
        outcome = _record_failure(claim, exc, _ms_since(started), settings, now=tell_time())
        log.warning("message %s: %s (code %s)", message_id, outcome, exc.code)
        return outcome
    _record_sent(claim, provider_id, _ms_since(started), now=tell_time())
    log.info("message %s: sent", message_id)
    return MessageStatus.SENT


def _prepare(
    message_id: int, settings: Settings
) -> tuple[Outgoing, SendClaim, Callable[[], datetime]] | str:
    with session_scope() as session:
        tell_time = clock.reader(session)  # the clock is read once per delivery
        now = tell_time()
        lease = clock.real_now() + timedelta(seconds=settings.sending_lease_seconds)
        if not move(
            session,
            message_id,
            frm=(MessageStatus.QUEUED,),
            status=MessageStatus.SENDING,
            lease_expires_at=lease,
            attempts=Message.attempts + 1,
            updated_at=now,
        ):
            return "not queued"
        message, opted_out, texted_before = session.execute(_LOAD, {"message_id": message_id}).one()
        rules = clinic_rules(session)
        verdict = hold_back(session, message, now, rules, opted_out=opted_out)
        if verdict is not None:
            status, value = verdict
            if status == "defer":
                move(
                    session,
                    message_id,
                    frm=(MessageStatus.SENDING,),
                    status=MessageStatus.SCHEDULED,
                    next_attempt_at=value,
                    lease_expires_at=None,
                    updated_at=now,
                )
                return "deferred"
            move(
                session,
                message_id,
                frm=(MessageStatus.SENDING,),
                status=status,
                reason=value,
                lease_expires_at=None,
                updated_at=now,
            )
            return status
        first_sms = message.channel == Channel.SMS and not texted_before
        try:
            outgoing = compose(session, message, rules, settings, first_sms=first_sms)
        except TemplateProblem as problem:
            # A template that fails or takes too long fails this message, in words the timeline
            # shows, rather than holding the worker until its lease runs out.
            move(
                session,
                message_id,
                frm=(MessageStatus.SENDING,),
                status=MessageStatus.FAILED,
                reason=f"the message could not be written: {problem}"[:200],
                lease_expires_at=None,
                updated_at=now,
            )
            return MessageStatus.FAILED
        transport = transport_for(message.channel)  # built (once) before the turn is taken
        ticket = send_rate.take_or_hold(session, message, outgoing.text, settings, now)
        if ticket is True:
            return "waiting its turn"
        attempt = DeliveryAttempt(
            message_id=message_id,
            started_at=clock.real_now(),
            transport=transport.name,
            outcome=AttemptOutcome.IN_FLIGHT,
        )
        session.add(attempt)
        session.flush()
        turn = ticket or None  # confirmed by hand_over, just before the request
        # What went where is written with the hand-over (or the failure), not here: one
        # statement fewer, and the reaper needs it only once the provider may have it.
        sent_as = {
            "subject": outgoing.subject or None,
            "body": outgoing.text,
            "to_address": outgoing.to,  # replies from this number are this patient's
        }
        return outgoing, SendClaim(message_id, attempt.id, lease, turn, sent_as), tell_time


def _record_sent(claim: SendClaim, provider_id: str, duration_ms: int, *, now: datetime) -> None:
    message_id = claim.message_id
    with session_scope() as session:
        if not finish_attempt(
            session, claim.attempt_id, AttemptOutcome.SENT, duration_ms, provider_id=provider_id
        ):
            log.warning("message %s: sent late; the reaper's note on it stands", message_id)
        # "Sent" wins over a reaper that gave up on us meanwhile: it did go out.
        claims = move_reading(
            session,
            message_id,
            Message.attempts,
            frm=SENT_WINS_OVER,
            status=MessageStatus.SENT,
            provider_id=provider_id,
            sent_at=now,
            updated_at=now,
            lease_expires_at=None,
            reason=None,
        )
        if claims is None:
            log.warning("message %s: sent, but its row had moved on", message_id)
        elif claims > 1:  # another claim may have an attempt open; after one claim, only ours
            close_other_attempts(session, message_id, keep=claim.attempt_id)


def _record_failure(
    claim: SendClaim,
    exc: TransportError,
    duration_ms: int,
    settings: Settings,
    *,
    now: datetime,
) -> str:
    message_id = claim.message_id
    with session_scope() as session:
        outcome = AttemptOutcome.PERMANENT if exc.permanent else AttemptOutcome.TRANSIENT
        finish_attempt(
            session,
            claim.attempt_id,
            outcome,
            duration_ms,
            provider_code=exc.code,
            detail=exc.reason,
        )
        # Locks the row (PostgreSQL; SQLite holds the write lock already) while we decide.
        if session.scalar(select(Message.id).where(still_mine(claim)).with_for_update()) is None:
            return "taken over"
        message = session.get_one(Message, message_id)
        address = outgoing_to(claim) or message.patient.address(message.channel)
        if exc.opted_out and address:
            # The provider refuses this number for everyone: record it as the number's STOP.
            session.add(
                OptOut(
                    patient_id=message.patient_id,
                    channel=message.channel,
                    address=contact_point(message.channel, address),
                    source=f"provider-{exc.code}",
                    opted_out_at=now,
                )
            )
        failed = {
            "status": MessageStatus.FAILED,
            "error_code": exc.code,
            "lease_expires_at": None,
            **claim.sent_as,  # a send refused before the hand-over (an SMTP RCPT) records it here
        }
        if exc.permanent:
            move(session, message_id, frm=(MessageStatus.SENDING,), reason=exc.reason, **failed)
            if exc.fall_back:
                fall_back_to_email(session, message, now)
            return MessageStatus.FAILED
        delay = retry_delay(
            message.attempts,
            base=settings.retry_base_seconds,
            cap=settings.retry_max_seconds,
            retry_after=exc.retry_after,
        )
        next_at = now + timedelta(seconds=delay)
        latest = message.due_at + timedelta(seconds=message.max_lateness_seconds)
        if message.attempts >= settings.max_attempts:
            move(
                session,
                message_id,
                frm=(MessageStatus.SENDING,),
                reason=f"gave up after {message.attempts} attempts: {exc.reason}",
                **failed,
            )
            return MessageStatus.FAILED
        if next_at > latest:
            move(
                session,
                message_id,
                frm=(MessageStatus.SENDING,),
                reason=f"too late to try again: {exc.reason}",
                **failed,
            )
            return MessageStatus.FAILED
        move(
            session,
            message_id,
            frm=(MessageStatus.SENDING,),
            status=MessageStatus.RETRY_WAIT,
            **claim.sent_as,
            next_attempt_at=next_at,
            lease_expires_at=None,
            error_code=exc.code,
            reason=exc.reason,
        )
        return MessageStatus.RETRY_WAIT


def outgoing_to(claim: SendClaim) -> str | None:
    to = claim.sent_as.get("to_address")
    return str(to) if to else None


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
