"""The whole job as library calls: inputs -> articles -> summaries -> Briefing."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from briefing.compose import compose
from briefing.errors import InputError
from briefing.llm.base import LLM
from briefing.models import Article, ArticleSummary, Briefing, Region, RunReport
from briefing.prompts import Prompts
from briefing.summarize import ProgressCallback, Summarizer

if TYPE_CHECKING:
    from briefing.cache import SummaryCache
    from briefing.limits import RunLimits


@dataclass
class InputProblem:
    """An input that could not be read (the run goes on without it)."""

    source: str
    message: str

    def __str__(self) -> str:
        """The message, prefixed with the input when the message does not name it."""
        if self.source and self.source not in self.message:
            return f"{self.source}: {self.message}"
        return self.message


@dataclass
class Loaded:
    """The articles read from the inputs, and the inputs that could not be used."""

    articles: list[Article]
    problems: list[InputProblem] = field(default_factory=list)

    def report(self) -> str:
        """One line for the end of a run: "12 articles from 10 inputs, 2 skipped: ..."."""
        sources = {a.source for a in self.articles} | {
            s.source for a in self.articles for s in a.also_in if s.source
        }
        n_inputs = len(sources) + len(self.problems)
        line = f"{_plural(len(self.articles), 'article')} from {_plural(n_inputs, 'input')}"
        if self.problems:
            shown = "; ".join(str(p) for p in self.problems[:3])
            more = f"; and {len(self.problems) - 3} more" if len(self.problems) > 3 else ""
            line += f", {len(self.problems)} skipped: {shown}{more}"
        return line


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def load(
    inputs: Sequence[str | Path],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    reference_time: dt.datetime | None = None,
    stdin: TextIO | None = None,
) -> Loaded:
    """Read every input; unreadable ones are reported, not fatal, unless none worked."""
    from briefing.ingest import load_articles

    problems: list[InputProblem] = []

    def on_error(source: str, error: Exception) -> None:
        problems.append(InputProblem(source, str(error)))

    articles = load_articles(
        inputs,
        include=include,
        exclude=exclude,
        reference_time=reference_time,
        stdin=stdin,
        on_error=on_error,
    )
    from briefing.ingest.dedupe import dedupe

    articles = dedupe(articles)
    if not articles and problems:
        if len(problems) == 1:
            raise InputError(problems[0].message)
        raise InputError(
            f"None of the {len(problems)} inputs could be read; first: {problems[0].message}"
        )
    return Loaded(articles, problems)


@dataclass
class BriefRun:
    """Everything one run produced."""

    briefing: Briefing
    summaries: list[ArticleSummary]
    loaded: Loaded

    @property
    def partial(self) -> bool:
        """True when some input could not be read or some article's model summary
        failed (listed as failed, or shown as an extractive fallback with the reason)."""
        return bool(self.briefing.failed or self.loaded.problems or self.model_failures)

    @property
    def model_failures(self) -> list[ArticleSummary]:
        """Summaries the model did not deliver (failed, stopped by the deadline or the
        budget), including those the brief shows as extractive fallbacks."""
        return [s for s in self.summaries if s.content is None or s.error]

    @property
    def report(self) -> RunReport | None:
        """Calls, cache hits, tokens and estimated cost of the run (also in the brief)."""
        return self.briefing.run


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

    Up to ``concurrency`` articles are summarized at once; with a ``cache`` unchanged
    articles cost no call. With ``max_cost`` (USD) the run refuses to start when its
    estimate exceeds it (``briefing.usage.BudgetError``) and starts no article once the
    billed cost plus the article's estimate would exceed it; with ``deadline`` (seconds)
    no article starts after it and calls in flight are cancelled. Stopped articles are
    kept as failed with the reason (``briefing.limits``)."""
    from briefing.grounding import ground

    summarizer = Summarizer(llm, prompts)
    if limits is None:
        limits = make_limits(llm, deadline=deadline, max_cost=max_cost)
    if max_cost is not None:
        from briefing.usage import check_budget, estimate_run

        check_budget(estimate_run(summarizer, articles, cache=cache), max_cost, model=llm.model)
    summaries = summarizer.summarize_all(
        articles, on_summary=on_summary, concurrency=concurrency, cache=cache, limits=limits
    )
    return [
        ground(summary, article, unsupported=unsupported)
        for summary, article in zip(summaries, articles, strict=True)
    ]


def make_limits(
    llm: LLM, *, deadline: float | None = None, max_cost: float | None = None
) -> RunLimits | None:
    """The ``RunLimits`` for a deadline (seconds from now) and a cap in USD, if any."""
    if deadline is None and max_cost is None:
        return None
    from briefing.limits import RunLimits
    from briefing.usage import price_for

    return RunLimits(deadline=deadline, max_cost=max_cost, price=price_for(llm.provider, llm.model))


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
) -> BriefRun:
    """Summarize and ground loaded articles and compose them into a Briefing (with the
    run's calls, cache hits, tokens and cost in ``briefing.run``).

    ``regions``: the sections to show, in order; ``timezone``: the IANA zone of the
    brief's date and times; ``language``: the language the brief is written in (default:
    ``prompts``' language, English); ``synthesize``: also ask the model for one grounded
    paragraph per region (``briefing.synthesis``; one or two more calls per region);
    ``deadline``: seconds for the whole run (summaries and synthesis; see
    ``summarize_articles`` for it and ``max_cost``)."""
    if language is not None and (prompts is None or prompts.language != language):
        prompts = Prompts(prompts.directory if prompts else None, language=language)
    from briefing.summarize import default_concurrency
    from briefing.usage import run_report

    started = time.perf_counter()
    limits = make_limits(llm, deadline=deadline, max_cost=max_cost)
    summaries = summarize_articles(
        loaded.articles,
        llm,
        prompts=prompts,
        on_summary=on_summary,
        unsupported=unsupported,
        concurrency=concurrency,
        cache=cache,
        max_cost=max_cost,
        limits=limits,
    )
    briefing = compose(
        summaries,
        date=date,
        regions=regions,
        timezone=timezone,
        language=prompts.language if prompts else "English",
        prompts=prompts,
    )
    if synthesize:
        from briefing.synthesis import synthesize_sections

        should_stop = (lambda: limits.expired) if limits is not None else None
        synthesize_sections(briefing, llm, prompts=prompts, should_stop=should_stop, cache=cache)
    briefing.run = run_report(
        summaries,
        provider=llm.provider,
        model=llm.model,
        seconds=time.perf_counter() - started,
        concurrency=concurrency or default_concurrency(llm),
        total=briefing.usage,
    )
    return BriefRun(briefing, summaries, loaded)
