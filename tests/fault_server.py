"""A fault-injecting OpenAI-compatible chat server on loopback, for tests (stdlib only,
plus a pytest fixture).

    with FaultServer(seed=7, rate=0.3) as server:
        llm = OpenAILLM("fault-model", base_url=server.url)
        ...
        assert server.count(fault="drop") == ...

or, in a test module, ``from fault_server import fault_server_fixture  # noqa: F401`` and
take the ``fault_server`` fixture (parametrize it indirectly with ``FaultServer``'s keyword
arguments).

``POST /v1/chat/completions`` answers like a real server: a chat.completion whose content
is a summary JSON valid for ``briefing.models.SummaryOutput``, built from the numbered
sentences of the request's article (``[3] text`` lines, see prompts/summarize.user.j2),
citing only sentence ids that exist, with ``usage``. ``GET /v1/models`` lists one model.

Each chat request may get a fault instead (``FAULT_KINDS``):

=================  ================================================================
``rate_limit``     429 with ``Retry-After: 0`` and ``retry-after-ms`` (``retry_after_ms``)
``server_error``   500 with an OpenAI-style error body
``unavailable``    503 with a plain-text body
``drop``           200 headers and half the body, then the socket is closed
``stall``          nothing at all for ``stall_seconds`` (past the client's read timeout)
``not_json``       200, content is prose, not JSON
``bad_schema``     200, content is JSON that breaks the summary schema
``truncated``      200, content is the summary JSON cut in half, ``finish_reason: length``
``empty_choices``  200, ``choices: []``
``refusal``        200, ``message.refusal`` set and ``content: null``
``html``           200 ``text/html`` page (a captive portal / proxy page), not JSON at all
``error_200``      200 with an error object and no ``choices`` (some servers do this)
``broken_json``    200 ``application/json`` whose body is cut short (complete as HTTP)
=================  ================================================================

Which request gets which fault:

* ``force`` / ``force_first`` / ``force_match`` (or ``inject(kind, first=, match=)`` on a
  running server): the first ``force_first`` chat requests (``None``: every one) whose
  messages contain ``force_match`` (``None``: any) get ``force``. Counted in arrival
  order, so meant for one request at a time, or for one article's requests.
* otherwise, with probability ``rate``, a fault drawn from ``kinds`` by
  ``random.Random(f"{seed}:{sha256(body)}:{n}")`` where ``n`` counts earlier requests with
  the same body: the same request gets the same fault whatever order concurrent requests
  arrive in (a retry of it is its ``n + 1``-th sighting and draws again).

Every request is recorded (``requests``: ``Record`` with path, body hash, sighting,
fault, title) so tests can count calls; ``max_in_flight`` is the most chat requests it
was answering at once. Settings are plain attributes, read at each
request: a test may change them while the server runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import random
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from briefing.llm.fake import faithful_reply

FAULT_KINDS = (
    "rate_limit",
    "server_error",
    "unavailable",
    "drop",
    "stall",
    "not_json",
    "bad_schema",
    "truncated",
    "empty_choices",
    "refusal",
    "html",
    "error_200",
    "broken_json",
)
#: faults answered without a complete HTTP response
TRANSPORT_FAULTS = ("drop", "stall")
#: faults answered with an HTTP error status
STATUS_FAULTS = {"rate_limit": 429, "server_error": 500, "unavailable": 503}
#: faults answered 200 with a body the client must not accept as a summary
CONTENT_FAULTS = ("not_json", "bad_schema", "truncated", "empty_choices", "refusal")
#: faults answered 200 with something that is not a chat completion
MALFORMED_FAULTS = ("html", "error_200", "broken_json")

MODEL = "fault-model"
_TITLE_RE = re.compile(r"^Title: (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Record:
    """One request the server received."""

    index: int  #: arrival order, from 0
    method: str
    path: str
    body_hash: str  #: sha256 of the raw body ("" for GET)
    sighting: int  #: earlier requests with the same body
    fault: str | None  #: what was done instead of a healthy answer
    title: str | None  #: the article's title, for chat requests


def article_prompt(body: dict[str, Any]) -> str:
    """The user message holding the article (the first one with ``<article>``; a repair
    request repeats it before the model's answer and the repair instructions)."""
    users = [
        str(m.get("content") or "") for m in body.get("messages") or [] if m.get("role") == "user"
    ]
    for text in users:
        if "<article>" in text:
            return text
    return users[-1] if users else ""


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers: stale pooled connections
    timeout = 30  # an idle keep-alive connection's thread ends eventually
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the records say what happened

    def do_GET(self) -> None:
        self.server.owner._record("GET", self.path, b"", None)
        if self.path.rstrip("/") == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self.server.owner._record("POST", self.path, raw, None)
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self.server.owner._record("POST", self.path, raw, None)
            self._json(400, {"error": {"message": "body is not JSON"}})
            return
        owner = self.server.owner
        fault = owner._record("POST", self.path, raw, body)
        owner._enter()
        try:
            if owner.latency:
                owner._stopping.wait(owner.latency)
            owner._answer(self, body, fault)
        finally:
            owner._leave()

    # -- writing -------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        payload: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        *,
        cut: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if cut is None:
            self.wfile.write(payload)
            self.wfile.flush()
            return
        # a connection dropped mid-response: part of the promised body, then FIN
        self.wfile.write(payload[:cut])
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # the default backlog (5) drops connects beyond it, which clients retry a second
    # later: many calls at once would look slow for no reason of their own
    request_queue_size = 1024
    owner: FaultServer

    def __init__(self, owner: FaultServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out and hang up are part of the game

    def drop_connections(self) -> None:
        """Hang up on every open connection (idle keep-alive threads then end)."""
        with self._lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class FaultServer:
    """The server (a context manager): ``url`` is the ``/v1`` base URL to give a client.

    Args:
        seed: seeds the per-request fault draw.
        rate: probability that a request not forced gets a fault (0: none).
        kinds: the faults drawn from (default: all of ``FAULT_KINDS``).
        force: a fault given to the first ``force_first`` matching requests.
        force_first: how many requests get ``force`` (``None``: every matching one).
        force_match: only requests whose messages contain this text get ``force``.
        stall_seconds: how long a ``stall`` keeps silent (cut short when the server stops).
        retry_after_ms: the ``retry-after-ms`` header of a 429 (``Retry-After`` is "0").
        latency: seconds every chat request waits before its answer (0: none).
    """

    def __init__(
        self,
        *,
        seed: int | str = 0,
        rate: float = 0.0,
        kinds: Sequence[str] = FAULT_KINDS,
        force: str | None = None,
        force_first: int | None = None,
        force_match: str | None = None,
        stall_seconds: float = 5.0,
        retry_after_ms: int = 10,
        latency: float = 0.0,
    ) -> None:
        unknown = [k for k in (*kinds, force) if k is not None and k not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {FAULT_KINDS}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be in [0, 1], not {rate}")
        if rate and not kinds:
            raise ValueError("a fault rate needs some kinds to draw from")
        self.seed = seed
        self.rate = rate
        self.kinds = tuple(sorted(kinds))  # sorted: the draw does not depend on their order
        self.force = force
        self.force_first = force_first
        self.force_match = force_match
        self.stall_seconds = stall_seconds
        self.retry_after_ms = retry_after_ms
        self.latency = latency
        #: every request received, in arrival order
        self.requests: list[Record] = []
        #: chat requests being answered now, and the most there ever were at once
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._sightings: dict[str, int] = {}
        self._forced = 0
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> FaultServer:
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # stalled handlers return at once
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.drop_connections()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(
        self, kind: str | None, *, first: int | None = None, match: str | None = None
    ) -> None:
        """From now on give ``kind`` to the next ``first`` requests (``None``: all) whose
        messages contain ``match``; ``inject(None)`` stops forcing."""
        if kind is not None and kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {FAULT_KINDS}")
        with self._lock:
            self.force, self.force_first, self.force_match = kind, first, match
            self._forced = 0

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fault server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL for an OpenAI client: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- what happened -------------------------------------------------------------------
    @property
    def chat_requests(self) -> list[Record]:
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/") == "/v1/chat/completions"]

    def count(self, *, fault: str | bool | None = True, title: str | None = None) -> int:
        """Chat requests received: all (``fault=True``), healthy ones (``fault=None``) or
        those given one fault kind; only an article's with ``title``."""
        return sum(
            1
            for r in self.chat_requests
            if (fault is True or r.fault == fault) and (title is None or r.title == title)
        )

    def faults(self) -> dict[str, int]:
        """How many times each fault was given."""
        counts: dict[str, int] = {}
        for r in self.chat_requests:
            if r.fault is not None:
                counts[r.fault] = counts.get(r.fault, 0) + 1
        return counts

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    # -- deciding ------------------------------------------------------------------------
    def _record(
        self, method: str, path: str, raw: bytes, body: dict[str, Any] | None
    ) -> str | None:
        digest = hashlib.sha256(raw).hexdigest() if raw else ""
        title = None
        if body is not None:
            match = _TITLE_RE.search(article_prompt(body))
            title = match.group(1).strip() if match else None
        with self._lock:
            sighting = self._sightings.get(digest, 0)
            self._sightings[digest] = sighting + 1
            fault = self._choose(digest, sighting, body) if body is not None else None
            self.requests.append(
                Record(len(self.requests), method, path, digest, sighting, fault, title)
            )
        return fault

    def _choose(self, digest: str, sighting: int, body: dict[str, Any]) -> str | None:
        if self.force is not None and (self.force_first is None or self._forced < self.force_first):
            text = "\n".join(str(m.get("content") or "") for m in body.get("messages") or [])
            if self.force_match is None or self.force_match in text:
                self._forced += 1
                return self.force
        if not self.rate:
            return None
        rng = random.Random(f"{self.seed}:{digest}:{sighting}")
        if rng.random() >= self.rate:
            return None
        return rng.choice(self.kinds)

    # -- answering -----------------------------------------------------------------------
    def _answer(self, handler: _Handler, body: dict[str, Any], fault: str | None) -> None:
        if fault == "stall":
            self._stopping.wait(self.stall_seconds)
            handler.close_connection = True  # the client gave up long ago: hang up
            return
        if fault in STATUS_FAULTS:
            self._status_fault(handler, fault)
            return
        if fault == "html":
            page = b"<!doctype html><html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>"
            handler._send(200, page, content_type="text/html; charset=utf-8")
            return
        if fault == "error_200":
            handler._json(200, {"error": {"message": "model overloaded, try again later"}})
            return
        reply = faithful_reply(article_prompt(body), topic="Economy")
        content: str | None = reply
        refusal = None
        finish = "stop"
        if fault == "not_json":
            content = "Sure! The article is about events in the news; here are the main points."
        elif fault == "bad_schema":
            content = json.dumps({"headline": "", "summary": 42, "key_points": "none"})
        elif fault == "truncated":
            content, finish = reply[: len(reply) // 2], "length"
        elif fault == "refusal":
            content, refusal = None, "I'm sorry, but I can't help with that request."
        choices: list[dict[str, Any]] = [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish,
                "logprobs": None,
            }
        ]
        if fault == "empty_choices":
            choices = []
        prompt_tokens = (
            sum(len(str(m.get("content") or "")) for m in body.get("messages") or []) // 4
        )
        completion_tokens = len(content or refusal or "") // 4
        payload = json.dumps(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model") or MODEL,
                "choices": choices,
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        ).encode()
        if fault == "broken_json":  # a short body, but all the HTTP layer was promised
            handler._send(200, payload[: len(payload) // 2])
            return
        handler._send(200, payload, cut=len(payload) // 2 if fault == "drop" else None)

    def _status_fault(self, handler: _Handler, fault: str) -> None:
        if fault == "rate_limit":
            handler._json(
                429,
                {
                    "error": {
                        "message": "Rate limit reached for requests",
                        "type": "requests",
                        "code": "rate_limit_exceeded",
                    }
                },
                headers={"Retry-After": "0", "retry-after-ms": str(self.retry_after_ms)},
            )
        elif fault == "server_error":
            handler._json(
                500,
                {"error": {"message": "The server had an error", "type": "server_error"}},
            )
        else:
            handler._send(503, b"Service Unavailable: the server is overloaded", "text/plain")


@pytest.fixture(name="fault_server")
def fault_server_fixture(request: pytest.FixtureRequest) -> Iterator[FaultServer]:
    """A running ``FaultServer`` (indirect parameters: its keyword arguments; by default
    no faults and 3 s stalls)."""
    options: dict[str, Any] = {"stall_seconds": 3.0, **getattr(request, "param", {})}
    with FaultServer(**options) as server:
        yield server


def main() -> None:
    """``python tests/fault_server.py --rate 0.3``: serve until Ctrl-C (manual testing)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seed", default="0")
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--kinds", default=",".join(FAULT_KINDS), help="comma-separated")
    parser.add_argument("--force", choices=FAULT_KINDS)
    parser.add_argument("--force-first", type=int)
    parser.add_argument("--force-match")
    parser.add_argument("--stall-seconds", type=float, default=30.0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    server = FaultServer(
        seed=args.seed,
        rate=args.rate,
        kinds=[k for k in args.kinds.split(",") if k],
        force=args.force,
        force_first=args.force_first,
        force_match=args.force_match,
        stall_seconds=args.stall_seconds,
        latency=args.latency,
    ).start()
    print(f"listening on {server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print(json.dumps({"requests": len(server.chat_requests), "faults": server.faults()}))


if __name__ == "__main__":
    main()
