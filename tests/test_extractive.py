"""Extractive summaries: ranking, selection, the fallback SummaryOutput and the word helpers."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

import briefing.extractive
from briefing.extractive import (
    _textrank,
    content_words,
    extract,
    extractive_output,
    headline_from,
    passage_ids,
    passages,
    rank_sentences,
    stem,
)
from briefing.models import Article, Region, Sentence
from briefing.sentences import join_sentences
from briefing.textsim import cosine, tfidf_vectors, wordset

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
        by_id = {s.id: s.text for s in article.sentences}
        # each key point is its sentences verbatim (several: a quotation with its speaker)
        assert out.key_points and all(
            k.text == join_sentences(by_id[i] for i in k.sentence_ids) for k in out.key_points
        )
        assert all(  # one sentence, or a quotation's consecutive ones
            k.sentence_ids == list(range(k.sentence_ids[0], k.sentence_ids[-1] + 1))
            for k in out.key_points
        )
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


# -- TextRank without the graph equals TextRank over every pair of sentences --------------


def pairwise_textrank(vectors: Sequence[dict[str, float]]) -> list[float]:
    """TextRank as first written (the definition, quadratic): the cosine of every pair
    of sentences, then 20 power iterations over that matrix (damping 0.85)."""
    sim = [
        [0.0 if i == j else cosine(a, b) for j, b in enumerate(vectors)]
        for i, a in enumerate(vectors)
    ]
    n = len(sim)
    out_weight = [sum(row) or 1.0 for row in sim]
    rank = [1.0 / n] * n
    for _ in range(20):
        rank = [
            0.15 / n
            + 0.85 * sum(sim[j][i] / out_weight[j] * rank[j] for j in range(n) if sim[j][i])
            for i in range(n)
        ]
    return rank


_VOCABULARY = sorted(
    wordset("""
    flood river delta rain rescue boat family home village army road bridge dam
    minister budget vote parliament strike union wage court ruling appeal port
    """)
)


def _random_article(rng: random.Random) -> list[Sentence]:
    """Sentences on a few topics, with exact repeats, sentences of stopwords and numbers
    only (no content word: they share a placeholder term), words no other sentence has
    (no edge), and fragments too short to rank."""
    topics = [rng.sample(_VOCABULARY, rng.randint(2, 6)) for _ in range(rng.randint(1, 4))]
    texts: list[str] = []
    for _ in range(rng.randint(1, 90)):
        kind = rng.random()
        if kind < 0.1 and texts:
            texts.append(rng.choice(texts))
        elif kind < 0.2:
            texts.append("It was said that they would have been there at 12 or 14 of them.")
        elif kind < 0.3:
            texts.append(" ".join(f"solo{rng.randint(0, 10**6)}" for _ in range(7)) + ".")
        elif kind < 0.35:
            texts.append("- Photos -")
        else:
            topic = rng.choice(topics)
            pool = topic if rng.random() < 0.8 else _VOCABULARY
            words = [rng.choice(pool) for _ in range(rng.randint(6, 25))]
            texts.append(" ".join(words).capitalize() + ".")
    return [Sentence(id=i, text=t) for i, t in enumerate(texts, 1)]


@pytest.mark.parametrize("seed", range(30))
def test_textrank_equals_the_pairwise_definition(seed: int) -> None:
    rng = random.Random(seed)
    article = _random_article(rng)
    docs = [content_words(s.text) or ["\0"] for s in article]
    vectors = tfidf_vectors(docs)
    assert _textrank(vectors) == pytest.approx(pairwise_textrank(vectors), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("seed", range(30))
def test_ranking_equals_the_pairwise_ranking(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(100 + seed)
    article = _random_article(rng)
    title = rng.choice(["", "Floods in the river delta", " ".join(rng.sample(_VOCABULARY, 4))])
    exclude = set(rng.sample(range(1, len(article) + 1), min(len(article), rng.randint(0, 3))))
    ranked = rank_sentences(article, title, exclude=exclude)
    picked = extract(article, title, n=4, exclude=exclude)
    monkeypatch.setattr(briefing.extractive, "_textrank", pairwise_textrank)
    expected = rank_sentences(article, title, exclude=exclude)
    assert [s.id for s, _ in ranked] == [s.id for s, _ in expected]
    assert [score for _, score in ranked] == pytest.approx([score for _, score in expected])
    assert picked == extract(article, title, n=4, exclude=exclude)


def test_ranking_of_the_seed_articles_equals_the_pairwise_ranking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    articles = seed_articles()
    ranked = [[s.id for s, _ in rank_sentences(a.sentences, a.title)] for a in articles]
    monkeypatch.setattr(briefing.extractive, "_textrank", pairwise_textrank)
    assert ranked == [[s.id for s, _ in rank_sentences(a.sentences, a.title)] for a in articles]


def test_textrank_of_one_and_of_unlinked_sentences() -> None:
    assert _textrank([{"a": 1.0}]) == pytest.approx([0.15])
    assert _textrank([{"a": 1.0}, {"b": 1.0}]) == pytest.approx([0.075, 0.075])
    # a sentence linked to nothing keeps the teleport share; the linked pair shares the rest
    linked = _textrank([{"a": 1.0}, {"a": 0.6, "b": 0.8}, {"c": 1.0}])
    assert linked == pytest.approx(
        pairwise_textrank([{"a": 1.0}, {"a": 0.6, "b": 0.8}, {"c": 1.0}])
    )
    assert linked[2] == pytest.approx(0.05)


def test_a_quotation_over_two_sentences_is_one_passage_with_its_speaker() -> None:
    """The seed page's "'Israel is aiming for a regime collapse in Iran." was a key point:
    someone's words, with whose only in the next sentence."""
    sentences = [
        Sentence(id=1, text="Israel struck the South Pars gas field on Saturday, officials said."),
        Sentence(id=2, text="'Israel is aiming for a regime collapse in Iran."),
        Sentence(
            id=3,
            text="That is the only reason they would attack energy infrastructures,' "
            "said Shahin Modarres, an analyst.",
        ),
        Sentence(id=4, text="The strikes on Iran's energy infrastructure continued on Sunday."),
    ]
    assert [[s.id for s in unit] for unit in passages(sentences)] == [[1], [2, 3], [4]]
    picked = extract(sentences, "Israel strikes Iran's gas field", n=3)
    assert [s.id for s in picked] == [1, 2, 4]
    assert picked[1].text.startswith("'Israel is aiming")
    assert "said Shahin Modarres" in picked[1].text
    assert passage_ids(picked[1], sentences) == [2, 3]
    text = " ".join(s.text for s in sentences)
    out = extractive_output(Article(title="Israel strikes", text=text), sentences, n_points=2)
    assert out is not None
    assert [2, 3] in [k.sentence_ids for k in out.key_points] or "Modarres" in out.summary


def test_a_piece_of_a_quotation_is_a_last_resort() -> None:
    sentences = [
        Sentence(id=1, text="'Israel is aiming for a regime collapse in Iran, no doubt."),
        Sentence(id=2, text="Israel struck the South Pars gas field on Saturday, officials said."),
    ]
    # the quotation's other end is not there: the piece alone says nobody's words
    assert [[s.id for s in unit] for unit in passages(sentences)] == [[1], [2]]
    assert [s.id for s in extract(sentences, "Israel strikes", n=2)] == [2]
    assert [s.id for s in extract(sentences[:1], "Israel strikes", n=1)] == [1]
