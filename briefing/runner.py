"""One run, from start to end: a :class:`Runner` turns a ``BriefRequest`` into a brief.

It owns what a run opens and must close: the model client (unless one is given), the
cache, the run's limits (deadline and spending cap, covering every model call,
synthesis included), the progress callback, interrupts and the run report. The CLI's
commands (``brief``, ``summarize``, ``send``, ``schedule``) and the library's
``make_brief`` all go through it:

    request = BriefRequest(inputs=("seeds",))
    with Runner(request) as runner:
        run = runner.brief()          # load -> summarize + ground -> compose -> synthesize
    write_outputs(run.briefing, request.outputs)

Grounding runs as each summary arrives (in a worker thread, while other requests are
in flight), not after the last one; the regions' syntheses run concurrently under the
same bound, limits and cache as the summaries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from briefing.errors import BriefingError, ConfigError, InputError, Interrupted, ProviderError
from briefing.models import Article, ArticleSummary, Briefing, Section, Story
from briefing.request import BriefRequest, Outputs

if TYPE_CHECKING:
    from briefing.batch import BatchReport
    from briefing.cache import SummaryCache
    from briefing.editions import EditionStore
    from briefing.limits import RunLimits
    from briefing.llm.base import LLM
    from briefing.memo import TextStore
    from briefing.models import JudgeReport, RunReport
    from briefing.prompts import Prompts
    from briefing.review import Judge
    from briefing.structured import Plan
    from briefing.summarize import PartCallback, Summarizer
    from briefing.synthesis import SynthesisResult

__all__ = ["BriefRun", "InputProblem", "Loaded", "Runner", "load", "write_outputs"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[ArticleSummary], None]
T = TypeVar("T")


# --------------------------------------------------------------------------- inputs


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


def _by_id(articles: Sequence[Article]) -> dict[str, Article]:
    return {a.id: a for a in articles}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def load(
    inputs: Sequence[str | Path],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    reference_time: dt.datetime | None = None,
    stdin: TextIO | None = None,
    store: TextStore | None = None,
    language_model: bool = True,
) -> Loaded:
    """Read every input; unreadable ones are reported, not fatal, unless none worked.
    ``store`` (the run's cache) keeps parsed inputs for the next run."""
    from briefing.ingest import load_articles
    from briefing.ingest.dedupe import dedupe

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
        store=store,
        language_model=language_model,
    )
    articles = dedupe(articles, store=store)
    if not articles and problems:
        if len(problems) == 1:
            raise InputError(problems[0].message)
        raise InputError(
            f"None of the {len(problems)} inputs could be read; first: {problems[0].message}"
        )
    return Loaded(articles, problems)


# --------------------------------------------------------------------------- results


@dataclass
class BriefRun:
    """Everything one run produced."""

    briefing: Briefing
    summaries: list[ArticleSummary]
    loaded: Loaded

    @property
    def partial(self) -> bool:
        """True when some input could not be read, some article's model summary failed
        or is partial (listed as failed, shown as an extractive fallback, or covering
        only part of a long article), or a region's synthesis failed."""
        return bool(
            self.briefing.failed
            or self.loaded.problems
            or self.model_failures
            or self.synthesis_failures
        )

    @property
    def model_failures(self) -> list[ArticleSummary]:
        """Summaries the model did not (wholly) deliver: failed, partial, stopped by the
        deadline or the budget, including those the brief shows as extractive."""
        return [s for s in self.summaries if s.content is None or s.error]

    @property
    def synthesis_failures(self) -> list[Section]:
        """Sections whose synthesis was asked for and is missing (with the reason)."""
        return [s for s in self.briefing.sections if s.synthesis_error]

    @property
    def report(self) -> RunReport | None:
        """Calls, cache hits, tokens and estimated cost of the run (also in the brief)."""
        return self.briefing.run


# --------------------------------------------------------------------------- the runner


