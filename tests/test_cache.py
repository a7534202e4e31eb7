"""The run cache: keys, invalidation, failures not stored, reruns without calls."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_summarize import make_article, output

from briefing.cache import SummaryCache, default_cache_dir
from briefing.cli import cli
from briefing.llm.fake import FakeLLM
from briefing.prompts import Prompts, packaged_prompts_dir
from briefing.summarize import Summarizer


def copy_prompts(tmp_path: Path) -> Path:
    target = tmp_path / "prompts"
    shutil.copytree(packaged_prompts_dir(), target, ignore=shutil.ignore_patterns("*.py"))
    return target


def test_default_location_follows_xdg(tmp_path: Path) -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "briefing"
    with SummaryCache() as cache:  # conftest points XDG_CACHE_HOME at tmp
        assert cache.path == tmp_path / "cache" / "briefing" / "cache.sqlite3"
        assert cache.path.exists()


def test_key_depends_on_content_model_provider_and_settings(tmp_path: Path) -> None:
    article = make_article()
    key = Summarizer(FakeLLM()).cache_key(article)
    assert key == Summarizer(FakeLLM()).cache_key(make_article())  # stable
    assert len(key) == 64
    others = {
        Summarizer(FakeLLM()).cache_key(make_article(title="Another title")),
        Summarizer(FakeLLM()).cache_key(make_article(n_sentences=5)),
        Summarizer(FakeLLM(model="other-model")).cache_key(article),
        Summarizer(FakeLLM(provider="other")).cache_key(article),
        Summarizer(FakeLLM(), max_output_tokens=300).cache_key(article),
        Summarizer(FakeLLM()).cache_key(article.model_copy(update={"outlet": "Reuters"})),
    }
    assert key not in others and len(others) == 6
    # where the article came from is not part of what the model sees
    moved = article.model_copy(update={"source": "elsewhere.txt", "url": "https://x.test/a"})
    assert Summarizer(FakeLLM()).cache_key(moved) == key


def test_prompt_version_and_text_changes_invalidate(tmp_path: Path) -> None:
    article = make_article()
    base = Summarizer(FakeLLM()).cache_key(article)
    prompts_dir = copy_prompts(tmp_path)
    assert Summarizer(FakeLLM(), Prompts(prompts_dir)).cache_key(article) == base
    system = prompts_dir / "summarize.system.j2"
    original = system.read_text()

    # an edit that keeps the declared version still invalidates (text hash)
    system.write_text(original + "\nBe brief.")
    edited = Summarizer(FakeLLM(), Prompts(prompts_dir)).cache_key(article)
    # a version bump invalidates too
    system.write_text(re.sub(r"prompt-version: \S+", "prompt-version: 999", original, count=1))
    bumped = Summarizer(FakeLLM(), Prompts(prompts_dir)).cache_key(article)
    assert len({base, edited, bumped}) == 3


def test_schema_version_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    article = make_article()
    summarizer = Summarizer(FakeLLM())
    key = summarizer.cache_key(article)
    summarizer.provenance = summarizer.provenance.model_copy(update={"schema_version": "99"})
    assert summarizer.cache_key(article) != key


def test_rerun_makes_no_calls_and_keeps_order(tmp_path: Path) -> None:
    articles = [make_article(title=f"Story {i}") for i in range(3)]
    llm = FakeLLM().enqueue(*[output(headline=f"H{i}") for i in range(3)])
    with SummaryCache(tmp_path) as cache:
        first = Summarizer(llm).summarize_all(articles, cache=cache)
        assert len(llm.calls) == 3 and not any(s.cached for s in first)
        seen: list[str] = []
        again = Summarizer(llm).summarize_all(
            articles, cache=cache, on_summary=lambda s: seen.append(s.title)
        )
    assert len(llm.calls) == 3  # no new call
    assert [s.title for s in again] == ["Story 0", "Story 1", "Story 2"] == seen
    assert all(s.cached and s.usage.calls == 0 for s in again)
    assert [s.content for s in again] == [s.content for s in first]


def test_hit_takes_the_current_articles_metadata(tmp_path: Path) -> None:
    article = make_article()
    llm = FakeLLM().enqueue(output())
    with SummaryCache(tmp_path) as cache:
        Summarizer(llm).summarize_all([article], cache=cache)
        moved = article.model_copy(update={"source": "today/b.txt", "url": "https://x.test/b"})
        [hit] = Summarizer(llm).summarize_all([moved], cache=cache)
    assert hit.cached and hit.source == "today/b.txt" and hit.url == "https://x.test/b"


def test_failed_summaries_are_not_cached(tmp_path: Path) -> None:
    article = make_article()
    llm = FakeLLM().enqueue("not json", "still not json", output())
    with SummaryCache(tmp_path) as cache:
        [failed] = Summarizer(llm).summarize_all([article], cache=cache)
        assert failed.status == "failed"
        assert cache.stats().entries == 0
        [ok] = Summarizer(llm).summarize_all([article], cache=cache)  # asks again
        assert ok.status == "ok" and not ok.cached
        assert cache.stats().entries == 1


def test_every_write_is_durable_and_wal(tmp_path: Path) -> None:
    article = make_article()
    with SummaryCache(tmp_path) as cache:
        Summarizer(FakeLLM().enqueue(output())).summarize_all([article], cache=cache)
        # another connection (another process) sees the entry while this one is open
        other = sqlite3.connect(cache.path)
        try:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert other.execute("SELECT COUNT(*) FROM summaries").fetchone()[0] == 1
        finally:
            other.close()


def test_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    with SummaryCache(tmp_path) as cache:
        cache._db.execute(
            "INSERT INTO summaries VALUES ('k', 'a', 'p', 'm', 'v', '1', 0, '{broken')"
        )
        assert cache.get("k") is None and "k" in cache


def test_cache_commands(tmp_path: Path) -> None:
    with SummaryCache(tmp_path) as cache:
        Summarizer(FakeLLM().enqueue(output())).summarize_all([make_article()], cache=cache)
    runner = CliRunner()
    stats = runner.invoke(cli, ["cache", "stats", "--cache-dir", str(tmp_path)])
    assert stats.exit_code == 0, stats.output
    assert "entries: 1" in stats.output and "fake:fake-model: 1" in stats.output
    cleared = runner.invoke(cli, ["cache", "clear", "--cache-dir", str(tmp_path)])
    assert cleared.exit_code == 0 and "removed 1" in cleared.output
    assert (
        "entries: 0" in runner.invoke(cli, ["cache", "stats", "--cache-dir", str(tmp_path)]).output
    )
