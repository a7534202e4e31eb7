"""Re-write the judge's cassettes (``cassettes/test_judge/``) from a scripted server.

No capable model runs here, so the judge's wire tests replay answers written by hand:
this script serves them from a vLLM-style OpenAI-compatible server on loopback (its
model list as vLLM answers it; each chat completion's verdicts from ``VERDICTS`` below,
its usage counted with the o200k tokenizer as a server would report it) and runs the
judge's cassette tests with ``--record-mode=rewrite``, so the cassettes hold the exact
requests ``briefing`` sends (prompt, strict schema) and these answers. Re-run it after
changing ``prompts/judge.*.j2`` or the verdict schema:

    .venv/bin/python tests/record_judge_cassettes.py

To record against a real capable server instead, point the tests' ``JUDGE_BASE_URL``
and ``JUDGE_MODEL`` at it and run ``pytest tests/test_judge.py -k cassette
--record-mode=rewrite`` (the assertions on verdicts then test that model).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from briefing.tokens import count_tokens  # noqa: E402

HOST, PORT = "127.0.0.1", 8000
MODEL = "Qwen/Qwen2.5-7B-Instruct"
CASSETTE_TESTS = "on_an_openai_compatible_server or async_with_a_partial or repairs_an_answer"

#: The hand-written verdict on each claim of the tests (keyed by the claim's start).
VERDICTS = {
    "Israel struck the South Pars": ("supported", "sentence 8 says so"),
    "Strikes have been targeted at the oil tanker": (
        "unsupported",
        "no oil tanker in sentence 8; sentence 14 mentions refuelling tankers only",
    ),
    "Iran struck the command centre": (
        "contradicted",
        "sentence 6: Israel struck Iran's Quds Force, not the reverse",
    ),
    "Netanyahu said nuclear weapons": ("supported", "sentence 1 says so"),
}
_CLAIM_LINE = re.compile(r"^(\d+)\. \(cites [^)]*\) (.+)$", re.MULTILINE)


def verdict_for(text: str) -> tuple[str, str]:
    return next(v for start, v in VERDICTS.items() if text.startswith(start))


def answer(messages: list[dict[str, str]]) -> str:
    """Every claim judged; but a first call with two claims gets prose (the test of the
    repair) and one with three an odd answer (the async test)."""
    user = next(m["content"] for m in messages if m["role"] == "user")
    claims = [(int(n), text) for n, text in _CLAIM_LINE.findall(user)]
    if len(messages) == 2 and len(claims) == 2:
        return "Both claims look well supported by the article to me."
    if len(claims) == 3:  # claim 1 judged twice (the milder second ignored), 7 not asked
        items = [
            (1, "contradicted", "sentence 8 names a gas field, no oil tanker"),
            (3, *verdict_for(claims[2][1])),
            (1, "supported", "on second thought"),
            (7, "supported", "no such claim"),
        ]
    else:
        items = [(n, *verdict_for(text)) for n, text in claims]
    return json.dumps(
        {"verdicts": [{"claim": n, "reason": r, "verdict": v} for n, v, r in items]},
        separators=(",", ":"),
    )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        card = {"id": MODEL, "object": "model", "created": 1764547200, "owned_by": "vllm",
                "root": MODEL, "parent": None, "max_model_len": 32768}  # fmt: skip
        self._send({"object": "list", "data": [card]})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        messages = request["messages"]
        content = answer(messages)
        prompt = sum(count_tokens(m["content"]) + 3 for m in messages) + 3
        self._send({
            "id": "chatcmpl-judge", "object": "chat.completion", "created": 1764633600,
            "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": count_tokens(content),
                      "total_tokens": prompt + count_tokens(content)},
        })  # fmt: skip

    def log_message(self, *args: Any) -> None:
        pass


def main() -> int:
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return subprocess.call(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "tests/test_judge.py", "-k", CASSETTE_TESTS, "--record-mode=rewrite"],
            cwd=ROOT,
        )  # fmt: skip
    finally:
        server.shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
