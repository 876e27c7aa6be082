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
which the scheduler releases it on time (reminders/sending/send_turns.py). Held messages queue in turn
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
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from reminders.channels import rules_for
from reminders.config import Settings, get_settings
from reminders.content.rendering import sms_cost
from reminders.models import Message
from reminders.sending.transitions import move
from reminders.vocabulary import Channel, MessageStatus

log = logging.getLogger(__name__)
WAITING_TURN = "waiting its turn: the sender's sending rate is reached"
# Seconds added to each window: from confirming a turn (just before the request) to the
# provider's receiving it.
WINDOW_MARGIN = 0.005
# Seconds added to each window's worth of turns given to held messages: a message let out at
# its turn meets the window as the one before it left it, a few milliseconds either way; without
# this slack, one a little early waits again and every later turn slips.
TURN_SLACK = 0.02
REDIS_DOWN_RETRY = timedelta(seconds=5)

# KEYS: 1 the window's log (zset: "<token>:<weight>" scored by microseconds), 2 the last turn
# promised. ARGV: mode ("take" or "count"), cost, limit, window (us), token, "1" when the
# message was held before (it keeps the turn it was given, not queueing behind newcomers).
# ARGV[7]: TURN_SLACK (us). Returns {1, its entry, its offset} when the message may go now,
# {0, microseconds until its turn, its turn} otherwise.
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
  return {1, ARGV[5] .. ':' .. weight, (stretch - 1) * window}
end
if ARGV[1] == 'count' then return admit() end
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do used = used + tonumber(string.match(entries[i], ':(%d+)$')) end
local last_turn = tonumber(redis.call('GET', KEYS[2]) or '0')
local returning = ARGV[6] == '1'
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
  last_turn = turn + math.floor(stretch * weight * (window + tonumber(ARGV[7])) / limit)
  redis.call('SET', KEYS[2], last_turn, 'PX', math.ceil((last_turn - now) / 1000) + 1000)
end
return {0, turn - now, turn}
"""
# Just before the request: the entry moves to now, so that the window holds what the provider
# receives, not what was decided a moment before. Moving an entry later by less than a window
# never lets a window hold more (every entry let in since counted it). KEYS: 1 the log. ARGV:
# entry, offset (us, a long text's later windows), window (us). Returns 1, or 0 when the entry
# had already left the window (a worker stalled for longer): it is counted again anyway.
_CONFIRM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local had = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(ARGV[2]) + tonumber(ARGV[3])) / 1000) + 1000)
return had and 1 or 0
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
    if channel == Channel.SMS and settings.sms_transport == "twilio" and settings.send_rate_sms:
        sender = settings.twilio_messaging_service_sid or settings.twilio_from_number
        return SendRate(
            _key(settings, Channel.SMS, sender), waiting_key(settings), settings.send_rate_sms, 1.0
        )
    if channel == Channel.EMAIL and settings.email_transport == "smtp" and settings.send_rate_email:
        sender = f"{settings.smtp_host}:{settings.smtp_username or settings.email_from}"
        return SendRate(
            _key(settings, Channel.EMAIL, sender),
            waiting_key(settings),
            settings.send_rate_email,
            60.0,
        )
    return None


def cost_of(channel: str, text: str) -> int:
    """What one message costs against its sender's rate: SMS segments, or 1 email."""
    return sms_cost(text).segments if rules_for(channel).segmented else 1


@dataclass(frozen=True)
class Turn:
    """A held message's turn: seconds from now, and the instant on Redis' clock (us)."""

    wait: float
    at_us: int


@dataclass(frozen=True)
class Ticket:
    """A message let through: its entry in the window, confirmed just before the request."""

    log_key: str
    entry: str
    offset_us: int
    window_us: int


def take_turn(rate: SendRate, cost: int, *, returning: bool) -> Turn | Ticket:
    """A Ticket when the message may go now (it is counted), else its Turn."""
    reply = _script(_TAKE)(
        keys=_keys(rate),
        args=[
            "take",
            cost,
            rate.limit,
            _window_us(rate),
            _token(),
            int(returning),
            math.ceil(TURN_SLACK * 1e6),
        ],
    )
    if reply[0]:
        entry = reply[1].decode() if isinstance(reply[1], bytes) else str(reply[1])
        return Ticket(_keys(rate)[0], entry, int(reply[2]), _window_us(rate))
    return Turn(max(int(reply[1]), 0) / 1e6, int(reply[2]))


