"""The judge's round of a run (``--verify-with MODEL``): a second opinion on every
grounded summary's claims from a capable model, combined with the lexical checks
(:mod:`briefing.judge`).

It runs after the summaries and before the brief is composed: one call per article
(all its claims at once), every article at once up to the judge's concurrency, each
call under the run's deadline and spending cap (the judge's tokens are priced at the
judge model's price). Answers are cached (an unchanged rerun makes no judge call). A
judge that fails for an article leaves that article's lexical verdicts as they were,
and the brief is still written; the report says how many articles went unjudged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from briefing.errors import ProviderError
from briefing.models import Article, ArticleSummary, Usage

if TYPE_CHECKING:
    from briefing.cache import SummaryCache
    from briefing.judge import JudgeResult
    from briefing.limits import RunLimits
    from briefing.llm.base import LLM
    from briefing.models import JudgeReport
    from briefing.prompts import Prompts
    from briefing.structured import Plan
    from briefing.usage import Price

log = logging.getLogger(__name__)


@dataclass
class JudgeRound:
    """What the judge's round did."""

    model: str
    usage: Usage = field(default_factory=Usage)
    #: articles whose claims the judge answered on (from the cache or a call)
    judged: int = 0
    #: claims the judge turned from supported to not, and the other way
    rejected: int = 0
    overturned: int = 0
    #: articles left with their lexical verdicts, and why
    unjudged: dict[str, str] = field(default_factory=dict)
    cost_usd: float | None = None


class Judge:
    """The judge's round over a run's grounded summaries."""

    def __init__(
        self,
        llm: LLM,
        *,
        prompts: Prompts | None = None,
        cache: SummaryCache | None = None,
        limits: RunLimits | None = None,
        price: Price | None = None,
    ) -> None:
        self.llm = llm
        self.prompts = prompts
        self.cache = cache
        self.limits = limits
        self.price = price
        self.round = JudgeRound(model=llm.model)

    # -- one article -----------------------------------------------------------------------
    def _plan(self, summary: ArticleSummary, article: Article) -> Plan[JudgeResult]:
        from briefing.judge import judge_summary_plan

        return judge_summary_plan(
            self.llm, summary, article, prompts=self.prompts, cache=self.cache
        )

    def _stop(self, summary: ArticleSummary, article: Article) -> str | None:
        """Why this article's judge call must not start (deadline, spending cap)."""
        if self.limits is None:
            return None
        estimate = None
        if self.limits.max_cost is not None:
            from briefing.judge import Claim, judgeable
            from briefing.judge import estimate as judge_estimate

            report = summary.grounding
            claims = [
                Claim(report.claims[i].text, tuple(report.claims[i].sentence_ids))
                for i in judgeable(summary)
            ] if report else []  # fmt: skip
            sentences = {0: article.title, **{s.id: s.text for s in article.sentences}}
            estimate = judge_estimate(self.llm, claims, sentences, prompts=self.prompts)
        reason = self.limits.stop_reason(estimate, price=self.price)
        return None if reason is None else reason.replace("not summarized", "not judged", 1)

    def _apply(
        self, summary: ArticleSummary, article: Article, result: JudgeResult
    ) -> ArticleSummary:
        from briefing.judge import apply_verdicts

        self.round.usage = self.round.usage + result.usage
        if self.limits is not None and self.price is not None:  # (an unknown price: uncounted)
            self.limits.spend(result.usage, price=self.price)
        if result.error:
            self.round.unjudged[summary.article_id] = result.error
            return summary
        if not result.verdicts:
            return summary  # nothing to judge (an extractive summary, no claims)
        self.round.judged += 1
        judged = apply_verdicts(summary, article, result)
        self._count(summary, judged)
        return judged

    def _count(self, before: ArticleSummary, after: ArticleSummary) -> None:
        was, now = before.grounding, after.grounding
        if was is None or now is None:
            return
        for old, new in zip(was.claims, now.claims, strict=False):
            if old.supported and not new.supported:
                self.round.rejected += 1
            elif new.supported and not old.supported:
                self.round.overturned += 1

    def _skip(self, summary: ArticleSummary) -> bool:
        return summary.content is None or summary.grounding is None

    # -- the round -------------------------------------------------------------------------
    def review(
        self, summaries: Sequence[ArticleSummary], articles: Mapping[str, Article]
    ) -> list[ArticleSummary]:
        """Every summary judged, one call at a time (the inline path)."""
        from briefing.structured import drive

        out = []
        for summary in summaries:
            article = articles.get(summary.article_id)
            if article is None or self._skip(summary):
                out.append(summary)
                continue
            reason = self._stop(summary, article)
            if reason is not None:
                self.round.unjudged[summary.article_id] = reason
                out.append(summary)
                continue
            try:
                result = drive(self.llm, self._plan(summary, article))
            except ProviderError as e:
                result = self._failed(e)
            out.append(self._apply(summary, article, result))
        return self._done(out)

    async def areview(
        self, summaries: Sequence[ArticleSummary], articles: Mapping[str, Article]
    ) -> list[ArticleSummary]:
        """Every summary judged, as many at once as the judge takes."""
        from briefing.structured import adrive
        from briefing.summarize import Gate, first_error

        gate = Gate(self.llm)
        out = list(summaries)

        async def one(index: int, summary: ArticleSummary, article: Article) -> None:
            async with gate:
                reason = self._stop(summary, article)
                if reason is not None:
                    self.round.unjudged[summary.article_id] = reason
                    return
                timeout = asyncio.timeout(self.limits.remaining() if self.limits else None)
                try:
                    async with timeout:
                        result = await adrive(self.llm, self._plan(summary, article))
                except ProviderError as e:
                    result = self._failed(e)
                except TimeoutError:
                    if not timeout.expired() or self.limits is None:
                        raise
                    self.round.unjudged[summary.article_id] = "not judged: the --deadline passed"
                    return
            out[index] = self._apply(summary, article, result)

        try:
            async with asyncio.TaskGroup() as group:
                for index, summary in enumerate(summaries):
                    article = articles.get(summary.article_id)
                    if article is not None and not self._skip(summary):
                        group.create_task(one(index, summary, article))
        except BaseExceptionGroup as errors:
            raise first_error(errors) from None
        return self._done(out)

    def report(self) -> JudgeReport:
        """The round for the run report."""
        from briefing.models import JudgeReport

        r = self.round
        return JudgeReport(
            model=r.model,
            calls=r.usage.calls,
            prompt_tokens=r.usage.prompt_tokens,
            completion_tokens=r.usage.completion_tokens,
            cost_usd=r.cost_usd,
            judged=r.judged,
            rejected=r.rejected,
            overturned=r.overturned,
            unjudged=len(r.unjudged),
        )

    def _failed(self, error: ProviderError) -> JudgeResult:
        from briefing.judge import JudgeResult

        log.warning("no verdicts from the judge: %s", error)
        return JudgeResult([], model=self.llm.model, error=str(error))

    def _done(self, summaries: list[ArticleSummary]) -> list[ArticleSummary]:
        from briefing.usage import cost_usd

        self.round.cost_usd = cost_usd(self.round.usage, self.price)
        if self.round.unjudged:
            first = next(iter(self.round.unjudged.values()))
            log.warning(
                "the judge left %d article(s) with the lexical checks only; first: %s",
                len(self.round.unjudged),
                first,
            )
        return summaries
