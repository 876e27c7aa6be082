"""How long to wait before trying a transient failure again."""

from __future__ import annotations

import random


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds before attempt `attempt + 1`: exponential from `base` (seconds), capped at `cap`,
    with "equal jitter" (between half and all of it) so that many failures do not retry in
    lock step; never sooner than the provider's Retry-After (seconds).
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 64))  # no float overflow at attempt 2000
    delay = (rng or random).uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)
