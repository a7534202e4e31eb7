"""The floor a client reaches: a bare ``AsyncOpenAI`` client sending prepared requests.

    python bench/bare_client.py REQUESTS.json BASE_URL [--concurrency 16]

``REQUESTS.json`` is a JSON array of chat-completion request bodies (``bench/run.py``
takes them from the bench server: exactly what ``briefing brief`` sent for each
article). Sends them all, at most ``--concurrency`` in flight, one structured call
each, and prints ``calls SECONDS`` (the calls alone, after the import and set-up). Run
as its own process so its wall time, start-up included, compares with the CLI's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

#: keyword arguments ``chat.completions.create`` takes directly; others go in extra_body
_KNOWN = {
    "model",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "response_format",
    "seed",
    "top_p",
}


async def send_all(base_url: str, bodies: list[dict[str, Any]], concurrency: int) -> float:
    import openai

    client = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(body: dict[str, Any]) -> None:
        known = {k: v for k, v in body.items() if k in _KNOWN}
        extra = {k: v for k, v in body.items() if k not in _KNOWN and k != "stream"}
        async with gate:
            await client.chat.completions.create(**known, extra_body=extra or None)

    start = time.perf_counter()
    await asyncio.gather(*(one(body) for body in bodies))
    took = time.perf_counter() - start
    await client.close()
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requests", help="JSON array of request bodies")
    parser.add_argument("base_url")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with open(args.requests, encoding="utf-8") as f:
        bodies = json.load(f)
    took = asyncio.run(send_all(args.base_url, bodies, args.concurrency))
    print(f"calls {took:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
