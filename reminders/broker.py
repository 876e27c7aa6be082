"""Reaching Redis, and saying clearly when we cannot."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis

from reminders.config import ConfigurationError


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit(parts._replace(netloc=netloc))


def require_redis(url: str) -> None:
    """Raise ConfigurationError with one line naming REDIS_URL and how to start Redis."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise ConfigurationError(
            f"cannot reach Redis at REDIS_URL={redacted(url)} ({type(exc).__name__}); "
            "start it with `redis-server --daemonize yes` or point REDIS_URL at a running Redis"
        ) from None
