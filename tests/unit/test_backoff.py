"""How long a transient failure waits before the next attempt."""

from __future__ import annotations

import random

import pytest

from reminders.sending.backoff import retry_delay

SEEDS = range(300)


def delays(attempt: int, **kwargs: float | None) -> list[float]:
    return [
        retry_delay(attempt, rng=random.Random(seed), **kwargs)  # type: ignore[arg-type]
        for seed in SEEDS
    ]


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 30.0), (2, 60.0), (3, 120.0), (4, 240.0), (5, 480.0)],
)
def test_it_doubles_the_delay_each_attempt_with_equal_jitter(attempt: int, ceiling: float) -> None:
    # Given a 30 s base and a cap far away
    # When many failures at the same attempt draw their delay
    drawn = delays(attempt, base=30.0, cap=3600.0)

    # Then each is between half the exponential delay and all of it
    assert all(ceiling / 2 <= d <= ceiling for d in drawn)
    # And they spread over that range instead of retrying in lock step
    assert min(drawn) < ceiling * 0.55
    assert max(drawn) > ceiling * 0.95
    assert len(set(drawn)) == len(drawn)


def test_it_grows_on_average_with_each_attempt() -> None:
    means = [sum(delays(n, base=1.0, cap=10_000.0)) / len(SEEDS) for n in range(1, 8)]
    assert means == sorted(means)
    assert means[-1] / means[0] == pytest.approx(64, rel=0.15)


def test_it_never_waits_longer_than_the_cap() -> None:
    # Given a 30 s base and a 300 s cap: attempt 5 would be 480 s
    for attempt in (5, 6, 10, 30):
        drawn = delays(attempt, base=30.0, cap=300.0)

        # Then the delay is drawn between 150 s and 300 s
        assert all(150.0 <= d <= 300.0 for d in drawn)


def test_it_stays_at_the_cap_however_many_attempts_there_were() -> None:
    # Given a retry counter that got very high (a misconfigured max_attempts, a stuck row)
    drawn = retry_delay(1100, base=30.0, cap=300.0, rng=random.Random(1))

    # Then the delay is still capped rather than overflowing
    assert 150.0 <= drawn <= 300.0


def test_it_gives_the_same_delay_for_the_same_seed() -> None:
    first = retry_delay(3, base=30.0, cap=600.0, rng=random.Random(42))
    again = retry_delay(3, base=30.0, cap=600.0, rng=random.Random(42))
    assert first == again


def test_it_waits_at_least_the_providers_retry_after() -> None:
    # Given the provider said Retry-After: 900 s, longer than any backoff here
    drawn = delays(2, base=30.0, cap=300.0, retry_after=900.0)

    # Then every delay is exactly 900 s
    assert set(drawn) == {900.0}


def test_it_ignores_a_retry_after_shorter_than_the_backoff() -> None:
    with_header = retry_delay(3, base=30.0, cap=600.0, retry_after=5.0, rng=random.Random(7))
    without = retry_delay(3, base=30.0, cap=600.0, rng=random.Random(7))
    assert with_header == without
    assert 60.0 <= with_header <= 120.0


def test_it_treats_a_zero_retry_after_as_none() -> None:
    drawn = retry_delay(1, base=30.0, cap=600.0, retry_after=0.0, rng=random.Random(3))
    assert 15.0 <= drawn <= 30.0


@pytest.mark.parametrize("attempt", [0, -1])
def test_it_refuses_an_attempt_number_below_one(attempt: int) -> None:
    with pytest.raises(ValueError, match="attempt counts from 1"):
        retry_delay(attempt, base=30.0, cap=300.0, rng=random.Random(0))