def confirm(ticket: Ticket) -> None:
    """Just before the provider is called: the message's entry in the window moves to now."""
    try:
        kept = _script(_CONFIRM)(
            keys=[ticket.log_key], args=[ticket.entry, ticket.offset_us, ticket.window_us]
        )
    except redis.RedisError as exc:  # it was let through: it goes, counted where it was
        log.warning("send rate: could not confirm a turn (%s)", type(exc).__name__)
        return
    if not kept:
        log.warning("send rate: a send stalled past its window; counted again now")


def wait_for_turn(waiting: str, message_id: int, turn: Turn) -> None:
    """Put a held message's id in the set the scheduler releases from, at its turn. Called
    once its row is back in `scheduled` (committed): released earlier, it could not be claimed."""
    client = redis_client()
    client.zadd(waiting, {str(message_id): turn.at_us})
    client.expire(waiting, 24 * 3600)


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
            args=["count", cost_of(channel, text), rate.limit, _window_us(rate), _token(), 0, 0],
        )
    except redis.RedisError as exc:
        log.warning("send rate: could not count an urgent %s (%s)", channel, type(exc).__name__)


def take_or_hold(
    session: Session, message: Message, text: str, settings: Settings, now: datetime
) -> Ticket | bool:
    """Inside the delivery's transaction, before anything is recorded as an attempt: True
    when the message went back to wait for its turn (nothing else is to be done); else a
    Ticket to confirm just before the request, or False when its sender has no limit."""
    rate = rate_for(message.channel, settings)
    if rate is None:
        return False
    try:
        turn = take_turn(
            rate, cost_of(message.channel, text), returning=message.reason == WAITING_TURN
        )
    except redis.RedisError as exc:
        log.warning("message %s: send rate unknown (%s); held", message.id, type(exc).__name__)
        later = REDIS_DOWN_RETRY
    else:
        if isinstance(turn, Ticket):
            return turn
        later = timedelta(seconds=turn.wait)
        message_id = message.id
        event.listen(
            session,
            "after_commit",
            lambda _session: _after_commit(rate.waiting, message_id, turn),
            once=True,
        )
    # The turn is in real seconds; on a compressed clock it is also the way back should Redis
    # lose the waiting set. The try it did not make does not count as an attempt.
    move(
        session,
        message.id,
        frm=(MessageStatus.SENDING,),
        status=MessageStatus.SCHEDULED,
        next_attempt_at=now + later,
        lease_expires_at=None,
        attempts=Message.attempts - 1,
        reason=WAITING_TURN,
        updated_at=now,
    )
    return True


def _after_commit(waiting: str, message_id: int, turn: Turn) -> None:
    try:
        wait_for_turn(waiting, message_id, turn)
    except redis.RedisError as exc:  # the dispatcher takes it at next_attempt_at instead
        log.warning("message %s: held without a turn (%s)", message_id, type(exc).__name__)


def _keys(rate: SendRate) -> list[str]:
    return [f"{rate.key}:window", f"{rate.key}:last-turn"]


def _key(settings: Settings, channel: str, sender: str) -> str:
    digest = hashlib.sha256(sender.encode()).hexdigest()[:16]
    # One hash tag per deployment: the keys one script touches live in the same cluster slot.
    return f"{{{settings.task_queue}:send-rate}}:{channel}:{digest}"


def waiting_key(settings: Settings) -> str:
    return f"{{{settings.task_queue}:send-rate}}:waiting"


def _window_us(rate: SendRate) -> int:
    return math.ceil((rate.window + WINDOW_MARGIN) * 1e6)


def _token() -> str:
    return uuid.uuid4().hex[:12]


def _script(source: str) -> Any:
    return redis_client().register_script(source)  # run by its hash; loaded on first use


@lru_cache(maxsize=1)
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=5, socket_connect_timeout=5
    )
