"""Tests of briefing.ingest.web: fetching URLs from a local HTTP server on loopback."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from briefing.errors import InputError
from briefing.ingest import web
from briefing.ingest.urls import load_url
from briefing.ingest.web import USER_AGENT, fetch

DATA = Path(__file__).parent / "data"
ARTICLE = (DATA / "html" / "harbour_article.html").read_bytes()


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  #: seconds to wait before answering
    chunks: int = 1  #: send the body in this many pieces, ``delay`` apart


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 answering from a table of routes."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        routes, requests = self.routes, self.requests

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                requests.append((self.path, dict(self.headers)))
                route = routes.get(self.path, Route(404, b"not found"))
                try:
                    if route.delay and route.chunks == 1:
                        time.sleep(route.delay)
                    self.send_response(route.status)
                    for key, value in route.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    step = max(1, len(route.body) // route.chunks)
                    for i in range(0, len(route.body), step):
                        self.wfile.write(route.body[i : i + step])
                        self.wfile.flush()
                        if route.chunks > 1:
                            time.sleep(route.delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def handle(self) -> None:
                # the client may hang up (size cap, timeout): expected
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer()
    local.thread.start()
    yield local
    local.server.shutdown()
    local.server.server_close()
    local.thread.join(timeout=2)


HTML = {"Content-Type": "text/html; charset=utf-8"}


def test_html_page_is_extracted(server: LocalServer) -> None:
    url = server.add("/news/harbour", Route(body=ARTICLE, headers=HTML))
    [article] = load_url(url)
    assert article.title == "Port city reopens flooded harbour after three weeks"
    assert "300,000 cubic metres" in article.text
    assert article.source == url
    # the page's relative canonical link is resolved against the URL it came from
    assert article.url == server.url("/news/2031/03/harbour-reopens")
    _path, headers = server.requests[0]
    assert headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("briefing/")


def test_redirects_are_followed(server: LocalServer) -> None:
    final = server.add("/final", Route(body=ARTICLE, headers=HTML))
    server.add("/old", Route(301, headers={"Location": "/final"}))
    fetched = fetch(server.url("/old"))
    assert fetched.url == final
    assert fetched.content == ARTICLE
    assert fetched.content_type == "text/html"
    assert fetched.charset == "utf-8"


def test_redirect_loop_is_an_input_error(server: LocalServer) -> None:
    server.add("/a", Route(302, headers={"Location": "/b"}))
    server.add("/b", Route(302, headers={"Location": "/a"}))
    with pytest.raises(InputError, match="redirects"):
        load_url(server.url("/a"))


def test_404_says_what_to_do(server: LocalServer) -> None:
    with pytest.raises(InputError, match=r"HTTP 404; no such page; check the address"):
        load_url(server.url("/nowhere"))


def test_5xx_is_an_input_error(server: LocalServer) -> None:
    url = server.add("/broken", Route(503, b"down"))
    with pytest.raises(InputError, match="HTTP 503; the server failed; try again later"):
        load_url(url)


def test_declared_size_over_cap(server: LocalServer) -> None:
    url = server.add("/big", Route(body=b"<html>" + b"x" * 50_000, headers=HTML))
    with pytest.raises(InputError, match="larger than"):
        fetch(url, max_bytes=10_000)


def test_streamed_size_over_cap_stops_download(server: LocalServer) -> None:
    body = b"<html><body>" + b"y" * 200_000
    url = server.add("/stream", Route(body=body, headers=HTML))
    transport = httpx.HTTPTransport()
    # a server that lies about (or omits) Content-Length: strip it on the client side

    class NoLength(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = transport.handle_request(request)
            del response.headers["Content-Length"]
            return response

        def close(self) -> None:
            transport.close()

    with httpx.Client(transport=NoLength()) as client, pytest.raises(InputError, match="larger"):
        fetch(url, max_bytes=20_000, client=client)


def test_timeout(server: LocalServer) -> None:
    url = server.add("/slow", Route(body=ARTICLE, headers=HTML, delay=1.0))
    start = time.monotonic()
    with pytest.raises(InputError, match="timed out"):
        load_url(url, timeout=0.2)
    assert time.monotonic() - start < 0.9


def test_slow_drip_hits_total_deadline(server: LocalServer) -> None:
    url = server.add("/drip", Route(body=ARTICLE, headers=HTML, delay=0.03, chunks=40))
    with pytest.raises(InputError, match="timed out"):
        fetch(url, timeout=0.08)


def test_connection_refused(server: LocalServer) -> None:
    url = server.url("/x")
    server.server.shutdown()
    server.server.server_close()
    with pytest.raises(InputError, match="cannot connect"):
        load_url(url, timeout=1.0)


def test_bad_urls() -> None:
    with pytest.raises(InputError, match="only http"):
        load_url("ftp://example.org/file")
    with pytest.raises(InputError, match="only http"):
        load_url("not a url")


def test_feed_by_content_type(server: LocalServer) -> None:
    feed = (DATA / "feeds" / "newsroom.rss").read_text().replace("{base}", server.base)
    url = server.add(
        "/feed", Route(body=feed.encode(), headers={"Content-Type": "application/rss+xml"})
    )
    articles = load_url(url, fetch_entries=False)
    assert [a.outlet for a in articles] == ["Coastal Courier - World"] * 3


def test_feed_sniffed_without_content_type(server: LocalServer) -> None:
    feed = (DATA / "feeds" / "wire.atom").read_bytes()
    url = server.add("/atom", Route(body=feed))
    [article] = load_url(url, fetch_entries=False)
    assert article.outlet == "Agence Littorale"


def test_html_sniffed_from_octet_stream(server: LocalServer) -> None:
    url = server.add(
        "/page", Route(body=ARTICLE, headers={"Content-Type": "application/octet-stream"})
    )
    [article] = load_url(url)
    assert article.outlet == "Coastal Courier"


def test_http_charset_is_used(server: LocalServer) -> None:
    page = (
        "<html><body><article><h1>Caf\u00e9 news</h1>"
        + "<p>Le caf\u00e9 de la gare a rouvert ses portes ce matin apr\u00e8s des travaux. </p>"
        * 5
        + "</article></body></html>"
    )
    url = server.add(
        "/latin",
        Route(
            body=page.encode("cp1252"), headers={"Content-Type": "text/html; charset=windows-1252"}
        ),
    )
    [article] = load_url(url)
    assert "caf\u00e9 de la gare" in article.text


def test_unusable_content_type(server: LocalServer) -> None:
    url = server.add(
        "/img", Route(body=b"\x89PNG\r\n\x1a\n", headers={"Content-Type": "image/png"})
    )
    with pytest.raises(InputError, match="neither a web page nor a feed"):
        load_url(url)


def test_client_passed_in_is_not_closed(server: LocalServer) -> None:
    url = server.add("/ok", Route(body=ARTICLE, headers=HTML))
    with web.make_client(timeout=2.0) as client:
        load_url(url, client=client)
        assert not client.is_closed
