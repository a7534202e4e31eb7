"""The OpenAI provider against a scripted HTTP transport: retries, errors, format fallback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import openai
import pytest

from briefing.errors import ConfigError, ModelNotFoundError, ProviderError
from briefing.llm import choose_provider, get_llm
from briefing.llm.base import Message
from briefing.llm.openai import OpenAILLM
from briefing.llm.retry import RetryPolicy, retry_after_seconds
from briefing.models import SummaryOutput

SCHEMA = SummaryOutput.model_json_schema()
MESSAGES = [Message("system", "s"), Message("user", "u")]


def ok_body(content: str = '{"a": 1}') -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


class Script:
    """Answers requests from a list of (status, body, headers) in order and records them."""

    def __init__(self, *responses: tuple[int, Any, dict[str, str]]) -> None:
        self.responses = list(responses)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        status, body, headers = self.responses.pop(0)
        if isinstance(body, Exception):
            raise body
        return httpx2.Response(status, json=body, headers=headers)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def make_llm(
    script: Callable[[httpx2.Request], httpx2.Response], **kwargs: Any
) -> tuple[OpenAILLM, list[float]]:
    sleeps: list[float] = []
    client = openai.OpenAI(
        api_key="mock-api-key",
        base_url="http://test.invalid/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(script)),
    )
    llm = OpenAILLM(
        "test-model",
        client=client,
        sleep=sleeps.append,
        retry=RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=5),
        **kwargs,
    )
    return llm, sleeps


def test_strict_json_schema_is_requested_and_usage_recorded() -> None:
    script = Script((200, ok_body(), {}))
    llm, _ = make_llm(script)
    completion = llm.complete(MESSAGES, schema=SCHEMA, schema_name="article_summary", max_tokens=50)
    assert completion.text == '{"a": 1}'
    assert completion.usage.prompt_tokens == 11 and completion.usage.completion_tokens == 7
    body = script.bodies()[0]
    rf = body["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
    schema = rf["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(SummaryOutput.model_fields)
    assert "maxLength" not in json.dumps(schema)
    assert body["temperature"] == 0 and body["max_tokens"] == 50


def test_429_honours_retry_after_then_succeeds() -> None:
    script = Script(
        (429, {"error": {"message": "slow down"}}, {"retry-after": "2"}),
        (503, {"error": {"message": "busy"}}, {}),
        (200, ok_body(), {}),
    )
    llm, sleeps = make_llm(script)
    llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    assert len(script.requests) == 3
    assert sleeps[0] == 2.0  # the server's Retry-After
    assert 0 <= sleeps[1] <= 5  # jittered backoff, capped


def test_retry_after_is_capped() -> None:
    script = Script((429, {}, {"retry-after": "3600"}), (200, ok_body(), {}))
    llm, sleeps = make_llm(script)
    llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    assert sleeps == [5]


def test_dropped_connections_are_retried_then_reported() -> None:
    drop = httpx2.RemoteProtocolError("Server disconnected without sending a response.")
    script = Script(*[(0, drop, {})] * 4)
    llm, sleeps = make_llm(script)
    with pytest.raises(ProviderError, match="Cannot reach the model server"):
        llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    assert len(script.requests) == 4 and len(sleeps) == 3


def test_persistent_500_gives_one_line_error() -> None:
    script = Script(*[(500, {"error": {"message": "boom"}}, {})] * 4)
    llm, _ = make_llm(script)
    with pytest.raises(ProviderError, match=r"kept failing \(HTTP 500\) after 4 attempts: boom"):
        llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)


@pytest.mark.parametrize(
    ("status", "error", "needle"),
    [(401, ProviderError, "OPENAI_API_KEY"), (404, ModelNotFoundError, "--model")],
)
def test_auth_and_model_errors_are_not_retried(
    status: int, error: type[Exception], needle: str
) -> None:
    script = Script((status, {"error": {"message": "nope"}}, {}))
    llm, sleeps = make_llm(script)
    with pytest.raises(error, match=needle):
        llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    assert sleeps == []


def test_server_without_json_schema_falls_back_to_json_mode() -> None:
    # llama-cpp-python's server answers json_schema with a 500 validation error
    refusal = {"error": {"message": "Input should be 'text' or 'json_object' (response_format)"}}
    script = Script((500, refusal, {}), (200, ok_body(), {}), (200, ok_body(), {}))
    llm, sleeps = make_llm(script)
    llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    formats = [b["response_format"]["type"] for b in script.bodies()]
    assert formats == ["json_schema", "json_object", "json_object"]  # remembered
    assert "schema" in script.bodies()[1]["response_format"]
    assert sleeps == []


def test_empty_choices_and_refusals_are_reported_as_such() -> None:
    empty = ok_body()
    empty["choices"] = []
    refusal = ok_body()
    refusal["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "no"}
    llm, _ = make_llm(Script((200, empty, {}), (200, refusal, {})))
    assert (
        llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=5).finish_reason
        == "empty"
    )
    assert (
        llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=5).finish_reason
        == "refusal"
    )


def test_retry_after_parsing() -> None:
    class E(Exception):
        def __init__(self, headers: dict[str, str]) -> None:
            self.response = httpx2.Response(429, headers=headers)

    assert retry_after_seconds(E({"retry-after-ms": "1500"})) == 1.5
    assert retry_after_seconds(E({"retry-after": "7"})) == 7.0
    assert retry_after_seconds(E({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after_seconds(E({})) is None


def test_provider_choice_follows_the_environment() -> None:
    assert choose_provider(None, {}) == "local"
    assert choose_provider("auto", {"OPENAI_API_KEY": "k"}) == "openai"
    assert choose_provider(None, {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}) == "openai"
    assert choose_provider("local", {"OPENAI_API_KEY": "k"}) == "local"
    assert choose_provider(None, {}, base_url="http://127.0.0.1:1/v1") == "openai"
    with pytest.raises(ConfigError, match="Unknown provider"):
        choose_provider("anthropic", {})


def test_openai_without_key_says_how_to_fix() -> None:
    with pytest.raises(ConfigError, match="Set OPENAI_API_KEY"):
        get_llm("openai", env={})


def test_real_key_is_never_sent_to_a_base_url_given_by_flag() -> None:
    env = {"OPENAI_API_KEY": "sk-real-secret"}
    llm = get_llm("openai", base_url="http://127.0.0.1:9/v1", env=env)
    assert isinstance(llm, OpenAILLM)
    assert llm._client.api_key != "sk-real-secret"
    both = get_llm("openai", env={**env, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert isinstance(both, OpenAILLM) and both._client.api_key == "sk-real-secret"


def test_unreachable_server_is_a_provider_error() -> None:
    llm = get_llm(
        "openai",
        base_url="http://127.0.0.1:9/v1",
        env={},
        timeout=2,
    )
    assert isinstance(llm, OpenAILLM)
    llm.retry = RetryPolicy(max_attempts=2, initial_wait=0.001, max_wait=0.01)
    with pytest.raises(
        ProviderError, match="Cannot reach the model server at http://127.0.0.1:9/v1"
    ):
        llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=5)


def test_context_windows_of_known_models() -> None:
    assert (
        get_llm("openai", model="gpt-4o-mini", env={"OPENAI_API_KEY": "k"}).context_window
        == 128_000
    )
    custom = get_llm(
        "openai", env={"OPENAI_BASE_URL": "http://x/v1", "BRIEFING_CONTEXT_WINDOW": "4096"}
    )
    assert custom.context_window == 4096


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BRIEFING_TIMEOUT", "abc", "BRIEFING_TIMEOUT must be a number, not 'abc'."),
        ("BRIEFING_TIMEOUT", "0", "BRIEFING_TIMEOUT must be more than 0, not '0'."),
        ("BRIEFING_MAX_ATTEMPTS", "2.5", "BRIEFING_MAX_ATTEMPTS must be a whole number"),
        ("BRIEFING_MAX_ATTEMPTS", "-1", "BRIEFING_MAX_ATTEMPTS must be more than 0"),
        ("BRIEFING_CONTEXT_WINDOW", "big", "BRIEFING_CONTEXT_WINDOW must be a whole number"),
    ],
)
def test_bad_numeric_settings_are_config_errors(name: str, value: str, message: str) -> None:
    from briefing.errors import ConfigError
    from briefing.llm import get_llm

    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", name: value}
    with pytest.raises(ConfigError) as raised:
        get_llm("openai", env=env)
    assert str(raised.value).startswith(message)


def test_numeric_settings_reach_the_client() -> None:
    from briefing.llm import get_llm

    env = {
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "BRIEFING_TIMEOUT": "7.5",
        "BRIEFING_MAX_ATTEMPTS": "2",
        "BRIEFING_CONTEXT_WINDOW": "4096",
    }
    llm = get_llm("openai", env=env)
    assert isinstance(llm, OpenAILLM)
    assert (llm.read_timeout, llm.retry.max_attempts, llm.context_window) == (7.5, 2, 4096)


def test_429_insufficient_quota_is_not_retried_and_says_why() -> None:
    quota = {
        "error": {
            "message": "You exceeded your current quota, please check your plan.",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
    }
    script = Script((429, quota, {"retry-after": "1"}), (200, ok_body(), {}))
    llm, sleeps = make_llm(script)
    with pytest.raises(ProviderError) as raised:
        llm.complete(MESSAGES, schema=SCHEMA, schema_name="s", max_tokens=100)
    assert len(script.requests) == 1 and sleeps == []  # no waiting for credit to appear
    assert "no quota left (HTTP 429 insufficient_quota)" in str(raised.value)
    assert raised.value.every_call  # a run that has not worked yet stops (exit 5)
