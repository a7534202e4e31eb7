"""Stories, not articles: group the summaries of articles about the same event.

Two verified summaries are about the same event when their **similarity** reaches
:data:`STORY_THRESHOLD`:

* **text**: the cosine of TF-IDF vectors (``briefing.textsim``) over the content-word
  stems (the stemmer and stopwords of ``briefing.extractive``) of headline, summary
  and key points, with the names of countries (and their demonyms and capitals) left
  out: countries say where, not what, and two Iraq stories of the same day share them
  without being one event. IDF is computed over the day's summaries (smoothed:
  ``ln((1 + n) / (1 + df)) + 1``).
* **names**: the Jaccard index of the people and organizations (case-folded).
  ``similarity = TEXT_WEIGHT * text + (1 - TEXT_WEIGHT) * names``, or the text
  cosine alone when neither summary names anyone.
* **countries** are a gate: two summaries that both name countries but share none are
  never one story (similarity 0).

Grouping is greedy and deterministic: summaries are taken most important first and
each joins the existing story holding its most similar summary when that similarity
reaches the threshold, else starts a new story. A story's first summary is its lead
(the one the brief shows); the others are listed as its sources. From
:data:`VECTORIZE_FROM` summaries on, each summary's similarities to all the others are
computed at once with numpy over inverted indexes (1,000 summaries: 0.3 s instead of
7 s for the pairwise loop), with the same result (see :func:`_greedy_vectorized`).

Calibration of ``STORY_THRESHOLD = 0.3`` (``tests/test_stories.py``): the four seed
articles (two different Iraq stories, an Israel/Iran analysis, Kosovo) score at most
0.06 with each other; a second outlet's rewrite of the Iraq story (same facts and
people, other words) scores 0.38 to 0.44. 0.3 leaves room on both sides; a
rewrite sharing only a third of its specific words stays apart. In Chinese, Japanese
and Thai the content words are character bigrams (``briefing.words``), and the same
threshold holds there (``tests/test_ingest_languages.py``): a Japanese summary of a
rate rise and a rewrite of it score 0.4, the rate rise and an economic package 0.04.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from briefing.extractive import content_words
from briefing.memo import TextStore, index_groups, memoized
from briefing.models import ArticleSummary
from briefing.regions import canonical_country, spellings
from briefing.textsim import cosine, tfidf_vectors

__all__ = [
    "STORY_THRESHOLD",
    "TEXT_WEIGHT",
    "Features",
    "country_keys",
    "features",
    "group_stories",
    "name_keys",
    "similarity",
    "similarity_matrix",
    "story_id",
]

#: Minimum similarity for two summaries to be one story (see the module docstring).
STORY_THRESHOLD = 0.3
#: Share of the text cosine in the similarity (the rest is entity overlap).
TEXT_WEIGHT = 0.7
#: From this many summaries on, similarities are computed with numpy (same result; below
#: it, plain Python is as fast as importing numpy).
VECTORIZE_FROM = 150


@dataclass(frozen=True)
class Features:
    """What the similarity reads of a summary (or of a stored story: ``briefing.continuity``
    compares today's stories with earlier editions' through :func:`features`)."""

    vector: dict[str, float]
    names: frozenset[str]
    countries: frozenset[str]


_Features = Features


def _text(summary: ArticleSummary) -> str:
    content = summary.content
    if content is None:
        return summary.title
    points = " ".join(k.text for k in content.key_points)
    return f"{content.headline}\n{content.summary}\n{points}"


def _names(summary: ArticleSummary) -> frozenset[str]:
    content = summary.content
    if content is None:
        return frozenset()
    return name_keys([*content.people, *content.organizations])


def _countries(summary: ArticleSummary) -> frozenset[str]:
    content = summary.content
    return country_keys(content.countries if content else [])


def name_keys(names: Iterable[str]) -> frozenset[str]:
    """People and organizations as the similarity compares them (case-folded)."""
    found = {" ".join(n.casefold().split()) for n in names}
    return frozenset(n for n in found if n)


def country_keys(names: Iterable[str]) -> frozenset[str]:
    """Countries as the similarity compares them (canonical names)."""
    return frozenset(canonical_country(n) or n.casefold() for n in names)


@lru_cache(maxsize=1)
def _country_stems() -> frozenset[str]:
    return frozenset(stem for alias in spellings() for stem in content_words(alias))


def _features(summaries: Sequence[ArticleSummary]) -> list[_Features]:
    return features([(_text(s), _names(s), _countries(s)) for s in summaries])


def features(
    docs: Sequence[tuple[str, frozenset[str], frozenset[str]]],
) -> list[Features]:
    """The features of ``(text, names, countries)`` documents (names case-folded,
    countries canonical), the IDF taken over these documents."""
    skip = _country_stems()
    terms = [[w for w in content_words(text) if w not in skip] for text, _, _ in docs]
    return [
        Features(vector, names, countries)
        for (_, names, countries), vector in zip(docs, tfidf_vectors(terms), strict=True)
    ]


def similarity(a: Features, b: Features) -> float:
    """How alike two documents are (see the module docstring): 0 when both name
    countries and share none, else the text cosine mixed with the names' Jaccard index."""
    return _similarity(a, b)


