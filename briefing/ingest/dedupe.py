"""Collapse exact and near-duplicate articles (one wire story on several sites) into one.

Two articles are the same story when their bodies share enough word 5-shingles
(lower-cased word 5-grams of the NFKC-normalized text, so full-width figures and letters
count as their plain forms; in Chinese, Japanese, Thai and the other scripts written
without spaces the "words" are overlapping character bigrams, ``briefing.words``, so a
shingle is 6 characters in a row):

* **Jaccard** ``|A & B| / |A or B| >= threshold`` (default :data:`DEFAULT_THRESHOLD` =
  0.5), or
* **containment** ``|A & B| / min(|A|, |B|) >= 0.8`` when the smaller has at least 20
  shingles: a shortened copy (the first half of the wire story) is still the story.

Calibration (see ``tests/test_dedupe.py``): with 5-shingles one changed word breaks at
most five shingles. Measured on the seed's stories: changing a random 1% / 3% / 5% / 8%
of the words leaves a Jaccard of 0.91 / 0.77 / 0.63 / 0.49, and dropping the last third
0.64 (containment 1.0); real rewrites cluster (a new lead, a new headline, a dateline)
and score higher than scattered edits. Two *different* stories on the same topic from
the same outlet (the seed's AFP and France 24 Iran/Iraq pieces) score 0.00-0.003:
they share words, almost never five in a row. 0.5 sits far from both: copies with up
to ~7% of their words changed merge, topic neighbours never do. In unspaced scripts
one changed character breaks at most six shingles: on the Japanese and Chinese wire
stories of ``tests/test_ingest_languages.py``, a second outlet's copy with small edits
in most sentences scores 0.64 (0.08 and 0.14 when whole clauses were the "words"), two
different Japanese stories on one topic (a rate rise, an economic package) 0.00.

Candidates are found through an inverted index of the shingles few articles share and
a prefix filter (a copy must share some of an article's rarer shingles), with phrases
common to many articles counted as bits (see :func:`_groups`); overlaps are exact, and
the pairs found are the ones an all-pairs comparison finds. Groups are closed
transitively. The kept article is the longest body (then the earliest
``published``, then the first given); a missing ``published`` (the earliest) or
``byline`` is filled from the others, and ``also_in`` lists every other copy's outlet,
url and source (and the copies' own ``also_in``), without repeats.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain, compress

from briefing.memo import TextStore, index_groups, memoized
from briefing.models import Article, SourceRef
from briefing.words import units

__all__ = ["DEFAULT_THRESHOLD", "dedupe", "similarity"]

#: Jaccard similarity of word 5-shingles above which two articles are one story.
DEFAULT_THRESHOLD = 0.5
#: Share of the shorter article's shingles found in the longer one that makes it a copy.
CONTAINMENT_THRESHOLD = 0.8
_MIN_CONTAINMENT_SHINGLES = 20
_SHINGLE = 5
_WORD = re.compile(r"\w+")
_FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


def _shingles(text: str) -> frozenset[int]:
    if not text.isascii():  # full-width digits and letters, ligatures: as their plain forms
        text = unicodedata.normalize("NFKC", text)
    words = units(text.lower(), _WORD)
    if len(words) < _SHINGLE:
        return frozenset([hash(tuple(words))]) if words else frozenset()
    return frozenset(map(hash, zip(*(words[k:] for k in range(_SHINGLE)), strict=False)))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the word 5-shingles of two texts (0.0 to 1.0)."""
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def _same(shared: int, size_a: int, size_b: int, threshold: float) -> bool:
    if shared / (size_a + size_b - shared) >= threshold:
        return True
    smaller = min(size_a, size_b)
    return smaller >= _MIN_CONTAINMENT_SHINGLES and shared / smaller >= CONTAINMENT_THRESHOLD


