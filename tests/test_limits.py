"""The run's deadline and spending cap: arithmetic, what stops, what is kept."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from test_concurrency import articles, by_title
from test_summarize import make_article

from briefing.limits import RunLimits
from briefing.llm.base import Completion, Message
from briefing.llm.fake import FakeLLM
from briefing.models import Usage
from briefing.pipeline import Loaded
from briefing.request import BriefRequest
from briefing.runner import Runner
from briefing.settings import RunSettings
from briefing.summarize import Summarizer
from briefing.usage import Price


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deadline_arithmetic() -> None:
    clock = Clock()
    limits = RunLimits(deadline=30, clock=clock)
    assert limits.remaining() == 30
    clock.now += 29.5
    assert limits.remaining() == pytest.approx(0.5)
    assert not limits.expired and limits.stop_reason() is None
    clock.now += 1
    assert limits.remaining() == 0 and limits.expired
    assert limits.stop_reason() == "not summarized: the run's --deadline of 30 s passed"
    assert RunLimits().remaining() is None and not RunLimits().expired
    with pytest.raises(ValueError, match="positive"):
        RunLimits(deadline=0)


def test_cost_cap_counts_billed_usage_plus_the_next_estimate() -> None:
    # $1 per million tokens in and out: 1,000 tokens cost $0.001
    limits = RunLimits(max_cost=0.01, price=Price(1.0, 1.0))
    next_article = Usage(calls=1, prompt_tokens=1_500, completion_tokens=500)  # $0.002
    assert limits.watches_cost
    limits.spend(Usage(calls=3, prompt_tokens=6_000, completion_tokens=1_000))  # $0.007
    assert limits.spent_usd == pytest.approx(0.007)
    assert limits.stop_reason(next_article) is None  # 0.007 + 0.002 <= 0.01
    limits.spend(Usage(calls=1, prompt_tokens=1_500, completion_tokens=500))  # $0.009
    reason = limits.stop_reason(next_article)  # 0.009 + 0.002 > 0.01
    assert reason is not None and "--max-cost $0.01 reached ($0.0090 spent" in reason
    # an unknown price cannot be watched (the refusal before the run says so)
    assert not RunLimits(max_cost=1.0, price=None).watches_cost
    assert RunLimits(max_cost=1.0, price=None).stop_reason(next_article) is None


def test_no_article_starts_after_the_deadline_sequentially() -> None:
    clock = Clock()
    limits = RunLimits(deadline=10, clock=clock)

    def slow(messages: Sequence[Message]) -> str:
        clock.now += 6  # each call takes 6 "seconds"
        return by_title(messages)

    llm = FakeLLM(provider="local").enqueue(*[slow] * 5)
    summaries = Summarizer(llm).summarize_all(articles(5), limits=limits)
    assert [s.status for s in summaries] == ["ok", "ok", "failed", "failed", "failed"]
    assert len(llm.calls) == 2  # started at t=0 and t=6; nothing after t=12
    assert all("--deadline of 10 s passed" in (s.error or "") for s in summaries[2:])


class Hanging(FakeLLM):
    """Answers every article but those whose title is in ``hang``: those never answer."""

    def __init__(self, hang: set[str], **kwargs: Any) -> None:
        super().__init__(provider="openai", **kwargs)
        self.hang = hang
        self.cancelled = 0

    async def acomplete(self, messages: Sequence[Message], **kwargs: Any) -> Completion:
        title = messages[-1].content.split("Title: ", 1)[1].split("\n", 1)[0]
        if title in self.hang:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        return await super().acomplete(messages, **kwargs)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_calls_in_flight_at_the_deadline_are_cancelled_and_listed(concurrency: int) -> None:
    llm = Hanging({"Story 1"})
    llm.enqueue(*[by_title] * 3)
    summaries = Summarizer(llm).summarize_all(
        articles(4), concurrency=concurrency, limits=RunLimits(deadline=0.3)
    )
    by = {s.title: s for s in summaries}
    assert llm.cancelled == 1
    assert by["Story 1"].status == "failed"
    assert by["Story 1"].error == (
        "not finished: the run's --deadline of 0.3 s passed while the model was answering"
    )
    assert by["Story 0"].ok
    if concurrency == 4:  # the others ran beside the hanging call
        assert all(by[f"Story {i}"].ok for i in (2, 3))
    else:  # one at a time: nothing starts after the deadline
        assert all("not summarized" in (by[f"Story {i}"].error or "") for i in (2, 3))


def test_budget_stops_starting_articles_midway_keeping_what_is_done() -> None:
    # each answer bills its words as tokens; at $100 per million tokens an article
    # costs a few cents, so a cap of a few articles' worth stops the run midway
    llm = FakeLLM(provider="openai", model="pricey").enqueue(*[by_title] * 10)
    summarizer = Summarizer(llm)
    items = articles(10)
    one = summarizer.estimate(items[0])
    price = Price(100.0, 100.0)
    per_article = (one.prompt_tokens + one.completion_tokens) * 100.0 / 1e6
    limits = RunLimits(max_cost=per_article * 3.5, price=price)
    summaries = summarizer.summarize_all(items, concurrency=1, limits=limits)
    done = [s for s in summaries if s.ok]
    stopped = [s for s in summaries if not s.ok]
    assert 1 <= len(done) < 10 and len(done) + len(stopped) == 10
    assert len(llm.calls) == len(done)
    assert all("--max-cost" in (s.error or "") for s in stopped)
    assert limits.spent_usd is not None and limits.spent_usd <= per_article * 3.5


def test_make_brief_keeps_stopped_articles_and_reports_partial(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    items = [make_article(title=f"Story {i}") for i in range(3)]

    def slow(messages: Sequence[Message]) -> str:
        clock.now += 100
        return by_title(messages)

    llm = FakeLLM(provider="local").enqueue(slow)
    request = BriefRequest(inputs=(), run=RunSettings(deadline=50, no_cache=True))
    limits = RunLimits(deadline=50, clock=clock)
    with Runner(request, llm=llm, limits=limits) as runner:
        run = runner.brief(Loaded(items))
    assert len(llm.calls) == 1  # one summary; no synthesis after the deadline
    assert run.partial
    assert len(run.model_failures) == 2
    reasons = {s.error for s in run.model_failures}
    assert reasons == {"not summarized: the run's --deadline of 50 s passed"}
    shown = {s.title for sec in run.briefing.sections for s in sec.summaries}
    shown |= {s.title for s in run.briefing.failed}
    assert shown == {"Story 0", "Story 1", "Story 2"}  # nothing dropped
    # the synthesis asked for is missing, and the brief says why
    assert run.synthesis_failures
    assert all("deadline" in (s.synthesis_error or "") for s in run.synthesis_failures)
