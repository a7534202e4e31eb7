"""Tests of briefing.ingest.feeds: RSS/Atom entries, page fetching and the fallback to feed text."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from briefing.errors import InputError
from briefing.ingest.feeds import html_to_text, load_feed

DATA = Path(__file__).parent / "data"
ARTICLE = (DATA / "html" / "harbour_article.html").read_bytes()
RSS = (DATA / "feeds" / "newsroom.rss").read_text(encoding="utf-8")
ATOM = (DATA / "feeds" / "wire.atom").read_bytes()


class Pages:
    """A loopback HTTP server serving ``ARTICLE`` at /news/harbour and 404 elsewhere."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                hits.append(self.path)
                status, body = (200, ARTICLE) if self.path == "/news/harbour" else (404, b"no")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def handle(self) -> None:
                # the client may hang up (size cap, timeout): expected
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        host, port = self.server.server_address[:2]
        self.base = f"http://{host!s}:{port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )


@pytest.fixture
def pages() -> Iterator[Pages]:
    local = Pages()
    local.thread.start()
    yield local
    local.server.shutdown()
    local.server.server_close()
    local.thread.join(timeout=2)


def test_entries_fetched_with_fallback(pages: Pages) -> None:
    feed = RSS.replace("{base}", pages.base)
    fetched, missing, inline = load_feed(feed, source="newsroom.rss")

    # 1: the entry's page was fetched and extracted; the feed fills what the page lacks
    assert "300,000 cubic metres" in fetched.text
    assert fetched.title == "Port city reopens flooded harbour after three weeks"
    assert fetched.outlet == "Coastal Courier"  # the page's own site name wins
    assert fetched.source == pages.base + "/news/harbour"

    # 2: the page is a 404: the feed's description, HTML stripped
    assert missing.text == (
        "Negotiators from the three river states met in Lusara on Tuesday to resume talks on"
        " sharing the water of the new dam.\n\nThe previous round collapsed in January."
    )
    assert missing.url == pages.base + "/news/missing-page"
    assert missing.outlet == "Coastal Courier - World"
    assert missing.published == dt.datetime(2031, 3, 18, 7, 0, tzinfo=dt.UTC)
    assert missing.byline is not None and "Tomas Reyes" in missing.byline
    assert missing.language == "en"

    # 3: no link: content:encoded, scripts dropped
    assert inline.text == (
        "The election commission said on Wednesday that the presidential runoff will be held"
        " on 12 April.\n\nBoth candidates have accepted the date."
    )
    assert inline.url is None
    assert inline.source == "newsroom.rss"

    assert sorted(pages.hits) == ["/news/harbour", "/news/missing-page"]


def test_fetch_disabled_uses_feed_text_only(pages: Pages) -> None:
    feed = RSS.replace("{base}", pages.base)
    articles = load_feed(feed.encode(), source="newsroom.rss", fetch=False)
    assert [a.title for a in articles] == [
        "Port city reopens flooded harbour after three weeks",
        "Dam talks resume between upstream and downstream states",
        "Election commission sets date for runoff vote",
    ]
    assert articles[0].text == "Ships returned to Valmora on Monday."
    assert articles[0].byline == "Mira Okonjo"
    assert articles[0].published == dt.datetime(2031, 3, 17, 6, 45, tzinfo=dt.UTC)
    assert pages.hits == []


def test_unreachable_entry_pages_fall_back() -> None:
    feed = RSS.replace("{base}", "http://127.0.0.1:9")  # discard port: nothing listens
    articles = load_feed(feed, source="newsroom.rss")
    assert articles[0].text == "Ships returned to Valmora on Monday."
    assert len(articles) == 3


def test_atom_feed() -> None:
    [entry] = load_feed(ATOM, source="wire.atom", fetch=False)  # the empty entry is skipped
    assert entry.title == "Le port de Valmora rouvre apr\u00e8s trois semaines"
    assert entry.text.startswith("Les navires sont revenus lundi dans le port de Valmora, apr")
    assert "Onze bateaux" in entry.text  # the full content beats the shorter summary
    assert entry.outlet == "Agence Littorale"
    assert entry.byline == "Claire Duval"
    assert entry.language == "fr"
    assert entry.url == "https://news.example/valmora"
    assert entry.published == dt.datetime(2031, 3, 17, 7, 0, tzinfo=dt.UTC)


def test_max_entries() -> None:
    feed = RSS.replace("{base}", "http://127.0.0.1:9")
    assert len(load_feed(feed, source="f", fetch=False, max_entries=1)) == 1


def test_not_a_feed() -> None:
    with pytest.raises(InputError, match="not an RSS or Atom feed"):
        load_feed(b"just some words, no markup", source="notes.txt")


def test_html_to_text() -> None:
    assert html_to_text("Fish &amp; chips") == "Fish & chips"
    assert html_to_text("<p>One<br>two</p><ul><li>three</li></ul>") == "One\n\ntwo\n\nthree"
    assert html_to_text("<style>p{}</style><p>kept</p>") == "kept"