def dedupe(
    articles: list[Article], threshold: float = DEFAULT_THRESHOLD, *, store: TextStore | None = None
) -> list[Article]:
    """Merge duplicate articles; the result keeps the input order of the kept articles.

    ``threshold`` is the Jaccard similarity (of word 5-shingles) from which two bodies
    are the same story; see the module docstring for how 0.5 was chosen. ``store`` (the
    run's cache) keeps the groups of a set of bodies for the next run
    (:mod:`briefing.memo`).
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    groups = memoized(
        store,
        "dedupe",
        [repr(threshold), *(a.text for a in articles)],
        lambda: _groups([_shingles(a.text) for a in articles], threshold),
        load=lambda value: index_groups(value, len(articles)),
    )
    merged = {members[0]: _merge([articles[m] for m in members]) for members in groups}
    return [merged[i] for i in sorted(merged)]


def _min_share(threshold: float) -> float:
    """A lower bound on ``shared / |smaller set|`` for any pair that ``_same`` accepts.

    Jaccard: ``o / (a + b - o) >= t`` with ``a <= b`` gives ``o (1 + t) >= t (a + b) >=
    2 t a``, so ``o >= 2t / (1 + t) * a``; containment needs ``o >= 0.8 a``."""
    return min(2 * threshold / (1 + threshold), CONTAINMENT_THRESHOLD)


def _groups(
    shingles: Sequence[frozenset[int]], threshold: float, rare_limit: int | None = None
) -> list[list[int]]:
    """The indices of ``shingles`` grouped into stories (connected components of the
    pairs ``_same`` accepts), each group ascending, groups by their first index.

    Exact, without a Python-level comparison of all pairs. Shingles are *unique* (in one
    set: they pair nothing), *rare* (in at most ``rare_limit`` sets: an inverted index
    lists them) or *common* (boilerplate, template phrases: bits of one integer per set,
    so an overlap is one ``&`` and ``bit_count``). Each pair is looked at from its
    smaller set ``A`` only (size, then index). A pair ``_same`` accepts shares at least
    ``needed = beta * |A|`` shingles (``beta`` = :func:`_min_share`), so any ``|A| -
    needed + 1`` shingles of ``A`` include one of the partner's (a *prefix filter*):

    * ``A`` with that many unique shingles has no partner;
    * ``A`` with that many unique and rare ones shares a rare one with any partner: the
      candidates are the sets the index lists for them (real news: nearly always);
    * else every larger set is a candidate: common overlaps for all of them at once in C
      loops; then only sets whose common overlap plus ``|A|``'s rare count reach
      ``needed`` get their rare overlap counted.

    Every candidate's overlap is exact and goes through ``_same``, so the pairs found are
    exactly those an all-pairs comparison finds (``tests/test_dedupe.py`` checks it
    against brute force on random and near-duplicate sets). On the 1,000 templated
    articles of ``bench/corpus.py``, where most pairs share dozens of shingles: under
    1 s, where counting every shared shingle of every pair took about 8.
    """
    n = len(shingles)
    df: Counter[int] = Counter()
    for own in shingles:
        df.update(own)
    if rare_limit is None:  # measured: the bits and the index then cost about alike
        rare_limit = max(8, math.isqrt(n) // 2)
    rare_set = {h for h, count in df.items() if 1 < count <= rare_limit}
    bit_of = {h: b for b, h in enumerate(h for h, c in df.items() if c > rare_limit)}
    common_set = frozenset(bit_of)
    postings: dict[int, list[int]] = {h: [] for h in rare_set}
    rare: list[frozenset[int]] = []
    n_common: list[int] = []
    bits: list[int] = []
    for i, own in enumerate(shingles):
        mine = own & rare_set
        for h in mine:
            postings[h].append(i)
        rare.append(mine)
        common = own & common_set
        n_common.append(len(common))
        bits.append(_bitmask(map(bit_of.__getitem__, common)))
    beta = _min_share(threshold)
    # "smaller" is by (size, index): each pair is looked at from its smaller side only
    by_size = sorted(range(n), key=lambda i: len(shingles[i]))
    rank = [0] * n
    for r, i in enumerate(by_size):
        rank[i] = r
    sorted_bits = [bits[i] for i in by_size]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, own in enumerate(shingles):
        size = len(own)
        if not size:
            continue
        # rounded down, with slack for the float division in _same: never too few
        needed = max(1, math.floor(beta * size * (1 - 1e-9)))
        probe = size - needed + 1  # any `probe` shingles of `own` meet a partner's
        unique = size - len(rare[i]) - n_common[i]
        if unique >= probe:
            continue  # too many shingles of its own to be the smaller of a pair
        r, mine = rank[i], rare[i]
        if unique + len(mine) >= probe:  # a partner shares a rare shingle: the index
            shared = Counter(chain.from_iterable(postings[h] for h in mine))
            candidates = [j for j in shared if rank[j] > r]
            counts = [shared[j] + (bits[i] & bits[j]).bit_count() for j in candidates]
        else:  # a partner may share only common shingles: every larger set, in C loops
            larger = by_size[r + 1 :]
            in_bits = list(map(int.bit_count, map(bits[i].__and__, sorted_bits[r + 1 :])))
            # at most len(mine) rare ones more: only sets that may reach `needed` remain
            near = list(compress(range(len(in_bits)), map((needed - len(mine)).__le__, in_bits)))
            candidates = [larger[k] for k in near]
            counts = [
                in_bits[k] + len(mine & rare[j]) for k, j in zip(near, candidates, strict=True)
            ]
        for k in compress(range(len(counts)), map(needed.__le__, counts)):
            j = candidates[k]
            if _same(counts[k], size, len(shingles[j]), threshold):
                parent[find(i)] = find(j)

    groups: defaultdict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[find(i)].append(i)
    return sorted(groups.values())


def _bitmask(positions: Iterable[int]) -> int:
    """The integer whose set bits are ``positions``, in time linear in its size (a sum of
    ``1 << b`` costs the length of the sum at every term, and the powers of two of many
    common shingles take memory quadratic in their number)."""
    bits = list(positions)
    if not bits:
        return 0
    mask = bytearray((max(bits) >> 3) + 1)
    for b in bits:
        mask[b >> 3] |= 1 << (b & 7)
    return int.from_bytes(mask, "little")


def _merge(copies: list[Article]) -> Article:
    if len(copies) == 1:
        return copies[0]
    keep = min(
        range(len(copies)),
        key=lambda i: (-len(copies[i].text), _when(copies[i]), i),
    )
    kept = copies[keep]
    others = [c for i, c in enumerate(copies) if i != keep]
    own = _ref(kept)
    refs: list[SourceRef] = []
    for ref in [*kept.also_in, *(r for c in others for r in (_ref(c), *c.also_in))]:
        if ref != own and ref not in refs:
            refs.append(ref)
    dated = [_when(c) for c in copies if c.published is not None]
    return kept.model_copy(
        update={
            "also_in": refs,
            "published": kept.published or (min(dated) if dated else None),
            "byline": kept.byline or next((c.byline for c in others if c.byline), None),
        }
    )


def _when(article: Article) -> dt.datetime:
    when = article.published
    if when is None:
        return _FAR_FUTURE
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _ref(article: Article) -> SourceRef:
    return SourceRef(outlet=article.outlet, url=article.url, source=article.source)
