"""Client-side pacing, with an injected clock (nothing here sleeps for real): the rate
limiter's arithmetic, and the calls in flight a server is given (``briefing.llm.capacity``)."""

from __future__ import annotations

import asyncio

import pytest

from briefing.llm.capacity import Capacity, Server, identify, is_local
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


# --------------------------------------------------------------------------- capacity


def answers(capacity: Capacity, clock: Clock, seconds: float, n: int | None = None) -> None:
    """``n`` calls (default: the limit) sent at once, each answered after ``seconds``."""
    tickets = [capacity.begin() for _ in range(n or capacity.limit)]
    clock.now += seconds
    for ticket in tickets:
        capacity.succeeded(ticket, work=100)


def test_a_fixed_capacity_never_moves() -> None:
    clock = Clock()
    capacity = Capacity(1, adaptive=False, clock=clock)
    answers(capacity, clock, 0.1, n=3)
    capacity.overloaded(capacity.begin(), "timeout")
    assert capacity.limit == 1 and capacity.peak == 3 and capacity.in_flight == 0


def test_fast_answers_double_the_limit_each_round_up_to_the_ceiling() -> None:
    clock = Clock()
    capacity = Capacity(2, ceiling=32, clock=clock)
    seen = []
    for _ in range(6):
        answers(capacity, clock, 0.3)
        seen.append(capacity.limit)
    assert seen == [4, 8, 16, 32, 32, 32]


def test_a_server_that_queues_is_not_sent_more() -> None:
    """A server running one call at a time answers N calls sent together after 1, 2, ..
    N service times: the slow ones stop the growth, much slower ones cut it."""
    clock = Clock()
    capacity = Capacity(2, ceiling=32, clock=clock)
    for _ in range(10):  # serial service: 1 s each, whatever was sent
        tickets = [capacity.begin() for _ in range(capacity.limit)]
        for ticket in tickets:
            clock.now += 1.0
            capacity.succeeded(ticket, work=100)
    assert capacity.limit <= 3


def test_overload_halves_once_per_round() -> None:
    clock = Clock()
    capacity = Capacity(16, ceiling=64, clock=clock)
    tickets = [capacity.begin() for _ in range(16)]
    for ticket in tickets:  # a burst of 503s from the calls of one round
        capacity.overloaded(ticket, "HTTP 503")
    assert capacity.limit == 8 and capacity.cuts == 1
    capacity.overloaded(capacity.begin(), "timeout")  # a call of the next round
    assert capacity.limit == 4
    # after trouble, growth is additive: about one more per round
    for _ in range(3):
        answers(capacity, clock, 0.3)
    assert capacity.limit == 6
    for _ in range(200):
        capacity.overloaded(capacity.begin(), "timeout")
    assert capacity.limit == 1  # never below one


def test_an_unused_limit_does_not_grow() -> None:
    clock = Clock()
    capacity = Capacity(8, ceiling=64, clock=clock)
    for _ in range(20):
        answers(capacity, clock, 0.3, n=2)  # two articles left: 2 of 8 in use
    assert capacity.limit == 8


def test_slower_answers_per_token_are_not_a_reason_to_cut_when_latency_is_ignored() -> None:
    clock = Clock()
    capacity = Capacity(16, ceiling=64, latency_aware=False, clock=clock)
    answers(capacity, clock, 0.1)
    answers(capacity, clock, 5.0)  # OpenAI on a slow day: still no failures
    assert capacity.limit == 64


@pytest.mark.parametrize(
    ("models", "props", "url", "kind", "start", "fixed"),
    [
        # llama_cpp/server/app.py get_models
        (
            {
                "object": "list",
                "data": [{"id": "m.gguf", "object": "model", "owned_by": "me", "permissions": []}],
            },
            None,
            "http://127.0.0.1:8000/v1",
            "llama-cpp-python",
            1,
            True,
        ),
        # llama.cpp tools/server: /v1/models owned_by "llamacpp", /props total_slots
        (
            {
                "object": "list",
                "data": [{"id": "m.gguf", "object": "model", "owned_by": "llamacpp"}],
            },
            {"total_slots": 4, "default_generation_settings": {"n_ctx": 4096}},
            "http://127.0.0.1:8080/v1",
            "llama.cpp",
            4,
            True,
        ),
        # vLLM's ModelCard
        (
            {
                "object": "list",
                "data": [
                    {
                        "id": "Qwen/Qwen2.5-7B-Instruct",
                        "object": "model",
                        "owned_by": "vllm",
                        "max_model_len": 32768,
                    }
                ],
            },
            None,
            "http://10.0.0.5:8000/v1",
            "vllm",
            16,
            False,
        ),
        # Ollama: owned_by is the model's namespace
        (
            {
                "object": "list",
                "data": [{"id": "llama3.2:latest", "object": "model", "owned_by": "library"}],
            },
            None,
            "http://127.0.0.1:11434/v1",
            "ollama",
            2,
            False,
        ),
        (None, None, "http://127.0.0.1:1234/v1", "unknown", 2, False),
        (None, None, "https://llm.example.com/v1", "unknown", 8, False),
        (None, None, "https://api.openai.com/v1", "openai", 16, False),
    ],
)
def test_servers_are_recognised_from_what_they_answer(
    models: object, props: object, url: str, kind: str, start: int, fixed: bool
) -> None:
    server = identify(models, props, base_url=url)
    assert server.kind == kind
    capacity = server.capacity()
    assert capacity.limit == start and capacity.adaptive is not fixed


def test_what_servers_say_of_their_context() -> None:
    vllm = {"data": [{"id": "a", "owned_by": "vllm", "max_model_len": 32768}]}
    assert identify(vllm, None, base_url="http://h/v1").context_window == 32768
    props = {"total_slots": 2, "default_generation_settings": {"n_ctx": 4096}}
    server = identify(None, props, base_url="http://h/v1")
    assert (server.kind, server.slots, server.context_window) == ("llama.cpp", 2, 4096)
    assert Server("unknown").context_window is None


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080/v1", True),
        ("http://localhost:11434/v1", True),
        ("http://[::1]:8000/v1", True),
        ("http://192.168.1.20:8000/v1", True),
        ("http://ollama:11434/v1", True),
        ("http://gpu-box.lan:8000/v1", True),
        ("https://api.openai.com/v1", False),
        ("https://llm.example.com/v1", False),
        ("http://8.8.8.8/v1", False),
    ],
)
def test_local_servers(url: str, local: bool) -> None:
    assert is_local(url) is local
