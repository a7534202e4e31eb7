"""The rate limiter's arithmetic, with an injected clock (nothing here sleeps for real)."""

from __future__ import annotations

import asyncio

import pytest

from briefing.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_minute_burst_then_paced() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=60, burst_seconds=2, clock=clock)  # 1 request/s, burst of 2
    assert [limiter.reserve() for _ in range(2)] == [0.0, 0.0]
    # the bucket is empty: each next request waits one more second (callers queue)
    assert limiter.reserve() == pytest.approx(1.0)
    assert limiter.reserve() == pytest.approx(2.0)
    clock.now += 3.0  # debt paid back, nothing banked
    assert limiter.reserve() == pytest.approx(0.0)
    assert limiter.reserve() == pytest.approx(1.0)


def test_bucket_never_banks_more_than_its_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=60, burst_seconds=2, clock=clock)
    clock.now += 3600  # an hour idle still allows only the burst
    assert [limiter.reserve() for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_tokens_per_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(tpm=6000, burst_seconds=10, clock=clock)  # 100 tok/s, holds 1000
    assert limiter.counts_tokens
    assert limiter.reserve(800) == 0.0
    assert limiter.reserve(700) == pytest.approx(5.0)  # 500 in debt at 100/s
    limiter.refund(500)  # the output allowance was not used
    clock.now += 1.0
    assert limiter.reserve(100) == pytest.approx(0.0)
    # a request larger than the bucket goes when its share has accrued
    assert limiter.reserve(3000) == pytest.approx(30.0)


def test_the_stricter_limit_decides() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=600, tpm=600, burst_seconds=1, clock=clock)  # 10 req/s, 10 tok/s
    assert limiter.reserve(10) == 0.0
    assert limiter.reserve(10) == pytest.approx(1.0)  # tokens, not requests, bind


def test_no_limits_never_wait() -> None:
    limiter = RateLimiter()
    assert not limiter.counts_tokens
    assert all(limiter.reserve(10**6) == 0.0 for _ in range(100))


def test_429_halves_rate_and_concurrency_then_recovers() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=60, burst_seconds=1, recovery=0.25, cooldown=1.0, clock=clock)
    assert limiter.concurrency(16) == 16
    limiter.on_rate_limited()
    limiter.on_rate_limited()  # same burst of 429s: counted, not cut twice
    assert limiter.factor == 0.5 and limiter.rate_limited == 2 and limiter.slowdowns == 1
    assert limiter.concurrency(16) == 8
    limiter.reserve()  # uses the one banked request
    assert limiter.reserve() == pytest.approx(2.0)  # half rate: 0.5 request/s
    clock.now += 1.5
    limiter.on_rate_limited()
    assert limiter.factor == 0.25 and limiter.concurrency(16) == 4
    limiter.on_success()
    limiter.on_success()
    assert limiter.factor == 0.75
    for _ in range(5):
        limiter.on_success()
    assert limiter.factor == 1.0  # never above the configured rate


def test_factor_has_a_floor_and_concurrency_at_least_one() -> None:
    clock = Clock()
    limiter = RateLimiter(min_factor=0.125, cooldown=0.0, clock=clock)
    for _ in range(10):
        limiter.on_rate_limited()
    assert limiter.factor == 0.125
    assert limiter.concurrency(2) == 1


def test_acquire_sleeps_the_reserved_time() -> None:
    clock = Clock()
    slept: list[float] = []
    limiter = RateLimiter(rpm=60, burst_seconds=1, clock=clock, sleep=slept.append)
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(1.0)
    assert slept == [pytest.approx(1.0)]


def test_async_acquire_waits_without_blocking() -> None:
    limiter = RateLimiter(rpm=6000, burst_seconds=0.01)  # 100/s, burst of 1

    async def main() -> list[float]:
        return list(await asyncio.gather(*(limiter.aacquire() for _ in range(3))))

    waits = asyncio.run(main())
    assert waits[0] == 0.0 and waits[2] > waits[1] > 0


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rpm=0)
