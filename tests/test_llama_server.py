"""A real OpenAI-compatible server in the suite: llama-cpp-python's server running the
bundled SmolLM2 on loopback, and the CLI run against it with default settings.

That server runs one request at a time (requests beyond it queue there, where their wait
counts against the client's read timeout) and answers ``response_format: json_schema``
with a 500 validation error. With nothing but ``OPENAI_BASE_URL`` set, ``briefing`` must
recognise it, send one request at a time, ask for ``json_object`` with the schema, label
the run with the model the server serves, and finish: every article summarized by the
model, or shown extractive because verification left too little (never failed for a
timeout or a refused format).

``make test`` installs the server extra (``llama-cpp-python[server]``, the ``record``
extra) from the portable wheel; without it these tests are skipped (failed under CI).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from briefing.llm.base import Message
from briefing.llm.openai import OpenAILLM, forget_formats

pytestmark = [pytest.mark.slow, pytest.mark.real_server]

SERVER_MODULES = ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")
#: seconds the whole brief may take (four articles, one request at a time, on 2 cores)
BRIEF_TIMEOUT = 900


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 180
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"llama_cpp.server did not come up in {seconds:.0f}s")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` with the bundled model on a free loopback port, as a
    new user starts it; its ``/v1`` base URL."""
    missing = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        message = (
            f"llama-cpp-python[server] is not installed (no {', '.join(missing)}): "
            "`make test` installs it"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from briefing.llm.local import default_model_path

    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_path()),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/v1/models", process, log)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def run_cli(
    args: list[str], base_url: str, home: Path
) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python -m briefing ARGS`` with only ``OPENAI_BASE_URL`` set (no key, no other
    setting), caches in ``home``; the result and its wall time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFING_"))}
    env.update(
        OPENAI_BASE_URL=base_url,
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "briefing", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=BRIEF_TIMEOUT,
    )  # fmt: skip
    return result, time.monotonic() - started


def shown_summaries(brief: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        summary
        for section in brief["sections"]
        for story in section["stories"]
        for summary in story["summaries"]
    ]


def test_brief_of_the_seeds_with_default_settings(llama_server: str, tmp_path: Path) -> None:
    out, out_json = tmp_path / "brief.md", tmp_path / "brief.json"
    result, seconds = run_cli(
        ["brief", "seeds", "--out", str(out), "--json", str(out_json), "-v"], llama_server, tmp_path
    )
    stderr = result.stderr
    assert result.returncode == 0, stderr[-4000:]
    # recognised, one request at a time, the format it takes chosen up front
    assert "llama-cpp-python's server at" in stderr and "1 call at once" in stderr, stderr
    assert "response format json_object for" in stderr, stderr
    # nothing taken for a refusal of the format, no timeouts, no tracebacks
    for bad in ("refused response_format", "timed out", "Traceback", "retry 1 in"):
        assert bad not in stderr, stderr[-4000:]
    brief = json.loads(out_json.read_text())
    summaries = shown_summaries(brief)
    assert len(summaries) == 4 and not brief["failed"], brief["failed"]
    for summary in summaries:
        # labelled with what the server runs, never with an OpenAI default
        assert summary["provenance"]["model"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
        assert summary["error"] is None, summary["error"]
        assert summary["status"] in ("ok", "repaired", "extractive"), summary
        if summary["status"] == "extractive":
            reason = summary["grounding"]["extractive_reason"]
            assert reason.startswith("verification left"), reason
    print(f"brief with default settings: {seconds:.1f} s")


def test_json_schema_is_refused_once_then_json_object_works(
    llama_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The ladder reads the server's real refusal (a 500 whose body is a pydantic
    validation error about response_format) as one, steps down once, and the next
    request of the same server and model starts where it ended."""
    forget_formats()
    caplog.set_level(logging.INFO, logger="briefing")
    llm = OpenAILLM(base_url=llama_server, structured="json_schema", read_timeout=300)
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 20}},
        "required": ["city"],
    }
    messages = [Message("user", "Name the capital of France as JSON.")]
    try:
        completion = llm.complete(messages, schema=schema, schema_name="city", max_tokens=30)
    finally:
        llm.close()
    assert completion.structured == "json_object"
    assert json.loads(completion.text)["city"]
    refusals = [
        r.getMessage() for r in caplog.records if "refused response_format" in r.getMessage()
    ]
    assert len(refusals) == 1 and "json_schema (HTTP 500" in refusals[0], refusals
    assert "\n" not in refusals[0] and "Traceback" not in refusals[0]
    again = OpenAILLM(base_url=llama_server, read_timeout=300)
    assert again.structured == "json_object"
    again.close()
    forget_formats()


def test_calls_beyond_one_wait_in_our_queue_not_against_the_read_timeout(
    llama_server: str,
) -> None:
    """Four calls at once, a read timeout shorter than four answers take one after the
    other: they queue in the provider (one at a time on this server) and all succeed."""
    llm = OpenAILLM(base_url=llama_server)
    assert llm.concurrency() == 1
    single = time.monotonic()
    asked = [Message("user", "Say hello as JSON.")]
    schema = {"type": "object", "properties": {"greeting": {"type": "string", "maxLength": 12}}}
    llm.complete(asked, schema=schema, schema_name="hello", max_tokens=12)
    one = time.monotonic() - single
    llm.read_timeout = max(2.5 * one, 5.0)

    async def four() -> list[str]:
        try:
            done = await asyncio.gather(
                *(
                    llm.acomplete(
                        [Message("user", f"Say hello to person {i} as JSON.")],
                        schema=schema,
                        schema_name="hello",
                        max_tokens=12,
                    )
                    for i in range(4)
                )
            )
        finally:
            await llm.aclose()
        return [c.text for c in done]

    texts = asyncio.run(four())
    llm.close()
    assert len(texts) == 4 and all(texts)
    assert llm.capacity.peak == 1
