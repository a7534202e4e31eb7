"""The archive site and its Atom feed (issue 16, second slice): ``briefing site`` over
three editions built by the real pipeline, read back by feedparser and loaded in a real
headless Chromium (Debian's ``chromium``, installed by ``make sysdeps``)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import pytest
from click.testing import CliRunner
from editions_support import DAY1, DAY2, DAY3, run_day

from briefing.cli import cli
from briefing.editions import EditionStore
from briefing.render import render_html
from briefing.site import MANIFEST, build_site

BASE = "https://news.example.org/brief/"
DAYS = (DAY1, DAY2, DAY3)


@pytest.fixture(scope="module")
def editions_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three editions of the default profile (day 2 and 3 update the Slovenia floods)."""
    tmp = tmp_path_factory.mktemp("editions")
    for day in DAYS:
        run_day(tmp, day)
    return tmp / "editions.sqlite3"


def site(out: Path, db: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["site", str(out), "--editions-db", str(db), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def built(editions_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "public"
    site(out, editions_db, "--base-url", BASE)
    return out


def story_pages(out: Path) -> list[Path]:
    return sorted((out / "stories").glob("*.html"))


def test_the_site_has_an_index_three_edition_pages_story_pages_and_a_feed(
    built: Path, editions_db: Path
) -> None:
    for day in DAYS:
        assert (built / "editions" / f"{day.isoformat()}.html").is_file()
    index = (built / "index.html").read_text()
    # newest first, with the continuity counts
    at = [index.index(f'href="editions/{d.isoformat()}.html"') for d in reversed(DAYS)]
    assert at == sorted(at)
    assert "1 new, 1 update, 5 still developing" in index
    assert "6 new, 0 updates, 0 still developing" in index
    assert "<script" not in index
    # the edition page is the mailed HTML, plus the archive bar
    with EditionStore(editions_db) as store:
        brief = store.briefing(DAY2)
    assert brief is not None
    page = (built / "editions" / f"{DAY2.isoformat()}.html").read_text()
    nav = re.search(r'<nav class="site-nav".*?</nav>\n', page, re.S)
    assert nav is not None and 'href="../index.html"' in nav.group(0)
    assert f'href="{DAY1.isoformat()}.html" rel="prev"' in nav.group(0)
    assert f'href="{DAY3.isoformat()}.html" rel="next"' in nav.group(0)
    mailed = render_html(brief)
    assert page.replace(nav.group(0), "").split("</head>")[1] == mailed.split("</head>")[1]
    # the Slovenia floods followed across the three editions, on one story page
    [floods] = [p for p in story_pages(built) if "Floods kill seven" in p.read_text()]
    text = floods.read_text()
    assert (
        text.index(DAY1.isoformat()) < text.index(DAY2.isoformat()) < text.index(DAY3.isoformat())
    )
    assert "rose to 12" in text and text.count("Update") >= 2
    assert f'href="../editions/{DAY2.isoformat()}.html#story-' in text
    assert f'href="../{floods.relative_to(built).as_posix()}"' in page  # linked from day 2


def test_the_feed_parses_with_one_entry_per_edition(built: Path) -> None:
    feed = feedparser.parse((built / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Morning brief"
    assert feed.feed.link == BASE + "index.html"
    assert [e.title for e in feed.entries] == [
        "Morning brief — Wednesday 2 December 2026",
        "Morning brief — Tuesday 1 December 2026",
        "Morning brief — Monday 30 November 2026",
    ]
    assert [e.link for e in feed.entries] == [
        f"{BASE}editions/{d.isoformat()}.html" for d in reversed(DAYS)
    ]
    assert [e.id for e in feed.entries] == [
        f"tag:briefing,2026:default/{d}" for d in reversed(DAYS)
    ]
    assert "1 new, 1 update" in feed.entries[1].summary
    assert "Slovenia flood death toll rises to 12" in feed.entries[1].content[0].value
    assert feed.entries[0].updated_parsed is not None


def test_without_a_base_url_the_feed_links_are_relative_to_the_feed(
    editions_db: Path, tmp_path: Path
) -> None:
    site(tmp_path, editions_db)
    feed = feedparser.parse(
        (tmp_path / "feed.xml").read_bytes(),
        response_headers={
            "content-location": BASE + "feed.xml",
            "content-type": "application/atom+xml",
        },
    )
    assert not feed.bozo
    # a reader fetching the feed from BASE resolves them to the pages
    assert feed.entries[0].link == f"{BASE}editions/{DAY3.isoformat()}.html"
    assert 'href="editions/2026-12-02.html"' in (tmp_path / "feed.xml").read_text()


def test_rewriting_is_idempotent_and_removes_only_its_own_stale_pages(
    editions_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "copy.sqlite3"
    with sqlite3.connect(editions_db) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    out = tmp_path / "site"
    (out / "editions").mkdir(parents=True)
    mine = out / "editions" / "notes.html"
    mine.write_text("mine")
    (out / "CNAME").write_text("news.example.org\n")
    site(out, db)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    with EditionStore(db) as store:
        report = build_site(store, out)
    assert report.written == [] and report.removed == []
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before

    # the first edition is no longer kept: its page goes, and story pages only it made
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM editions WHERE date = ?", (DAY1.isoformat(),))
    with EditionStore(db) as store:
        report = build_site(store, out)
    assert f"editions/{DAY1.isoformat()}.html" in report.removed
    assert not (out / "editions" / f"{DAY1.isoformat()}.html").exists()
    assert all(f in report.files or f in report.removed for f in report.removed)
    assert mine.read_text() == "mine" and (out / "CNAME").exists()  # never touched
    assert (out / MANIFEST).is_file()
    assert f"{DAY1.isoformat()}.html" not in (out / "index.html").read_text()


def test_a_file_it_did_not_write_is_never_replaced(editions_db: Path, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>my own page</p>")
    result = CliRunner().invoke(cli, ["site", str(tmp_path), "--editions-db", str(editions_db)])
    assert result.exit_code != 0
    assert "was not written by `briefing site`" in result.output
    assert (tmp_path / "index.html").read_text() == "<p>my own page</p>"


def test_help_says_feed_readers_need_a_base_url() -> None:
    result = CliRunner().invoke(cli, ["site", "--help"])
    assert result.exit_code == 0
    assert "--base-url" in result.output and "Feed readers" in result.output


# --------------------------------------------------------------------------- browser


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        del tag
        for name, value in attrs:
            if name == "href" and value is not None:
                self.hrefs.append(value)
            if name == "id" and value is not None:
                self.ids.add(value)


def _run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _parsed(html: str) -> _Links:
    links = _Links()
    links.feed(html)
    return links


@pytest.mark.slow
def test_the_site_loads_in_headless_chromium_and_every_link_resolves(
    built: Path, tmp_path: Path
) -> None:
    binary = chromium()
    if binary is None:
        pytest.skip(
            "chromium is not installed: `make sysdeps` (as root) installs Debian's chromium "
            "for this test; elsewhere: apt-get install chromium"
        )
    [floods] = [p for p in story_pages(built) if "Floods kill seven" in p.read_text()]
    pages = [built / "index.html", *(built / "editions" / f"{d}.html" for d in DAYS), floods]
    checked = 0
    for page in pages:
        dumped = _run_chromium(binary, tmp_path / "profile", "--dump-dom", page.as_uri())
        assert dumped.returncode == 0, dumped.stderr[-2000:]
        dom = _parsed(dumped.stdout)
        assert dom.hrefs, f"{page} has no links in the browser's DOM"
        assert "<script" not in dumped.stdout
        for href in dom.hrefs:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            assert not parts.scheme and not parts.netloc, f"{page}: not relative: {href}"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(built)}: {href} points at nothing"
            assert target.resolve().is_relative_to(built.resolve())
            if parts.fragment:
                ids = dom.ids if target == page else _parsed(target.read_text()).ids
                assert parts.fragment in ids, f"{page.relative_to(built)}: no #{parts.fragment}"
            checked += 1
    assert checked > 20

    from_index = _parsed((built / "index.html").read_text()).hrefs
    assert {f"editions/{d}.html" for d in DAYS} <= set(from_index)
    assert "feed.xml" in from_index

    for page, name in (
        (built / "index.html", "index"),
        (built / "editions" / f"{DAY2}.html", "day2"),
    ):
        png = tmp_path / f"{name}.png"
        shot = _run_chromium(
            binary,
            tmp_path / "profile",
            f"--screenshot={png}",
            "--window-size=1200,1600",
            page.as_uri(),
        )
        assert shot.returncode == 0 and png.is_file(), shot.stderr[-2000:]
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 20_000, f"{name}: a {len(data)}-byte screenshot is nearly blank"
        try:
            from PIL import Image
        except ImportError:
            continue
        with Image.open(png) as image:
            assert image.size == (1200, 1600)
            colours = image.convert("L").getcolors(maxcolors=1_000_000)
            assert colours is not None and len(colours) > 10, f"{name}: one flat colour"
            dark = sum(n for n, level in colours if level < 128)
            assert dark > 0.002 * 1200 * 1600, f"{name}: hardly any text drawn"
