"""A deterministic brief of the four seed articles: faithful scripted model replies."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from briefing.extractive import extractive_output
from briefing.llm.base import Message
from briefing.llm.fake import FakeLLM
from briefing.models import Article, ArticleSummary
from briefing.pipeline import load, summarize_articles
from briefing.regions import countries_in_text
from briefing.sentences import ensure_sentences

ROOT = Path(__file__).resolve().parent.parent
FABRICATED = "Analysts expect a peace treaty signed in Oslo within 48 hours."


def seed_articles() -> list[Article]:
    return load([ROOT / "seeds"]).articles


def faithful_reply(article: Article, importance: int) -> dict[str, Any]:
    """A summary made of the article's own sentences, with its real countries."""
    output = extractive_output(article, ensure_sentences(article))
    assert output is not None
    data = output.model_dump(mode="json")
    data["countries"] = countries_in_text(f"{article.title}\n{article.text}")[:6]
    data["importance"] = importance
    return data


def combined(first: str, second: str) -> str:
    """Two summary lines as one sentence: what a synthesis does with its evidence (a
    line repeated as it is would be dropped as a repeat)."""
    return f"{first.rstrip('.')}, and {second[:1].lower()}{second[1:]}"


def synthesis_reply(messages: Sequence[Message]) -> str:
    """Joins the first two summary lines of the prompt into one sentence, then invents
    one sentence."""
    prompt = next(m.content for m in messages if m.content.startswith("Region:"))
    lines = re.findall(r"^- (.+)$", prompt, re.M)
    return json.dumps({"paragraph": " ".join([combined(*lines[:2]), FABRICATED])})


def seed_summaries() -> list[ArticleSummary]:
    articles = seed_articles()
    importance = {0: 4, 1: 3, 2: 2, 3: 3}
    llm = FakeLLM().enqueue(*[faithful_reply(a, importance[i]) for i, a in enumerate(articles)])
    return summarize_articles(articles, llm, concurrency=1)


def synthesis_llm(n: int = 6) -> FakeLLM:
    return FakeLLM().enqueue(*[synthesis_reply] * n)
