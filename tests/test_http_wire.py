"""The sync client's standard-library wire (``briefing.llm.http._Wire``) against a real
loopback HTTP server: keep-alive, a connection the server closed while idle, refused
connections, timeouts, query parameters; and when ``httpx2`` speaks instead."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from briefing.llm import http


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        server: Server = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "body": body,
                "headers": dict(self.headers),
                "port": self.client_address[1],
            }
        )
        if "/slow" in self.path:
            time.sleep(0.5)
        status = 429 if "/limited" in self.path else 200
        payload = json.dumps({"ok": True, "path": self.path}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == 429:
            self.send_header("Retry-After", "7")
        if server.close_after_answer:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[dict[str, Any]] = []
        self.close_after_answer = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


_clients: list[http.Client] = []


def client(base_url: str, **kwargs: Any) -> http.Client:
    made = http.Client(api_key="sk-test", base_url=base_url, **kwargs)
    _clients.append(made)
    return made


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def test_the_standard_library_speaks_and_keeps_the_connection(server: Server) -> None:
    c = client(server.url, default_query={"api-version": "2024-06-01"})
    assert isinstance(c._wire, http._Wire)
    assert c.get("/models") == {"ok": True, "path": "/v1/models?api-version=2024-06-01"}
    assert c.post("/chat/completions", {"q": "é"})["ok"] is True
    get, post = server.seen
    assert get["body"] == b"" and "Content-Length" not in get["headers"]
    assert json.loads(post["body"]) == {"q": "é"}
    assert post["headers"]["Content-Type"] == "application/json"
    assert post["headers"]["Authorization"] == "Bearer sk-test"
    assert get["port"] == post["port"]  # one connection, kept alive


def test_a_connection_the_server_closed_is_replaced(server: Server) -> None:
    c = client(server.url)
    server.close_after_answer = True
    c.get("/models")
    server.close_after_answer = False
    c.get("/models")  # the closed connection is dropped, not reused
    c.get("/models")
    ports = [seen["port"] for seen in server.seen]
    assert ports[0] != ports[1] and ports[1] == ports[2]


def test_an_idle_connection_closed_under_the_client_is_noticed(server: Server) -> None:
    c = client(server.url)
    c.get("/models")
    (connection,) = c._wire._connections.values()  # type: ignore[union-attr]
    assert connection.sock is not None
    connection.sock.shutdown(socket.SHUT_RDWR)  # as if the server had hung up
    assert c.get("/models")["ok"] is True
    assert len(server.seen) == 2


def test_an_error_status_keeps_its_response(server: Server) -> None:
    c = client(server.url)
    with pytest.raises(http.APIStatusError) as caught:
        c.get("/limited")
    assert caught.value.status_code == 429
    assert caught.value.response.headers.get("retry-after") == "7"
    assert caught.value.body == {"ok": True, "path": "/v1/limited"}


def test_a_refused_connection_is_never_connected() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    c = client(f"http://127.0.0.1:{port}/v1")
    with pytest.raises(http.APIConnectError) as caught:
        c.get("/models")
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_a_slow_answer_times_out(server: Server) -> None:
    c = client(server.url, timeout=http.timeout(0.1, 5.0))
    with pytest.raises(http.APITimeoutError):
        c.get("/slow")
    assert c.get("/models", timeout=http.timeout(5.0, 5.0))["ok"] is True


def test_a_dropped_answer_is_a_connection_error() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def hang_up() -> None:
            conn, _ = listener.accept()
            conn.recv(65536)
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"cut')
            conn.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        c = client(f"http://127.0.0.1:{port}/v1")
        with pytest.raises(http.APIConnectionError) as caught:
            c.get("/models")
        thread.join(5)
    assert not isinstance(caught.value, http.APIConnectError | http.APITimeoutError)


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_proxy_in_the_environment_goes_through_httpx(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "http://proxy.invalid:3128")
    assert not http.stdlib_serves("http://127.0.0.1:8080/v1")
    assert isinstance(client("http://127.0.0.1:8080/v1")._wire, http._HttpxWire)


def test_https_uses_the_standard_library_where_openssl_finds_the_system_cas() -> None:
    serves = http.stdlib_serves("https://api.openai.com/v1")
    assert serves == (http._stdlib_tls() is not None)
