"""Tests of loading articles from files, directories, stdin and URLs."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import logging
import sys
import types
from pathlib import Path

import pytest

from briefing.errors import InputError
from briefing.ingest import files, load_articles, load_path
from briefing.ingest.files import markdown_to_text
from briefing.ingest.text import parse_text_page
from briefing.models import Article, Sentence

PAGES = Path(__file__).parent / "data" / "pages"
REF = dt.datetime(2025, 6, 17, 12, 0, tzinfo=dt.UTC)
ARTICLE = (
    "Floods hit Lagos\n\nHeavy rain flooded parts of Lagos on Sunday. More rain is forecast.\n"
)


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _errors() -> tuple[list[tuple[str, InputError]], files.ErrorHandler]:
    seen: list[tuple[str, InputError]] = []
    return seen, lambda source, error: seen.append((source, error))


def test_text_file_first_line_is_title(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", ARTICLE)
    [article] = load_articles([path])
    assert article.title == "Floods hit Lagos"
    assert article.source == str(path)
    assert [s.text for s in article.sentences] == [
        "Heavy rain flooded parts of Lagos on Sunday.",
        "More rain is forecast.",
    ]


def test_gzip_and_markdown(tmp_path: Path) -> None:
    gz = _write(tmp_path / "a.txt.gz", gzip.compress(ARTICLE.encode()))
    md = _write(
        tmp_path / "b.md",
        "# Storm *batters* coast\n\nThe [storm](https://example.org) hit on **Monday**.\n\n"
        "## Damage\n\n- Roofs were torn off.\n\n![map](map.png)\n",
    )
    first, second = load_articles([gz, md])
    assert first.title == "Floods hit Lagos"
    assert second.title == "Storm batters coast"
    assert second.text == "The storm hit on Monday.\n\n## Damage\n\nRoofs were torn off."


def test_markdown_front_matter_and_syntax() -> None:
    text = markdown_to_text(
        "---\ntitle: Port opens\nauthor: Ann Lee\ndate: 2025-06-17\n---\n"
        "Some `code`, _emphasis_ and a [ref link][1] with snake_case_word.\n\n[1]: https://x.org\n"
    )
    assert text.splitlines() == [
        "Port opens",
        "By Ann Lee",
        "Published 2025-06-17",
        "Some code, emphasis and a ref link with snake_case_word.",
    ]
    [article] = parse_text_page(text, source="x")
    assert (article.title, article.byline) == ("Port opens", "Ann Lee")
    assert article.published == dt.datetime(2025, 6, 17, tzinfo=dt.UTC)


def test_raw_html_saved_as_txt_goes_to_the_html_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, ...]] = []
    _stub(monkeypatch, "briefing.ingest.html", "parse_html", calls)
    path = _write(tmp_path / "saved.txt", "<!DOCTYPE html><html><p>x</p></html>")
    load_articles([path])
    assert len(calls) == 1


def test_directory_walk_sorted_filtered_and_hidden_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "b.txt", ARTICLE.replace("Lagos", "Accra"))
    _write(tmp_path / "a" / "z.txt", ARTICLE.replace("Lagos", "Dakar"))
    _write(tmp_path / "a" / "notes.json", "{}")
    _write(tmp_path / ".hidden.txt", ARTICLE)
    _write(tmp_path / ".git" / "c.txt", ARTICLE)
    _write(tmp_path / "drafts" / "d.txt", ARTICLE.replace("Lagos", "Lome"))
    titles = [a.title for a in load_articles([tmp_path])]
    assert titles == ["Floods hit Dakar", "Floods hit Accra", "Floods hit Lome"]
    titles = [a.title for a in load_articles([tmp_path], exclude=["drafts/*"])]
    assert titles == ["Floods hit Dakar", "Floods hit Accra"]
    titles = [a.title for a in load_articles([tmp_path], include=["b.*", "d.txt"])]
    assert titles == ["Floods hit Accra", "Floods hit Lome"]


def test_symlink_loop_is_walked_once(tmp_path: Path) -> None:
    _write(tmp_path / "news" / "a.txt", ARTICLE)
    (tmp_path / "news" / "loop").symlink_to(tmp_path / "news", target_is_directory=True)
    assert len(load_articles([tmp_path / "news"])) == 1


def test_stdin() -> None:
    [article] = load_articles(["-"], stdin=io.StringIO(ARTICLE))
    assert article.title == "Floods hit Lagos"
    assert article.source == "-"


def test_relative_times_use_reference_time(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", "Title of story\n2 hours ago\nBody sentence here.\n")
    [article] = load_articles([path], reference_time=REF)
    assert article.published == REF - dt.timedelta(hours=2)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "no such file"),
        ("empty.txt", "  \n", "is empty"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "an image"),
        ("blob.bin", b"abc\x00\x01\x02def", "binary"),
        ("doc.pdf", b"%PDF-1.7\n...", "PDF"),
        ("bad.txt.gz", b"not gzip at all", "not a valid gzip"),
        ("chrome.txt", "Share\nAdvertisement\n", "no article text"),
    ],
)
def test_bad_inputs_raise_one_line_input_errors(
    tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name if content is None else _write(tmp_path / name, content)
    with pytest.raises(InputError, match=message) as info:
        load_articles([path])
    assert "\n" not in str(info.value)


def test_on_error_collects_and_goes_on(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.txt", ARTICLE)
    _write(tmp_path / "dir" / "empty.txt", "")
    _write(tmp_path / "dir" / "ok.txt", ARTICLE.replace("Lagos", "Accra"))
    seen, on_error = _errors()
    articles = load_articles([tmp_path / "nope.txt", good, tmp_path / "dir"], on_error=on_error)
    assert [a.title for a in articles] == ["Floods hit Lagos", "Floods hit Accra"]
    assert [(src, type(e)) for src, e in seen] == [
        (str(tmp_path / "nope.txt"), InputError),
        (str(tmp_path / "dir" / "empty.txt"), InputError),
    ]


def test_nothing_found_raises_without_on_error(tmp_path: Path) -> None:
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(InputError, match="no readable files"):
        load_articles([tmp_path / "empty_dir"])
    seen, on_error = _errors()
    assert load_articles([tmp_path / "empty_dir"], on_error=on_error) == []
    assert len(seen) == 1


def test_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_BYTES", 100)
    big = _write(tmp_path / "big.txt", ARTICLE * 10)
    with pytest.raises(InputError, match="limit; split it"):
        load_articles([big])
    bomb = _write(tmp_path / "bomb.txt.gz", gzip.compress(b"a" * 10_000))
    with pytest.raises(InputError, match="limit"):
        load_articles([bomb])


def test_cp1252_fallback_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _write(
        tmp_path / "a.txt",
        "Caf\u00e9 owners protest\n\nThey said \u201cno\u201d. Fine.\n".encode("cp1252"),
    )
    with caplog.at_level(logging.WARNING, logger="briefing.ingest.files"):
        [article] = load_articles([path])
    assert article.title == "Caf\u00e9 owners protest"
    assert "\u201cno\u201d" in article.text
    assert "cp1252" in caplog.text


def test_utf8_bom(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", b"\xef\xbb\xbf" + ARTICLE.encode())
    assert load_path(path)[0].title == "Floods hit Lagos"


def _stub(
    monkeypatch: pytest.MonkeyPatch, module: str, name: str, calls: list[tuple[object, ...]]
) -> None:
    def fake(*args: object, **kwargs: object) -> list[Article]:
        calls.append((*args, *sorted(kwargs.items())))
        return [Article(title="Stub", text="Stub body. Second sentence.", source="-")]

    stub = types.ModuleType(module)
    setattr(stub, name, fake)
    monkeypatch.setitem(sys.modules, module, stub)
    monkeypatch.setattr(
        sys.modules["briefing.ingest"], module.rsplit(".", 1)[1], stub, raising=False
    )


def test_html_feed_and_url_dispatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, ...]] = []
    _stub(monkeypatch, "briefing.ingest.html", "parse_html", calls)
    _stub(monkeypatch, "briefing.ingest.feeds", "load_feed", calls)
    _stub(monkeypatch, "briefing.ingest.urls", "load_url", calls)
    page = _write(tmp_path / "p.html.gz", gzip.compress(b"<html><body><p>Hi</p></body></html>"))
    feed = _write(tmp_path / "f.rss", b"<?xml version='1.0'?><rss></rss>")
    sniffed = _write(tmp_path / "noext", b"<!DOCTYPE html><html></html>")
    articles = load_articles([page, feed, sniffed, "https://example.org/a"])
    assert calls == [
        (b"<html><body><p>Hi</p></body></html>", ("source", str(page))),
        (b"<?xml version='1.0'?><rss></rss>", ("source", str(feed))),
        (b"<!DOCTYPE html><html></html>", ("source", str(sniffed))),
        ("https://example.org/a",),
    ]
    assert [a.source for a in articles] == [
        str(page),
        str(feed),
        str(sniffed),
        "https://example.org/a",
    ]
    assert all(
        a.sentences == [Sentence(id=1, text="Stub body."), Sentence(id=2, text="Second sentence.")]
        for a in articles
    )


def test_seed_like_page_via_files() -> None:
    articles = load_articles([PAGES], include=["roundup_*.txt"], reference_time=REF)
    assert len(articles) == 3


def test_many_files_are_parsed_in_worker_processes_with_the_same_result(tmp_path: Path) -> None:
    """Twenty files (one HTML page, one with a relative date, one that cannot be read as
    text, one empty) parsed by forked workers give what one process gives: the same
    articles in the same order, the same skipped inputs, the same cache entries. Run in
    a fresh interpreter: a fork is used only when no other thread runs."""
    import subprocess
    import sys

    articles = tmp_path / "in"
    articles.mkdir()
    for i in range(17):
        (articles / f"{i:02d}.txt").write_text(
            f"Farmers in region {i} get grain\n\n"
            f"Officials said on Monday that {1000 + i} farmers in region {i} would receive "
            "grain by June. The ministry confirmed the plan after two weeks of talks.\n"
        )
    (articles / "17.html").write_text(
        "<html><head><title>Port reopens</title></head><body><article><h1>Port reopens"
        "</h1><p>The port of Lima reopened on Tuesday after a week of storms, the harbour "
        "authority said. Ships queued outside the breakwater since Friday.</p></article>"
        "</body></html>"
    )
    (articles / "18.txt").write_text(
        "Storm passes\n\n3 hours ago\n\nThe storm passed the coast overnight, forecasters "
        "said, and schools will open again on Wednesday morning.\n"
    )
    (articles / "19.txt").write_bytes(b"\x00\x01\x02 binary \xff\xfe" * 50)
    (articles / "20.txt").write_text("   \n")
    code = f"""
