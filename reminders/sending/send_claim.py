"""A worker's claim on the message it is sending, and what is known of an attempt's fate.

The claim is the message's lease as the worker set it: the reaper (or a second worker after
it) always writes a new lease when it takes a message over, so "status is `sending` and the
lease is still mine" is the whole check, made in one conditional UPDATE just before the
provider is called (`hand_over`), and again by every write that follows. A late worker never
overwrites what the reaper wrote: an attempt is finished only while it is still open.

Attempt outcomes: `in_flight` (claimed, nothing handed to the provider yet), `handed_over`
(the provider is being called: it may have the message), `unsure` (it may have gone out; an
SMS is looked up before any resend, an email counts as sent), then `sent`, `transient`,
`permanent`, `lost` (not at the provider: sent again) or `superseded` (another attempt
settled the message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.orm import Session

from reminders import clock
from reminders.db import session_scope
from reminders.models import DeliveryAttempt, Message
from reminders.sending import send_rate
from reminders.sending.transitions import execute
from reminders.transports import ClaimLost, MaybeSent, TransportError
from reminders.vocabulary import OPEN_OUTCOMES, UNSENT, AttemptOutcome, MessageStatus

# A send that went out is recorded even if the reaper took the message back meanwhile: it
# did go out, and recording it stops the copy the reaper would otherwise have sent.
SENT_WINS_OVER = UNSENT
EMAIL_UNSURE = "unsure whether it arrived: the mail server may have accepted it, unconfirmed"
SMS_UNSURE = "Twilio's answer was unclear: checking with Twilio before sending it again"


@dataclass
class SendClaim:
    """Which message and attempt this worker holds, and the lease that proves it."""

    message_id: int
    attempt_id: int
    lease: datetime  # real UTC, exactly as written to the message row
    turn: send_rate.Ticket | None = None  # its place under the sender's send rate
    # subject, body and to_address as sent: written with the hand-over, when the provider may
    # get it (the reaper looks a text up by them; an attempt never handed over was not sent)
    sent_as: dict[str, Any] = field(default_factory=dict)


def still_mine(claim: SendClaim) -> ColumnElement[bool]:
    return and_(
        Message.id == claim.message_id,
        Message.status == MessageStatus.SENDING,
        Message.lease_expires_at == claim.lease,
    )


def hand_over(claim: SendClaim, lease_seconds: float) -> None:
    """Confirm the claim just before the provider is called, renewing the lease so that the
    send (bounded by the transports' deadlines) ends within it. Raises ClaimLost."""
    fresh = clock.real_now() + timedelta(seconds=lease_seconds)
    with session_scope() as session:
        renewed = execute(
            session,
            update(Message)
            .where(still_mine(claim))
            .values(lease_expires_at=fresh, **claim.sent_as)
            .execution_options(synchronize_session=False),
        )
        if renewed.rowcount != 1:
            raise ClaimLost(f"message {claim.message_id} was taken over")
        finish_attempt(session, claim.attempt_id, AttemptOutcome.HANDED_OVER, finished=False)
    claim.lease = fresh
    if claim.turn is not None:  # last: the window counts the send when the provider gets it
        send_rate.confirm(claim.turn)


def finish_attempt(
    session: Session,
    attempt_id: int,
    outcome: str,
    duration_ms: int | None = None,
    *,
    finished: bool = True,
    **values: Any,
) -> bool:
    """Record an attempt's outcome if it is still open; False when someone settled it first."""
    if finished:
        values["finished_at"] = clock.real_now()
    if duration_ms is not None:  # the worker's measure; the reaper keeps it
        values["duration_ms"] = duration_ms
    result = execute(
        session,
        update(DeliveryAttempt)
        .where(DeliveryAttempt.id == attempt_id, DeliveryAttempt.outcome.in_(OPEN_OUTCOMES))
        .values(outcome=outcome, **values)
        .execution_options(synchronize_session=False),
    )
    return result.rowcount == 1


def close_other_attempts(session: Session, message_id: int, *, keep: int | None) -> None:
    """The message is settled: any other attempt still open ends as `superseded`."""
    execute(
        session,
        update(DeliveryAttempt)
        .where(
            DeliveryAttempt.message_id == message_id,
            DeliveryAttempt.outcome.in_(OPEN_OUTCOMES),
            DeliveryAttempt.id != (keep or 0),
        )
        .values(
            outcome=AttemptOutcome.SUPERSEDED,
            finished_at=clock.real_now(),
            detail="another attempt settled this message",
        )
        .execution_options(synchronize_session=False),
    )


def record_maybe_sent(claim: SendClaim, exc: MaybeSent, duration_ms: int, *, now: datetime) -> None:
    """An email the server may have taken counts as sent, marked unsure, never sent again."""
    unsure: dict[str, Any] = {"provider_id": exc.provider_id, "detail": exc.reason}
    with session_scope() as session:
        finish_attempt(session, claim.attempt_id, AttemptOutcome.UNSURE, duration_ms, **unsure)
        execute(
            session,
            update(Message)
            .where(Message.id == claim.message_id, Message.status.in_(SENT_WINS_OVER))
            .values(
                status=MessageStatus.SENT,
                provider_id=exc.provider_id,
                sent_at=now,
                updated_at=now,
                lease_expires_at=None,
                reason=EMAIL_UNSURE,
            )
            .execution_options(synchronize_session=False),
        )
        close_other_attempts(session, claim.message_id, keep=claim.attempt_id)


def leave_for_look_up(
    claim: SendClaim, exc: TransportError, duration_ms: int, *, settle_seconds: float
) -> None:
    """A text Twilio may have: it stays `sending` until the reaper has looked it up (after
    `settle_seconds`, so that a message Twilio creates late is there to be found)."""
    with session_scope() as session:
        finish_attempt(
            session,
            claim.attempt_id,
            AttemptOutcome.UNSURE,
            duration_ms,
            finished=False,  # the reaper finishes it once Twilio has answered the look-up
            provider_code=exc.code,
            detail=exc.reason,
        )
        execute(
            session,
            update(Message)
            .where(still_mine(claim))
            .values(
                lease_expires_at=clock.real_now() + timedelta(seconds=settle_seconds),
                reason=SMS_UNSURE,
                error_code=exc.code,
            )
            .execution_options(synchronize_session=False),
        )
