"""Failed sign-ins are limited per email and per address, across every web process (Redis).

When Redis cannot be reached, each web process counts on its own until it is back: staff can
still sign in (enrolling needs only the database), and guessing is still limited.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from functools import lru_cache

import redis

from reminders.config import get_settings

MAX_FAILURES_PER_EMAIL = 5
# A clinic's staff share one address behind its router: locking the address after a few
# typos would lock everyone out, so the address limit only stops guessing at scale.
MAX_FAILURES_PER_ADDRESS = 50
WINDOW_SECONDS = 15 * 60
log = logging.getLogger(__name__)
_local: dict[str, tuple[int, float]] = {}  # key -> (failures, monotonic expiry), Redis being down
_local_lock = threading.Lock()
LOCAL_KEYS = 10_000  # past this, expired counts are dropped, then the oldest
_said_down = False


def _redis() -> redis.Redis:
    return _redis_at(get_settings().redis_url)


@lru_cache(maxsize=4)  # one Redis per deployment; a test process serves a few web apps
def _redis_at(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _keys(email: str, address: str) -> list[str]:
    hashed = hashlib.sha256(email.strip().lower().encode()).hexdigest()[
        :32
    ]  # no addresses in Redis
    return [f"reminders:login-fail:email:{hashed}", f"reminders:login-fail:ip:{address}"]


def locked_out(email: str, address: str) -> bool:
    keys = _keys(email, address)
    try:
        by_email, by_address = (int(found or 0) for found in _redis().mget(keys))
    except redis.RedisError:
        _redis_down()
        by_email, by_address = (_local_count(key) for key in keys)
    return by_email >= MAX_FAILURES_PER_EMAIL or by_address >= MAX_FAILURES_PER_ADDRESS


def record_failure(email: str, address: str) -> None:
    keys = _keys(email, address)
    try:
        pipe = _redis().pipeline()
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS)
        pipe.execute()
    except redis.RedisError:
        _redis_down()
        with _local_lock:
            for key in keys:
                _local[key] = (_local_count(key) + 1, time.monotonic() + WINDOW_SECONDS)
            if len(_local) > LOCAL_KEYS:
                _prune()


def clear(email: str, address: str) -> None:
    key = _keys(email, address)[0]  # the address keeps counting others' failures
    with _local_lock:
        _local.pop(key, None)
    try:
        _redis().delete(key)
    except redis.RedisError:
        _redis_down()


def _local_count(key: str) -> int:
    count, expires = _local.get(key, (0, 0.0))
    return count if expires > time.monotonic() else 0


def _prune() -> None:
    now = time.monotonic()
    for key in [k for k, (_, expires) in _local.items() if expires <= now]:
        del _local[key]
    for key in sorted(_local, key=lambda k: _local[k][1])[: max(len(_local) - LOCAL_KEYS, 0)]:
        del _local[key]


def _redis_down() -> None:
    global _said_down
    if not _said_down:  # once per process, not once per sign-in
        _said_down = True
        log.warning("Redis unreachable at REDIS_URL: failed sign-ins are counted in this process")
