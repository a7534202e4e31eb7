"""Stories: the same event from two outlets is one story; different events stay apart."""

from __future__ import annotations

import random
import sys

import pytest
from seed_brief import seed_summaries

import briefing.stories
from briefing.models import ArticleSummary, KeyPoint, Provenance, Region, SummaryOutput
from briefing.stories import (
    STORY_THRESHOLD,
    _features,
    _greedy,
    _greedy_vectorized,
    _importance,
    _text,
    group_stories,
    similarity_matrix,
    story_id,
)


def rewrite(summary: ArticleSummary, *, outlet: str, article_id: str) -> ArticleSummary:
    """The Iraq story as a second outlet would write it: same facts, other words."""
    assert summary.content is not None
    content = summary.content.model_copy(
        update={
            "headline": "Iraq fears being dragged into the Israel-Iran war",
            "summary": (
                "Analyst Sajad Jiyad said there is a sizable risk of a spillover escalation in"
                " Iraq, an ally of Iran and a partner of the United States. Pro-Iran armed"
                " groups in Iraq could target US troops if Washington backs Israel's strikes,"
                " he warned."
            ),
            "key_points": summary.content.key_points[:1],
        }
    )
    return summary.model_copy(
        update={"content": content, "outlet": outlet, "article_id": article_id}
    )


def test_threshold_is_documented() -> None:
    import briefing.stories

    assert STORY_THRESHOLD == 0.3
    assert "STORY_THRESHOLD = 0.3" in (briefing.stories.__doc__ or "")


def test_different_events_on_the_same_day_stay_apart() -> None:
    summaries = seed_summaries()
    sims = similarity_matrix(summaries)
    off_diagonal = [sims[i][j] for i in range(4) for j in range(4) if i != j]
    assert max(off_diagonal) < 0.1  # two Iraq stories, an Israel/Iran analysis, Kosovo
    groups = group_stories(summaries)
    assert len(groups) == 4 and all(len(g) == 1 for g in groups)


def test_same_event_from_two_outlets_is_one_story() -> None:
    summaries = seed_summaries()
    second = rewrite(summaries[0], outlet="Reuters", article_id="a_reuters")
    sims = similarity_matrix([summaries[0], second])
    assert sims[0][1] >= STORY_THRESHOLD + 0.05  # 0.38 alone, 0.44 among the day
    groups = group_stories([*summaries, second])
    assert len(groups) == 4
    [iraq] = [g for g in groups if len(g) == 2]
    assert {s.outlet for s in iraq} == {"AFP", "Reuters"}
    assert iraq[0].article_id == summaries[0].article_id  # the most important leads


def test_disjoint_countries_never_merge() -> None:
    summaries = seed_summaries()
    second = rewrite(summaries[0], outlet="Reuters", article_id="a_reuters")
    assert second.content is not None
    second.content.countries = ["Kosovo"]
    assert similarity_matrix([summaries[0], second])[0][1] == 0.0


def test_grouping_is_deterministic_and_ids_are_stable() -> None:
    summaries = seed_summaries()
    first = [[s.article_id for s in g] for g in group_stories(summaries)]
    again = [[s.article_id for s in g] for g in group_stories(list(reversed(summaries)))]
    assert sorted(first) == sorted(again)
    assert story_id(summaries[:2]) == story_id(summaries[1::-1])


def test_failed_summaries_are_not_stories() -> None:
    summaries = seed_summaries()
    summaries[1] = summaries[1].model_copy(update={"content": None, "status": "failed"})
    assert sum(len(g) for g in group_stories(summaries)) == 3


# -- the vectorized grouping gives the grouping by definition ------------------------------

_WORDS = [
    *["strike", "union", "wages", "talks", "ministry", "budget", "vote", "parliament"],
    *["flood", "rescue", "river", "storm", "election", "ballot", "count", "fraud", "court"],
    *["ruling", "appeal", "ceasefire", "truce", "border", "troops", "drought", "harvest"],
    *["prices", "market", "shares", "bank", "rates", "inflation", "port", "ships", "cargo"],
]
_PEOPLE = ["Amira Haddad", "John Okafor", "Lena Fischer", "Carlos Mendoza", "Awa Diop"]
_COUNTRIES = ["Iraq", "Kenya", "Germany", "Peru", "Poland", "Iran"]


