"""Extractive summaries: ranking, selection, the fallback SummaryOutput and the word helpers."""

from __future__ import annotations

import json
import time
from pathlib import Path

from briefing.extractive import (
    content_words,
    extract,
    extractive_output,
    headline_from,
    rank_sentences,
    stem,
)
from briefing.models import Article, Region, Sentence

DATA = Path(__file__).parent / "data" / "grounding"


def seed_articles() -> list[Article]:
    rows = json.loads((DATA / "seed_articles.json").read_text(encoding="utf-8"))["articles"]
    return [Article.model_validate(row) for row in rows]


def sentences(*texts: str) -> list[Sentence]:
    return [Sentence(id=i, text=t) for i, t in enumerate(texts, 1)]


STORY = sentences(
    "Floods in the river delta forced thousands of families to leave their homes on Monday.",
    "The floods followed three days of heavy rain across the delta region.",
    "Rescue teams used boats to reach families stranded by the floods in the delta.",
    "- Photos -",
    "A local football club postponed its weekend match against a rival team.",
    "Officials said the floods in the delta were the worst in a decade for families there.",
)


def test_central_lead_sentences_rank_first_and_fragments_never() -> None:
    ranked = rank_sentences(STORY, "Floods force families from homes in the delta")
    ids = [s.id for s, _ in ranked]
    assert 4 not in ids  # "- Photos -": too short to stand alone
    assert ids[0] == 1
    assert ids[-1] == 5  # off-topic
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)


def test_extract_keeps_article_order_and_skips_near_duplicates() -> None:
    dup = [*STORY, Sentence(id=7, text=STORY[0].text.replace("Monday", "Monday morning"))]
    picked = extract(dup, "Floods in the delta", n=3)
    assert [s.id for s in picked] == sorted(s.id for s in picked)
    assert not {1, 7} <= {s.id for s in picked}
    assert len(picked) == 3


def test_excluded_sentences_are_never_picked() -> None:
    picked = extract(STORY, "Floods", n=5, exclude={1, 2})
    assert {s.id for s in picked}.isdisjoint({1, 2})


def test_extractive_output_is_made_of_the_source() -> None:
    for article in seed_articles():
        out = extractive_output(article, article.sentences)
        assert out is not None
        texts = {s.text for s in article.sentences}
        assert out.headline == article.title
        assert sum(text in out.summary for text in texts) == 2
        assert out.key_points and all(k.text in texts for k in out.key_points)
        assert all(len(k.sentence_ids) == 1 for k in out.key_points)
        assert out.region in (Region.MIDDLE_EAST, Region.EUROPE)
        assert out.countries


def test_extractive_output_of_nothing_is_none() -> None:
    article = Article(title="Short", text="Too short.", sentences=sentences("Too short."))
    assert extractive_output(article, article.sentences) is None


def test_headline_from_title_or_first_sentence() -> None:
    assert headline_from("  A   title ", STORY) == "A title"
    long = headline_from("", sentences("word " * 60))
    assert len(long) <= 120 and long.endswith("\u2026")


def test_stems_and_content_words() -> None:
    assert stem("killed") == stem("kills") == stem("killing") == "kill"
    assert stem("Iraqi") == stem("Iraq") == "iraq"
    assert stem("US") == "united states"
    assert content_words("The 76,000 pilgrims said they were twenty-four hours away") == [
        "pilgrim",
        "hour",
        "away",
    ]


def test_ranking_is_fast() -> None:
    article = seed_articles()[1]  # 45 sentences
    started = time.perf_counter()
    for _ in range(2):
        rank_sentences(article.sentences, article.title)
    assert (time.perf_counter() - started) / 2 < 0.2