def _similarity(a: _Features, b: _Features) -> float:
    if a.countries and b.countries and not a.countries & b.countries:
        return 0.0
    text = cosine(a.vector, b.vector)
    if not a.names and not b.names:
        return text
    names = len(a.names & b.names) / len(a.names | b.names)
    return TEXT_WEIGHT * text + (1 - TEXT_WEIGHT) * names


def similarity_matrix(summaries: Sequence[ArticleSummary]) -> list[list[float]]:
    """Pairwise similarities of ``summaries`` (symmetric, 1.0 on the diagonal)."""
    features = _features(summaries)
    return [
        [1.0 if i == j else round(_similarity(a, b), 3) for j, b in enumerate(features)]
        for i, a in enumerate(features)
    ]


def _importance(summary: ArticleSummary) -> int:
    return summary.content.importance if summary.content else 0


def group_stories(
    summaries: Sequence[ArticleSummary],
    *,
    threshold: float = STORY_THRESHOLD,
    store: TextStore | None = None,
) -> list[list[ArticleSummary]]:
    """Summaries (with content) grouped by event, lead first, in first-lead order.
    ``store`` (the run's cache) keeps the grouping of a set of summaries for the next
    run (:mod:`briefing.memo`)."""
    usable = [s for s in summaries if s.content is not None]
    groups = memoized(
        store,
        "stories",
        [repr(threshold), *(_key_text(s) for s in usable)],
        lambda: _group(usable, threshold),
        load=lambda value: index_groups(value, len(usable)),
    )
    return [[usable[i] for i in members] for members in groups]


def _key_text(summary: ArticleSummary) -> str:
    """What the grouping reads of ``summary`` (its content), as a key."""
    assert summary.content is not None
    return summary.content.model_dump_json()


def _group(usable: Sequence[ArticleSummary], threshold: float) -> list[list[int]]:
    order = sorted(
        range(len(usable)),
        key=lambda i: (-_importance(usable[i]), -len(_text(usable[i])), i),
    )
    features = _features(usable)
    groups = None
    if len(features) >= VECTORIZE_FROM:
        # numpy comes with llama-cpp-python; without it, the same result, slower
        with contextlib.suppress(ImportError):
            groups = _greedy_vectorized(features, order, threshold)
    if groups is None:
        groups = _greedy(features, order, threshold)
    return groups


def _greedy(
    features: Sequence[_Features], order: Sequence[int], threshold: float
) -> list[list[int]]:
    """The grouping by definition: each summary (in ``order``) joins the story holding its
    most similar summary (similarities rounded to 3 decimals, as :func:`similarity_matrix`
    gives them; on a tie the later story) when that reaches ``threshold``."""
    groups: list[list[int]] = []
    for i in order:
        best, best_score = None, threshold
        for g, members in enumerate(groups):
            score = max(round(_similarity(features[i], features[j]), 3) for j in members)
            if score >= best_score:
                best, best_score = g, score
        if best is None:
            groups.append([i])
        else:
            groups[best].append(i)
    return groups


