"""Negation and hedges: a claim may not add a negation, nor leave out one it copies past.

* **added**: a claim may not hold a negation its evidence sentences do not contain
  ("Kosovo denied the suffering..." from a sentence that denies nothing).
* **left out**: a claim that copies a passage (ROUGE-style support >= 0.6 from one
  evidence sentence) may not drop a negation or a hedge standing inside the copied span
  (from three words before its first shared word to its last): "police did not confirm
  that the minister resigned" does not support "police confirmed that the minister
  resigned", nor "traces of a material believed to be cesium" "traces of cesium". Hedges:
  "allegedly", "reportedly", "suspected", "believed", "possibly", "probably",
  "unconfirmed", "apparently".

Cues are "not" for any plain negation ("no", "not", "never", "n't", "without"...) and
the stem of a negating verb ("refused", "denied", "rejected", "failed", "cancelled",
"abandoned"). Case does not matter, and tokenised text ("did n't": the token "n't")
reads like any other.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from briefing.extractive import content_stems, stem, words
from briefing.textsim import wordset

__all__ = ["HEDGES", "added_negations", "dropped_qualifiers", "polarity_cues"]

_NEGATIONS = wordset("no not never none nobody nothing neither nor without cannot")
_NEGATING_VERBS = wordset("refus deny reject fail cancel cancell abandon")
#: Words that make a statement less than a fact; a claim may not drop them.
HEDGES = wordset("allegedly reportedly suspected believed possibly probably unconfirmed apparently")
#: How many words before the first shared word a dropped qualifier may stand ("did not win").
_LEAD = 3


def polarity_cues(text: str) -> set[str]:
    """Negations in ``text``: "not" for any plain negation, else the negating verb's stem."""
    cues = set(map(_polarity, words(text)))
    cues.discard("")
    return cues


@functools.lru_cache(maxsize=1 << 16)
def _polarity(word: str) -> str:
    """The cue one word gives (see :func:`polarity_cues`), else "" (memoised)."""
    folded = word.casefold().replace("\u2019", "'")
    if folded in _NEGATIONS or folded.endswith("n't"):
        return "not"
    stemmed = stem(word)
    return stemmed if stemmed in _NEGATING_VERBS else ""


def added_negations(claim: str, evidence_cues: Iterable[set[str]]) -> list[str]:
    """The cues of ``claim`` that none of the evidence sentences' cues contain, sorted."""
    seen: set[str] = set().union(*evidence_cues)
    return sorted(polarity_cues(claim) - seen)


def dropped_qualifiers(claim: str, evidence: Sequence[str]) -> list[str]:
    """The negations and hedges inside the span of ``evidence`` (the words of one sentence
    the claim copies from) that ``claim`` leaves out (see the module docstring)."""
    tokens = words(claim)
    stems = set(content_stems(tokens))
    kept_cues = polarity_cues(claim)
    kept_words = {t.casefold() for t in tokens}
    shared = [i for i, t in enumerate(evidence) if _stem_of(t) in stems]
    if not shared:
        return []
    dropped: dict[str, None] = {}
    for token in evidence[max(0, shared[0] - _LEAD) : shared[-1] + 1]:
        folded = token.casefold()
        cue = _polarity(token)
        if (cue and cue not in kept_cues) or (folded in HEDGES and folded not in kept_words):
            dropped.setdefault(folded, None)
    return list(dropped)


@functools.lru_cache(maxsize=1 << 16)
def _stem_of(token: str) -> str | None:
    found = content_stems([token])
    return found[0] if found else None
