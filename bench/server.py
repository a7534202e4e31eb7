"""A small OpenAI-compatible chat server on loopback for benchmarks (not for tests' HTTP).

    .venv/bin/python bench/server.py [--port 0] [--latency 0.5]

Prints ``listening on http://127.0.0.1:PORT/v1`` once ready. Every chat completion
waits ``--latency`` seconds (asyncio: 16+ slow requests in flight need no threads),
then answers: a summary JSON valid for briefing's schema, built from the numbered
sentences of the request's article (``faithful_reply``); a region's paragraph for a
synthesis request; else a short plain-text summary (first words of the last message),
as LangChain's prompts want. It counts calls and tokens the way OpenAI bills them: o200k
tokens of every message plus a few per message, plus the response-format schema (billed
on every call). ``GET /stats`` returns the counters, also per kind of call
(``article``: a summarize, merge or repair call, which has ``<article>`` in it;
``synthesis``: a region's paragraph, ``<stories>``; ``other``: anything else, as
LangChain's prompts) and the seconds the server spent on its own work (handling, not the
latency). ``POST /reset`` zeroes them; ``POST /reset?capture=1`` also keeps the request
bodies of the ``article`` calls from then on, for ``GET /requests`` (a bare client
replays them). ``GET /v1/models`` lists one model, as OpenAI-compatible servers do.

Plain asyncio, no web framework: with aiohttp installed, ``import openai`` also imports
it (the SDK's optional aiohttp transport), half a second more on every start of the CLI
and of the bare client, which is not the project's own cost. As FACTS.md asks of a
benchmark server: listen queue 1024 (a shallow queue drops connects under load and looks
like client overhead; ``asyncio.start_server`` is given the same backlog, or it would
listen with 100 again), HTTP/1.1 keep-alive with Content-Length on every response, and
Nagle off (``TCP_NODELAY`` on every accepted connection: asyncio's socket transport sets
it; the listening socket has it too; ``/stats`` counts connections without it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from briefing.llm.fake import faithful_reply
from briefing.tokens import get_encoding

KINDS = ("article", "synthesis", "other")
#: the model ``GET /v1/models`` lists (o200k tokens, a known price); any name is answered
MODEL = "gpt-4o-mini"


@dataclass
class Counters:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    schema_tokens: int = 0
    structured_calls: int = 0
    plain_calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    #: seconds spent handling requests (parsing, answering, counting), latency excluded
    server_seconds: float = 0.0
    #: TCP connections the calls came on (keep-alive: about one per client slot)
    connections: int = 0
    #: connections seen without TCP_NODELAY (Nagle on): should stay 0
    nagle_connections: int = 0


def kind_of(body: dict[str, Any]) -> str:
    """``article`` (summarize, merge, repair), ``synthesis`` or ``other``."""
    texts = [str(m.get("content") or "") for m in body.get("messages") or []]
    if any("<stories>" in text for text in texts):
        return "synthesis"
    if any("<article>" in text for text in texts):
        return "article"
    return "other"


def count(text: str) -> int:
    return len(get_encoding("o200k_base").encode(text, disallowed_special=()))


def prompt_tokens(body: dict[str, Any]) -> tuple[int, int]:
    """(billed prompt tokens, of which the response schema) as OpenAI counts them."""
    messages = body.get("messages") or []
    tokens = sum(count(str(m.get("content") or "")) + 3 for m in messages) + 3
    schema_tokens = 0
    response_format = body.get("response_format") or {}
    schema = (response_format.get("json_schema") or {}).get("schema") or response_format.get(
        "schema"
    )
    if schema:
        schema_tokens = count(json.dumps(schema, separators=(",", ":")))
    return tokens + schema_tokens, schema_tokens


def synthesis_reply(user: str) -> str:
    """A region's paragraph made of the first story lines it was given."""
    lines = [line.strip("- ").strip() for line in user.splitlines() if line.startswith("- ")]
    return json.dumps({"paragraph": " ".join(lines[:2]) or "Little changed."})


def plain_reply(user: str) -> str:
    words = user.replace("\n", " ").split()
    return " ".join(words[-400:][:60])


