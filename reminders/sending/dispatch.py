"""The dispatcher's claim and the reaper: moving rows between the database and the queue.

Every claim is one conditional UPDATE, so two dispatchers (or reapers) running at once
never take the same row: PostgreSQL skips rows another transaction has locked
(FOR UPDATE SKIP LOCKED); SQLite runs the statement inside BEGIN IMMEDIATE (see db.py).
Leases are in real time: they are about processes being alive, not about the plan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reminders import clock
from reminders.config import Settings
from reminders.db import session_scope
from reminders.models import WAITING, DeliveryAttempt, Message
from reminders.sending.send_claim import EMAIL_UNSURE, close_other_attempts, finish_attempt
from reminders.sending.transitions import check, move, move_all
from reminders.transports import Outgoing, TransportError, transport_for
from reminders.transports.base import LOOK_UP_SKEW
from reminders.vocabulary import OPEN_OUTCOMES, AttemptOutcome, MessageStatus

log = logging.getLogger(__name__)


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Move up to `limit` due messages to `queued` (oldest first) and return their ids."""
    due = (
        select(Message.id)
        .where(Message.status.in_(WAITING), Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    check(WAITING, MessageStatus.QUEUED)  # (move_all cannot return the ids)
    claimed = session.execute(
        update(Message)
        .where(Message.id.in_(due.scalar_subquery()))
        .values(
            status=MessageStatus.QUEUED, lease_expires_at=clock.real_now() + lease, updated_at=now
        )
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def dispatch_due(settings: Settings, enqueue: Callable[[int], None]) -> int:
    """Claim due messages batch by batch and enqueue each id; returns how many."""
    total = 0
    lease = timedelta(seconds=settings.queued_lease_seconds)
    while True:
        with session_scope() as session:
            ids = claim_due(
                session, now=clock.now(session), limit=settings.dispatch_batch_size, lease=lease
            )
        for message_id in ids:
            enqueue(message_id)  # if Redis is gone, the lease runs out and the reaper retries
        total += len(ids)
        if len(ids) < settings.dispatch_batch_size:
            return total


def release_lost_queued(session: Session) -> int:
    """`queued` rows whose task never started in time (lost in Redis, flushed) go back."""
    return move_all(
        session,
        Message.lease_expires_at < clock.real_now(),
        frm=(MessageStatus.QUEUED,),
        status=MessageStatus.SCHEDULED,
        lease_expires_at=None,
    )


def claim_stuck_sends(session: Session, settings: Settings) -> list[int]:
    """`sending` rows whose worker went quiet past the lease; the caller resolves them."""
    real = clock.real_now()
    claimed = session.execute(
        update(Message)
        .where(Message.status == MessageStatus.SENDING, Message.lease_expires_at < real)
        .values(lease_expires_at=real + timedelta(seconds=settings.sending_lease_seconds))
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def resolve_stuck_send(message_id: int) -> str:
    """Settle a `sending` message whose worker went quiet, or whose provider's answer was
    unclear, without ever sending it again on a guess.

    Nothing handed to the provider yet: it is sent again. An email that may have reached the
    mail server counts as sent (unsure). A text is looked up at Twilio, covering the time since
    its first attempt: found, it is sent; not found, it is sent again; when the look-up itself
    fails, nothing changes and the next pass asks again.
    """
    with session_scope() as session:
        message = session.get_one(Message, message_id)
        attempt = session.scalar(
            select(DeliveryAttempt)
            .where(
                DeliveryAttempt.message_id == message_id, DeliveryAttempt.outcome.in_(OPEN_OUTCOMES)
            )
            .order_by(DeliveryAttempt.id.desc())
            .limit(1)
        )
        first_try = session.scalar(
            select(func.min(DeliveryAttempt.started_at)).where(
                DeliveryAttempt.message_id == message_id
            )
        )
        # Where it was sent (recorded with its body before the provider was called).
        to = message.to_address or message.patient.address(message.channel) or ""
        probe = Outgoing(message.id, message.channel, to, message.body or "")
        stage = attempt.outcome if attempt else AttemptOutcome.IN_FLIGHT
        attempt_id = attempt.id if attempt else None
    transport = transport_for(probe.channel)
    if stage == AttemptOutcome.IN_FLIGHT or not probe.to:  # the provider never had it
        return _settle(message_id, attempt_id, None, "worker lost before handing it over")
    if not transport.can_look_up:
        return _settle(message_id, attempt_id, None, EMAIL_UNSURE, unsure=True)
    try:
        found = transport.find_sent(probe, (first_try or clock.real_now()) - LOOK_UP_SKEW)
    except TransportError as exc:
        log.warning(
            "message %s: provider look-up failed (%s); will ask again", message_id, exc.code
        )
        return "unresolved"
    why = "unclear answer" if stage == AttemptOutcome.UNSURE else "worker lost"
    if found:
        return _settle(message_id, attempt_id, found, f"{why}; found at the provider")
    return _settle(message_id, attempt_id, None, f"{why}; not at the provider")


def _settle(
    message_id: int, attempt_id: int | None, found: str | None, why: str, *, unsure: bool = False
) -> str:
    """Record what the reaper learnt: sent (found, or an email that may have gone) or not."""
    sent = found is not None or unsure
    with session_scope() as session:
        if attempt_id is not None:
            outcome = (
                AttemptOutcome.UNSURE
                if unsure
                else AttemptOutcome.SENT
                if found
                else AttemptOutcome.LOST
            )
            finish_attempt(session, attempt_id, outcome, provider_id=found, detail=why)
        if not sent:
            move(
                session,
                message_id,
                frm=(MessageStatus.SENDING,),
                status=MessageStatus.SCHEDULED,
                lease_expires_at=None,
                reason=None,
            )
            return "rescheduled"
        if move(
            session,
            message_id,
            frm=(MessageStatus.SENDING,),
            status=MessageStatus.SENT,
            provider_id=found,
            sent_at=clock.now(session),
            lease_expires_at=None,
            reason=EMAIL_UNSURE if unsure else None,
        ):
            close_other_attempts(session, message_id, keep=attempt_id)
        return "sent, unsure" if unsure else "sent"


def reap(settings: Settings) -> tuple[int, int]:
    """One reaper pass: (queued rows released, stuck sends resolved)."""
    with session_scope() as session:
        released = release_lost_queued(session)
        stuck = claim_stuck_sends(session, settings)
    for message_id in stuck:
        log.info("message %s: %s after a lost worker", message_id, resolve_stuck_send(message_id))
    if released:
        log.info("released %s queued messages whose task was lost", released)
    return released, len(stuck)
