"""Failed sign-ins are limited per email and per address, across every web process (Redis)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import redis

from reminders.config import get_settings

MAX_FAILURES_PER_EMAIL = 5
# A clinic's staff share one address behind its router: locking the address after a few
# typos would lock everyone out, so the address limit only stops guessing at scale.
MAX_FAILURES_PER_ADDRESS = 50
WINDOW_SECONDS = 15 * 60


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=2, socket_connect_timeout=2
    )


def _keys(email: str, address: str) -> list[str]:
    hashed = hashlib.sha256(email.strip().lower().encode()).hexdigest()[
        :32
    ]  # no addresses in Redis
    return [f"reminders:login-fail:email:{hashed}", f"reminders:login-fail:ip:{address}"]


def locked_out(email: str, address: str) -> bool:
    by_email, by_address = _redis().mget(_keys(email, address))
    return (
        int(by_email or 0) >= MAX_FAILURES_PER_EMAIL
        or int(by_address or 0) >= MAX_FAILURES_PER_ADDRESS
    )


def record_failure(email: str, address: str) -> None:
    pipe = _redis().pipeline()
    for key in _keys(email, address):
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS)
    pipe.execute()


def clear(email: str, address: str) -> None:
    _redis().delete(_keys(email, address)[0])  # the address keeps counting others' failures