import json, sys, threading
from pathlib import Path
import briefing.ingest.files as files
from briefing.cache import SummaryCache

def run(parallel, where):
    files.PARALLEL_MIN_FILES = 16 if parallel else 10**9
    problems = []
    with SummaryCache(Path(where)) as store:
        ahead = files._parse_ahead
        used = []
        files._parse_ahead = lambda *a, **k: used.append(ahead(*a, **k)) or used[-1]
        found = files.load_articles([{str(articles)!r}], store=store,
                                    on_error=lambda label, e: problems.append(str(e)))
        files._parse_ahead = ahead
        kept = sorted(store._db.execute("SELECT key FROM texts").fetchall())
    return {{"articles": [a.model_dump(mode="json") for a in found], "problems": problems,
             "kept": kept, "ahead": len(used[0]) if used else 0}}

assert threading.active_count() == 1
one, many = run(False, {str(tmp_path / "c1")!r}), run(True, {str(tmp_path / "c2")!r})
print(json.dumps([one, many]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    one, many = json.loads(done.stdout)
    assert one["ahead"] == 0 and many["ahead"] == 20  # every non-empty file, errors too
    assert many["articles"] == one["articles"] and len(one["articles"]) == 19
    assert many["problems"] == one["problems"] and len(one["problems"]) == 2
    assert many["kept"] == one["kept"]
