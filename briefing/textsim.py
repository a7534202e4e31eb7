"""Word-level text helpers shared across stages: word lists, TF-IDF vectors and their cosine.

* :func:`wordset`: a word list written as one string (stopwords, abbreviations...).
* :func:`tfidf_vectors`: one L2-normalised TF-IDF vector per document (a list of terms),
  with ``tf`` the term's count in the document and a smoothed IDF over the documents
  given, ``ln((1 + n) / (1 + df)) + 1``; a document with no terms gets an empty vector.
  :func:`idf` and :func:`tfidf_vector` are its two halves, for a caller that needs the
  vectors of only a few of the documents.
* :func:`cosine`: the dot product of two such vectors (their cosine similarity).

Used by extractive ranking (``briefing.extractive``), story grouping
(``briefing.stories``), grounding and ingest. Plain Python, nothing to import: the
modules that need numpy import it themselves, when they need it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = ["cosine", "idf", "tfidf_vector", "tfidf_vectors", "wordset"]


def wordset(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``, as a set."""
    return frozenset(text.split())


def tfidf_vectors(docs: Sequence[Iterable[str]]) -> list[dict[str, float]]:
    """One L2-normalised TF-IDF vector (term -> weight) per document of ``docs``."""
    counts = [Counter(doc) for doc in docs]
    weights = idf(counts)
    return [_normalised(tf, weights) for tf in counts]


def idf(docs: Sequence[Iterable[str]]) -> dict[str, float]:
    """The smoothed IDF of each term of ``docs``: ``ln((1 + n) / (1 + df)) + 1``."""
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    n = len(docs)
    return {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}


def tfidf_vector(doc: Iterable[str], weights: dict[str, float]) -> dict[str, float]:
    """The L2-normalised TF-IDF vector of one document, given the IDF of its terms."""
    return _normalised(Counter(doc), weights)


def _normalised(tf: Counter[str], weights: dict[str, float]) -> dict[str, float]:
    vector = {t: c * weights[t] for t, c in tf.items()}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {t: v / norm for t, v in vector.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """The cosine similarity of two vectors of :func:`tfidf_vectors`."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())
