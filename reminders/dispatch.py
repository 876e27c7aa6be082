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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reminders import clock
from reminders.config import Settings
from reminders.db import session_scope
from reminders.models import WAITING, DeliveryAttempt, Message
from reminders.transitions import move
from reminders.transports import Outgoing, TransportError, transport_for

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
    claimed = session.execute(
        update(Message)
        .where(Message.id.in_(due.scalar_subquery()))
        .values(status="queued", lease_expires_at=clock.real_now() + lease, updated_at=now)
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
    result = session.execute(
        update(Message)
        .where(Message.status == "queued", Message.lease_expires_at < clock.real_now())
        .values(status="scheduled", lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def claim_stuck_sends(session: Session, settings: Settings) -> list[int]:
    """`sending` rows whose worker went quiet past the lease; the caller resolves them."""
    real = clock.real_now()
    claimed = session.execute(
        update(Message)
        .where(Message.status == "sending", Message.lease_expires_at < real)
        .values(lease_expires_at=real + timedelta(seconds=settings.sending_lease_seconds))
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def resolve_stuck_send(message_id: int) -> str:
    """Ask the provider whether a message whose worker died went out, before sending again."""
    with session_scope() as session:
        message = session.get_one(Message, message_id)
        attempt = session.scalar(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.message_id == message_id, DeliveryAttempt.outcome == "in_flight")
            .order_by(DeliveryAttempt.id.desc())
            .limit(1)
        )
        # Where it was sent (recorded with its body before the provider was called).
        to = message.to_address or (
            message.patient.phone if message.channel == "sms" else message.patient.email
        )
        probe = Outgoing(
            message.id, message.channel, to or "", message.body or "", subject=message.subject or ""
        )
        since = attempt.started_at if attempt else None
        attempt_id = attempt.id if attempt else None
    found = None
    if since is not None and probe.to:
        try:
            found = transport_for(message.channel).find_sent(probe, since)
        except TransportError as exc:
            log.warning(
                "message %s: provider lookup failed (%s); will ask again", message_id, exc.code
            )
            return "unresolved"
    with session_scope() as session:
        if attempt_id is not None:
            attempt_row = session.get_one(DeliveryAttempt, attempt_id)
            attempt_row.outcome = "sent" if found else "lost"
            attempt_row.provider_id = found
            attempt_row.finished_at = clock.real_now()
            attempt_row.detail = (
                "worker lost; found at the provider"
                if found
                else "worker lost; not at the provider"
            )
        if found:
            move(
                session,
                message_id,
                frm=("sending",),
                status="sent",
                provider_id=found,
                sent_at=clock.now(session),
                lease_expires_at=None,
            )
            return "sent"
        move(session, message_id, frm=("sending",), status="scheduled", lease_expires_at=None)
        return "rescheduled"


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
