"""The whole job as library calls: inputs -> articles -> summaries -> Briefing.

Thin functions over ``briefing.runner`` for code that already holds a model (tests,
notebooks, benchmarks); the CLI builds a ``BriefRequest`` and uses the runner itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from briefing.llm.base import LLM
from briefing.models import Article, ArticleSummary, Region
from briefing.prompts import Prompts
from briefing.request import BriefRequest
from briefing.runner import BriefRun, InputProblem, Loaded, Runner, load
from briefing.settings import RunSettings
from briefing.summarize import ProgressCallback

if TYPE_CHECKING:
    from briefing.cache import SummaryCache
    from briefing.limits import RunLimits

__all__ = ["BriefRun", "InputProblem", "Loaded", "load", "make_brief", "summarize_articles"]


def summarize_articles(
    articles: Sequence[Article],
    llm: LLM,
    *,
    prompts: Prompts | None = None,
    on_summary: ProgressCallback | None = None,
    unsupported: str = "drop",
    concurrency: int | None = None,
    cache: SummaryCache | None = None,
    max_cost: float | None = None,
    deadline: float | None = None,
    limits: RunLimits | None = None,
) -> list[ArticleSummary]:
    """Grounded summaries of ``articles`` in order (see ``briefing.grounding.ground``):
    claims the source does not support are dropped (or flagged, ``unsupported="flag"``),
    and articles the model failed on get an extractive summary when possible.

    Up to ``concurrency`` articles are summarized at once (default: what ``llm`` says);
    with a ``cache`` unchanged articles cost no call. With ``max_cost`` (USD) the run
    refuses to start when its estimate exceeds it (``briefing.usage.BudgetError``) and
    starts no article once the billed cost plus the article's estimate would exceed it;
    with ``deadline`` (seconds) no article starts after it and calls in flight are
    cancelled. Stopped articles are kept as failed with the reason (``briefing.limits``)."""
    runner = _runner(
        (), llm, prompts, cache, on_summary, unsupported, concurrency, max_cost, deadline
    )
    if limits is not None:
        runner = Runner(
            runner.request, llm=llm, prompts=runner.prompts, cache=cache,
            on_summary=on_summary, limits=limits,
        )  # fmt: skip
    return runner.summaries(Loaded(list(articles)))


def make_brief(
    loaded: Loaded,
    llm: LLM,
    *,
    prompts: Prompts | None = None,
    date: dt.date | None = None,
    on_summary: ProgressCallback | None = None,
    unsupported: str = "drop",
    concurrency: int | None = None,
    cache: SummaryCache | None = None,
    max_cost: float | None = None,
    regions: Sequence[Region] | None = None,
    timezone: str = "UTC",
    language: str | None = None,
    synthesize: bool = True,
    deadline: float | None = None,
    title: str | None = None,
) -> BriefRun:
    """Summarize and ground loaded articles and compose them into a Briefing (with the
    run's calls, cache hits, tokens and cost in ``briefing.run``).

    ``regions``: the sections to show, in order (no call is paid for another region);
    ``timezone``: the IANA zone of the brief's date and times; ``language``: the
    language the brief is written in (default: ``prompts``' language, English);
    ``synthesize``: also ask the model for one grounded paragraph per region
    (``briefing.synthesis``); ``deadline`` and ``max_cost`` cover every call of the
    run, synthesis included (see ``summarize_articles``)."""
    if language is not None and (prompts is None or prompts.language != language):
        prompts = Prompts(prompts.directory if prompts else None, language=language)
    runner = _runner(
        (),
        llm,
        prompts,
        cache,
        on_summary,
        unsupported,
        concurrency,
        max_cost,
        deadline,
        date=date,
        regions=tuple(regions) if regions else None,
        timezone=timezone,
        language=prompts.language if prompts else "English",
        synthesize=synthesize,
        title=title,
    )
    return runner.brief(loaded)


def _runner(
    inputs: tuple[str, ...],
    llm: LLM,
    prompts: Prompts | None,
    cache: SummaryCache | None,
    on_summary: ProgressCallback | None,
    unsupported: str,
    concurrency: int | None,
    max_cost: float | None,
    deadline: float | None,
    **request: object,
) -> Runner:
    run = RunSettings(
        concurrency=concurrency,
        max_cost=max_cost,
        deadline=deadline,
        unsupported=unsupported,
        no_cache=cache is None,
    )
    brief_request = BriefRequest(inputs=inputs, run=run, **request)  # type: ignore[arg-type]
    return Runner(
        brief_request,
        llm=llm,
        prompts=prompts or Prompts(language=brief_request.language),
        cache=cache,
        on_summary=on_summary,
    )