#: How far (in units of the third decimal) a similarity computed with numpy must be from a
#: rounding boundary to be rounded as is; nearer, it is recomputed as :func:`_similarity`
#: does. numpy sums the same products in another order: a few ulps apart, never 1e-9.
_ROUNDING_MARGIN = 1e-6


def _greedy_vectorized(
    features: Sequence[_Features], order: Sequence[int], threshold: float
) -> list[list[int]]:
    """:func:`_greedy`, with each summary's similarities to all others computed at once
    (numpy, through an inverted index of terms, names and countries: linear in the
    nonzero entries) and only each story's best one rounded. The result is the same:
    rounding is monotonic, so a story's best rounded similarity is its best similarity
    rounded; a float sum in another order is off by far less than ``_ROUNDING_MARGIN``,
    and any value that near a rounding boundary is recomputed exactly."""
    import numpy as np

    n = len(features)
    terms: dict[str, tuple[list[int], list[float]]] = {}
    names: dict[str, list[int]] = {}
    countries: dict[str, list[int]] = {}
    for j, f in enumerate(features):
        for w, v in f.vector.items():
            holders, values = terms.setdefault(w, ([], []))
            holders.append(j)
            values.append(v)
        for name in f.names:
            names.setdefault(name, []).append(j)
        for country in f.countries:
            countries.setdefault(country, []).append(j)
    term_index = {w: (np.array(d), np.array(v)) for w, (d, v) in terms.items()}
    name_index = {name: np.array(d) for name, d in names.items()}
    country_index = {country: np.array(d) for country, d in countries.items()}
    n_names = np.array([len(f.names) for f in features], dtype=np.float64)
    has_countries = np.array([bool(f.countries) for f in features])
    group_of = np.full(n, -1)
    groups: list[list[int]] = []
    for i in order:
        a = features[i]
        placed = np.flatnonzero(group_of >= 0)
        if not len(placed):
            group_of[i] = len(groups)
            groups.append([i])
            continue
        text = np.zeros(n)
        for w, v in a.vector.items():
            docs, weights = term_index[w]
            text[docs] += v * weights
        if a.names:
            shared = np.zeros(n)
            for name in a.names:
                shared[name_index[name]] += 1
            jaccard = shared / (len(a.names) + n_names - shared)
            sims = TEXT_WEIGHT * text + (1 - TEXT_WEIGHT) * jaccard
        else:
            sims = np.where(n_names > 0, TEXT_WEIGHT * text, text)  # names share 0
        if a.countries:
            meets = np.zeros(n, dtype=bool)
            for country in a.countries:
                meets[country_index[country]] = True
            sims[has_countries & ~meets] = 0.0
        best_raw = np.full(len(groups), -np.inf)
        np.maximum.at(best_raw, group_of[placed], sims[placed])
        best, best_score = None, threshold
        for g in np.flatnonzero(best_raw >= threshold - 0.001).tolist():
            raw = float(best_raw[g]) * 1000
            if abs(raw - math.floor(raw) - 0.5) < _ROUNDING_MARGIN:
                score = max(round(_similarity(a, features[j]), 3) for j in groups[g])
            else:
                score = round(float(best_raw[g]), 3)
            if score >= best_score:
                best, best_score = g, score
        if best is None:
            group_of[i] = len(groups)
            groups.append([i])
        else:
            group_of[i] = best
            groups[best].append(i)
    return groups


def story_id(summaries: Sequence[ArticleSummary]) -> str:
    """A stable id from the sources' article ids."""
    joined = "\n".join(sorted(s.article_id for s in summaries))
    return "s" + hashlib.sha256(joined.encode()).hexdigest()[:10]
