"""The whole job as library calls: inputs -> articles -> summaries -> Briefing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from briefing.compose import compose
from briefing.errors import InputError
from briefing.llm.base import LLM
from briefing.models import Article, ArticleSummary, Briefing
from briefing.prompts import Prompts
from briefing.summarize import ProgressCallback, Summarizer


@dataclass
class InputProblem:
    """An input that could not be read (the run goes on without it)."""

    source: str
    message: str


@dataclass
class Loaded:
    articles: list[Article]
    problems: list[InputProblem] = field(default_factory=list)


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
        """True when some input or article could not be used."""
        return bool(self.briefing.failed or self.loaded.problems)


def summarize_articles(
    articles: Sequence[Article],
    llm: LLM,
    *,
    prompts: Prompts | None = None,
    on_summary: ProgressCallback | None = None,
) -> list[ArticleSummary]:
    """Summaries of ``articles`` in order (failed ones carry ``status="failed"``)."""
    return Summarizer(llm, prompts).summarize_all(articles, on_summary=on_summary)


def make_brief(
    loaded: Loaded,
    llm: LLM,
    *,
    prompts: Prompts | None = None,
    date: dt.date | None = None,
    on_summary: ProgressCallback | None = None,
) -> BriefRun:
    """Summarize loaded articles and compose them into a Briefing."""
    summaries = summarize_articles(loaded.articles, llm, prompts=prompts, on_summary=on_summary)
    return BriefRun(compose(summaries, date=date), summaries, loaded)
