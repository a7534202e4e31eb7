"""How many calls a model server takes at once: what it says, else what its answers show.

A provider asks its server once, lazily (``identify`` reads the answers of
``GET {base}/models`` and ``GET {root}/props``), and keeps a ``Capacity``: the number of
calls it lets be in flight (``limit``) and how that number moves.

=====================  ==============================================  =================
server                 how it is recognised                            calls in flight
=====================  ==============================================  =================
OpenAI                 the base URL is api.openai.com                  16, adapts to 64
vLLM, SGLang           ``owned_by: "vllm"`` / ``"sglang"`` in models   16, adapts to 64
llama.cpp's server     ``total_slots`` at ``GET /props``               its slots (fixed)
llama-cpp-python's     ``owned_by: "me"`` (and ``permissions``)        1 (fixed)
Ollama                 ``owned_by: "library"``                         2, adapts to 32
another local server   loopback or private address                     2, adapts to 32
another remote server  anything else                                   8, adapts to 32
=====================  ==============================================  =================

llama-cpp-python's server runs one request at a time and, by default, a new request
interrupts a streaming one; requests beyond one only queue there, where their wait
counts against the client's read timeout. So it gets exactly one.

Adapting is AIMD (additive increase, multiplicative decrease), per answer:

* an answer that comes back fast while the limit was in use raises the limit: by one
  per answer at first (the limit doubles every round trip), by one per round trip
  after the first sign of trouble. "Fast" on an unknown server means within
  ``FAST_RATIO`` of the quickest seconds per token seen: a server that queues instead
  of running calls side by side answers ever slower as more are sent;
* on an unknown server, an answer ``SLOW_RATIO`` times slower per token than the
  quickest cuts the limit by a quarter;
* a timeout, 429, 5xx, dropped connection, or an empty or broken answer halves it.

A cut counts once per round: calls that started before the last cut cannot cut again
(a burst of failures from calls already in flight is one signal, not ten).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

#: an answer this much slower per token than the quickest does not raise the limit...
FAST_RATIO = 1.5
#: ...and one this much slower cuts it (unknown servers: they may queue calls)
SLOW_RATIO = 3.0
#: output tokens cost about this many prompt tokens of server time (prompt processing
#: is batched, generation is token by token): the "work" a latency is divided by
OUTPUT_TOKEN_WEIGHT = 10


@dataclass(frozen=True)
class Server:
    """What a provider learned about its server."""

    #: "openai", "vllm", "sglang", "llama.cpp", "llama-cpp-python", "ollama", "unknown"
    kind: str
    #: on this machine or the local network (an unknown one starts low)
    local: bool = False
    #: calls the server says it runs at once (llama.cpp's ``total_slots``)
    slots: int | None = None
    #: tokens one request may use, where the server says (vLLM's ``max_model_len``,
    #: llama.cpp's context per slot)
    context_window: int | None = None

    @property
    def name(self) -> str:
        return {
            "openai": "OpenAI",
            "vllm": "vLLM",
            "sglang": "SGLang",
            "llama.cpp": "llama.cpp's server",
            "llama-cpp-python": "llama-cpp-python's server",
            "ollama": "Ollama",
        }.get(self.kind, "a local server" if self.local else "the server")

    def capacity(self, clock: Callable[[], float] = time.monotonic) -> Capacity:
        """The capacity to start a run with on this server."""
        if self.kind == "llama-cpp-python":
            return Capacity(1, adaptive=False, why="it runs one request at a time", clock=clock)
        if self.slots:
            why = f"it has {self.slots} slot{'' if self.slots == 1 else 's'}"
            return Capacity(self.slots, adaptive=False, why=why, clock=clock)
        if self.kind in ("openai", "vllm", "sglang"):
            return Capacity(16, ceiling=64, latency_aware=False, clock=clock)
        if self.local or self.kind in ("ollama", "llama.cpp"):
            return Capacity(2, ceiling=32, clock=clock)
        return Capacity(8, ceiling=32, clock=clock)


def identify(models: Any, props: Any, *, base_url: str, model: str | None = None) -> Server:
    """The server behind ``base_url``, from the JSON of ``GET /models`` and ``GET /props``
    (either may be ``None``: not asked, or no usable answer); ``model``: the one to be
    used, if known (its entry's context length is read)."""
    local = is_local(base_url)
    if "api.openai.com" in base_url:
        return Server("openai")
    entries = model_entries(models)
    owners = {str(e.get("owned_by")) for e in entries}
    chosen = next((e for e in entries if e["id"] == model), entries[0] if entries else {})
    props = props if isinstance(props, dict) else {}
    slots = _positive(props.get("total_slots"))
    if entries and owners == {"me"} and all("permissions" in e for e in entries):
        return Server("llama-cpp-python", local)  # llama_cpp/server/app.py get_models
    if slots is not None or "llamacpp" in owners:
        settings = props.get("default_generation_settings")
        n_ctx = _positive(settings.get("n_ctx")) if isinstance(settings, dict) else None
        return Server("llama.cpp", local, slots, n_ctx)
    for kind in ("vllm", "sglang"):
        if kind in owners:
            return Server(kind, local, context_window=_positive(chosen.get("max_model_len")))
    if owners & {"library", "ollama"}:
        return Server("ollama", local)
    return Server("unknown", local)


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def model_entries(models: Any) -> list[dict[str, Any]]:
    """The model objects of a ``GET /models`` answer (OpenAI's ``{"data": [...]}``)."""
    data = models.get("data") if isinstance(models, dict) else None
    if not isinstance(data, list):
        return []
    return [e for e in data if isinstance(e, dict) and isinstance(e.get("id"), str) and e["id"]]


def is_local(base_url: str) -> bool:
    """True for a server on this machine or a private network (loopback, RFC 1918,
    link-local, ``localhost``, ``*.local``/``*.internal``/``*.lan``, dotless names such
    as a compose service ``ollama``)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return (
            host == "localhost"
            or "." not in host
            or host.endswith((".localhost", ".local", ".internal", ".lan", ".home.arpa"))
        )
    return address.is_loopback or address.is_private or address.is_link_local


@dataclass(frozen=True)
class Ticket:
    """One call in flight: when it started, and in which round (see ``_cut``)."""

    started: float
    generation: int


class Capacity:
    """Calls allowed in flight at one server, fixed or adapting (see the module doc).

    Thread-safe: ``begin`` when a call is sent (after any wait in the client's own
    queue), then exactly one of ``succeeded``, ``overloaded`` or ``ended``.
    """

    def __init__(
        self,
        start: int,
        *,
        ceiling: int | None = None,
        floor: int = 1,
        adaptive: bool = True,
        latency_aware: bool = True,
        why: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.floor = max(1, floor)
        self.ceiling = max(self.floor, ceiling if ceiling is not None else start)
        self.adaptive = adaptive
        self.latency_aware = latency_aware
        #: why the limit is what it is (for the log)
        self.why = why or (
            f"starts at {start} and adapts up to {self.ceiling}" if adaptive else "fixed"
        )
        self._limit = float(min(max(start, self.floor), self.ceiling))
        self._clock = clock
        self._lock = threading.Lock()
        self._generation = 0
        self._slow_start = True
        #: the quickest seconds per unit of work seen
        self._best: float | None = None
        #: when calls in flight last reached the limit (the limit was in use)
        self._last_full = -float("inf")
        #: calls in flight now, and the most there ever were
        self.in_flight = 0
        self.peak = 0
        #: how many times the limit was cut
        self.cuts = 0

    @property
    def limit(self) -> int:
        return int(self._limit)

    def begin(self) -> Ticket:
        with self._lock:
            now = self._clock()
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            if self.in_flight >= self.limit:
                self._last_full = now
            return Ticket(now, self._generation)

    def ended(self, ticket: Ticket) -> None:  # noqa: ARG002 - symmetry with the others
        """The call ended in a way that says nothing about load (e.g. a 400)."""
        with self._lock:
            self.in_flight -= 1

    def succeeded(self, ticket: Ticket, work: float | None = None) -> None:
        """An answer came back; ``work``: its prompt tokens plus ``OUTPUT_TOKEN_WEIGHT``
        times its output tokens, when the server said."""
        with self._lock:
            self.in_flight -= 1
            if not self.adaptive:
                return
            seconds = max(self._clock() - ticket.started, 1e-6)
            per_work = seconds / work if work else seconds
            if self._best is None or per_work < self._best:
                self._best = per_work
            ratio = per_work / self._best
            if self.latency_aware and ratio >= SLOW_RATIO:
                self._cut(ticket, 0.75, f"answers came {ratio:.1f}x slower per token")
                return
            if self.latency_aware and ratio > FAST_RATIO:
                return  # the server is busy: hold
            if self._last_full < ticket.started:
                return  # the limit was not reached meanwhile: nothing learned about more
            before = self.limit
            step = 1.0 if self._slow_start else 1.0 / max(self._limit, 1.0)
            self._limit = min(float(self.ceiling), self._limit + step)
            if self.limit != before:
                log.debug("concurrency %d -> %d (answers come back fast)", before, self.limit)

    def overloaded(self, ticket: Ticket, why: str) -> None:
        """The call met a sign of overload (timeout, 429, 5xx, drop, empty answer)."""
        with self._lock:
            self.in_flight -= 1
            if self.adaptive:
                self._cut(ticket, 0.5, why)

    def _cut(self, ticket: Ticket, factor: float, why: str) -> None:
        if ticket.generation != self._generation:
            return  # this call started before the last cut: already accounted for
        before = self.limit
        self._limit = max(float(self.floor), self._limit * factor)
        self._generation += 1
        self._slow_start = False
        self.cuts += 1
        if self.limit != before:
            log.info("concurrency %d -> %d (%s)", before, self.limit, why)


class AsyncGate:
    """At most ``limit()`` holders at once in one event loop; ``limit`` is asked anew each
    time (it may change while calls wait). The wait is the client's own queue: callers
    start their timers after entering."""

    def __init__(self, limit: Callable[[], int]) -> None:
        import asyncio

        self._limit = limit
        self._cond = asyncio.Condition()
        self.active = 0

    async def __aenter__(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: self.active < max(1, self._limit()))
            self.active += 1

    async def __aexit__(self, *exc: object) -> None:
        async with self._cond:
            self.active -= 1
            self._cond.notify_all()
