"""Timings of the steps that read every sentence of an article, on long articles (issue 14).

    .venv/bin/python bench/long_articles.py [--sizes 463 2000 5000] [--before]
                                            [--before-max 2000]

Two kinds of text, cut to exactly the number of sentences asked for:

* generated: the news-like templates of ``bench/corpus.py``, articles concatenated;
* real: the hand-checked article bodies of the development corpus
  (``../shared/devcorpus/extraction/ground-truth.json``, field ``articleBody``), read at
  run time, concatenated in key order (the 81 bodies hold about 3,100 sentences; they
  repeat to reach 5,000).

For each size it times sentence splitting, extractive ranking, grounding a model-like
summary of the article (claims citing its last sentences, a made-up quote, which is
looked for through the whole text), grounding a failed summary (the extractive
fallback), dedupe of the article beside two copies of it and the 81 real bodies, dedupe
of twelve copies of it (their shingles are the "common" ones), and story grouping of a
day of 181 summaries with the article's. With ``--before`` it also times the pairwise
TextRank that ranking used before (sizes up to ``--before-max``: 5,000 sentences take
minutes) and compares the picks: the share of the top-k sentences both rankings
choose, and of the extractive summaries that are the same, on every real article alone
and on the long ones.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from briefing.models import (  # noqa: E402
    Article,
    ArticleSummary,
    Provenance,
    Sentence,
    SummaryOutput,
)

DEVCORPUS = ROOT.parent / "shared" / "devcorpus" / "extraction" / "ground-truth.json"
PROVENANCE = Provenance(provider="bench", model="none", prompt_version="bench")
T = TypeVar("T")


def real_bodies() -> list[str]:
    if not DEVCORPUS.is_file():
        sys.exit(
            f"real article bodies not found: {DEVCORPUS}\n"
            "(the development corpus sits beside the project in ../shared/devcorpus/; "
            "run with --generated-only to time generated text alone)"
        )
    rows = json.loads(DEVCORPUS.read_text(encoding="utf-8"))
    return [rows[key]["articleBody"] for key in sorted(rows)]


def generated_bodies(n: int = 120) -> list[str]:
    from corpus import make_articles

    return [body for _, body in make_articles(n, seed=14)]


def long_article(bodies: Sequence[str], n_sentences: int, name: str) -> Article:
    """The bodies concatenated (repeated if need be) and cut to ``n_sentences``."""
    from briefing.ingest.sentences import split_sentences

    sentences: list[Sentence] = []
    i = 0
    while len(sentences) < n_sentences:
        for s in split_sentences(bodies[i % len(bodies)]):
            sentences.append(Sentence(id=len(sentences) + 1, text=s.text))
        i += 1
    sentences = sentences[:n_sentences]
    text = "\n\n".join(s.text for s in sentences)
    title = f"{name} article of {n_sentences} sentences: {sentences[0].text[:60]}"
    return Article(title=title, text=text, outlet=name, sentences=sentences)


def model_like_summary(article: Article) -> ArticleSummary:
    """Claims citing the article's last sentences (found or not only at the end), an
    invented key point, a real and a made-up quote, a figure if the end has a number."""
    from briefing.extractive import words
    from briefing.grounding import numbers_in

    late = [s for s in article.sentences[-300:] if len(words(s.text)) >= 12]
    quote = " ".join(words(late[3].text)[2:10])
    figures = [
        {"value": raw, "what": " ".join(words(s.text)[:6]), "sentence_id": s.id}
        for s in late
        for raw, _ in numbers_in(s.text)[:1]
    ][:1]
    data: dict[str, Any] = {
        "headline": late[0].text[:110],
        "summary": f"{late[1].text} {late[2].text}",
        "key_points": [
            {"text": late[4].text, "sentence_ids": [late[4].id]},
            {"text": "The Zorblax Federation invaded the capital.", "sentence_ids": [5]},
        ],
        "region": "Global",
        "countries": [],
        "people": ["Zorblax Quint"],
        "organizations": [],
        "quotes": [
            {"speaker": "an official", "text": quote},
            {"speaker": "an official", "text": "we never said anything like this at all"},
        ],
        "figures": figures,
        "topic": "politics",
        "importance": 3,
    }
    return _summary(article, data)


def _summary(article: Article, data: dict[str, Any] | None) -> ArticleSummary:
    return ArticleSummary(
        article_id=article.id,
        title=article.title,
        outlet=article.outlet,
        status="ok" if data else "failed",
        content=SummaryOutput.model_validate(data) if data else None,
        error=None if data else "bench: no model",
        provenance=PROVENANCE,
    )


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def day_of_summaries(real: Sequence[str], generated: Sequence[str]) -> list[ArticleSummary]:
    """181 summaries: extractive ones of the 81 real bodies and of 100 generated ones."""
    from briefing.extractive import extractive_output
    from briefing.ingest.sentences import split_sentences

    summaries = []
    for body in [*real, *generated[:100]]:
        sentences = split_sentences(body)
        article = Article(title=sentences[0].text[:100], text=body, sentences=sentences)
        output = extractive_output(article, sentences)
        if output is not None:
            summaries.append(
                ArticleSummary(
                    article_id=article.id,
                    title=article.title,
                    status="extractive",
                    content=output,
                    provenance=PROVENANCE,
                )
            )
    return summaries


def time_steps(
    article: Article, real: Sequence[str], day: Sequence[ArticleSummary]
) -> dict[str, float]:
    from briefing.extractive import rank_sentences
    from briefing.grounding import ground
    from briefing.ingest.dedupe import dedupe
    from briefing.ingest.sentences import split_sentences
    from briefing.stories import group_stories

    times: dict[str, float] = {}
    times["split"], _ = timed(lambda: split_sentences(article.text))
    times["rank"], _ = timed(lambda: rank_sentences(article.sentences, article.title))
    times["ground"], grounded = timed(lambda: ground(model_like_summary(article), article))
    times["fallback"], _ = timed(lambda: ground(_summary(article, None), article))
    rng = random.Random(3)
    edited = " ".join(w if rng.random() > 0.02 else "edited" for w in article.text.split(" "))
    copies = [
        article.model_copy(update={"text": edited, "sentences": []}),
        article.model_copy(update={"text": article.text[: len(article.text) // 2]}),
    ]
    others = [Article(title=f"real {i}", text=body) for i, body in enumerate(real)]
    times["dedupe"], _ = timed(lambda: dedupe([article, *copies, *others]))
    twelve = [article.model_copy(update={"text": f"{article.text} ({i})"}) for i in range(12)]
    times["dedupe x12"], _ = timed(lambda: dedupe(twelve))
    times["stories"], _ = timed(lambda: group_stories([grounded, *day]))
    return times


# -- before / after: the pairwise TextRank ranking used before issue 14 ------------------------


def pairwise_ranking(
    sentences: Sequence[Sentence], title: str, n: int = 4
) -> tuple[list[int], list[int]]:
    """(ids best first, extractive picks) with the pairwise TextRank of before."""
    from test_extractive import pairwise_textrank

    import briefing.extractive as extractive

    current = extractive._textrank
    extractive._textrank = pairwise_textrank
    try:
        return _ranking(sentences, title, n)
    finally:
        extractive._textrank = current


def _ranking(sentences: Sequence[Sentence], title: str, n: int = 4) -> tuple[list[int], list[int]]:
    from briefing.extractive import extract, rank_sentences

    ranked = [s.id for s, _ in rank_sentences(sentences, title)]
    return ranked, [s.id for s in extract(sentences, title, n=n)]


def agreement(
    pairs: Sequence[tuple[tuple[list[int], list[int]], tuple[list[int], list[int]]]],
) -> str:
    """Mean share of the top-k ids both rankings hold, and share of identical picks."""
    parts = []
    for k in (1, 3, 5, 10):
        shares = [
            len(set(old[:k]) & set(new[:k])) / min(k, len(old))
            for (old, _), (new, _) in pairs
            if old
        ]
        parts.append(f"top-{k} {sum(shares) / len(shares):.3f}")
    same = sum(old_pick == new_pick for (_, old_pick), (_, new_pick) in pairs)
    order = sum(old == new for (old, _), (new, _) in pairs)
    return (
        f"{', '.join(parts)}; extractive picks identical {same}/{len(pairs)}; "
        f"whole ranking identical {order}/{len(pairs)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[463, 2000, 5000])
    parser.add_argument("--before", action="store_true", help="time the pairwise ranking too")
    parser.add_argument("--before-max", type=int, default=2000)
    parser.add_argument("--generated-only", action="store_true")
    args = parser.parse_args()

    generated = generated_bodies()
    real = [] if args.generated_only else real_bodies()
    kinds = (
        {"generated": generated} if args.generated_only else {"real": real, "generated": generated}
    )
    day = day_of_summaries(real, generated)
    warm_up = long_article(generated, 60, "warm-up")  # imports, memoised stems
    time_steps(warm_up, real[:3] or generated[:3], day[:3])

    steps = ["split", "rank", "ground", "fallback", "dedupe", "dedupe x12", "stories"]
    header = f"{'text':<10} {'sentences':>9} " + " ".join(f"{s:>10}" for s in steps)
    print(f"seconds per step ({len(day)} summaries in the day's story grouping)")
    print(header + (f" {'rank before':>11}" if args.before else ""))
    comparisons = []
    for kind, bodies in kinds.items():
        for size in args.sizes:
            article = long_article(bodies, size, kind)
            times = time_steps(article, real or generated, day)
            line = f"{kind:<10} {size:>9} " + " ".join(f"{times[s]:>10.3f}" for s in steps)
            if args.before and size <= args.before_max:
                title = article.title
                before, old = timed(partial(pairwise_ranking, article.sentences, title))
                comparisons.append((old, _ranking(article.sentences, title)))
                line += f" {before:>11.2f}"
            print(line, flush=True)
    if args.before:
        from briefing.ingest.sentences import split_sentences

        singles = []
        for body in real:
            sentences = split_sentences(body)
            title, rest = sentences[0].text, sentences[1:]
            singles.append((pairwise_ranking(rest, title), _ranking(rest, title)))
        print(f"pairwise vs. new ranking, {len(singles)} real articles: {agreement(singles)}")
        print(f"pairwise vs. new ranking, long articles: {agreement(comparisons)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
