"""Lexical support: how much of a claim's wording the source holds, as features for the scorer.

Two views of a claim against the source, both over content-word stems (stopwords and
numbers dropped, light stemming: "killed"/"kills" -> "kill", demonyms folded to their
country: "Iraqi" -> "iraq"; case does not matter, so lower-cased text reads the same):

* **support** (:func:`support_score`), ROUGE-style, against given evidence sentences
  (a key point's cited sentences; else the two that match best, :func:`best_evidence`)::

      support = 0.5 * unigram recall + 0.5 * bigram recall

* the **features** of :func:`claim_features`, which the calibrated scorer
  (``briefing.grounding.scorer``) weighs: besides ``support``,

  ============  ===============================================================
  uni_doc       share of the claim's stems found anywhere in the source
  bi_doc        share of its adjacent stem pairs found anywhere in the source
  novel         how many of its stems the source never uses ("the oil tanker":
                "oil" and "tanker" in a claim about a gas field)
  top3          share of its stems in the 3 sentences sharing most of them
  novel_top3    how many of its stems those 3 sentences lack (content words
                added to what one passage says: facts stitched across the text)
  n_stems       its number of distinct stems (long claims carry more risk)
  copied        share of its words in fragments copied from the source (runs of
                words as in the source, found greedily left to right; lower case)
  longest       the longest copied fragment, as a share of its words
  passages      from how many sentences its fragments of 3+ words come
  ============  ===============================================================

  An abstractive paraphrase (XSum-style) copies little but uses the source's words;
  an unfaithful one brings words the source lacks or stitches fragments of several
  sentences together.

In Chinese, Japanese, Thai and the other scripts written without spaces the "stems"
are overlapping character bigrams (``briefing.words``): the same features then measure
shared two-letter units. A claim's novel *words* there are its spans of bigrams the
source lacks that hold a new word, not the single new bigram where a paraphrase joins
two known words (:func:`novel_words`); with no capitals to tell names from words, the
brief treats them as it treats an unknown name (``briefing.grounding.check``). The
scorer's weights were fitted on English; on the Japanese, Chinese and Thai claims of
``tests/test_ingest_languages.py`` copies and light paraphrases of a sentence score
0.4-0.85 and pass, and what decides a changed name or figure is the exact checks.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable, Set
from typing import TYPE_CHECKING

from briefing.extractive import content_stems, content_words, words
from briefing.words import bigrams, has_unspaced, is_unspaced_unit, letters, unspaced_runs

if TYPE_CHECKING:
    from briefing.grounding.source import Source

__all__ = [
    "FEATURES",
    "SUPPORT_THRESHOLD",
    "best_evidence",
    "claim_features",
    "novel_words",
    "passage",
    "support_score",
]

#: The old decision rule, ``support >= 0.6`` (calibrated on 96 claims about the seed
#: articles); still the rule of the synthesis paragraph (``briefing.synthesis``), whose
#: evidence is summaries, not an article.
SUPPORT_THRESHOLD = 0.6

#: The features of :func:`claim_features`, in the order the scorer's weights follow.
FEATURES = (
    "support", "uni_doc", "bi_doc", "novel", "top3", "novel_top3", "n_stems",
    "copied", "longest", "passages",
)  # fmt: skip


def support_score(claim: str, source: Source, ids: Iterable[int]) -> float:
    """ROUGE-style support of ``claim`` by the evidence sentences ``ids`` (0..1)."""
    return _Claim(content_words(claim)).support(source, ids)


class _Claim:
    """A claim's stems, its stem set and its stem pairs, computed once for many scores."""

    __slots__ = ("pairs", "stems", "unique")

    def __init__(self, stems: list[str]) -> None:
        self.stems = stems
        self.unique = set(stems)
        self.pairs = set(itertools.pairwise(stems))

    def support(self, source: Source, ids: Iterable[int]) -> float:
        """:func:`support_score` of this claim by the evidence sentences ``ids``."""
        if not self.stems:
            return 0.0
        ids = [i for i in ids if i in source.stems]
        if len(ids) == 1:
            vocab: Set[str] = source.stem_sets[ids[0]]
            pairs: Set[tuple[str, str]] = source.bigrams[ids[0]]
        else:
            vocab = set().union(*(source.stem_sets[i] for i in ids)) if ids else set()
            pairs = set().union(*(source.bigrams[i] for i in ids)) if ids else set()
        unigram = len(self.unique & vocab) / len(self.unique)
        claim_pairs = self.pairs
        bigram = len(claim_pairs & pairs) / len(claim_pairs) if claim_pairs else unigram
        return round(0.5 * unigram + 0.5 * bigram, 3)


