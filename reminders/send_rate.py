"""The send rate: how fast one sender (a Twilio number or messaging service, an email
account) may send, for every worker on every host together.

SEND_RATE_SMS counts SMS segments per second, SEND_RATE_EMAIL emails per minute (0: no
limit). The limit is a sliding window kept in Redis: at no moment have more than the rate's
segments been let through in the window before it, which is a second (or a minute) and
WINDOW_MARGIN, for the time between letting a message through and the provider receiving
it. One Lua script decides and records at once, on Redis' own clock, so hosts whose clocks
differ still share one window. (pyrate-limiter's RedisBucket and limits' moving window keep
the same kind of log, but stamp it with each host's clock and whole seconds, and cannot put
a held message in line in the same step; the script is short.)

A message whose turn has not come does not hold a worker: it goes back to `scheduled` with
its turn in `next_attempt_at`, and its id waits in a Redis set scored by that turn, from
which the scheduler releases it on time (`release_turns`). Held messages queue in turn
order: each newcomer is given the turn after the last one promised, so they come back
spread over time, not all at once. Losing Redis loses nothing: the dispatcher picks a held
message up at its `next_attempt_at` like any other.

Emergency answers and clinic alerts are never held: they are only counted (`count_sent`),
so that the patients' reminders make room for them.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import redis
from sqlalchemy import update
from sqlalchemy.orm import Session

from reminders import clock
from reminders.config import Settings, get_settings
from reminders.models import Message
from reminders.rendering import sms_cost
from reminders.transitions import move

log = logging.getLogger(__name__)
WAITING_TURN = "waiting its turn: the sender's texting rate is reached"
WINDOW_MARGIN = 0.02  # seconds added to each window: the way from here to the provider
RELEASE_AT_MOST = 500  # ids released per look at the waiting set
RELEASE_IDLE_SECONDS = 0.2  # longest pause between looks when nothing is waiting
REDIS_DOWN_RETRY = timedelta(seconds=5)

# KEYS: 1 the window's log (zset: "<token>:<weight>" scored by microseconds), 2 the waiting
# set (message id -> turn), 3 the last turn promised. ARGV: mode ("take" or "count"), cost,
# limit, window (us), token, message id, "1" when the message was held before (it keeps the
# turn it was given and does not queue again behind newcomers).
# Returns {1, 0} when the message may go now, {0, microseconds until its turn} otherwise.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost, limit, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
-- a text longer than a window's worth fills the window, for as many windows as it needs
local stretch = math.ceil(cost / limit)
local weight = math.min(cost, limit)
local at_score = now + (stretch - 1) * window
local keep_ms = math.ceil(stretch * window / 1000) + 1000
local function admit()
  redis.call('ZADD', KEYS[1], at_score, ARGV[5] .. ':' .. weight)
  redis.call('PEXPIRE', KEYS[1], keep_ms)
  return {1, 0}
end
if ARGV[1] == 'count' then return admit() end
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do used = used + tonumber(string.match(entries[i], ':(%d+)$')) end
local last_turn = tonumber(redis.call('GET', KEYS[3]) or '0')
local returning = ARGV[7] == '1'
if used + weight <= limit and (returning or last_turn <= now) then return admit() end
local free_at = now
local need = used + weight - limit
if need > 0 then
  local acc = 0
  for i = 1, #entries, 2 do
    acc = acc + tonumber(string.match(entries[i], ':(%d+)$'))
    if acc >= need then free_at = tonumber(entries[i + 1]) + window; break end
  end
end
local turn = free_at
if not returning then
  turn = math.max(free_at, last_turn)
  last_turn = turn + math.floor(stretch * weight * window / limit)
  redis.call('SET', KEYS[3], last_turn, 'PX', math.ceil((last_turn - now) / 1000) + 1000)
end
redis.call('ZADD', KEYS[2], turn, ARGV[6])
redis.call('PEXPIRE', KEYS[2], math.ceil((math.max(turn, last_turn) - now) / 1000) + 3600000)
return {0, turn - now}
"""
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


@dataclass(frozen=True)
class SendRate:
    """One sender's limit: `limit` units (SMS segments, emails) per `window` seconds."""

    key: str  # a hash of the sender, never the number or address itself
    waiting: str  # the deployment's set of held message ids
    limit: int
    window: float


def rate_for(channel: str, settings: Settings) -> SendRate | None:
    """The configured limit of the sender this channel's messages go out from, or None."""
    if channel == "sms" and settings.sms_transport == "twilio" and settings.send_rate_sms:
        sender = settings.twilio_messaging_service_sid or settings.twilio_from_number
        return SendRate(
            _key(settings, "sms", sender), _waiting_key(settings), settings.send_rate_sms, 1.0
        )
    if channel == "email" and settings.email_transport == "smtp" and settings.send_rate_email:
        sender = f"{settings.smtp_host}:{settings.smtp_username or settings.email_from}"
        return SendRate(
            _key(settings, "email", sender), _waiting_key(settings), settings.send_rate_email, 60.0
        )
    return None


