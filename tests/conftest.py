"""Shared test fixtures: a clean environment per test, cassette settings, a fake model."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from briefing.llm.fake import FakeLLM

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_69d1e78211fb2cff.txt"
#: The server cassettes were recorded against (``make cassettes`` starts it here).
RECORD_BASE_URL = os.environ.get("BRIEFING_RECORD_BASE_URL", "http://127.0.0.1:8765/v1")
#: Headers never written to a cassette.
SECRET_HEADERS = [
    "authorization",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
    "openai-organization",
    "openai-project",
]
#: Query parameters some OpenAI-compatible servers take keys in (Azure ``api-key``...).
SECRET_QUERY_PARAMETERS = ["api-key", "api_key", "key", "token", "access_token"]
#: A key or bearer token in a response body (a server or proxy that echoes the request's
#: Authorization header in its error message): redacted before a cassette is written.
_BODY_SECRET = re.compile(r"(?i)(bearer\s+)[^\s\"'\\,;)}]+|\bsk-[A-Za-z0-9_\-]{8,}")


@pytest.fixture(autouse=True)
def no_model_requests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Like pydantic-ai's ``ALLOW_MODEL_REQUESTS = False``: a test that forgets its fake
    model fails instead of quietly loading the bundled one or calling a server. Tests
    that mean it are marked ``llama`` (the real llama.cpp model) or ``vcr`` (replayed
    HTTP to a server)."""
    import briefing.llm.base as base

    allowed = any(request.node.get_closest_marker(m) for m in ("llama", "vcr", "real_server"))
    saved = base.ALLOW_MODEL_REQUESTS
    base.ALLOW_MODEL_REQUESTS = allowed
    yield
    base.ALLOW_MODEL_REQUESTS = saved


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's keys, servers or settings; caches go to tmp."""
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "BRIEFING_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # no resident server left behind by a test that runs `briefing summarize` in a
    # subprocess (tests/test_resident.py turns it on where it means to)
    monkeypatch.setenv("BRIEFING_RESIDENT", "0")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    yield


def _scrub_request(request: Any) -> Any:
    for name in list(request.headers):
        if name.lower().startswith("x-stainless") or name.lower() in SECRET_HEADERS:
            del request.headers[name]
    return request


def _redact(text: str) -> str:
    return _BODY_SECRET.sub(lambda m: f"{m.group(1) or ''}[REDACTED]", text)


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            del headers[name]
    body = response.get("body", {})
    data = body.get("string")
    if isinstance(data, str | bytes):
        text = data if isinstance(data, str) else data.decode("utf-8", "surrogateescape")
        redacted = _redact(text)
        if redacted != text:
            new = redacted.encode("utf-8", "surrogateescape")
            body["string"] = new if isinstance(data, bytes) else redacted
            for name in headers:
                if name.lower() == "content-length":
                    headers[name] = [str(len(new))]
    return response


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Cassette bodies match as before, except that a request sent without a body (a GET
    through ``http.client``) matches one recorded with an empty body (the same GET
    recorded through ``httpx``)."""
    from vcr import matchers

    def body(r1: Any, r2: Any) -> None:
        if not r1.body and not r2.body:
            return
        matchers.body(r1, r2)

    vcr.register_matcher("body", body)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": SECRET_HEADERS,
        "filter_query_parameters": SECRET_QUERY_PARAMETERS,
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "match_on": ["method", "scheme", "host", "port", "path", "body"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """Cassettes live in ``cassettes/<test_module>/<test_name>.yaml`` at the repo root."""
    return str(ROOT / "cassettes" / request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture
def fake_llm() -> FakeLLM:
    return FakeLLM()