def best_evidence(claim: str, source: Source, k: int = 2) -> list[int]:
    """The ``k`` evidence sentences sharing most content words with ``claim``: by best
    support score, then most shared stems, then first in the article.

    Only the sentences sharing a stem with the claim are scored: any other one scores 0
    and shares nothing, so it ranks after them, by id."""
    parsed = _Claim(content_words(claim))
    unique, pairs = parsed.unique, parsed.pairs
    shared = [sid for sid, stems in source.stem_sets.items() if not unique.isdisjoint(stems)]
    keys = []
    for sid in shared:  # (-parsed.support(source, [sid]), -stems shared, sid), inlined
        common = len(unique & source.stem_sets[sid])
        unigram = common / len(unique)
        bigram = len(pairs & source.bigrams[sid]) / len(pairs) if pairs else unigram
        keys.append((-round(0.5 * unigram + 0.5 * bigram, 3), -common, sid))
    ranked = [sid for _, _, sid in sorted(keys)[:k]]
    if len(ranked) < k:
        taken = set(shared)
        rest = (sid for sid in sorted(source.stems) if sid not in taken)
        ranked += itertools.islice(rest, k - len(ranked))
    return sorted(ranked)


def passage(stems: Set[str], source: Source, k: int = 3) -> list[int]:
    """The ``k`` evidence sentences sharing most of ``stems`` (ties: first in the text):
    the passage a claim draws on, wherever its words come from."""
    ranked = sorted((-len(stems & shared), sid) for sid, shared in source.stem_sets.items())
    return [sid for _, sid in ranked[:k]]


def novel_words(claim: str, source: Source) -> list[str]:
    """The claim's content words (as written) whose stems the source never uses; in
    Chinese, Japanese, Thai..., its new words (:func:`_new_unspaced_words`)."""
    vocab = source.vocabulary
    seen: dict[str, None] = {}
    for token in words(claim):
        if is_unspaced_unit(token):
            continue
        stems = content_stems([token])
        if stems and stems[0] not in vocab:
            seen.setdefault(token, None)
    if has_unspaced(claim):
        seen.update(dict.fromkeys(_new_unspaced_words(claim, source)))
    return list(seen)


#: Consecutive bigrams the source lacks that make a new word even when the source has
#: each of their letters (a two-letter word and the two junctions around it).
NEW_WORD_BIGRAMS = 3


def _new_unspaced_words(claim: str, source: Source) -> list[str]:
    """The spans of a claim's runs of unspaced script that the source lacks: runs of
    consecutive bigrams not in the source, :data:`NEW_WORD_BIGRAMS` or more long or
    with a letter the source never uses ("黒田東彦" in a claim whose source names 植田和男).

    Shorter runs of letters the source has are junctions: a paraphrase puts known words
    next to each other in a new order ("日銀は" for "日本銀行は" gives the one new bigram
    "銀は"), or adds a particle between them ("の": two)."""
    vocab = source.vocabulary
    chars = source.characters
    found: list[str] = []
    for run in unspaced_runs(unicodedata.normalize("NFKC", claim)):
        group: list[str] = []
        pairs = bigrams(run)
        for i, pair in enumerate([*pairs, None]):
            if pair is not None and pair not in vocab:
                group.append(pair)
                continue
            if group and (len(group) >= NEW_WORD_BIGRAMS or not chars.issuperset("".join(group))):
                span = letters(group[0])[:1] + [letters(g)[-1] for g in group]
                if len(group) > 1 and pair is not None:
                    span.pop()  # its last letter starts the known bigram after it
                if len(group) > 1 and i > len(group):
                    span.pop(0)  # its first letter ends the known bigram before it
                found.append("".join(span))
            group = []
    return found


def claim_features(claim: str, source: Source, ids: Iterable[int]) -> dict[str, float]:
    """The features of ``claim`` (see the module docstring); ``ids``: its evidence."""
    tokens = words(claim)
    stems = content_stems(tokens)
    parsed = _Claim(stems)
    unique, pairs = parsed.unique, parsed.pairs
    vocab = source.vocabulary
    n = len(unique)
    found = len(unique & vocab)
    uni_doc = found / n if n else 1.0
    bi_doc = len(pairs & source.all_bigrams) / len(pairs) if pairs else uni_doc
    local: set[str] = set().union(*(source.stem_sets[sid] for sid in passage(unique, source)))
    in_local = len(unique & local)
    copied, longest, passages = _fragments([t.casefold() for t in tokens], source)
    return {
        "support": parsed.support(source, ids),
        "uni_doc": uni_doc,
        "bi_doc": bi_doc,
        "novel": float(n - found),
        "top3": in_local / n if n else 1.0,
        "novel_top3": float(n - in_local),
        "n_stems": float(n),
        "copied": copied,
        "longest": longest,
        "passages": float(passages),
    }


def _fragments(claim: list[str], source: Source) -> tuple[float, float, int]:
    """(share of ``claim``'s words in copied fragments, longest fragment's share, number
    of sentences the fragments of 3+ words come from): greedy, left to right, each
    claim word starting the longest run that also occurs in the source."""
    if not claim:
        return 1.0, 1.0, 0
    flat, sentence_of, where = source.stream
    i, covered, longest = 0, 0, 0
    sentences: set[int] = set()
    n, m = len(claim), len(flat)
    while i < n:
        best, at = 0, -1
        for j in where.get(claim[i], ()):
            k = 1
            while i + k < n and j + k < m and claim[i + k] == flat[j + k]:
                k += 1
            if k > best:
                best, at = k, j
        if best:
            covered += best
            longest = max(longest, best)
            if best >= 3:
                sentences.add(sentence_of[at])
            i += best
        else:
            i += 1
    return covered / n, longest / n, len(sentences)
