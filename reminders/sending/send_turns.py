"""Letting messages held back by the send rate (reminders/sending/send_rate.py) out at their turn.

The scheduler runs `run_releases` in a thread of its own: it takes the ids whose turn has come
out of the deployment's waiting set in Redis (one scheduler gets each), moves those still
`scheduled` to `queued` as the dispatcher's claim does, and enqueues them once that is
committed. It sleeps until the next turn, to the millisecond: the dispatcher's one-second
tick is too coarse for a rate of a few texts per second.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from reminders import clock
from reminders.config import Settings
from reminders.models import Message
from reminders.sending import send_rate
from reminders.sending.transitions import check
from reminders.vocabulary import MessageStatus

log = logging.getLogger(__name__)
RELEASE_AT_MOST = 500  # ids released per look at the waiting set
RELEASE_IDLE_SECONDS = 0.2  # longest pause between looks

# KEYS: 1 the waiting set. ARGV: 1 how many at most. Returns {ids due now..., next turn or -1
# (microseconds from now)}: the due ids are taken out of the set, so one scheduler gets each.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
due[#due + 1] = nxt[2] and tostring(tonumber(nxt[2]) - now) or '-1'
return due
"""


def release_turns(waiting: str) -> tuple[list[int], float]:
    """Take out of the `waiting` set the held messages whose turn has come: (their ids,
    seconds until the next turn, at most RELEASE_IDLE_SECONDS)."""
    reply = send_rate.redis_client().register_script(_RELEASE)(
        keys=[waiting], args=[RELEASE_AT_MOST]
    )
    *due, next_us = (int(value) for value in reply)
    pause = RELEASE_IDLE_SECONDS if next_us < 0 else min(next_us / 1e6, RELEASE_IDLE_SECONDS)
    return due, max(pause, 0.0)


def claim_released(session: Session, ids: list[int], *, lease: timedelta) -> list[int]:
    """Move the released messages still waiting to `queued`, like the dispatcher's claim;
    one the dispatcher (or another scheduler) took first is left to it."""
    check((MessageStatus.SCHEDULED,), MessageStatus.QUEUED)  # (move_all cannot return ids)
    claimed = session.execute(
        update(Message)
        .where(Message.id.in_(ids), Message.status == MessageStatus.SCHEDULED)
        .values(status=MessageStatus.QUEUED, lease_expires_at=clock.real_now() + lease)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def run_releases(settings: Settings, enqueue: Callable[[int], None], stop: threading.Event) -> None:
    """The scheduler's loop: release each held message at its turn, until `stop` is set."""
    from reminders.db import session_scope

    lease = timedelta(seconds=settings.queued_lease_seconds)
    while not stop.is_set():
        try:
            due, pause = release_turns(send_rate.waiting_key(settings))
            if due:
                with session_scope() as session:
                    claimed = claim_released(session, due, lease=lease)
                for message_id in claimed:  # once committed: a worker must find it queued
                    enqueue(message_id)
        except Exception:  # the dispatcher picks held messages up at next_attempt_at anyway
            log.exception("releasing held messages failed")
            pause = 1.0
        stop.wait(pause)