class BenchServer:
    """The routes and counters; ``serve_connection`` speaks HTTP/1.1 on one connection."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.counters = Counters()
        self.by_kind = {kind: Counters() for kind in KINDS}
        self.captured: list[dict[str, Any]] = []
        self.capture = False
        #: sockets seen since the last reset (kept referenced, so ids are not reused)
        self.seen: dict[int, Any] = {}
        #: requests per "METHOD /path" since the last reset (probes such as GET /props too)
        self.paths: dict[str, int] = {}
        self.routes: dict[tuple[str, str], Callable[[dict[str, list[str]], bytes], Awaitable[Any]]]
        self.routes = {
            ("POST", "/v1/chat/completions"): self.chat,
            ("GET", "/v1/models"): self.models,
            ("GET", "/stats"): self.stats,
            ("POST", "/reset"): self.reset,
            ("GET", "/requests"): self.requests,
        }

    # -- HTTP/1.1 -------------------------------------------------------------------------
    async def serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        sock = writer.get_extra_info("socket")
        try:
            while True:  # keep-alive: requests one after another on this connection
                request_line = await reader.readline()
                if not request_line.strip():
                    break
                method, target, version = request_line.decode("latin-1").split()[:3]
                headers: dict[str, str] = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await _read_body(reader, headers)
                url = urlsplit(target)
                if url.path.endswith("/chat/completions"):
                    self._note_connection(sock)
                if url.path not in ("/stats", "/reset", "/requests"):
                    key = f"{method.upper()} {url.path}"
                    self.paths[key] = self.paths.get(key, 0) + 1
                route = self.routes.get((method.upper(), url.path))
                if route is None:
                    status, payload = 404, {"error": {"message": f"no route {method} {url.path}"}}
                else:
                    status, payload = 200, await route(parse_qs(url.query), body)
                keep_alive = version.upper() == "HTTP/1.1" and (
                    headers.get("connection", "").lower() != "close"
                )
                data = json.dumps(payload).encode()
                writer.write(
                    (
                        f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                        "Content-Type: application/json\r\n"
                        f"Content-Length: {len(data)}\r\n"
                        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
                    ).encode("latin-1")
                    + data
                )
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _note_connection(self, sock: Any) -> None:
        if sock is None or id(sock) in self.seen:
            return
        self.seen[id(sock)] = sock
        self.counters.connections += 1
        if not sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
            self.counters.nagle_connections += 1

    # -- routes -----------------------------------------------------------------------------
    async def chat(self, _: dict[str, list[str]], raw: bytes) -> dict[str, Any]:
        started = time.perf_counter()
        counters = self.counters
        body: dict[str, Any] = json.loads(raw)
        kind = kind_of(body)
        if self.capture and kind == "article":
            self.captured.append(body)
        counters.in_flight += 1
        counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
        handled = time.perf_counter() - started
        try:
            await asyncio.sleep(self.latency)
        finally:
            counters.in_flight -= 1
        started = time.perf_counter()
        billed, schema_tokens = prompt_tokens(body)
        user = str((body.get("messages") or [{}])[-1].get("content") or "")
        structured = bool(body.get("response_format"))
        if kind == "synthesis":
            text = synthesis_reply(user)
        elif kind == "article":
            text = faithful_reply(user)
        else:
            text = plain_reply(user)
        completion = count(text)
        for counter in (counters, self.by_kind[kind]):
            counter.calls += 1
            counter.prompt_tokens += billed
            counter.completion_tokens += completion
            counter.schema_tokens += schema_tokens
            if structured:
                counter.structured_calls += 1
            else:
                counter.plain_calls += 1
        response = {
            "id": f"chatcmpl-{counters.calls}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", MODEL),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": billed,
                "completion_tokens": completion,
                "total_tokens": billed + completion,
            },
        }
        seconds = handled + time.perf_counter() - started
        counters.server_seconds += seconds
        self.by_kind[kind].server_seconds += seconds
        return response

    async def models(self, *_: Any) -> dict[str, Any]:
        # as OpenAI and compatible servers list them (any name is answered)
        model = {"id": MODEL, "object": "model", "created": 0, "owned_by": "bench"}
        return {"object": "list", "data": [model]}

    async def stats(self, *_: Any) -> dict[str, Any]:
        result: dict[str, Any] = asdict(self.counters)
        result["kinds"] = {kind: asdict(counter) for kind, counter in self.by_kind.items()}
        result["paths"] = dict(self.paths)
        return result

    async def reset(self, query: dict[str, list[str]], _: bytes) -> dict[str, Any]:
        for counter in (self.counters, *self.by_kind.values()):
            in_flight = counter.in_flight
            for name, value in asdict(Counters()).items():
                setattr(counter, name, value)
            counter.in_flight = in_flight
        self.captured.clear()
        self.seen.clear()
        self.paths.clear()
        self.capture = query.get("capture") == ["1"]
        return asdict(self.counters)

    async def requests(self, *_: Any) -> list[dict[str, Any]]:
        return self.captured


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readline()
    length = int(headers.get("content-length") or 0)
    return await reader.readexactly(length) if length else b""


BACKLOG = 1024


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` listening with a deep queue, Nagle off."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


async def serve(host: str, port: int, latency: float) -> None:
    get_encoding("o200k_base")  # load before the first request
    app = BenchServer(latency)
    sock = listening_socket(host, port)
    # the backlog again: start_server listens on the socket anew (default 100)
    server = await asyncio.start_server(app.serve_connection, sock=sock, backlog=BACKLOG)
    bound = sock.getsockname()[1]
    print(f"listening on http://{host}:{bound}/v1", flush=True)
    async with server:
        await server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per call")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.latency))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