def _random_summary(rng: random.Random, i: int, topics: list[list[str]]) -> ArticleSummary:
    """A summary on one of a few topics (so that some merge), with random names/countries."""
    topic = rng.choice(topics)

    def sentence() -> str:
        pool = topic if rng.random() < 0.8 else _WORDS
        return " ".join(rng.choice(pool) for _ in range(rng.randint(3, 12))).capitalize() + "."

    content = SummaryOutput(
        headline=sentence(),
        summary=" ".join(sentence() for _ in range(rng.randint(1, 3))),
        key_points=[KeyPoint(text=sentence(), sentence_ids=[1]) for _ in range(rng.randint(0, 3))],
        region=Region.GLOBAL,
        countries=rng.sample(_COUNTRIES, rng.choice([0, 0, 1, 2])),
        people=rng.sample(_PEOPLE, rng.choice([0, 0, 1, 2])),
        organizations=rng.sample(["the UN", "the central bank"], rng.choice([0, 1])),
        quotes=[],
        figures=[],
        topic="",
        importance=rng.randint(1, 5),
    )
    summary = ArticleSummary(
        article_id=f"a{i}",
        title=f"Title {i}",
        status="ok",
        content=content,
        provenance=Provenance(provider="fake", model="fake", prompt_version="1"),
    )
    if rng.random() < 0.1:  # an exact copy: similarity 1.0, ties between stories
        return summary.model_copy(update={"article_id": f"a{i}-copy"})
    return summary


def _reference_groups(
    summaries: list[ArticleSummary], threshold: float
) -> list[list[ArticleSummary]]:
    """The grouping as first written: the full similarity matrix, then the greedy pass."""
    usable = [s for s in summaries if s.content is not None]
    order = sorted(
        range(len(usable)),
        key=lambda i: (-_importance(usable[i]), -len(_text(usable[i])), i),
    )
    sims = similarity_matrix(usable)
    groups: list[list[int]] = []
    for i in order:
        best, best_score = None, threshold
        for g, members in enumerate(groups):
            score = max(sims[i][j] for j in members)
            if score >= best_score:
                best, best_score = g, score
        if best is None:
            groups.append([i])
        else:
            groups[best].append(i)
    return [[usable[i] for i in members] for members in groups]


def _ids(groups: list[list[ArticleSummary]]) -> list[list[str]]:
    return [[s.article_id for s in group] for group in groups]


@pytest.mark.parametrize("seed", range(12))
def test_grouping_equals_the_reference(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    topics = [rng.sample(_WORDS, rng.randint(3, 8)) for _ in range(rng.randint(1, 6))]
    summaries = [_random_summary(rng, i, topics) for i in range(rng.randint(1, 70))]
    for threshold in (STORY_THRESHOLD, 0.0, 0.15, 0.5, 0.9):
        expected = _ids(_reference_groups(summaries, threshold))
        assert _ids(group_stories(summaries, threshold=threshold)) == expected  # plain
        monkeypatch.setattr(briefing.stories, "VECTORIZE_FROM", 0)
        assert _ids(group_stories(summaries, threshold=threshold)) == expected  # numpy
        # every similarity recomputed exactly, or none: the same
        monkeypatch.setattr(briefing.stories, "_ROUNDING_MARGIN", 0.5)
        assert _ids(group_stories(summaries, threshold=threshold)) == expected
        monkeypatch.setattr(briefing.stories, "_ROUNDING_MARGIN", 0.0)
        assert _ids(group_stories(summaries, threshold=threshold)) == expected
        monkeypatch.undo()
    features = _features([s for s in summaries if s.content is not None])
    order = list(range(len(features)))
    assert _greedy(features, order, STORY_THRESHOLD) == _greedy_vectorized(
        features, order, STORY_THRESHOLD
    )


def test_grouping_without_numpy_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    topics = [rng.sample(_WORDS, 4) for _ in range(3)]
    summaries = [_random_summary(rng, i, topics) for i in range(40)]
    expected = _ids(group_stories(summaries))
    monkeypatch.setattr(briefing.stories, "VECTORIZE_FROM", 0)
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy -> ImportError
    assert _ids(group_stories(summaries)) == expected


def test_text_vectors_are_the_ones_stories_computed_before() -> None:
    """The TF-IDF vectors, now from ``briefing.textsim`` (shared with extractive ranking),
    are bit for bit the ones this module computed with its own copy before."""
    import math
    from collections import Counter

    from briefing.extractive import content_words
    from briefing.stories import _country_stems

    rng = random.Random(9)
    topics = [rng.sample(_WORDS, 5) for _ in range(4)]
    summaries = [_random_summary(rng, i, topics) for i in range(60)]
    skip = _country_stems()
    docs = [Counter(w for w in content_words(_text(s)) if w not in skip) for s in summaries]
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())
    expected = []
    for doc in docs:
        n = len(docs)
        vector = {w: tf * (math.log((1 + n) / (1 + df[w])) + 1) for w, tf in doc.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        expected.append({w: v / norm for w, v in vector.items()})
    assert [f.vector for f in _features(summaries)] == expected