class Runner:
    """Runs one ``BriefRequest``. Use as a context manager (or call ``close``): what it
    opened (model client, cache) is closed at the end, whatever happened.

    ``llm``, ``prompts`` and ``cache`` may be given (tests, notebooks, a scheduler that
    keeps the model loaded between runs); what is given is left open for its owner.
    ``on_summary`` is called as each article's (grounded) summary is ready.
    """

    def __init__(
        self,
        request: BriefRequest,
        *,
        llm: LLM | None = None,
        prompts: Prompts | None = None,
        cache: SummaryCache | None = None,
        on_summary: ProgressCallback | None = None,
        stdin: TextIO | None = None,
        env: Mapping[str, str] | None = None,
        limits: RunLimits | None = None,
    ) -> None:
        self.request = request
        self.on_summary = on_summary
        #: (article, parts done, parts in all) for each part of a long article
        self.on_part: PartCallback | None = None
        self.stdin = stdin
        self._env = env
        self._llm = llm
        self._owns_llm = llm is None
        if llm is not None:
            self._pace(llm)
        self._given_limits = limits
        self._prompts = prompts
        self._cache = cache
        self._owns_cache = cache is None
        self._cache_opened = cache is not None
        #: summaries the model delivered so far (they are in the cache)
        self.kept = 0
        self.total = 0
        #: the judge of --verify-with (opened when a run starts) and whether we own it
        self._judge_llm: LLM | None = None
        self._owns_judge = False
        #: what the judge did in the last run (None: no judge)
        self.judge_report: JudgeReport | None = None
        #: keep the brief as an edition (a dry run compares with the editions, keeps none)
        self.keep_edition = True
        #: what the batch part of the last run did (None: a live run)
        self.batch_report: BatchReport | None = None
        #: called with each line about a batch (submitted, waiting, collected)
        self.on_batch_progress: Callable[[str], None] | None = None
        #: the edition store (``request.editions``), opened when a brief is composed
        self._editions: EditionStore | None = None
        self._editions_opened = False
        #: the run's articles' content hashes by id, and the repeats left out (--repeats omit)
        self._fingerprints: dict[str, str] = {}
        self._omitted: list[Story] = []

    # -- resources ------------------------------------------------------------------------
    @property
    def llm(self) -> LLM:
        """The model (opened on first use, paced as the request's run settings say)."""
        if self._llm is None:
            from briefing.llm import open_llm

            self._llm = open_llm(self.request.model, self._env)
            self._pace(self._llm)
        return self._llm

    def _pace(self, llm: LLM) -> None:
        """Apply ``--concurrency`` and give a remote model a rate limiter (it also slows
        the run down on 429s; a model passed in keeps its own unless limits are set)."""
        settings = self.request.run
        if settings.concurrency is not None:
            llm.requested_concurrency = settings.concurrency
        limited = settings.rpm is not None or settings.tpm is not None
        if limited or self._owns_llm:
            from briefing.ratelimit import RateLimiter

            llm.limiter = RateLimiter(settings.rpm, settings.tpm)

    @property
    def prompts(self) -> Prompts:
        if self._prompts is None:
            from briefing.prompts import Prompts

            self._prompts = Prompts(self.request.model.prompts_dir, language=self.request.language)
        return self._prompts

    @property
    def cache(self) -> SummaryCache | None:
        if not self._cache_opened:
            self._cache_opened = True
            if not self.request.run.no_cache:
                from briefing.cache import SummaryCache

                self._cache = SummaryCache(self.request.run.cache_dir)
        return self._cache

    def with_progress(self, progress: ProgressCallback | None, run: Callable[[], T]) -> T:
        """``run()`` with ``progress`` called as each summary is ready (then cleared); a
        ``progress`` with a ``part(article, done, total)`` method also hears of each part
        of a long article."""
        self.on_summary = progress
        self.on_part = getattr(progress, "part", None)
        try:
            return run()
        finally:
            self.on_summary = None
            self.on_part = None

    def detach_llm(self) -> LLM:
        """The model, handed over to the caller: the runner will not close it (a
        scheduler keeps one model loaded for every run)."""
        llm = self.llm
        self._owns_llm = False
        return llm

    def close(self) -> None:
        """Close what this runner opened (the model's connections, the cache)."""
        if self._owns_judge and self._judge_llm is not None:
            self._judge_llm.close()
        self._judge_llm = None
        if self._owns_llm and self._llm is not None:
            self._llm.close()
            self._llm = None
        if self._owns_cache and self._cache is not None:
            self._cache.close()
            self._cache = None
            self._cache_opened = False
        if self._editions is not None:
            self._editions.close()
            self._editions = None
            self._editions_opened = False

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the steps ------------------------------------------------------------------------
    def load(self) -> Loaded:
        """Read the request's inputs (unreadable ones are listed in ``problems``)."""
        r = self.request
        # a brief does not use the articles' languages yet: known where cheap, no model
        return load(
            r.inputs, include=r.include, exclude=r.exclude, stdin=self.stdin, store=self.cache,
            language_model=False,
        )  # fmt: skip

    def summaries(self, loaded: Loaded | None = None) -> list[ArticleSummary]:
        """Grounded summaries of the loaded articles (``briefing summarize``)."""
        loaded = loaded if loaded is not None else self.load()
        self.prompts  # noqa: B018 - a bad prompts directory fails before the model loads
        judge_llm = self._open_judge()
        with self._interruptible(len(loaded.articles), brief=False):
            limits = self._limits()
            summaries = self._summarize(loaded.articles, limits)
            if judge_llm is not None:
                judge = self._judge(judge_llm, limits)
                summaries = self._review(judge, summaries, loaded.articles)
                self.judge_report = judge.report()
            return summaries

    def brief(self, loaded: Loaded | None = None) -> BriefRun:
        """The whole brief: summarize and ground, compose, compare with earlier editions,
        synthesize, report; then keep it as an edition (``request.editions``)."""
        loaded = loaded if loaded is not None else self.load()
        self._fingerprints = {a.id: a.content_hash for a in loaded.articles}
        self._omitted = []
        self.prompts  # noqa: B018 - a bad prompts directory fails before the model loads
        judge_llm = self._open_judge()
        started = time.perf_counter()
        with self._interruptible(len(loaded.articles), brief=True):
            limits = self._limits()
            judge = self._judge(judge_llm, limits) if judge_llm is not None else None
            if self.request.run.batch or self._inline(limits):
                summaries = self._summarize(loaded.articles, limits)
                if judge is not None:
                    summaries = self._review(judge, summaries, loaded.articles)
                briefing = self._compose(summaries)
                if self._inline(limits):
                    self._synthesize_inline(briefing, limits)
                else:
                    self._synthesize_apart(briefing, limits)
            else:
                summaries, briefing = self._run_async(loaded.articles, limits, judge)
        from briefing.usage import run_report

        briefing.run = run_report(
            summaries,
            provider=self.llm.provider,
            model=self.llm.model,
            seconds=time.perf_counter() - started,
            concurrency=self.llm.concurrency(),
            total=briefing.usage,
        )
        briefing.run.judge = self.judge_report = judge.report() if judge is not None else None
        if self.batch_report is not None:
            self._price_batch(briefing)
        self._record(briefing)
        return BriefRun(briefing, summaries, loaded)

    # -- inside ---------------------------------------------------------------------------
    def _limits(self) -> RunLimits | None:
        if self._given_limits is not None:
            return self._given_limits
        settings = self.request.run
        if settings.deadline is None and settings.max_cost is None:
            return None
        from briefing.limits import RunLimits
        from briefing.usage import price_for

        price = price_for(self.llm.provider, self.llm.model)
        return RunLimits(deadline=settings.deadline, max_cost=settings.max_cost, price=price)

    def _summarizer(self) -> Summarizer:
        from briefing.summarize import Summarizer

        summarizer = Summarizer(self.llm, self.prompts)
        summarizer.on_part = self.on_part
        return summarizer

    def _check_budget(self, summarizer: Summarizer, articles: Sequence[Article]) -> None:
        max_cost = self.request.run.max_cost
        if max_cost is None:
            return
        from briefing.usage import check_budget, estimate_run

        estimate = estimate_run(summarizer, articles, cache=self.cache)
        check_budget(estimate, max_cost, model=self.llm.model)

    def _grounder(self) -> Callable[[ArticleSummary, Article], ArticleSummary]:
        """Grounding as each summary is made. With a cache, a summary grounded before
        (same output, same source, same policy, same code) is taken from it: an
        unchanged rerun does no grounding work."""
        from briefing.cache import grounded_key
        from briefing.grounding import ground

        policy = self.request.run.unsupported
        cache = self.cache

        def finish(summary: ArticleSummary, article: Article) -> ArticleSummary:
            # counted before grounding: it is in the cache already, even if an
            # interrupt lands while it is being grounded
            self.kept += summary.ok and not summary.error
            if cache is None or summary.content is None:
                return ground(summary, article, unsupported=policy)
            key = grounded_key(summary, article, policy)
            hit = cache.get_grounded(key)
            if hit is not None:
                same = {"usage", "cached", "article_id", "title", "outlet", "url", "source"}
                return hit.model_copy(update={k: getattr(summary, k) for k in same})
            grounded = ground(summary, article, unsupported=policy)
            cache.put_grounded(key, grounded)
            return grounded

        return finish

    # -- the judge (--verify-with) --------------------------------------------------------
    def _open_judge(self) -> LLM | None:
        """The judge's model, checked before the run starts (a weak judge is refused
        with a ``ConfigError``); None without ``--verify-with``."""
        value = self.request.run.verify_with
        if not value:
            return None
        if self._judge_llm is None:
            from briefing.judge import check_judge, resolve_judge

            settings = resolve_judge(self.request.model, value, self._env)
            if settings is not self.request.model or self._owns_llm:
                check_judge(settings, self._env)  # before any model is loaded
            if settings is self.request.model:
                llm, owned = self.llm, False
            else:
                from briefing.llm import open_llm

                llm, owned = open_llm(settings, self._env), True
            self._judge_llm, self._owns_judge = llm, owned
            check_judge(llm)  # (a server's model is known once asked)
        return self._judge_llm

    def _judge(self, llm: LLM, limits: RunLimits | None) -> Judge:
        from briefing.review import Judge
        from briefing.usage import price_for

        return Judge(
            llm,
            prompts=self.prompts,
            cache=self.cache,
            limits=limits,
            price=price_for(llm.provider, llm.model),
        )

    @staticmethod
    def _review(
        judge: Judge, summaries: list[ArticleSummary], articles: Sequence[Article]
    ) -> list[ArticleSummary]:
        from briefing.summarize import run_coroutine, runs_inline

        if runs_inline(judge.llm, judge.limits):
            return judge.review(summaries, _by_id(articles))

        async def run() -> list[ArticleSummary]:
            try:
                return await judge.areview(summaries, _by_id(articles))
            finally:
                await judge.llm.aclose()

        return run_coroutine(run)

    def _progress(self, summary: ArticleSummary) -> None:
        if self.on_summary is not None:
            self.on_summary(summary)

    def _inline(self, limits: RunLimits | None) -> bool:
        """True when the run makes its calls on this thread, one at a time (a model
        fixed at one call at a time, and no deadline to cancel calls in flight)."""
        from briefing.summarize import runs_inline

        return runs_inline(self.llm, limits)

    def _summarize(
        self, articles: Sequence[Article], limits: RunLimits | None
    ) -> list[ArticleSummary]:
        summarizer = self._summarizer()
        self._check_budget(summarizer, articles)
        if self.request.run.batch:
            return self._summarize_batch(summarizer, articles, limits)
        return summarizer.summarize_all(
            articles,
            on_summary=self._progress,
            cache=self.cache,
            limits=limits,
            finish=self._grounder(),
        )

    def _compose(self, summaries: Sequence[ArticleSummary]) -> Briefing:
        from briefing.compose import compose

        r = self.request
        briefing = compose(
            summaries,
            date=r.date,
            regions=r.regions,
            timezone=r.timezone,
            language=self.prompts.language,
            title=r.title or "Morning brief",
            store=self.cache,
        )
        # before synthesis: the regions' paragraphs are written over what the reader
        # gets (no repeat moved to "Still developing" or left out, no emptied region)
        self._continuity(briefing)
        return briefing

    # -- editions -------------------------------------------------------------------------
    def _edition_store(self) -> EditionStore | None:
        """The edition store; None when editions are off or it cannot be opened (then
        the brief is made without continuity and not kept, with a warning)."""
        if not self._editions_opened and self.request.editions:
            self._editions_opened = True
            from briefing.editions import EditionStore, default_editions_path

            r = self.request
            try:
                self._editions = EditionStore(
                    r.editions_db or default_editions_path(r.run.cache_dir)
                )
            except BriefingError as e:
                log.warning("no editions this run: %s", e)
        return self._editions

    @property
    def _profile_name(self) -> str:
        from briefing.editions import DEFAULT_PROFILE

        return self.request.profile or DEFAULT_PROFILE

    def _continuity(self, briefing: Briefing) -> None:
        store = self._edition_store()
        if store is None:
            return
        import sqlite3

        from briefing.continuity import WINDOW_DAYS, apply_continuity

        try:
            earlier = store.recent(briefing.date, self._profile_name, days=WINDOW_DAYS)
        except sqlite3.Error as e:
            log.warning("cannot read earlier editions from %s: %s", store.path, e)
            return
        self._omitted = apply_continuity(
            briefing,
            earlier,
            fingerprints=self._fingerprints,
            repeats=self.request.repeats,  # type: ignore[arg-type]
        )

    def _record(self, briefing: Briefing) -> None:
        """Keep the finished brief as the profile's edition of its date (replacing an
        earlier run's); a store that cannot be written costs a warning, never the brief."""
        store = self._edition_store() if self.keep_edition else None
        if store is None:
            return
        from briefing.editions import edition_of

        edition = edition_of(
            briefing,
            profile=self._profile_name,
            fingerprints=self._fingerprints,
            omitted=self._omitted,
        )
        try:
            store.record(edition, briefing)
        except BriefingError as e:
            log.warning("the brief was not kept as an edition: %s", e)

    # -- batches (--batch) ----------------------------------------------------------------
    def _summarize_batch(
        self, summarizer: Summarizer, articles: Sequence[Article], limits: RunLimits | None
    ) -> list[ArticleSummary]:
        """The summaries through the provider's Batch API (``briefing.batch``)."""
        from briefing.batch import BatchRun, BatchStore
        from briefing.summarize import _Run

        settings = self.request.run
        cache = self.cache
        if cache is None:
            raise ConfigError(
                "--batch keeps the batch's answers in the cache (a killed run collects the "
                "same batch from it): drop --no-cache."
            )
        if settings.deadline is not None:
            raise ConfigError(
                "--deadline cannot bound a batch (the provider runs it within 24 hours); "
                "drop one of them."
            )
        run = _Run(summarizer, list(articles), self._progress, cache, limits, self._grounder())
        todo = run.take_cached()
        store = BatchStore(cache.path.parent)
        try:
            batch = BatchRun(
                summarizer,
                store,
                wait=settings.batch_wait,
                fallback=settings.fallback,
                poll=(settings.batch_poll, 60.0),
                on_progress=self.on_batch_progress,
            )
            self.batch_report = batch.report
            batch.summarize(run, todo)
        finally:
            store.close()
        return run.results()

    def _price_batch(self, briefing: Briefing) -> None:
        """The batch's share of the run report: what it billed (the discount) and what
        the same requests cost live; the run's cost counts the batch at its price."""
        from briefing.batch import BATCH_DISCOUNT
        from briefing.models import BatchSummary
        from briefing.usage import cost_usd, price_for

        report = self.batch_report
        assert report is not None and briefing.run is not None
        live = cost_usd(report.usage, price_for(self.llm.provider, self.llm.model))
        billed = None if live is None else live * BATCH_DISCOUNT
        briefing.run.batch = BatchSummary(
            batches=report.batches,
            requests=report.requests,
            uploaded=report.uploaded,
            failed=len(report.failed),
            live_calls=report.live_calls,
            prompt_tokens=report.usage.prompt_tokens,
            completion_tokens=report.usage.completion_tokens,
            cost_usd=billed,
            live_cost_usd=live,
        )
        if briefing.run.cost_usd is not None and live is not None and billed is not None:
            briefing.run.cost_usd = round(briefing.run.cost_usd - (live - billed), 6)

    def _synthesize_apart(self, briefing: Briefing, limits: RunLimits | None) -> None:
        """The regions' synthesis concurrently, in an event loop of its own."""
        from briefing.summarize import run_coroutine

        async def run() -> None:
            try:
                await self._synthesize(briefing, limits)
            finally:
                await self.llm.aclose()

        run_coroutine(run)

    def _run_async(
        self, articles: Sequence[Article], limits: RunLimits | None, judge: Judge | None = None
    ) -> tuple[list[ArticleSummary], Briefing]:
        from briefing.summarize import run_coroutine

        summarizer = self._summarizer()
        self._check_budget(summarizer, articles)

        async def run() -> tuple[list[ArticleSummary], Briefing]:
            try:
                summaries = await summarizer.asummarize_all(
                    articles,
                    on_summary=self._progress,
                    cache=self.cache,
                    limits=limits,
                    finish=self._grounder(),
                )
                if judge is not None:
                    summaries = await judge.areview(summaries, _by_id(articles))
                briefing = self._compose(summaries)
                await self._synthesize(briefing, limits)
                return summaries, briefing
            finally:
                await self.llm.aclose()
                if judge is not None and judge.llm is not self.llm:
                    await judge.llm.aclose()

        return run_coroutine(run)

    # -- synthesis ------------------------------------------------------------------------
    def _synthesis_stop(self, section: Section, limits: RunLimits | None) -> str | None:
        """Why ``section``'s synthesis must not start (deadline passed, budget reached)."""
        if limits is None:
            return None
        estimate = None
        if limits.watches_cost:
            from briefing.synthesis import estimate as synthesis_estimate

            estimate = synthesis_estimate(self.llm, section.region, section.stories, self.prompts)
        reason = limits.stop_reason(estimate)
        return None if reason is None else reason.replace("not summarized", "not written", 1)

    def _synthesis_plan(self, briefing: Briefing, section: Section) -> Plan[SynthesisResult]:
        from briefing.synthesis import synthesis_plan

        return synthesis_plan(
            self.llm,
            section.region,
            section.stories,
            prompts=self.prompts,
            language=briefing.language,
            cache=self.cache,
        )

    def _synthesize_inline(self, briefing: Briefing, limits: RunLimits | None) -> None:
        if not self.request.synthesize:
            return
        from briefing.structured import drive
        from briefing.synthesis import SynthesisResult

        for section in briefing.sections:
            reason = self._synthesis_stop(section, limits)
            if reason is not None:
                result = SynthesisResult(section.region, None, error=reason)
            else:
                plan = self._synthesis_plan(briefing, section)
                try:
                    result = drive(self.llm, plan)
                except ProviderError as e:
                    result = SynthesisResult(section.region, None, error=str(e))
            self._apply_synthesis(briefing, section, result, limits)
        self._stamp_synthesis(briefing)

    async def _synthesize(self, briefing: Briefing, limits: RunLimits | None) -> None:
        """Every section's synthesis at once, under the model's bound and the limits."""
        import asyncio

        if not self.request.synthesize:
            return
        from briefing.structured import adrive
        from briefing.summarize import Gate, first_error
        from briefing.synthesis import SynthesisResult

        gate = Gate(self.llm)

        async def one(section: Section) -> None:
            async with gate:
                reason = self._synthesis_stop(section, limits)
                if reason is not None:
                    result = SynthesisResult(section.region, None, error=reason)
                else:
                    result = await attempt(section)
            self._apply_synthesis(briefing, section, result, limits)

        async def attempt(section: Section) -> SynthesisResult:
            plan = self._synthesis_plan(briefing, section)
            timeout = asyncio.timeout(limits.remaining() if limits else None)
            try:
                async with timeout:
                    return await adrive(self.llm, plan)
            except ProviderError as e:
                return SynthesisResult(section.region, None, error=str(e))
            except TimeoutError:
                if not timeout.expired() or limits is None:
                    raise
                reason = limits.deadline_reason(in_flight=True).replace(
                    "not finished", "not written"
                )
                return SynthesisResult(section.region, None, error=reason)

        try:
            async with asyncio.TaskGroup() as group:
                for section in briefing.sections:
                    group.create_task(one(section))
        except BaseExceptionGroup as errors:
            raise first_error(errors) from None
        self._stamp_synthesis(briefing)

    @staticmethod
    def _apply_synthesis(
        briefing: Briefing, section: Section, result: SynthesisResult, limits: RunLimits | None
    ) -> None:
        from briefing.synthesis import apply

        if limits is not None:
            limits.spend(result.usage)
        if result.error:
            log.warning("no synthesis for %s: %s", section.region.value, result.error)
        apply(briefing, section, result)

    def _stamp_synthesis(self, briefing: Briefing) -> None:
        from briefing.synthesis import TEMPLATES

        briefing.synthesis_prompt_version = self.prompts.combined_version(TEMPLATES)

    # -- interrupts -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _interruptible(self, total: int, *, brief: bool) -> Iterator[None]:
        """Turn Ctrl-C / SIGTERM during a run into ``Interrupted`` saying what was kept."""
        self.total = total
        self.kept = 0
        try:
            yield
        except KeyboardInterrupt:
            done = f"{self.kept} of {self.total} articles summarized"
            if self._cache is None:
                kept = "not kept (--no-cache)"
            else:
                kept = (
                    f"kept in the cache ({self._cache.path}): run the same command again to resume"
                )
            tail = " No brief was written." if brief else ""
            raise Interrupted(f"interrupted: {done}, {kept}.{tail}") from None


# --------------------------------------------------------------------------- writing


def write_outputs(briefing: Briefing, outputs: Outputs) -> tuple[str | None, list[Path]]:
    """Write the brief where ``outputs`` says (each file atomically); the Markdown to
    print (``None`` when it was written to a file or not wanted) and the paths written."""
    from briefing.render import render_html, render_json, render_markdown, render_pdf, write_atomic

    template_dir = outputs.template_dir
    printed = None
    if outputs.markdown is not None or outputs.print_markdown:
        markdown = render_markdown(briefing, template_dir=template_dir)
        if outputs.markdown is None:
            printed = markdown
        else:
            write_atomic(outputs.markdown, markdown)
    if outputs.html is not None:
        write_atomic(outputs.html, render_html(briefing, template_dir=template_dir))
    if outputs.json is not None:
        write_atomic(outputs.json, render_json(briefing))
    if outputs.pdf is not None:
        write_atomic(outputs.pdf, render_pdf(briefing, template_dir=template_dir))
    return printed, outputs.paths


def with_request(request: BriefRequest, **changes: object) -> BriefRequest:
    """``request`` with ``changes`` (``dataclasses.replace``, re-validated)."""
    return replace(request, **changes)  # type: ignore[arg-type]
