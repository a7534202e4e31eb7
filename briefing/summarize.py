"""Summarize articles: one validated ``SummaryOutput`` per article, map -> reduce when long.

Each call asks the model for JSON matching the summary schema. Invalid output gets one
repair attempt (the model sees its reply and the validation error); if it is still
invalid the article is kept as ``status="failed"`` with the reason, never dropped and
never a crash. Articles too long for one call are chunked on sentence boundaries,
each chunk summarized, and the partial summaries merged by the merge prompt.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from briefing.chunking import chunk_sentences, text_budget
from briefing.errors import ProviderError, SummaryValidationError
from briefing.llm.base import LLM, Completion, Message
from briefing.llm.schema import bound_sentence_ids, model_schema
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

log = logging.getLogger(__name__)

SCHEMA_NAME = "article_summary"
#: Tokens reserved for the model's answer (the schema's caps keep answers below this).
DEFAULT_MAX_OUTPUT_TOKENS = 1536
_FENCE_RE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)

ProgressCallback = Callable[[ArticleSummary], None]
#: Provider failures that will fail every article alike (None: no HTTP answer at all).
_FATAL_STATUSES = (None, 401, 403, 404)


def ensure_sentences(article: Article) -> list[Sentence]:
    """The article's sentences, splitting its text if ingestion did not."""
    if article.sentences:
        return article.sentences
    from briefing.ingest.sentences import split_sentences

    return split_sentences(article.text, article.language)


@dataclass
class _Result:
    output: SummaryOutput
    repaired: bool
    usage: Usage = field(default_factory=Usage)


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
        self._system = self.prompts.render(
            "summarize.system.j2", regions=[region.value for region in Region]
        )

    # -- public --------------------------------------------------------------------------
    def summarize(self, article: Article) -> ArticleSummary:
        """One article's summary; model or validation failures give ``status="failed"``.

        A ``ProviderError`` (server unreachable, bad key...) propagates: the caller decides
        whether one article's failure stops the run.
        """
        sentences = ensure_sentences(article)
        usage = Usage()
        chunks: list[list[Sentence]] = []
        try:
            if not sentences:
                raise SummaryValidationError(
                    "the article has no text to summarize", n_attempts=0, last_completion=None
                )
            schema = bound_sentence_ids(model_schema(SummaryOutput), max(s.id for s in sentences))
            chunks = self._chunks(article, sentences)
            if len(chunks) == 1:
                result = self._ask(self._summarize_messages(article, chunks[0], 1, 1), schema)
            else:
                result = self._map_reduce(article, chunks, schema)
            usage = result.usage
        except SummaryValidationError as e:
            log.warning("article %s failed: %s", article.id, e)
            return self._summary(article, None, "failed", usage, len(chunks) or 1, error=str(e))
        status: SummaryStatus = "repaired" if result.repaired else "ok"
        return self._summary(article, result.output, status, usage, len(chunks))

    def summarize_all(
        self, articles: Iterable[Article], *, on_summary: ProgressCallback | None = None
    ) -> list[ArticleSummary]:
        """Summaries in input order. A provider failure fails that article and the run goes
        on, unless nothing has worked yet and the failure would hit every article alike
        (unreachable server, bad key, unknown model): then it is raised."""
        results: list[ArticleSummary] = []
        for article in articles:
            try:
                summary = self.summarize(article)
            except ProviderError as e:
                nothing_worked = not any(r.ok for r in results)
                if nothing_worked and e.status_code in _FATAL_STATUSES:
                    raise  # the server is unreachable, the key is wrong or the model missing
                summary = self._summary(article, None, "failed", Usage(), 1, error=str(e))
            results.append(summary)
            if on_summary is not None:
                on_summary(summary)
        return results

    # -- building blocks -----------------------------------------------------------------
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
    ) -> _Result:
        usage = Usage()
        parts: list[SummaryOutput] = []
        repaired = False
        for index, chunk in enumerate(chunks, 1):
            messages = self._summarize_messages(article, chunk, index, len(chunks))
            try:
                result = self._ask(messages, schema)
            except SummaryValidationError as e:
                log.warning("article %s: part %d/%d failed: %s", article.id, index, len(chunks), e)
                continue
            parts.append(result.output)
            usage += result.usage
            repaired |= result.repaired
        if not parts:
            raise SummaryValidationError(
                f"all {len(chunks)} parts of the long article failed",
                n_attempts=len(chunks),
                last_completion=None,
            )
        merged = self._reduce(article, parts, schema)
        merged.usage = usage + merged.usage
        merged.repaired |= repaired
        return merged

    def _reduce(
        self, article: Article, parts: list[SummaryOutput], schema: dict[str, object]
    ) -> _Result:
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
                    result = self._ask(self._merge_messages(article, group), schema)
                    usage += result.usage
                    merged.append(result.output)
                except SummaryValidationError as e:
                    log.warning(
                        "article %s: merge failed (%s); merging mechanically", article.id, e
                    )
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

    def _ask(self, messages: list[Message], schema: dict[str, object]) -> _Result:
        """One call plus up to ``repair_attempts`` repairs; raises SummaryValidationError."""
        usage = Usage()
        attempts = 0
        while True:
            attempts += 1
            completion = self.llm.complete(
                messages, schema=schema, schema_name=SCHEMA_NAME, max_tokens=self.max_output_tokens
            )
            usage += completion.usage
            try:
                output = parse_output(completion)
                return _Result(output, repaired=attempts > 1, usage=usage)
            except ValueError as e:
                problem = str(e)
            if attempts > self.repair_attempts:
                raise SummaryValidationError(
                    f"the model's answer was invalid after {attempts} attempts: {problem}",
                    n_attempts=attempts,
                    last_completion=completion.text,
                )
            log.info("invalid model output (%s); asking for a repair", problem)
            repair = self.prompts.render("repair.user.j2", error=problem)
            messages = [
                *messages,
                Message("assistant", completion.text[:4000]),
                Message("user", repair),
            ]

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
        )


def parse_output(completion: Completion) -> SummaryOutput:
    """Validate a completion as ``SummaryOutput``; ``ValueError`` says what is wrong."""
    if completion.finish_reason == "refusal":
        raise ValueError("the model refused to answer")
    text = completion.text.strip()
    if not text:
        raise ValueError("the answer was empty")
    text = _FENCE_RE.sub("", text)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        cut = " (it was cut off: the answer hit the token limit)" if completion.truncated else ""
        raise ValueError(f"the answer holds no JSON object{cut}")
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError as e:
        cut = "; it was cut off at the token limit, write less" if completion.truncated else ""
        raise ValueError(f"invalid JSON ({e.msg} at position {e.pos}){cut}") from None
    try:
        return SummaryOutput.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'object'}: {err['msg']}"
            for err in e.errors()[:4]
        )
        raise ValueError(problems) from None


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
