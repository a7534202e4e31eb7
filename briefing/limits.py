"""When a run stops starting new work: an overall deadline and a spending cap.

A run at 6 a.m. must end on time and within budget, and still deliver what it has.
:class:`RunLimits` is asked before each article starts (``stop_reason``) and gives the
time left for the calls in flight (``remaining``); articles it stops are kept in the
brief as failed with the reason (or with an extractive summary), never dropped.

- ``deadline``: seconds for the whole run, from when the limits are made. Calls still
  in flight when it passes are cancelled (remote models; the in-process model finishes
  the article it is on, which its output caps bound).
- ``max_cost``: US dollars. Before the run, ``briefing.usage.check_budget`` refuses to
  start when the estimate exceeds it; during the run, an article is not started when
  the dollars already billed plus its own estimate would exceed it (estimates can be
  low when a model writes longer answers than usual).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from briefing.models import Usage
from briefing.usage import Price, cost_usd


class RunLimits:
    """The deadline and the spending cap of one run (thread-safe)."""

    def __init__(
        self,
        *,
        deadline: float | None = None,
        max_cost: float | None = None,
        price: Price | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if deadline is not None and deadline <= 0:
            raise ValueError("deadline must be a positive number of seconds")
        self.deadline = deadline
        self.max_cost = max_cost
        self.price = price
        self._clock = clock
        self._ends = clock() + deadline if deadline is not None else None
        self._spent = Usage()
        #: dollars billed by other models than the run's (the judge)
        self._other_usd = 0.0
        self._lock = threading.Lock()

    # -- time ---------------------------------------------------------------------------
    def remaining(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline; never negative)."""
        if self._ends is None:
            return None
        return max(0.0, self._ends - self._clock())

    @property
    def expired(self) -> bool:
        """True once the deadline has passed."""
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def deadline_reason(self, *, in_flight: bool = False) -> str:
        """The failure reason of an article the deadline stopped."""
        if in_flight:
            return (
                f"not finished: the run's --deadline of {self.deadline:g} s passed while "
                "the model was answering"
            )
        return f"not summarized: the run's --deadline of {self.deadline:g} s passed"

    # -- money --------------------------------------------------------------------------
    def spend(self, usage: Usage, *, price: Price | None = None) -> None:
        """Count what a finished call billed; ``price``: that of another model than the
        run's (the judge of ``--verify-with``), counted in dollars."""
        with self._lock:
            if price is None:
                self._spent = self._spent + usage
            else:
                self._other_usd += cost_usd(usage, price) or 0.0

    @property
    def spent_usd(self) -> float | None:
        """Dollars billed so far (``None`` when the model's price is unknown)."""
        with self._lock:
            own = cost_usd(self._spent, self.price)
            return None if own is None else own + self._other_usd

    @property
    def watches_cost(self) -> bool:
        """True when starting an article depends on its estimated cost."""
        return self.max_cost is not None and self.price is not None

    def stop_reason(
        self, estimate: Usage | None = None, *, price: Price | None = None
    ) -> str | None:
        """Why the next article must not start (``None``: it may). ``estimate``: what the
        article should cost, counted before sending (needed for the spending cap), at
        ``price`` when that is another model's than the run's."""
        if self.expired:
            return self.deadline_reason()
        if self.max_cost is None or self.price is None or estimate is None:
            return None
        with self._lock:
            spent = (cost_usd(self._spent, self.price) or 0.0) + self._other_usd
        upcoming = cost_usd(estimate, price or self.price) or 0.0
        if spent + upcoming > self.max_cost:
            return (
                f"not summarized: --max-cost ${self.max_cost:g} reached "
                f"(${spent:.4f} spent, this article ~${upcoming:.4f})"
            )
        return None
