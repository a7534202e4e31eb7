"""One claim against the source, and a whole summary (:func:`verify_summary`).

A claim (a headline, a summary sentence, a key point) is checked against its evidence:
the sentences it cites, or else (``ids=None``) the two source sentences that match it
best (``briefing.grounding.lexical.best_evidence``). It is **unsupported** when

* its text, or a sentence it cites, is instruction-like (``instructions``);
* it cites no sentence, or one that does not exist;
* it adds a negation its evidence lacks, or copies a passage but leaves out its
  negation or hedge ("not", "denied", "allegedly", "believed to be"...: ``polarity``);
* it holds a number the source lacks, or one its passage lacks (its evidence and the
  three sentences sharing most of its words: "14 seconds" taken from another part of
  the text; ``numbers``);
* it names someone or something the source does not (``entities``);
* or its calibrated score is below the threshold (``scorer`` over ``lexical``'s
  features: paraphrase scores well, added content words and stitched fragments do not).

Its **score** is that probability (0..1, higher = better supported); a claim that fails
one of the exact checks above scores 0. Two kinds of claim have nothing to weigh and
score 1 when the exact checks pass: a copy of a whole evidence sentence (compared like
quotes: case, punctuation and quote style aside; a copy of part of a sentence is
scored, since the part left out may be "police denied that..."), and, in ``verify``,
one with no content word ("9.": its numbers are checked). In the brief a claim with no
content word fails: a headline or key point must say something.

**Two operating points of the same checker.** ``briefing verify`` (and
:func:`verify_summary`) judge anyone's summary, balanced: the scorer's threshold was
chosen for balanced accuracy on human-labelled summaries, where faithful abstractive
sentences reuse few of the source's words. The brief (``strict=True``, what
:func:`check_text` and ``ground`` use) drops what it cannot verify and keeps the
article's own sentences as a fallback, so it asks more: besides the score, the old rule
``support >= 0.6`` from the evidence (calibrated on 96 claims about the seed articles,
mostly fabrications built from the source's own words, which the balanced threshold
lets through), and a claim bringing words the source never uses ("the **oil** tanker"
in a claim whose source says "targeted the massive South Pars gas field") needs a score
of at least ``NOVEL_WORDS_SCORE``. Chinese, Japanese and Thai have no capitals for the
name check to go by: there the brief refuses a claim with a new word at all (a span
the source lacks, ``lexical.novel_words``: "黒田東彦総裁" where the source quotes
植田和男総裁), whatever its score, since it may be a changed name.

A summary (:func:`verify_summary`) is split into sentences, each a claim with the best
evidence; it is **faithful** when every claim is supported, and its score is its
weakest claim's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from briefing.extractive import content_words
from briefing.grounding.entities import unsupported_entities
from briefing.grounding.instructions import is_instruction_like
from briefing.grounding.lexical import (
    SUPPORT_THRESHOLD,
    best_evidence,
    claim_features,
    novel_words,
    passage,
    support_score,
)
from briefing.grounding.numbers import unsupported_numbers
from briefing.grounding.polarity import added_negations, dropped_qualifiers
from briefing.grounding.quotes import quote_words
from briefing.grounding.scorer import Scorer, default_scorer
from briefing.grounding.source import Source
from briefing.models import Article
from briefing.sentences import sentence_texts
from briefing.words import has_unspaced

__all__ = [
    "NOVEL_WORDS_SCORE",
    "ClaimVerdict",
    "Verdict",
    "check_claim",
    "check_text",
    "verify_summary",
]

#: In the brief (``strict``), a claim with words the source never uses needs this score.
NOVEL_WORDS_SCORE = 0.5


@dataclass
class ClaimVerdict:
    """What the checker found about one claim."""

    text: str
    supported: bool
    #: 0..1, higher = better supported (None: not scored, e.g. instruction-like text)
    score: float | None
    #: why it is unsupported ("" when supported)
    reason: str
    #: the evidence sentence ids (cited, or the best matches)
    ids: list[int] = field(default_factory=list)
    #: the scorer's features (None when the claim was not scored)
    features: dict[str, float] | None = field(default=None, repr=False)
    #: an exact check failed (instruction, citation, negation, number, name)
    exact_failure: bool = False
    #: the claim is a copy of a whole evidence sentence (no score needed)
    verbatim: bool = False
    #: the exact checks that failed: "instruction", "citation", "negation",
    #: "qualifier" (a negation or hedge left out), "number", "number-passage", "name"
    failed: tuple[str, ...] = ()

    def to_json(self, source: Source) -> dict[str, Any]:
        """``{"text", "supported", "score", "evidence": [{"id", "text"}], "reason"}``."""
        return {
            "text": self.text,
            "supported": self.supported,
            "score": None if self.score is None else round(self.score, 4),
            "evidence": [
                {"id": i, "text": source.evidence[i].text} for i in self.ids if i in source.evidence
            ],
            "reason": self.reason,
        }


def check_claim(
    text: str,
    source: Source,
    ids: Sequence[int] | None = None,
    *,
    headline: bool = False,
    strict: bool = False,
    scorer: Scorer | None = None,
) -> ClaimVerdict:
    """Check one claim (see the module docstring); ``ids=None``: find its best evidence.

    ``strict`` (the brief's operating point, see the module docstring) also requires
    ``support >= SUPPORT_THRESHOLD`` from the evidence, and a score of at least
    ``NOVEL_WORDS_SCORE`` from a claim with words the source never uses."""
    if is_instruction_like(text):
        return ClaimVerdict(
            text,
            False,
            None,
            "instruction-like text",
            list(ids or []),
            exact_failure=True,
            failed=("instruction",),
        )
    copied = source.copies.get(tuple(quote_words(text)))
    if ids is None:
        ids = best_evidence(text, source)
        if copied is not None and copied not in ids:
            ids = sorted([copied, *ids[:1]])
    else:
        missing_ids = [i for i in ids if i not in source.sentences]
        if not ids:
            return ClaimVerdict(
                text, False, None, "cites no sentence", [], exact_failure=True, failed=("citation",)
            )
        if missing_ids:
            reason = f"cites sentence {missing_ids[0]}, which does not exist"
            return ClaimVerdict(
                text, False, None, reason, list(ids), exact_failure=True, failed=("citation",)
            )
        hostile = [i for i in ids if i in source.quarantined]
        if hostile:
            reason = f"cites instruction-like sentence {hostile[0]}"
            return ClaimVerdict(
                text, False, None, reason, list(ids), exact_failure=True, failed=("instruction",)
            )
    reasons: list[str] = []
    failed: list[str] = []
    negations = added_negations(text, (source.cues(i) for i in ids if i in source.evidence))
    if negations:
        reasons.append(f"negation not in the evidence: {', '.join(negations)}")
        failed.append("negation")
    # the evidence sentence the claim copies most from
    copied_from = max(ids, key=lambda i: (support_score(text, source, [i]), -i), default=-1)
    if (
        copied is None
        and copied_from in source.evidence
        and support_score(text, source, [copied_from]) >= SUPPORT_THRESHOLD
    ):
        dropped = dropped_qualifiers(text, source.words_of(copied_from))
        if dropped:
            reasons.append(
                f"leaves out {', '.join(dropped)} of sentence {copied_from}, which it copies"
            )
            failed.append("qualifier")
    bad_numbers = unsupported_numbers(text, source)
    if bad_numbers:
        reasons.append(f"number not in the source: {', '.join(bad_numbers)}")
        failed.append("number")
    else:
        near = sorted({*ids, *passage(set(content_words(text)), source)} & source.evidence.keys())
        allowed = set().union(*(source.sentence_numbers[i] for i in near))
        moved = unsupported_numbers(text, source, allowed)
        if moved:
            where = ", ".join(map(str, near))
            reasons.append(f"number not in the passage it draws on: {', '.join(moved)} ({where})")
            failed.append("number-passage")
    missing = unsupported_entities(text, source, headline=headline)
    if missing:
        reasons.append(f"not in the source: {', '.join(dict.fromkeys(missing))}")
        failed.append("name")
    exact = bool(reasons)

    def verdict(
        score: float, features: dict[str, float] | None = None, *, verbatim: bool = False
    ) -> ClaimVerdict:
        """The verdict as the checks so far left it (``reasons``, ``failed``)."""
        return ClaimVerdict(
            text, not reasons, score, "; ".join(reasons), list(ids), features,
            exact_failure=exact, verbatim=verbatim, failed=tuple(failed),
        )  # fmt: skip

    scorer = scorer or default_scorer()
    if copied is not None and copied in ids:  # a copy of its evidence: nothing to weigh
        return verdict(0.0 if exact else 1.0, verbatim=True)
    if not content_words(text):
        if headline or strict:
            reasons.append("no content word to verify")
        return verdict(0.0 if reasons else 1.0)
    features = claim_features(text, source, ids)
    score = scorer.probability(features)
    cited = ", ".join(str(i) for i in ids) or "none"
    novel = novel_words(text, source)
    if score < scorer.threshold:
        detail = f"score {score:.2f} < {scorer.threshold:.2f} (sentences {cited})"
        if novel:
            detail += f"; words not in the source: {', '.join(novel[:6])}"
        reasons.append(detail)
    elif strict:
        if features["support"] < SUPPORT_THRESHOLD:
            reasons.append(
                f"support {features['support']:.2f} < {SUPPORT_THRESHOLD} (sentences {cited})"
            )
        unspaced = [w for w in novel if has_unspaced(w)]
        if unspaced:  # no capitals there to tell a name from a word: any may be a name
            reasons.append(f"words not in the source: {', '.join(unspaced[:6])}")
        elif novel and score < NOVEL_WORDS_SCORE:
            reasons.append(
                f"words not in the source: {', '.join(novel[:6])} "
                f"(score {score:.2f} < {NOVEL_WORDS_SCORE})"
            )
    return verdict(0.0 if exact else score, features)


def check_text(
    text: str, source: Source, ids: Sequence[int] | None, *, headline: bool = False
) -> tuple[bool, float | None, str, list[int]]:
    """The brief's check (:func:`check_claim` with ``strict=True``) as a tuple:
    (supported?, score, reason, evidence ids)."""
    verdict = check_claim(text, source, ids, headline=headline, strict=True)
    return verdict.supported, verdict.score, verdict.reason, verdict.ids


@dataclass
class Verdict:
    """A summary checked against its source, claim by claim."""

    faithful: bool
    #: 0..1, the weakest claim's score (1.0 for a summary with no claim)
    score: float
    claims: list[ClaimVerdict]
    source: Source

    def to_json(self, id: Any = None) -> dict[str, Any]:
        """``{"id", "faithful", "score", "claims": [...]}`` (see ``briefing verify``)."""
        return {
            "id": id,
            "faithful": self.faithful,
            "score": round(self.score, 4),
            "claims": [c.to_json(self.source) for c in self.claims],
        }


def verify_summary(
    doc: str | Article | Source, summary: str, *, scorer: Scorer | None = None
) -> Verdict:
    """Check every sentence of ``summary`` against ``doc`` (text, an Article or a Source)."""
    if isinstance(doc, Source):
        source = doc
    elif isinstance(doc, Article):
        from briefing.sentences import ensure_sentences

        source = Source.of(doc, ensure_sentences(doc))
    else:
        source = Source.from_text(doc)
    claims = [
        check_claim(sentence, source, None, scorer=scorer)
        for sentence in (sentence_texts(summary) or ([summary] if summary.strip() else []))
    ]
    scores = [0.0 if c.score is None else c.score for c in claims]
    return Verdict(
        faithful=all(c.supported for c in claims),
        score=min(scores, default=1.0),
        claims=claims,
        source=source,
    )
