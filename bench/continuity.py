"""How well editions' story matching tells the same event from a different one, on real
article pairs.

The extraction dev corpus (``../shared/devcorpus/extraction``, read through
``bench/realcorpus.py``) holds 81 real pages from a few days of November 2019, and
among them the same events told by different outlets and a story followed up: the
Doobie Brothers' reunion tour (Billboard, Rolling Stone), "feather duvet lung"
(Gizmodo, Live Science), plague in China (the New York Post's hunter, then the
Smithsonian's "three cases"), South Dakota's "Meth. We're on it." campaign (USA Today,
the Spokesman-Review). Those four pairs are the positives, labelled by hand below by
their URLs. Pairs on one subject that are not one event (two impeachment hearings,
Stadia's launch and a piece on game subscriptions, Apple deal roundups, a Nigerian
senate sitting's two stories...) are listed as *related*: reported, not counted. Every
other pair is a negative -- including the hard ones: one site's two posts, two hockey
games the same night, two car stories.

Each article is summarised as a run with no usable model output summarises it (the
extractive summary: headline, two sentences, two key points, countries; no people or
organizations), kept as an edition keeps a story, and every pair is scored with the
similarity continuity uses (``briefing.continuity.compare``: TF-IDF cosine with the
IDF over all the stories, countries as a gate). The bench prints the positives' scores,
the highest negatives, and precision and recall at ``CONTINUITY_THRESHOLD`` and at
``STORY_THRESHOLD`` (same-day grouping).

    python bench/continuity.py [--corpus DIR] [--top N]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
for _path in (_REPO, _REPO / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from realcorpus import CorpusMissing, RealArticle, load_real  # noqa: E402

from briefing.continuity import CONTINUITY_THRESHOLD, _doc  # noqa: E402
from briefing.editions import EditionStory  # noqa: E402
from briefing.extractive import extractive_output  # noqa: E402
from briefing.ingest.text import make_article  # noqa: E402
from briefing.stories import STORY_THRESHOLD, features, similarity  # noqa: E402

#: one event told twice (URL fragments identify the pages)
SAME_EVENT = [
    ("billboard.com/articles/news/8544119", "rollingstone.com/music/music-news/doobie"),
    ("gizmodo.com/a-man-developed-feather-duvet", "livescience.com/feather-duvet-lung"),
    ("nypost.com/2019/11/18/chinese-hunter", "smithsonianmag.com/smart-news/three-cases-plague"),
    ("usatoday.com/story/news/nation/2019/11/19/meth", "spokesman.com/stories/2019/nov/19/meth"),
]
#: one subject, not one event: neither counted as a match nor as a miss
RELATED = [
    ("cbsnews.com/news/impeachment-hearings", "ap.org/berkshireeagle/article"),
    ("cbsnews.com/news/impeachment-hearings", "nytimes.com/2019/11/19/opinion/republicans"),
    ("ap.org/berkshireeagle/article", "nytimes.com/2019/11/19/opinion/republicans"),
    ("ap.org/berkshireeagle/article", "snopes.com/fact-check/marie-yovanovitch"),
    ("cbsnews.com/news/impeachment-hearings", "snopes.com/fact-check/marie-yovanovitch"),
    ("wsj.com/articles/google-stadia", "hollywoodreporter.com/news/google-bets-future"),
    ("9to5mac.com/2019/11/18/macbook-deals", "bgr.com/2019/11/19/apple-black-friday"),
    ("9to5mac.com/2019/11/18/macbook-deals", "9to5mac.com/2019/11/18/techy-gift-guide"),
    ("macrumors.com/2019/11/18/13-inch-macbook-pro", "gizmodo.com/so-this-is-the-future"),
]


def _find(articles: list[RealArticle], fragment: str) -> int:
    hits = [i for i, a in enumerate(articles) if fragment in a.url]
    if len(hits) != 1:
        raise SystemExit(f"bench/continuity.py: {len(hits)} pages match {fragment!r}")
    return hits[0]


def _story(i: int, article: RealArticle) -> EditionStory | None:
    made = make_article(title=article.title, body=article.body, source=article.key)
    output = extractive_output(made, made.sentences)
    if output is None:
        return None
    return EditionStory(
        id=f"s{i}",
        headline=output.headline,
        region=output.region,
        summary=output.summary,
        key_points=output.key_points,
        countries=output.countries,
    )


def _pairs(labels: list[tuple[str, str]], articles: list[RealArticle]) -> set[tuple[int, int]]:
    found = set()
    for a, b in labels:
        i, j = sorted((_find(articles, a), _find(articles, b)))
        found.add((i, j))
    return found


def _rates(
    scores: dict[tuple[int, int], float], positives: set[tuple[int, int]], threshold: float
) -> tuple[float, float, int]:
    matched = {p for p, s in scores.items() if s >= threshold}
    true = len(matched & positives)
    precision = true / len(matched) if matched else 1.0
    return precision, true / len(positives), len(matched - positives)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--top", type=int, default=8, help="how many negatives to list")
    args = parser.parse_args(argv)
    try:
        articles = load_real(args.corpus)
    except CorpusMissing as e:
        print(f"bench/continuity.py: {e}", file=sys.stderr)
        return 2
    positives = _pairs(SAME_EVENT, articles)
    related = _pairs(RELATED, articles)
    stories = {i: s for i, a in enumerate(articles) if (s := _story(i, a)) is not None}
    order = sorted(stories)
    feats = dict(zip(order, features([_doc(stories[i]) for i in order]), strict=True))
    scores = {(i, j): similarity(feats[i], feats[j]) for i, j in itertools.combinations(order, 2)}
    counted = {p: s for p, s in scores.items() if p not in related}

    def name(i: int) -> str:
        return articles[i].title[:60]

    print(
        f"{len(stories)} real articles, {len(counted)} pairs scored "
        f"({len(positives)} same event, {len(related)} related left out)\n"
    )
    print("same event:")
    for i, j in sorted(positives, key=lambda p: -scores[p]):
        print(f"  {scores[(i, j)]:.3f}  {name(i)}  |  {name(j)}")
    print("related (not counted):")
    for i, j in sorted(related, key=lambda p: -scores[p]):
        print(f"  {scores[(i, j)]:.3f}  {name(i)}  |  {name(j)}")
    print(f"highest {args.top} different-event pairs:")
    negatives = sorted((p for p in counted if p not in positives), key=lambda p: -scores[p])
    for i, j in negatives[: args.top]:
        print(f"  {scores[(i, j)]:.3f}  {name(i)}  |  {name(j)}")
    print()
    lowest_positive = min(scores[p] for p in positives)
    highest_negative = scores[negatives[0]] if negatives else 0.0
    print(
        f"lowest same-event score {lowest_positive:.3f}; "
        f"highest different-event score {highest_negative:.3f}"
    )
    for label, threshold in (("continuity", CONTINUITY_THRESHOLD), ("same-day", STORY_THRESHOLD)):
        precision, recall, false = _rates(counted, positives, threshold)
        print(
            f"{label} threshold {threshold:.2f}: precision {precision:.2f}, "
            f"recall {recall:.2f} ({false} different-event pairs matched)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
