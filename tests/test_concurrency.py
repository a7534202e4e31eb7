"""Concurrent summarizing: the bound holds, order is kept, failures follow the rules;
the async OpenAI path shares the sync one's retries, error mapping and fallback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import httpx2
import pytest
from test_openai_provider import MESSAGES, SCHEMA, Script, ok_body
from test_summarize import make_article, output

from briefing.errors import ProviderError
from briefing.llm import http
from briefing.llm.base import LLM, Completion, Message
from briefing.llm.fake import FakeLLM
from briefing.llm.openai import OpenAILLM
from briefing.llm.retry import RetryPolicy
from briefing.models import Article
from briefing.ratelimit import RateLimiter
from briefing.summarize import GIL_SWITCH_SECONDS, Summarizer


def by_title(messages: Sequence[Message]) -> str:
    title = messages[-1].content.split("Title: ", 1)[1].split("\n", 1)[0]
    return json.dumps(output(headline=f"About {title}"))


def articles(n: int) -> list[Article]:
    return [make_article(title=f"Story {i}") for i in range(n)]


def remote_fake(n: int, delay: float = 0.01) -> FakeLLM:
    llm = FakeLLM(provider="openai", delay=delay)
    return llm.enqueue(*[by_title] * n)


def test_concurrency_bound_is_respected_and_order_kept() -> None:
    llm = remote_fake(20)
    done: list[str] = []
    summaries = Summarizer(llm).summarize_all(
        articles(20), concurrency=4, on_summary=lambda s: done.append(s.title)
    )
    assert llm.max_in_flight == 4
    assert [s.title for s in summaries] == [f"Story {i}" for i in range(20)]
    assert all(s.content and s.content.headline == f"About {s.title}" for s in summaries)
    assert sorted(done) == sorted(s.title for s in summaries)  # one callback per article


def test_the_gil_switches_faster_while_calls_run_together_and_is_restored() -> None:
    import sys

    seen: list[float] = []
    before = sys.getswitchinterval()
    llm = remote_fake(3)
    Summarizer(llm).summarize_all(
        articles(3), concurrency=2, on_summary=lambda s: seen.append(sys.getswitchinterval())
    )
    assert seen == [min(before, GIL_SWITCH_SECONDS)] * 3
    assert sys.getswitchinterval() == before


def test_the_model_sets_the_bound_unless_the_user_does() -> None:
    adaptive = FakeLLM(requested_concurrency=None, default_concurrency=5, delay=0.005)
    adaptive.enqueue(*[by_title] * 10)
    Summarizer(adaptive).summarize_all(articles(10))
    assert adaptive.max_in_flight == 5

    class OneAtATime(FakeLLM):  # e.g. the in-process model: asking for 8 changes nothing
        def concurrency(self) -> int:
            return 1

    local = OneAtATime(delay=0.005).enqueue(*[by_title] * 4)
    Summarizer(local).summarize_all(articles(4), concurrency=8)
    assert local.max_in_flight == 1


def test_slowed_down_limiter_lowers_the_bound() -> None:
    llm = remote_fake(12)
    llm.limiter = RateLimiter()  # type: ignore[attr-defined]
    llm.limiter.factor = 0.25  # type: ignore[attr-defined]  # after two 429s
    Summarizer(llm).summarize_all(articles(12), concurrency=8)
    assert llm.max_in_flight == 2


def test_every_provider_offers_the_whole_protocol() -> None:
    assert isinstance(FakeLLM(), LLM)
    assert isinstance(remote_fake(1), LLM)


def test_fatal_provider_error_before_any_success_is_raised() -> None:
    class Down(FakeLLM):
        async def acomplete(self, *args: Any, **kwargs: Any) -> Completion:
            await asyncio.sleep(0.001)
            raise ProviderError("Cannot reach the model server", status_code=None)

    with pytest.raises(ProviderError, match="Cannot reach"):
        Summarizer(Down(provider="openai")).summarize_all(articles(10), concurrency=4)


def test_other_provider_errors_fail_only_their_article() -> None:
    class Flaky(FakeLLM):
        async def acomplete(self, messages: Sequence[Message], **kwargs: Any) -> Completion:
            if "Story 3" in messages[-1].content:
                raise ProviderError("kept failing (HTTP 500)", status_code=500)
            return await super().acomplete(messages, **kwargs)

    llm = Flaky(provider="openai").enqueue(*[by_title] * 5)
    summaries = Summarizer(llm).summarize_all(articles(6), concurrency=3)
    assert [s.status for s in summaries] == ["ok", "ok", "ok", "failed", "ok", "ok"]
    assert "HTTP 500" in (summaries[3].error or "")


def test_works_from_inside_a_running_event_loop() -> None:
    llm = remote_fake(6)

    async def main() -> list[str]:
        sync = Summarizer(llm).summarize_all(articles(3), concurrency=3)
        asynchronous = await Summarizer(llm).asummarize_all(articles(3), concurrency=3)
        return [s.status for s in sync + asynchronous]

    assert asyncio.run(main()) == ["ok"] * 6


# -- the async OpenAI client -------------------------------------------------------------
def make_async_llm(script: Script, **kwargs: Any) -> tuple[OpenAILLM, list[float]]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = httpx2.MockTransport(script)
    sync = http.Client(
        api_key="mock-api-key",
        base_url="http://test.invalid/v1",
        http_client=httpx2.Client(transport=transport),
    )
    asynchronous = http.AsyncClient(
        api_key="mock-api-key",
        base_url="http://test.invalid/v1",
        http_client=httpx2.AsyncClient(transport=transport),
    )
    llm = OpenAILLM(
        "test-model",
        client=sync,
        async_client=asynchronous,
        async_sleep=sleep,
        retry=RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=5),
        **kwargs,
    )
    return llm, sleeps


def acomplete(llm: OpenAILLM) -> Completion:
    return asyncio.run(llm.acomplete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10))


def test_async_429_honours_retry_after_and_slows_the_limiter() -> None:
    script = Script(
        (429, {"error": {"message": "slow down"}}, {"retry-after": "2"}),
        (200, ok_body(), {}),
    )
    limiter = RateLimiter(rpm=6000)
    llm, sleeps = make_async_llm(script, limiter=limiter)
    completion = acomplete(llm)
    assert completion.text == '{"a": 1}' and completion.usage.prompt_tokens == 11
    assert sleeps == [2.0]
    assert limiter.rate_limited == 1 and limiter.factor == pytest.approx(0.55)  # cut, +1 win


def test_async_errors_map_like_sync_ones() -> None:
    llm, sleeps = make_async_llm(Script((401, {"error": {"message": "nope"}}, {})))
    with pytest.raises(ProviderError, match="OPENAI_API_KEY") as info:
        acomplete(llm)
    assert info.value.status_code == 401 and sleeps == []


def test_async_format_fallback_is_shared() -> None:
    refusal = {
        "error": {
            "message": "Invalid parameter: 'response_format' of type 'json_schema' is not "
            "supported with this model.",
            "param": "response_format",
        }
    }
    script = Script((400, refusal, {}), (200, ok_body(), {}), (200, ok_body(), {}))
    llm, _ = make_async_llm(script)
    acomplete(llm)
    llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)  # sync remembers it
    assert [b["response_format"]["type"] for b in script.bodies()] == [
        "json_schema",
        "json_object",
        "json_object",
    ]


def test_async_client_is_built_per_event_loop_and_closed() -> None:
    script = Script((200, ok_body(), {}), (200, ok_body(), {}))
    sync = http.Client(
        api_key="mock-api-key",
        base_url="http://test.invalid/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(script)),
    )
    llm = OpenAILLM("test-model", client=sync)
    assert isinstance(llm, LLM)

    async def once() -> object:
        client = llm._async_client()
        await llm.aclose()
        return client

    first, second = asyncio.run(once()), asyncio.run(once())
    assert first is not second and llm._aclient is None
