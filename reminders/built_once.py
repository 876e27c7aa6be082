"""Things a process builds once and shares between its threads: the database engine, the
transports and their connection pools.

`functools.lru_cache` is safe to call from many threads, but it does not stop two threads that
miss at the same moment from both building: under the worker's threads pool, the first burst
of deliveries would build a second engine or Twilio client (and its connection pool) and throw
one away. Here the first caller builds while the others wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class BuiltOnce(Generic[T]):
    """`build(*key)` called at most once per key in this process, until `cache_clear()`."""

    def __init__(self, build: Callable[..., T]) -> None:
        self._build = build
        self._built: dict[tuple[Hashable, ...], T] = {}
        self._lock = threading.RLock()

    def __call__(self, *key: Hashable) -> T:
        with self._lock:
            if key not in self._built:
                self._built[key] = self._build(*key)
            return self._built[key]

    def built(self) -> list[T]:
        with self._lock:
            return list(self._built.values())

    def cache_clear(self) -> None:
        with self._lock:
            self._built.clear()
