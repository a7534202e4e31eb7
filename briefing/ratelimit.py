"""Client-side pacing of model calls: requests and tokens per minute, slowing down on 429.

Each limit is a token bucket that may go into debt: ``reserve(cost)`` takes ``cost``
from the bucket at once and returns how long the caller must wait before sending, so
concurrent callers queue in the order they asked and the arithmetic needs no sleeping
inside the lock. The same object serves threads (``acquire``) and asyncio tasks
(``aacquire``).

Adaptive slow-down (additive increase, multiplicative decrease): a 429 halves
``factor`` (at most once per ``cooldown`` seconds, so a burst of 429s from requests
already in flight counts once), which halves the refill rates and the concurrency the
summarizer allows (:meth:`RateLimiter.concurrency`); every success wins back
``recovery`` of it, up to 1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

#: A bucket holds this many seconds' worth of its rate (the burst a fresh run may send).
DEFAULT_BURST_SECONDS = 10.0


@dataclass
class _Bucket:
    per_minute: float
    capacity: float
    level: float
    updated: float

    def reserve(self, cost: float, now: float, factor: float) -> float:
        """Take ``cost`` now; seconds to wait until the bucket is out of debt."""
        rate = self.per_minute * factor / 60.0
        self.level = min(self.capacity, self.level + (now - self.updated) * rate)
        self.updated = now
        self.level -= cost
        return 0.0 if self.level >= 0 else -self.level / rate

    def refund(self, amount: float) -> None:
        self.level = min(self.capacity, self.level + amount)


class RateLimiter:
    """Requests- and tokens-per-minute limits shared by every call of a run.

    ``rpm``/``tpm`` of ``None`` mean no such limit (the limiter then only tracks the
    adaptive ``factor``). Thread-safe; the clock and the sleeps are injectable.
    """

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        burst_seconds: float = DEFAULT_BURST_SECONDS,
        min_factor: float = 1 / 16,
        recovery: float = 0.05,
        cooldown: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        now = clock()
        self._requests = self._bucket(rpm, burst_seconds, now, minimum=1.0)
        self._tokens = self._bucket(tpm, burst_seconds, now, minimum=0.0)
        self.min_factor = min_factor
        self.recovery = recovery
        self.cooldown = cooldown
        self.factor = 1.0
        self._last_cut = -float("inf")
        #: how many 429s were reported, and how many of them cut the rate
        self.rate_limited = 0
        self.slowdowns = 0

    @staticmethod
    def _bucket(
        limit: float | None, burst_seconds: float, now: float, *, minimum: float
    ) -> _Bucket | None:
        if limit is None:
            return None
        capacity = max(minimum, limit * burst_seconds / 60.0)
        return _Bucket(per_minute=limit, capacity=capacity, level=capacity, updated=now)

    @property
    def counts_tokens(self) -> bool:
        """True when a tokens-per-minute limit is set (callers then estimate costs)."""
        return self._tokens is not None

    # -- pacing --------------------------------------------------------------------------
    def reserve(self, tokens: int = 0) -> float:
        """Book one request of ``tokens`` tokens; seconds to wait before sending it."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            if self._requests is not None:
                wait = max(wait, self._requests.reserve(1.0, now, self.factor))
            if self._tokens is not None and tokens:
                wait = max(wait, self._tokens.reserve(float(tokens), now, self.factor))
            return wait

    def refund(self, tokens: int) -> None:
        """Give back tokens booked but not used (e.g. the unused output allowance)."""
        if self._tokens is not None and tokens > 0:
            with self._lock:
                self._tokens.refund(float(tokens))

    def acquire(self, tokens: int = 0) -> float:
        """Block the calling thread until a request of ``tokens`` may go; the wait."""
        wait = self.reserve(tokens)
        if wait > 0:
            self._sleep(wait)
        return wait

    async def aacquire(self, tokens: int = 0) -> float:
        """Wait (without blocking the event loop) until a request may go; the wait."""
        import asyncio

        wait = self.reserve(tokens)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

    # -- adapting ------------------------------------------------------------------------
    def on_rate_limited(self) -> None:
        """The server answered 429: halve the rate and concurrency (once per cooldown)."""
        with self._lock:
            self.rate_limited += 1
            now = self._clock()
            if now - self._last_cut < self.cooldown:
                return
            self._last_cut = now
            self.slowdowns += 1
            self.factor = max(self.min_factor, self.factor / 2)

    def on_success(self) -> None:
        """A call went through: win back a little of the rate."""
        if self.factor < 1.0:
            with self._lock:
                self.factor = min(1.0, self.factor + self.recovery)

    def concurrency(self, limit: int) -> int:
        """How many of ``limit`` concurrent calls to allow now (at least 1)."""
        return max(1, int(limit * self.factor))
