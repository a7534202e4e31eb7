"""Summarize articles: one validated ``SummaryOutput`` per article, map -> reduce when long.

Each call asks the model for JSON matching the summary schema. Invalid output gets one
repair attempt (the model sees its reply and the validation error); if it is still
invalid the article is kept as ``status="failed"`` with the reason, never dropped and
never a crash. Articles too long for one call are chunked on sentence boundaries,
each chunk summarized, and the partial summaries merged by the merge prompt.

When some chunks of a long article fail and others succeed, the summary covers the
parts that worked and is marked ``status="partial"`` with the reason: never silently
shorter.

The steps of one article are written once, as a plan (``briefing.structured``) that
yields the model calls it needs; ``summarize`` drives it with ``llm.complete`` and
``asummarize`` with ``llm.acomplete``, so ``summarize_all`` can run many articles
concurrently, under the bound the provider gives (``llm.concurrency()``), without a
second copy of the logic.
"""

from __future__ import annotations

import concurrent.futures
import logging
import sys
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from briefing.chunking import chunk_sentences, text_budget
from briefing.citations import locations
from briefing.errors import ProviderError, SummaryValidationError
from briefing.llm.base import LLM, MESSAGE_OVERHEAD_TOKENS, Completion, Message
from briefing.llm.schema import bound_sentence_ids, compact_schema, model_schema
from briefing.models import (
    Article,
    ArticleSummary,
    Provenance,
    Region,
    Sentence,
    SummaryOutput,
    SummaryStatus,
    Usage,
)
from briefing.prompts import Prompts
from briefing.sentences import ensure_sentences as ensure_sentences  # (re-exported)
from briefing.structured import Plan, adrive, ask, drive, parse_model

if TYPE_CHECKING:
    from briefing.cache import SummaryCache
    from briefing.limits import RunLimits

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_NAME = "article_summary"
#: the GIL switch interval while calls run together (see ``_summarize_concurrently``)
GIL_SWITCH_SECONDS = 0.001
#: Tokens reserved for the model's answer (the schema's caps keep answers below this).
DEFAULT_MAX_OUTPUT_TOKENS = 1536

ProgressCallback = Callable[[ArticleSummary], None]
#: (article, parts done, parts in all) as the parts of a chunked article are summarized
PartCallback = Callable[[Article, int, int], None]
#: Work done on each summary as soon as it is made (e.g. grounding it against its
#: article), before progress is reported; runs in a worker thread on the async path.
Finisher = Callable[[ArticleSummary, Article], ArticleSummary]
#: Output tokens a summary typically takes (for cost estimates before a run; the real
#: counts come from the API's usage).
EXPECTED_COMPLETION_TOKENS = 350


@dataclass
class _Result:
    output: SummaryOutput
    repaired: bool
    usage: Usage = field(default_factory=Usage)
    #: why part of a long article is missing from ``output`` (None: nothing is)
    missing: str | None = None


