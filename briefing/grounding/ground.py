"""``ground``: verify a model's summary against its article and keep only what holds.

:func:`ground` takes an ``ArticleSummary`` and its ``Article`` and returns a new summary
whose ``content`` holds only verified claims, with a ``GroundingReport`` saying what was
checked and done, and an extractive fallback when too little survives. Each kind of
claim goes to its own check: the headline, each summary sentence and each key point to
``check.check_claim`` (key points against the sentences they cite), quotes to
``quotes``, figures to ``figures``, the name lists to ``entities.name_ok``; the region
and topic labels are checked here.

* **region**: the model's region must hold at least half as many of the source's
  country mentions as the best region (``Global`` always passes, and so does any
  region when the source names no country); otherwise it is corrected to the best.
* **topic**: must be a plain label (known topic words or words from the source).

**What happens to unsupported claims** (``unsupported="drop"`` by default, or
``"flag"``): dropped, or moved to ``ArticleSummary.flagged`` for display marked
unverified; either way ``content`` keeps only verified claims. Labels are never flagged:
an unsupported headline is replaced by the article's title, a wrong region corrected,
an unsupported topic removed.

**Extractive fallback**: when the model's output failed validation, or verification
leaves no summary sentence and fewer than 2 key points, the headline, summary and key
points are taken from the article (``briefing.extractive``) and the status becomes
``"extractive"``; verified quotes, figures and names are kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from briefing.extractive import extractive_output, stem, words
from briefing.grounding.check import check_claim
from briefing.grounding.entities import name_ok
from briefing.grounding.figures import check_figure
from briefing.grounding.instructions import is_instruction_like
from briefing.grounding.quotes import check_quote
from briefing.grounding.scorer import THRESHOLD
from briefing.grounding.source import Source
from briefing.models import (
    Article,
    ArticleSummary,
    ClaimAction,
    ClaimCheck,
    ClaimKind,
    Figure,
    GroundingReport,
    KeyPoint,
    Quote,
    Region,
    SummaryOutput,
    UnsupportedPolicy,
)
from briefing.regions import country_mentions, counts_by_region
from briefing.sentences import ensure_sentences, sentence_texts
from briefing.textsim import wordset

__all__ = ["MIN_KEY_POINTS", "ground"]

#: Fallback when fewer than this many key points and no summary sentence survive.
MIN_KEY_POINTS = 2

# --------------------------------------------------------------------------- topic

_TOPICS = wordset("""
    conflict war politics political economy economic justice security diplomacy diplomatic
    health climate environment disaster energy migration refugees humanitarian rights human
    technology tech sport sports culture science business trade education religion crime
    elections election society social water transport finance financial military defence
    defense terrorism agriculture law legal labour labor media world international
    international relations foreign policy nuclear weapons protest protests government
    courts accountability gender history aviation weather infrastructure housing food
    """)


def _topic_ok(topic: str, source: Source) -> bool:
    tokens = words(topic)
    if not tokens or len(tokens) > 4 or is_instruction_like(topic):
        return False
    if all(t.casefold() in _TOPICS for t in tokens):
        return True
    vocab = set().union(*source.stem_sets.values())
    return all(t.casefold() in _TOPICS or stem(t) in vocab for t in tokens)


# --------------------------------------------------------------------------- ground


@dataclass
class _Run:
    source: Source
    policy: UnsupportedPolicy
    claims: list[ClaimCheck] = field(default_factory=list)

    def record(
        self,
        kind: ClaimKind,
        text: str,
        supported: bool,
        *,
        score: float | None = None,
        reason: str = "",
        ids: Sequence[int] = (),
        action: ClaimAction | None = None,
        exact: bool = False,
    ) -> bool:
        if action is None:
            action = "kept" if supported else ("dropped" if self.policy == "drop" else "flagged")
        self.claims.append(
            ClaimCheck(
                kind=kind,
                text=text,
                supported=supported,
                score=score,
                reason=reason,
                action=action,
                sentence_ids=list(ids),
                exact=exact,
            )
        )
        return supported


def _check_region(run: _Run, region: Region) -> Region:
    # = region_counts(f"{title}\n{text}"): no spelling spans a line break
    counts = counts_by_region(country_mentions(run.source.title) + run.source.mentions)
    if region == Region.GLOBAL or not counts:
        reason = "global story" if region == Region.GLOBAL else "the source names no country"
        run.record("region", region.value, True, reason=reason)
        return region
    order = list(Region)
    best = max(counts, key=lambda r: (counts[r], -order.index(r)))
    if counts[region] * 2 >= counts[best]:
        run.record("region", region.value, True, score=counts[region] / counts[best])
        return region
    named = ", ".join(f"{r.value} {n}" for r, n in counts.most_common(3))
    run.record(
        "region",
        region.value,
        False,
        score=counts[region] / counts[best],
        reason=f"contradicts the countries named (mentions: {named}); corrected to {best.value}",
        action="corrected",
    )
    return best


def _verify(run: _Run, content: SummaryOutput, title: str) -> tuple[SummaryOutput, int, int]:
    """The verified content, number of summary sentences kept, and of key points kept."""
    source = run.source
    # headline
    v = check_claim(content.headline, source, None, headline=True, strict=True)
    headline = content.headline
    if not run.record(
        "headline",
        content.headline,
        v.supported,
        score=v.score,
        reason=v.reason,
        ids=v.ids,
        action=None if v.supported else "replaced",
        exact=v.exact_failure,
    ):
        headline = " ".join(title.split()) or headline
    # summary, sentence by sentence
    kept_sentences: list[str] = []
    for sentence in sentence_texts(content.summary):
        v = check_claim(sentence, source, None, strict=True)
        if run.record(
            "summary", sentence, v.supported, score=v.score, reason=v.reason, ids=v.ids,
            exact=v.exact_failure,
        ):  # fmt: skip
            kept_sentences.append(sentence)
    # key points
    points: list[KeyPoint] = []
    for point in content.key_points:
        v = check_claim(point.text, source, point.sentence_ids, strict=True)
        if run.record(
            "key_point", point.text, v.supported, score=v.score, reason=v.reason, ids=v.ids,
            exact=v.exact_failure,
        ):  # fmt: skip
            points.append(point)
    # quotes
    quotes: list[Quote] = []
    seen_quotes: set[tuple[str, str]] = set()
    for quote in content.quotes:
        key = (quote.speaker.casefold(), " ".join(words(quote.text)).casefold())
        if key in seen_quotes:  # a small model repeats itself
            continue
        seen_quotes.add(key)
        ok, reason, ids = check_quote(quote, source)
        label = f"{quote.speaker}: \u201c{quote.text}\u201d"
        if run.record("quote", label, ok, reason=reason, ids=ids):
            quotes.append(quote)
    # figures
    figures: list[Figure] = []
    for figure in content.figures:
        ok, reason = check_figure(figure, source)
        label = f"{figure.value} \u2014 {figure.what}"
        if run.record("figure", label, ok, reason=reason, ids=[figure.sentence_id]):
            figures.append(figure)
    # names
    lists: dict[str, list[str]] = {}
    kinds: tuple[ClaimKind, ...] = ("country", "person", "organization")
    for kind in kinds:
        field_name = {"country": "countries", "person": "people"}.get(kind, "organizations")
        kept: list[str] = []
        for name in cast(list[str], getattr(content, field_name)):
            ok = name_ok(name, source, country_list=kind == "country")
            reason = "" if ok else "not named in the source"
            if run.record(kind, name, ok, reason=reason):
                kept.append(name)
        lists[field_name] = kept
    region = _check_region(run, content.region)
    topic = content.topic
    if topic and not _topic_ok(topic, source):
        run.record("topic", topic, False, reason="not a plain topic label", action="dropped")
        topic = ""
    verified = content.model_copy(
        update={
            "headline": headline,
            "summary": " ".join(kept_sentences),
            "key_points": points,
            "quotes": quotes,
            "figures": figures,
            "region": region,
            "topic": topic,
            **lists,
        }
    )
    return verified, len(kept_sentences), len(points)


def _report(run: _Run, *, extractive: bool, reason: str | None) -> GroundingReport:
    actions = Counter(c.action for c in run.claims)
    return GroundingReport(
        checked=len(run.claims),
        supported=sum(c.supported for c in run.claims),
        dropped=actions["dropped"],
        flagged=actions["flagged"],
        replaced=actions["replaced"] + actions["corrected"],
        extractive=extractive,
        extractive_reason=reason,
        unsupported=run.policy,
        threshold=THRESHOLD,
        claims=run.claims,
    )


def ground(
    summary: ArticleSummary, article: Article, *, unsupported: str = "drop"
) -> ArticleSummary:
    """Verify ``summary`` against ``article``; a new summary with only verified content.

    ``unsupported``: ``"drop"`` (default) removes claims that fail verification,
    ``"flag"`` moves them to ``flagged`` to be shown marked as unverified.
    """
    if unsupported not in ("drop", "flag"):
        raise ValueError(f"unsupported must be 'drop' or 'flag', not {unsupported!r}")
    policy = cast(UnsupportedPolicy, unsupported)
    sentences = ensure_sentences(article)
    source = Source.of(article, sentences)
    run = _Run(source, policy)
    base: SummaryOutput | None = None
    fallback_reason: str | None = None
    if summary.content is None:
        fallback_reason = "the model's output could not be used" + (
            f" ({summary.error})" if summary.error else ""
        )
    else:
        base, n_sentences, n_points = _verify(run, summary.content, article.title)
        if n_sentences == 0 and n_points < MIN_KEY_POINTS:
            fallback_reason = (
                f"verification left no summary sentence and {n_points} key point"
                f"{'' if n_points == 1 else 's'}"
            )
    flagged = [c for c in run.claims if c.action == "flagged"]
    if fallback_reason is None:
        return summary.model_copy(
            update={
                "content": base,
                "grounding": _report(run, extractive=False, reason=None),
                "flagged": flagged,
            }
        )
    fallback = extractive_output(article, sentences, base=base, exclude=source.quarantined)
    if fallback is None:  # nothing usable in the source either
        return summary.model_copy(
            update={
                "content": None,
                "status": "failed",
                "error": summary.error or fallback_reason,
                "grounding": _report(run, extractive=False, reason=fallback_reason),
                "flagged": flagged,
            }
        )
    return summary.model_copy(
        update={
            "content": fallback,
            "status": "extractive",
            "grounding": _report(run, extractive=True, reason=fallback_reason),
            "flagged": flagged,
        }
    )
