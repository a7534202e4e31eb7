"""A small OpenAI-compatible chat server on loopback for benchmarks (not for tests' HTTP).

    .venv/bin/python bench/server.py [--port 0] [--latency 0.5]

Prints ``listening on http://127.0.0.1:PORT/v1`` once ready. Every chat completion
waits ``--latency`` seconds (asyncio: 16+ slow requests in flight need no threads),
then answers: a summary JSON valid for briefing's schema, built from the numbered
sentences of the request's article, when a ``response_format`` is asked for; else a
short plain-text summary (first sentences of the last message), as LangChain's prompts
want. It counts calls and tokens the way OpenAI bills them: o200k tokens of every
message plus a few per message, plus the response-format schema (billed on every
call). ``GET /stats`` returns the counters; ``POST /reset`` zeroes them.

Listen queue 1024 and HTTP/1.1 keep-alive with Content-Length on every response: a
shallow queue drops connects under load and looks like client overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from briefing.llm.fake import faithful_reply
from briefing.tokens import get_encoding


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


def make_app(latency: float) -> web.Application:
    counters = Counters()

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        counters.in_flight += 1
        counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
        try:
            await asyncio.sleep(latency)
        finally:
            counters.in_flight -= 1
        billed, schema_tokens = prompt_tokens(body)
        user = str((body.get("messages") or [{}])[-1].get("content") or "")
        structured = bool(body.get("response_format"))
        if not structured:
            text = plain_reply(user)
        elif "<stories>" in user:
            text = synthesis_reply(user)
        else:
            text = faithful_reply(user)
        completion = count(text)
        counters.calls += 1
        counters.prompt_tokens += billed
        counters.completion_tokens += completion
        counters.schema_tokens += schema_tokens
        if structured:
            counters.structured_calls += 1
        else:
            counters.plain_calls += 1
        return web.json_response(
            {
                "id": f"chatcmpl-{counters.calls}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "bench"),
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
        )

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(asdict(counters))

    async def reset(_: web.Request) -> web.Response:
        nonlocal counters
        fresh = Counters()
        for name, value in asdict(fresh).items():
            setattr(counters, name, value)
        return web.json_response(asdict(counters))

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    return app


async def serve(host: str, port: int, latency: float) -> None:
    get_encoding("o200k_base")  # load before the first request
    runner = web.AppRunner(make_app(latency), access_log=None, keepalive_timeout=75)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    bound = sockets[0].getsockname()[1] if sockets else port
    print(f"listening on http://{host}:{bound}/v1", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


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