class Summarizer:
    """Turns articles into ``ArticleSummary`` objects with one ``LLM``."""

    def __init__(
        self,
        llm: LLM,
        prompts: Prompts | None = None,
        *,
        max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
        repair_attempts: int = 1,
    ) -> None:
        self.llm = llm
        self.prompts = prompts or Prompts()
        self.max_output_tokens = min(max_output_tokens, max(256, llm.context_window // 4))
        self.repair_attempts = repair_attempts
        self.provenance = Provenance(
            provider=llm.provider, model=llm.model, prompt_version=self.prompts.combined_version()
        )
        base_schema = model_schema(SummaryOutput)
        #: providers running small models ask for tighter caps (faster, less rambling)
        self._compact = llm.compact_output
        self._schema = compact_schema(base_schema) if self._compact else base_schema
        self._system = self.prompts.render(
            "summarize.system.j2", regions=[region.value for region in Region]
        )
        self._schema_tokens: int | None = None
        self._fingerprint: str | None = None
        self._bounded: dict[int, dict[str, object]] = {}
        #: called as each part of a long (chunked) article is done: (article, parts
        #: done, parts in all); a terminal shows it, since a 200-page report is one
        #: article that takes many calls
        self.on_part: PartCallback | None = None

    # -- public --------------------------------------------------------------------------
    def summarize(self, article: Article) -> ArticleSummary:
        """One article's summary; model or validation failures give ``status="failed"``.

        A ``ProviderError`` (server unreachable, bad key...) propagates: the caller decides
        whether one article's failure stops the run.
        """
        return drive(self.llm, self.plan(article))

    async def asummarize(self, article: Article) -> ArticleSummary:
        """``summarize`` as a coroutine (``llm.acomplete``, else ``complete`` in a thread)."""
        return await adrive(self.llm, self.plan(article))

    def estimate(self, article: Article) -> Usage:
        """The calls and tokens ``article`` should take, counted before sending anything
        (prompt tokens with the tokenizer, output tokens as a typical summary)."""
        sentences = ensure_sentences(article)
        if not sentences:
            return Usage()
        chunks = self._chunks(article, sentences)
        count = len(chunks)
        prompt = sum(
            self.llm.count_message_tokens(self._summarize_messages(article, chunk, i, count))
            for i, chunk in enumerate(chunks, 1)
        )
        calls = count
        if count > 1:  # at least one merge: the partial summaries come back as its input
            calls += 1
            prompt += self.llm.count_message_tokens(self._merge_messages(article, []))
            prompt += count * EXPECTED_COMPLETION_TOKENS
        return Usage(
            calls=calls,
            prompt_tokens=prompt + calls * self.schema_tokens,
            completion_tokens=calls * EXPECTED_COMPLETION_TOKENS,
        )

    @property
    def schema_tokens(self) -> int:
        """Tokens the response schema adds to every call where the provider bills it
        (OpenAI bills the JSON schema of structured outputs as prompt tokens)."""
        if self._schema_tokens is None:
            self._schema_tokens = self.llm.billed_schema_tokens(self._schema)
        return self._schema_tokens

    def cache_key(self, article: Article) -> str:
        """The cache key of ``article``'s summary under this model, prompts and schema."""
        from briefing.cache import cache_key, prompt_fingerprint

        if self._fingerprint is None:
            self._fingerprint = prompt_fingerprint(self.prompts)
        return cache_key(
            article,
            ensure_sentences(article),
            provider=self.llm.provider,
            model=self.llm.model,
            endpoint=self.llm.endpoint,
            prompt_fingerprint=self._fingerprint,
            schema_version=self.provenance.schema_version,
            settings={
                "max_output_tokens": self.max_output_tokens,
                "compact": self._compact,
                "repair_attempts": self.repair_attempts,
            },
        )

    def summarize_all(
        self,
        articles: Iterable[Article],
        *,
        on_summary: ProgressCallback | None = None,
        concurrency: int | None = None,
        cache: SummaryCache | None = None,
        limits: RunLimits | None = None,
        finish: Finisher | None = None,
    ) -> list[ArticleSummary]:
        """Summaries in input order. A provider failure fails that article and the run goes
        on, unless nothing has worked yet and the failure would hit every article alike
        (unreachable server, bad key, unknown model): then it is raised.

        As many articles are in flight at once as the model allows (``llm.concurrency()``:
        what the provider learned of the server, or ``concurrency``, which sets the
        model's ``requested_concurrency``); ``finish`` (e.g. grounding) then
        ``on_summary`` are called as each finishes (in completion order). With a
        ``cache``, articles summarized before by the same model, server, prompts and
        schema are taken from it without a call (``cached=True``) and each new summary is
        stored as soon as it is made (failures are not stored), so an interrupted run
        resumes where it stopped. With ``limits`` (``RunLimits``) no article starts after
        the deadline or once the spending cap would be passed, and calls in flight at the
        deadline are cancelled: those articles are kept as failed with the reason.
        """
        articles = list(articles)
        if concurrency is not None:
            self.llm.requested_concurrency = concurrency
        run = _Run(self, articles, on_summary, cache, limits, finish)
        todo = run.take_cached()
        if runs_inline(self.llm, limits) or (len(todo) <= 1 and not _cancellable(limits)):
            for index in todo:
                reason = run.stop_reason(index)
                if reason is not None:
                    summary = run.stopped(index, reason)
                else:
                    try:
                        summary = self.summarize(articles[index])
                    except ProviderError as e:
                        summary = run.provider_failure(index, e)
                run.finish(index, summary)
            return run.results()
        return run_coroutine(lambda: self._summarize_concurrently(run, todo))

    async def asummarize_all(
        self,
        articles: Iterable[Article],
        *,
        on_summary: ProgressCallback | None = None,
        concurrency: int | None = None,
        cache: SummaryCache | None = None,
        limits: RunLimits | None = None,
        finish: Finisher | None = None,
    ) -> list[ArticleSummary]:
        """``summarize_all`` for callers already inside an event loop."""
        articles = list(articles)
        if concurrency is not None:
            self.llm.requested_concurrency = concurrency
        run = _Run(self, articles, on_summary, cache, limits, finish)
        todo = run.take_cached()
        return await self._summarize_concurrently(run, todo, close=False)

    # -- concurrency ---------------------------------------------------------------------
    async def _summarize_concurrently(
        self, run: _Run, todo: list[int], *, close: bool = True
    ) -> list[ArticleSummary]:
        import asyncio

        gate = Gate(self.llm)

        async def one(index: int) -> None:
            async with gate:
                reason = run.stop_reason(index)
                if reason is not None:
                    summary = run.stopped(index, reason)
                else:
                    summary = await attempt(index)
            await run.afinish(index, summary)

        async def attempt(index: int) -> ArticleSummary:
            timeout = asyncio.timeout(run.limits.remaining() if run.limits else None)
            try:
                async with timeout:
                    return await self.asummarize(run.articles[index])
            except ProviderError as e:
                return run.provider_failure(index, e)
            except TimeoutError:
                if not timeout.expired() or run.limits is None:
                    raise
                return run.stopped(index, run.limits.deadline_reason(in_flight=True))

        switch = sys.getswitchinterval()
        # grounding runs in worker threads beside the event loop: with Python's default
        # 5 ms switch interval the loop waits up to 5 ms for the GIL after every send and
        # receive; at 1 ms it gets it back sooner (measured: about 0.15 s less for 182
        # real articles at 16 in flight); restored when the calls are done
        sys.setswitchinterval(min(switch, GIL_SWITCH_SECONDS))
        try:
            async with asyncio.TaskGroup() as group:
                for index in todo:
                    group.create_task(one(index))
        except BaseExceptionGroup as errors:
            # the first real failure (the others were cancelled because of it)
            raise first_error(errors) from None
        finally:
            sys.setswitchinterval(switch)
            if close:
                await self.llm.aclose()
        return run.results()

    # -- the steps of one article --------------------------------------------------------
    def plan(self, article: Article) -> Plan[ArticleSummary]:
        """The steps of one article's summary, as a plan (``briefing.structured``)."""
        sentences = ensure_sentences(article)
        usage = Usage()
        chunks: list[list[Sentence]] = []
        try:
            if not sentences:
                raise SummaryValidationError(
                    "the article has no text to summarize", n_attempts=0, last_completion=None
                )
            schema = self._bounded_schema(max(s.id for s in sentences))
            messages = self._summarize_messages(article, sentences, 1, 1)
            # most articles fit one call with room to spare: skip counting their tokens
            chunks = [sentences] if self._fits(messages) else self._chunks(article, sentences)
            if len(chunks) == 1:
                if chunks[0] is not sentences:
                    messages = self._summarize_messages(article, chunks[0], 1, 1)
                result = yield from self._ask(messages, schema)
            else:
                result = yield from self._map_reduce(article, chunks, schema)
            usage = result.usage
        except SummaryValidationError as e:
            log.warning("article %s failed: %s", article.id, e)
            usage = e.usage or usage  # the attempts were billed all the same
            return self._summary(article, None, "failed", usage, len(chunks) or 1, error=str(e))
        status: SummaryStatus = "repaired" if result.repaired else "ok"
        if result.missing is not None:
            status = "partial"
        return self._summary(
            article, result.output, status, usage, len(chunks), error=result.missing
        )

    # -- building blocks -----------------------------------------------------------------
    def _fits(self, messages: Sequence[Message]) -> bool:
        """True when ``messages`` surely fit the context window beside the answer: UTF-8
        bytes bound tokens from above (a byte-level BPE or byte-fallback token covers at
        least one byte), so this needs no tokenizer."""
        upper = sum(len(m.content.encode()) + MESSAGE_OVERHEAD_TOKENS for m in messages)
        return upper + MESSAGE_OVERHEAD_TOKENS + self.max_output_tokens <= self.llm.context_window

    def _bounded_schema(self, n_sentences: int) -> dict[str, object]:
        """The schema with sentence ids bounded to ``1..n_sentences`` (memoized)."""
        schema = self._bounded.get(n_sentences)
        if schema is None:
            schema = self._bounded[n_sentences] = bound_sentence_ids(self._schema, n_sentences)
        return schema

    def _chunks(self, article: Article, sentences: list[Sentence]) -> list[list[Sentence]]:
        overhead = self.llm.count_message_tokens(self._summarize_messages(article, [], 2, 2))
        budget = text_budget(self.llm.context_window, overhead, self.max_output_tokens)
        return chunk_sentences(sentences, budget, self.llm.count_tokens)

    def _summarize_messages(
        self, article: Article, sentences: Sequence[Sentence], index: int, count: int
    ) -> list[Message]:
        user = self.prompts.render(
            "summarize.user.j2",
            title=article.title,
            outlet=article.outlet,
            sentences=sentences,
            chunk_index=index,
            chunk_count=count,
        )
        return [Message("system", self._system), Message("user", user)]

    def _map_reduce(
        self, article: Article, chunks: list[list[Sentence]], schema: dict[str, object]
    ) -> Plan[_Result]:
        usage = Usage()
        parts: list[SummaryOutput] = []
        failed: list[tuple[int, str]] = []
        repaired = False
        for index, chunk in enumerate(chunks, 1):
            messages = self._summarize_messages(article, chunk, index, len(chunks))
            try:
                result = yield from self._ask(messages, schema)
            except SummaryValidationError as e:
                log.warning("article %s: part %d/%d failed: %s", article.id, index, len(chunks), e)
                usage += e.usage or Usage()
                failed.append((index, str(e)))
            else:
                parts.append(result.output)
                usage += result.usage
                repaired |= result.repaired
            if self.on_part is not None:
                self.on_part(article, index, len(chunks))
        if not parts:
            raise SummaryValidationError(
                f"all {len(chunks)} parts of the long article failed; last: {failed[-1][1]}",
                n_attempts=len(chunks),
                last_completion=None,
                usage=usage,
            )
        merged = yield from self._reduce(article, parts, schema)
        merged.usage = usage + merged.usage
        merged.repaired |= repaired
        if failed:
            which = ", ".join(str(i) for i, _ in failed)
            merged.missing = (
                f"part{'s' * (len(failed) > 1)} {which} of {len(chunks)} of the long article "
                f"could not be summarized ({failed[0][1]}); the summary covers the rest"
            )
        return merged

    def _reduce(
        self, article: Article, parts: list[SummaryOutput], schema: dict[str, object]
    ) -> Plan[_Result]:
        """Merge partial summaries, in groups that fit the context window."""
        usage = Usage()
        while len(parts) > 1:
            groups = self._merge_groups(article, parts)
            merged: list[SummaryOutput] = []
            for group in groups:
                if len(group) == 1:
                    merged.append(group[0])
                    continue
                try:
                    result = yield from self._ask(self._merge_messages(article, group), schema)
                    usage += result.usage
                    merged.append(result.output)
                except SummaryValidationError as e:
                    log.warning(
                        "article %s: merge failed (%s); merging mechanically", article.id, e
                    )
                    usage += e.usage or Usage()
                    merged.append(merge_mechanically(group))
            if len(merged) == len(parts):  # no progress possible: every group was single
                merged = [merge_mechanically(merged)]
            parts = merged
        return _Result(parts[0], repaired=False, usage=usage)

    def _merge_groups(
        self, article: Article, parts: list[SummaryOutput]
    ) -> list[list[SummaryOutput]]:
        limit = self.llm.context_window - self.max_output_tokens
        groups: list[list[SummaryOutput]] = [[]]
        for part in parts:
            candidate = [*groups[-1], part]
            too_big = (
                self.llm.count_message_tokens(self._merge_messages(article, candidate)) > limit
            )
            if groups[-1] and too_big:
                groups.append([part])
            else:
                groups[-1] = candidate
        return groups

    def _merge_messages(self, article: Article, parts: Sequence[SummaryOutput]) -> list[Message]:
        user = self.prompts.render(
            "merge.user.j2",
            title=article.title,
            outlet=article.outlet,
            parts=[p.model_dump_json() for p in parts],
        )
        return [Message("system", self._system), Message("user", user)]

    def _ask(self, messages: list[Message], schema: dict[str, object]) -> Plan[_Result]:
        """One call plus up to ``repair_attempts`` repairs; raises SummaryValidationError."""
        asked = yield from ask(
            self.prompts,
            messages,
            SummaryOutput,
            schema=schema,
            schema_name=SCHEMA_NAME,
            max_tokens=self.max_output_tokens,
            repair_attempts=self.repair_attempts,
        )
        return _Result(asked.output, repaired=asked.repaired, usage=asked.usage)

    def _summary(
        self,
        article: Article,
        output: SummaryOutput | None,
        status: SummaryStatus,
        usage: Usage,
        chunks: int,
        *,
        error: str | None = None,
    ) -> ArticleSummary:
        return ArticleSummary(
            article_id=article.id,
            title=article.title,
            outlet=article.outlet,
            url=article.url,
            source=article.source,
            published=article.published,
            status=status,
            content=output,
            error=error,
            chunks=chunks,
            provenance=self.provenance,
            usage=usage,
            language=article.language,
            locations=locations(article),
        )


def _cancellable(limits: RunLimits | None) -> bool:
    return limits is not None and limits.deadline is not None


def runs_inline(llm: LLM, limits: RunLimits | None) -> bool:
    """True when a run with ``llm`` makes its calls on the calling thread, one at a time:
    the model is fixed at one call at a time (an in-process model, or
    ``--concurrency 1``; Ctrl-C then stops it at once) and there is no deadline (only
    the async path can cancel calls in flight)."""
    one_at_a_time = llm.requested_concurrency is not None and llm.concurrency() <= 1
    return one_at_a_time and not _cancellable(limits)


class _Run:
    """The bookkeeping of one ``summarize_all``: results in input order, the cache, the
    finisher and progress callback, and whether the provider has worked yet."""

    def __init__(
        self,
        summarizer: Summarizer,
        articles: list[Article],
        on_summary: ProgressCallback | None,
        cache: SummaryCache | None,
        limits: RunLimits | None = None,
        finisher: Finisher | None = None,
    ) -> None:
        self.summarizer = summarizer
        self.articles = articles
        self.on_summary = on_summary
        self.cache = cache
        self.limits = limits
        self.finisher = finisher
        self.keys: dict[int, str] = {}
        self.done: list[ArticleSummary | None] = [None] * len(articles)
        #: a model call succeeded in this run (cache hits do not count)
        self.worked = False

    def take_cached(self) -> list[int]:
        """Fill in cache hits (finishing and reporting each); the indexes still to do."""
        todo: list[int] = []
        for index, article in enumerate(self.articles):
            if self.cache is None:
                todo.append(index)
                continue
            key = self.keys[index] = self.summarizer.cache_key(article)
            hit = self.cache.get(key)
            if hit is None:
                todo.append(index)
                continue
            self._done(index, self._finished(restamp(hit, article), article))
        return todo

    def provider_failure(self, index: int, error: ProviderError) -> ArticleSummary:
        """The failed summary for a provider error, or the error again when nothing has
        worked and it would hit every article alike."""
        if not self.worked and error.every_call:
            raise error  # the server is unreachable, the key is wrong or the model missing
        article = self.articles[index]
        return self.summarizer._summary(article, None, "failed", Usage(), 1, error=str(error))

    def stop_reason(self, index: int) -> str | None:
        """Why article ``index`` must not start (deadline passed, budget reached)."""
        if self.limits is None:
            return None
        estimate = None
        if self.limits.watches_cost:
            estimate = self.summarizer.estimate(self.articles[index])
        return self.limits.stop_reason(estimate)

    def stopped(self, index: int, reason: str) -> ArticleSummary:
        """The failed summary of an article the run's limits stopped."""
        article = self.articles[index]
        return self.summarizer._summary(article, None, "failed", Usage(), 1, error=reason)

    def _count(self, summary: ArticleSummary) -> None:
        """Count the cost of a new summary, and that the model has worked."""
        if self.limits is not None:
            self.limits.spend(summary.usage)
        if summary.ok:
            self.worked = True

    def _store(self, index: int, summary: ArticleSummary) -> None:
        """Cache a new summary (as the model made it)."""
        if summary.ok and self.cache is not None and index in self.keys:
            self.cache.put(self.keys[index], summary)

    def _keep(self, index: int, summary: ArticleSummary) -> None:
        self._count(summary)
        self._store(index, summary)

    def _store_and_finish(self, index: int, summary: ArticleSummary) -> ArticleSummary:
        self._store(index, summary)
        return self._finished(summary, self.articles[index])

    def _finished(self, summary: ArticleSummary, article: Article) -> ArticleSummary:
        return summary if self.finisher is None else self.finisher(summary, article)

    def _done(self, index: int, summary: ArticleSummary) -> None:
        self.done[index] = summary
        if self.on_summary is not None:
            self.on_summary(summary)

    def finish(self, index: int, summary: ArticleSummary) -> None:
        self._keep(index, summary)
        self._done(index, self._finished(summary, self.articles[index]))

    async def afinish(self, index: int, summary: ArticleSummary) -> None:
        """``finish`` with the cache write (a SQLite commit: 1.5 ms) and the finisher (CPU
        work) in a worker thread, so the event loop keeps sending requests meanwhile; the
        cost is counted at once (the next article's budget check sees it)."""
        import asyncio

        self._count(summary)
        summary = await asyncio.to_thread(self._store_and_finish, index, summary)
        self._done(index, summary)

    def results(self) -> list[ArticleSummary]:
        return [s for s in self.done if s is not None]


class Gate:
    """Holds back work until the model has room: at most ``llm.concurrency()`` holders
    at once (asked anew each time, since providers learn their server's capacity as a
    run goes), fewer while the rate limiter is slowed down by 429s."""

    def __init__(self, llm: LLM) -> None:
        import asyncio

        self.llm = llm
        self.active = 0
        self._cond = asyncio.Condition()

    def allowed(self) -> int:
        limit = max(1, self.llm.concurrency())
        limiter = self.llm.limiter
        return limiter.concurrency(limit) if limiter is not None else limit

    async def __aenter__(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: self.active < self.allowed())
            self.active += 1

    async def __aexit__(self, *exc: object) -> None:
        async with self._cond:
            self.active -= 1
            self._cond.notify(max(1, self.allowed() - self.active))


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first real failure of a task group (the others were cancelled because of it)."""
    import asyncio

    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return first_error(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    first: BaseException = group.exceptions[0]
    return first


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code (in a fresh thread when this thread
    already runs an event loop, e.g. in a notebook)."""
    import asyncio

    results: list[T] = []

    async def main() -> None:
        # the result is handed over outside the task: asyncio.run looks up its SIGINT
        # handler at the end, which (Python 3.11) formats the repr of the main task and
        # so of its result, a whole brief (0.15 s for 180 articles)
        results.append(await factory())

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(main())
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, main()).result()
    return results[0]


def restamp(summary: ArticleSummary, article: Article) -> ArticleSummary:
    """A cached summary as this run's: this article's metadata, no calls billed, and
    marked ``cached``."""
    return summary.model_copy(
        update={
            "article_id": article.id,
            "title": article.title,
            "outlet": article.outlet,
            "url": article.url,
            "source": article.source,
            "published": article.published,
            "language": article.language,
            "locations": locations(article),
            "usage": Usage(),
            "cached": True,
        }
    )


def parse_output(completion: Completion) -> SummaryOutput:
    """Validate a completion as ``SummaryOutput``; ``ValueError`` says what is wrong."""
    return parse_model(completion, SummaryOutput)


def merge_mechanically(parts: Sequence[SummaryOutput]) -> SummaryOutput:
    """Merge partial summaries without the model (used when the merge call fails)."""
    first = parts[0]

    def union(values: Iterable[str]) -> list[str]:
        seen: dict[str, None] = {}
        for value in values:
            seen.setdefault(value, None)
        return list(seen)

    return SummaryOutput(
        headline=first.headline,
        summary=first.summary,
        key_points=[kp for p in parts for kp in p.key_points],
        region=max((p.region for p in parts), key=[p.region for p in parts].count),
        countries=union(c for p in parts for c in p.countries),
        people=union(c for p in parts for c in p.people),
        organizations=union(c for p in parts for c in p.organizations),
        quotes=[q for p in parts for q in p.quotes],
        figures=[f for p in parts for f in p.figures],
        topic=first.topic,
        importance=max(p.importance for p in parts),
    )
