"""A rerun of an unchanged day reuses what the last run computed (parsed inputs, duplicate
groups, story groups) and gets the same result; anything changed is computed again."""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from pathlib import Path

import pytest
from test_stories import _WORDS, _ids, _random_summary

import briefing.ingest.files
import briefing.stories
from briefing.cache import SummaryCache
from briefing.ingest import load_articles
from briefing.ingest.dedupe import dedupe
from briefing.memo import index_groups, memo_key, memoized
from briefing.models import Article
from briefing.stories import group_stories

#: the module (the package exports the function under its name)
DEDUPE = sys.modules["briefing.ingest.dedupe"]
REF = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
BODY = (
    "The council approved the new budget on Monday after a long debate. "
    "It raises spending on schools by four percent. "
    "Opposition members said the plan was too timid."
)


class Store:
    """A dict with the cache's text interface, counting what is read and written."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}
        self.puts = 0

    def get_text(self, key: str) -> str | None:
        return self.items.get(key)

    def put_text(self, key: str, kind: str, value: str) -> None:
        assert key.startswith(kind + ":")
        self.items[key] = value
        self.puts += 1


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The labels of the inputs actually parsed (not looked up)."""
    seen: list[str] = []
    real = briefing.ingest.files._parse

    def counting(data: bytes, kind: object, label: str, ref: object) -> list[Article]:
        seen.append(label)
        return real(data, kind, label, ref)  # type: ignore[arg-type]

    monkeypatch.setattr(briefing.ingest.files, "_parse", counting)
    return seen


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unchanged_file_is_not_parsed_again(tmp_path: Path, parses: list[str]) -> None:
    a = _write(tmp_path, "a.txt", f"Budget passes\n\n{BODY}\n")
    b = _write(tmp_path, "b.txt", f"Storm hits coast\n\n{BODY.replace('budget', 'levee')}\n")
    store = Store()
    first = load_articles([a, b], store=store)
    assert len(parses) == 2
    again = load_articles([a, b], store=store)
    assert len(parses) == 2  # both looked up
    assert [x.model_dump() for x in again] == [x.model_dump() for x in first]

    _write(tmp_path, "b.txt", f"Storm hits coast\n\n{BODY} A new last sentence was added.\n")
    changed = load_articles([a, b], store=store)
    assert parses[2:] == [str(b)]  # only the edited file
    assert changed[1].text.endswith("A new last sentence was added.")


def test_a_page_with_relative_dates_is_kept_only_for_its_reference_time(
    tmp_path: Path, parses: list[str]
) -> None:
    page = _write(tmp_path, "a.txt", f"Budget passes\n2 hours ago\n{BODY}\n")
    store = Store()
    # no capture time: "2 hours ago" gives no time, so the parse does not depend on when
    [undated] = load_articles([page], store=store)
    load_articles([page], store=store)
    assert len(parses) == 1 and undated.published is None

    [first] = load_articles([page], store=store, reference_time=REF)
    [again] = load_articles([page], store=store, reference_time=REF)
    assert len(parses) == 2
    assert again.published == first.published == REF - dt.timedelta(hours=2)
    later = REF + dt.timedelta(days=1)
    [other] = load_articles([page], store=store, reference_time=later)
    assert len(parses) == 3 and other.published == later - dt.timedelta(hours=2)


def test_an_unreadable_entry_is_parsed_again(tmp_path: Path, parses: list[str]) -> None:
    page = _write(tmp_path, "a.txt", f"Budget passes\n\n{BODY}\n")
    store = Store()
    load_articles([page], store=store)
    for key in store.items:
        store.items[key] = '{"reference_time": null, "articles": [{"title": 1}]}'
    [article] = load_articles([page], store=store)
    assert len(parses) == 2 and article.title == "Budget passes"


def test_the_real_cache_keeps_parsed_inputs_between_runs(tmp_path: Path, parses: list[str]) -> None:
    page = _write(tmp_path, "a.txt", f"Budget passes\n\n{BODY}\n")
    with SummaryCache(tmp_path / "cache") as cache:
        first = load_articles([page], store=cache)
    with SummaryCache(tmp_path / "cache") as cache:
        again = load_articles([page], store=cache)
    assert len(parses) == 1 and again == first


def _copies(n: int, seed: int) -> list[Article]:
    """Articles in a few near-duplicate families (one word changed per copy)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        family = rng.randrange(max(1, n // 3))
        words = [random.Random(family * 1000 + k).choice(_WORDS) for k in range(60)]
        words[rng.randrange(60)] = f"w{i}"
        out.append(Article(title=f"t{i}", text=" ".join(words), source=f"s{i}"))
    return out


def test_dedupe_reuses_its_groups_and_gives_the_same_articles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    articles = _copies(30, seed=4)
    expected = dedupe(articles)
    assert len(expected) < len(articles)  # the families merged
    store = Store()
    assert dedupe(articles, store=store) == expected
    calls: list[int] = []
    real = DEDUPE._groups
    monkeypatch.setattr(DEDUPE, "_groups", lambda *a: calls.append(1) or real(*a))
    assert dedupe(articles, store=store) == expected
    assert calls == []  # looked up
    assert dedupe(articles[:-1], store=store) == dedupe(articles[:-1])  # another set
    assert calls == [1, 1]


def test_story_groups_are_reused_and_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    topics = [rng.sample(_WORDS, 4) for _ in range(3)]
    summaries = [_random_summary(rng, i, topics) for i in range(40)]
    expected = _ids(group_stories(summaries))
    store = Store()
    assert _ids(group_stories(summaries, store=store)) == expected
    monkeypatch.setattr(briefing.stories, "_group", lambda *a: pytest.fail("recomputed"))
    assert _ids(group_stories(summaries, store=store)) == expected
    # another threshold or other summaries are another key
    with pytest.raises(pytest.fail.Exception):
        group_stories(summaries, store=store, threshold=0.5)
    with pytest.raises(pytest.fail.Exception):
        group_stories(summaries[1:], store=store)


def test_memo_keys_cover_every_part_and_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    key = memo_key("k", ["a", "b"])
    assert key.startswith("k:")
    assert memo_key("k", ["ab"]) != key != memo_key("k", ["a", "b", ""])
    monkeypatch.setattr("briefing.cache.code_fingerprint", lambda: "another version")
    assert memo_key("k", ["a", "b"]) != key


def test_memoized_recomputes_a_stale_entry() -> None:
    store = Store()
    assert memoized(store, "g", ["x"], lambda: [[0, 1]], load=lambda v: index_groups(v, 2)) == [
        [0, 1]
    ]
    [key] = store.items
    store.items[key] = json.dumps([[0, 5]])  # an index out of range: stale
    assert memoized(store, "g", ["x"], lambda: [[1], [0]], load=lambda v: index_groups(v, 2)) == [
        [1],
        [0],
    ]
    assert memoized(None, "g", ["x"], lambda: 3) == 3
