"""Tests of near-duplicate detection, with the threshold calibrated on the seed's stories."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from briefing.ingest.dedupe import (
    DEFAULT_THRESHOLD,
    _bitmask,
    _groups,
    _same,
    _shingles,
    dedupe,
    similarity,
)
from briefing.ingest.text import make_article, parse_text_page
from briefing.models import Article, SourceRef

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_69d1e78211fb2cff.txt"
REF = dt.datetime(2025, 6, 17, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def stories() -> list[Article]:
    """Four different stories on one topic (Iran, Iraq, Israel), three from one outlet."""
    return parse_text_page(SEED.read_text(encoding="utf-8"), source="seed", reference_time=REF)


def _copy(article: Article, body: str, **fields: object) -> Article:
    values: dict[str, object] = {"title": article.title, "body": body, "source": "copy.html"}
    values.update(fields)
    return make_article(**values)  # type: ignore[arg-type]


def _edit(text: str, rate: float, seed: int = 7) -> str:
    """Change ``rate`` of the words, scattered at random (the worst case for shingles)."""
    rng = random.Random(seed)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), int(len(words) * rate)):
        words[i] = words[i].upper() + "x"
    return " ".join(words)


def test_different_stories_on_one_topic_are_far_below_threshold(stories: list[Article]) -> None:
    for i, a in enumerate(stories):
        for b in stories[i + 1 :]:
            assert similarity(a.text, b.text) < 0.05
    assert len(dedupe(stories)) == 4


@pytest.mark.parametrize(
    ("rate", "merged"), [(0.01, True), (0.03, True), (0.05, True), (0.15, False)]
)
def test_threshold_calibration(stories: list[Article], rate: float, merged: bool) -> None:
    original = stories[2]
    edited = _copy(original, _edit(original.text, rate))
    assert (similarity(original.text, edited.text) >= DEFAULT_THRESHOLD) is merged
    assert (len(dedupe([original, edited])) == 1) is merged


def test_wire_copy_on_another_site_merges(stories: list[Article]) -> None:
    afp = stories[0]
    paragraphs = afp.text.split("\n\n")
    rewritten = "\n\n".join(
        [
            "BAGHDAD (AFP) - Iraq is walking a tightrope as war rages next door.",
            *paragraphs[:-3],  # the last paragraphs cut for space
        ]
    ).replace("political analyst", "analyst")
    copy = _copy(
        afp,
        rewritten,
        title="Iraq walks a tightrope",
        outlet="The National",
        url="https://thenational.example/iraq",
        published=REF,
    )
    [kept] = dedupe([copy, afp, *stories[1:2]])[:1]
    assert kept.text == afp.text  # the longest copy is kept
    assert kept.published == REF  # filled from the copy
    assert kept.also_in == [
        SourceRef(outlet="The National", url="https://thenational.example/iraq", source="copy.html")
    ]


def test_exact_duplicates_from_the_same_source_collapse_silently(stories: list[Article]) -> None:
    merged = dedupe([stories[1], stories[1], stories[3]])
    assert [a.title for a in merged] == [stories[1].title, stories[3].title]
    assert merged[0].also_in == []


def test_truncated_copy_merges_by_containment(stories: list[Article]) -> None:
    full = stories[1]
    first_third = " ".join(full.text.split(" ")[: len(full.text.split(" ")) // 3])
    short = _copy(full, first_third, outlet="Yahoo", source="yahoo.txt")
    assert similarity(full.text, short.text) < DEFAULT_THRESHOLD
    [kept] = dedupe([short, full])
    assert kept.text == full.text
    assert kept.also_in == [SourceRef(outlet="Yahoo", source="yahoo.txt")]


def test_groups_are_transitive_and_also_in_is_carried(stories: list[Article]) -> None:
    base = stories[2]
    a = _copy(base, _edit(base.text, 0.02, seed=1), outlet="A", source="a")
    b = _copy(base, _edit(base.text, 0.02, seed=2), outlet="B", source="b")
    b = b.model_copy(update={"also_in": [SourceRef(outlet="C", url="https://c.example")]})
    [kept] = dedupe([a, base, b])
    assert kept.text == max((a.text, base.text, b.text), key=len)
    outlets = sorted(r.outlet or "" for r in kept.also_in)
    assert len(kept.also_in) == 3 and "C" in outlets


def test_order_is_kept_and_empty_input(stories: list[Article]) -> None:
    assert dedupe([]) == []
    assert [a.title for a in dedupe(list(reversed(stories)))] == [
        a.title for a in reversed(stories)
    ]


def test_threshold_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="threshold"):
        dedupe([], threshold=0)


# -- the indexed pair search finds exactly the pairs an all-pairs comparison finds ---------


def _brute_force_groups(shingles: list[frozenset[int]], threshold: float) -> list[list[int]]:
    """Every pair compared (the definition): connected components, as ``_groups`` gives."""
    parent = list(range(len(shingles)))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, a in enumerate(shingles):
        for j in range(i + 1, len(shingles)):
            b = shingles[j]
            shared = len(a & b)
            if shared and _same(shared, len(a), len(b), threshold):
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(shingles)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


_PHRASES = [
    "officials said on monday that the plan would affect thousands of people",
    "the ministry has accused the opposition of ignoring repeated warnings",
    "analysts said the cost could reach several hundred million dollars",
    "residents described long queues and rising prices in the capital",
    "talks with the union would continue next week according to the statement",
    "the figures could not be independently verified by reporters",
]


def _random_text(rng: random.Random, boilerplate: float) -> str:
    """Sentences that are template phrases (shared by many texts) or random words."""
    parts = []
    for _ in range(rng.randint(1, 14)):
        if rng.random() < boilerplate:
            parts.append(rng.choice(_PHRASES))
        else:
            parts.append(" ".join(f"w{rng.randint(0, 400)}" for _ in range(rng.randint(3, 15))))
    return " ".join(parts)


def _variant(rng: random.Random, text: str) -> str:
    """A copy: words changed at a random rate, or cut short (containment), or both."""
    words = text.split()
    for i in range(len(words)):
        if rng.random() < rng.choice([0.0, 0.02, 0.05, 0.1, 0.2, 0.4]):
            words[i] = f"x{rng.randint(0, 50)}"
    if rng.random() < 0.4:
        words = words[: max(1, int(len(words) * rng.uniform(0.3, 1.0)))]
    if rng.random() < 0.2:
        words = words[int(len(words) * rng.uniform(0.0, 0.5)) :]
    return " ".join(words)


def _corpus(seed: int) -> list[str]:
    rng = random.Random(seed)
    boilerplate = rng.choice([0.0, 0.3, 0.7, 0.95])
    texts = [_random_text(rng, boilerplate) for _ in range(rng.randint(1, 120))]
    for _ in range(rng.randint(0, 80)):  # near and exact copies, copies of copies
        texts.append(_variant(rng, rng.choice(texts)))
    texts += rng.choice([[], ["", "one", "two words", "a b c d", "a b c d e"]])
    rng.shuffle(texts)
    return texts


@pytest.mark.parametrize("seed", range(40))
def test_indexed_search_finds_the_same_groups_as_all_pairs(seed: int) -> None:
    shingles = [_shingles(text) for text in _corpus(seed)]
    for threshold in (DEFAULT_THRESHOLD, 0.2, 0.35, 0.8, 1.0):
        expected = _brute_force_groups(shingles, threshold)
        assert _groups(shingles, threshold) == expected
        # "rare" (indexed) versus "common" (bits) shingles: any split gives the same
        assert _groups(shingles, threshold, rare_limit=[1, 3, 1000][seed % 3]) == expected


def test_indexed_search_on_the_benchmark_corpus_shape() -> None:
    """Template-heavy texts (the shape of bench/corpus.py): most pairs share many
    shingles, so the search falls back to comparing bits; copies are still found."""
    rng = random.Random(3)
    texts = [_random_text(rng, 0.9) + f" unique{i} tail{i} end{i}" for i in range(300)]
    texts += [_variant(rng, texts[i]) for i in range(0, 300, 7)]
    shingles = [_shingles(text) for text in texts]
    expected = _brute_force_groups(shingles, DEFAULT_THRESHOLD)
    assert any(len(group) > 1 for group in expected)
    assert _groups(shingles, DEFAULT_THRESHOLD) == expected


def test_bitmask_is_the_sum_of_the_powers_of_two() -> None:
    rng = random.Random(11)
    for _ in range(200):
        size = rng.choice([1, 9, 64, 5000])
        positions = rng.sample(range(size), min(size, rng.randint(0, 8)))
        assert _bitmask(iter(positions)) == sum(1 << b for b in positions)


def test_copies_of_a_long_text_share_common_shingles_and_group() -> None:
    """Twelve copies of a long text (above the rare limit: their shingles are counted as
    bits) and its half: one group, as an all-pairs comparison finds."""
    rng = random.Random(12)
    text = " ".join(f"w{rng.randint(0, 5000)}" for _ in range(3_000))
    texts = [f"{text} copy{i}" for i in range(12)] + [text[: len(text) // 2], "other words here"]
    shingles = [_shingles(t) for t in texts]
    assert _groups(shingles, DEFAULT_THRESHOLD) == [list(range(13)), [13]]
    assert _groups(shingles, DEFAULT_THRESHOLD) == _brute_force_groups(shingles, DEFAULT_THRESHOLD)


def full_width(text: str) -> str:
    """``text`` with every ASCII character but the space in its full-width form."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_full_width_digits_and_letters_are_their_plain_forms() -> None:
    """A Japanese or Chinese outlet's copy written with full-width figures is the same
    text: compared after NFKC normalization (ASCII text is left as it is)."""
    text = (
        "日本銀行は2026年12月1日、政策金利を0.75%に引き上げると発表した。"
        "植田総裁は記者会見で、物価目標の実現が見通せる状況になったと述べた。"
    )
    wide = full_width(text)
    assert wide != text
    assert similarity(text, wide) == 1.0
    english = "The central bank raised rates today"
    assert similarity(full_width(english), english) == 1.0