def cost_of(channel: str, text: str) -> int:
    """What one message costs against its sender's rate: SMS segments, or 1 email."""
    return sms_cost(text).segments if channel == "sms" else 1


def take_turn(rate: SendRate, cost: int, message_id: int, *, returning: bool) -> float:
    """0 when the message may go now (and it is counted), else seconds until its turn (and
    its id waits in the set the scheduler releases from)."""
    allowed, wait_us = _script(_TAKE)(
        keys=_keys(rate),
        args=[
            "take",
            cost,
            rate.limit,
            _window_us(rate),
            _token(message_id),
            message_id,
            int(returning),
        ],
    )
    return 0.0 if allowed else max(int(wait_us), 0) / 1e6


def count_sent(channel: str, text: str, settings: Settings | None = None) -> None:
    """Count a message that never waits (an emergency answer, a clinic alert) against its
    sender's rate, so that held reminders make room for it. Never raises."""
    settings = settings or get_settings()
    rate = rate_for(channel, settings)
    if rate is None:
        return
    try:
        _script(_TAKE)(
            keys=_keys(rate),
            args=["count", cost_of(channel, text), rate.limit, _window_us(rate), _token(0), 0, 0],
        )
    except redis.RedisError as exc:
        log.warning("send rate: could not count an urgent %s (%s)", channel, type(exc).__name__)


def hold_if_not_its_turn(
    session: Session, message: Message, text: str, settings: Settings, now: datetime
) -> bool:
    """Inside the delivery's transaction, before anything is recorded as an attempt: True
    when the message went back to wait for its turn (and nothing else is to be done)."""
    rate = rate_for(message.channel, settings)
    if rate is None:
        return False
    try:
        wait = take_turn(
            rate,
            cost_of(message.channel, text),
            message.id,
            returning=message.reason == WAITING_TURN,
        )
        later = timedelta(seconds=wait)
    except redis.RedisError as exc:
        log.warning("message %s: send rate unknown (%s); held", message.id, type(exc).__name__)
        later = REDIS_DOWN_RETRY
    if not later:
        return False
    # The turn is in real seconds; on a compressed clock it is also the way back should Redis
    # lose the waiting set. The try it did not make does not count as an attempt.
    move(
        session,
        message.id,
        frm=("sending",),
        status="scheduled",
        next_attempt_at=now + later,
        lease_expires_at=None,
        attempts=Message.attempts - 1,
        reason=WAITING_TURN,
        updated_at=now,
    )
    return True


def release_turns(waiting: str) -> tuple[list[int], float]:
    """Take out of the `waiting` set the held messages whose turn has come: (their ids,
    seconds until the next turn, at most RELEASE_IDLE_SECONDS)."""
    reply = _script(_RELEASE)(keys=[waiting], args=[RELEASE_AT_MOST])
    *due, next_us = (int(value) for value in reply)
    pause = RELEASE_IDLE_SECONDS if next_us < 0 else min(next_us / 1e6, RELEASE_IDLE_SECONDS)
    return due, max(pause, 0.0)


def claim_released(session: Session, ids: list[int], *, lease: timedelta) -> list[int]:
    """Move the released messages still waiting to `queued`, like the dispatcher's claim;
    one the dispatcher (or another scheduler) took first is left to it."""
    claimed = session.execute(
        update(Message)
        .where(Message.id.in_(ids), Message.status == "scheduled")
        .values(status="queued", lease_expires_at=clock.real_now() + lease)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def run_releases(settings: Settings, enqueue: Any, stop: threading.Event) -> None:
    """The scheduler's loop: release each held message at its turn, until `stop` is set."""
    from reminders.db import session_scope

    lease = timedelta(seconds=settings.queued_lease_seconds)
    while not stop.is_set():
        try:
            due, pause = release_turns(_waiting_key(settings))
            if due:
                with session_scope() as session:
                    for message_id in claim_released(session, due, lease=lease):
                        enqueue(message_id)
        except Exception:  # the dispatcher picks held messages up at next_attempt_at anyway
            log.exception("releasing held messages failed")
            pause = 1.0
        stop.wait(pause)


def _keys(rate: SendRate) -> list[str]:
    return [f"{rate.key}:window", rate.waiting, f"{rate.key}:last-turn"]


def _key(settings: Settings, channel: str, sender: str) -> str:
    digest = hashlib.sha256(sender.encode()).hexdigest()[:16]
    # One hash tag per deployment: the keys one script touches live in the same cluster slot.
    return f"{{{settings.task_queue}:send-rate}}:{channel}:{digest}"


def _waiting_key(settings: Settings) -> str:
    return f"{{{settings.task_queue}:send-rate}}:waiting"


def _window_us(rate: SendRate) -> int:
    return math.ceil((rate.window + WINDOW_MARGIN) * 1e6)


def _token(message_id: int) -> str:
    return f"{message_id}.{uuid.uuid4().hex[:8]}"


def _script(source: str) -> Any:
    return _redis().register_script(source)  # run by its hash; loaded on first use


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=5, socket_connect_timeout=5
    )
