"""The scheduler's heartbeat: a Redis key holding the time of its last good dispatch tick.

Redis rather than a database row: the tick runs every second, and a row rewritten every second
is a steady stream of dead tuples and WAL on PostgreSQL and a second writer for SQLite's one
write lock, which the dispatcher's claim needs. The key loses nothing that matters: after a
Redis flush or restart the next tick (one second later) writes it again, and while Redis is
down the scheduler cannot hand out work anyway, so "not ticking" is then the truth. Every
scheduler of a deployment writes the same key: health asks whether *any* scheduler ticks.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache

import redis

from reminders.config import Settings

log = logging.getLogger(__name__)
KEEP_SECONDS = 3600  # a stale heartbeat still says "silent for N s" for an hour, then "never"


def key(settings: Settings) -> str:
    """Per deployment: TASK_QUEUE already tells deployments sharing one Redis apart."""
    return f"{settings.task_queue}:scheduler:last-tick"


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def record_tick(settings: Settings) -> None:
    """Note that a dispatch tick just finished (wall clock, Unix seconds). Never raises."""
    try:
        _client(settings.redis_url).set(key(settings), f"{time.time():.3f}", ex=KEEP_SECONDS)
    except (redis.RedisError, OSError) as exc:
        log.warning("scheduler heartbeat not recorded (%s)", type(exc).__name__)


def seconds_since_tick(settings: Settings) -> float | None:
    """Seconds since any scheduler's last good tick; None if none is on record.
    Raises redis.RedisError when Redis cannot be asked."""
    value = _client(settings.redis_url).get(key(settings))
    if value is None:
        return None
    return max(0.0, time.time() - float(value))
