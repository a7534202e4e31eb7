"""The OpenAI provider against a scripted HTTP transport: retries, errors, format fallback."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from briefing.errors import ConfigError, ModelNotFoundError, ProviderError
from briefing.llm import choose_provider, get_llm, http
from briefing.llm.base import Message
from briefing.llm.openai import OpenAILLM, forget_formats
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
    script: Callable[[httpx2.Request], httpx2.Response],
    *,
    model: str = "test-model",
    async_script: Callable[[httpx2.Request], httpx2.Response] | None = None,
    **kwargs: Any,
) -> tuple[OpenAILLM, list[float]]:
    """A provider whose sync client is answered by ``script`` (and async one, if given, by
    ``async_script``); the sleeps of its retries are recorded, not slept."""
    sleeps: list[float] = []
    client = http.Client(
        api_key="mock-api-key",
        base_url="http://test.invalid/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(script)),
    )
    async_client = None
    if async_script is not None:
        async_client = http.AsyncClient(
            api_key="mock-api-key",
            base_url="http://test.invalid/v1",
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(async_script)),
        )

    async def async_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    llm = OpenAILLM(
        model,
        client=client,
        async_client=async_client,
        sleep=sleeps.append,
        async_sleep=async_sleep,
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
    script = Script((500, LLAMA_CPP_PYTHON_REFUSAL, {}), (200, ok_body(), {}), (200, ok_body(), {}))
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


# --------------------------------------------------------------------------- issue 13
# Model servers with default settings: the format ladder steps down only on a refusal
# of the format, errors stay one line, the model label is what the server serves, and
# the calls in flight fit the server.

#: llama-cpp-python 0.3.36's server answering response_format json_schema, as captured:
#: FastAPI's validation error, turned into a 500 by its RouteErrorHandler
LLAMA_CPP_PYTHON_REFUSAL = {
    "error": {
        "message": (
            "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', "
            "'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", "
            "'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n"
            '  File "/venv/lib/python3.11/site-packages/llama_cpp/server/app.py", line 376, '
            "in create_chat_completion\n    POST /v1/chat/completions"
        ),
        "type": "internal_server_error",
        "param": None,
        "code": None,
    }
}
TRACEBACK_500 = {
    "error": {
        "message": (
            "Traceback (most recent call last):\n"
            '  File "/srv/app.py", line 12, in create_chat_completion\n'
            "    grammar = _grammar_for_response_format(body.response_format)\n"
            '  File "/srv/llama.py", line 88, in eval\n'
            "    raise RuntimeError('llama_decode returned -3')\n"
            "RuntimeError: llama_decode returned -3"
        ),
        "type": "internal_server_error",
    }
}


@pytest.fixture(autouse=True)
def fresh_formats() -> Iterator[None]:
    """No test sees the formats another one's server refused."""
    forget_formats()
    yield
    forget_formats()


def test_llama_cpp_python_refusal_steps_down_once_and_is_remembered() -> None:
    script = Script((500, LLAMA_CPP_PYTHON_REFUSAL, {}), (200, ok_body(), {}))
    llm, sleeps = make_llm(script)
    llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    assert [b["response_format"]["type"] for b in script.bodies()] == ["json_schema", "json_object"]
    assert sleeps == []  # a refusal is not retried
    # the next provider for the same server and model starts where this one ended
    again, _ = make_llm(Script((200, ok_body(), {})))
    assert again.structured == "json_object"
    other, _ = make_llm(Script(), model="other-model")
    assert other.structured == "json_schema"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, TRACEBACK_500),  # a traceback that merely mentions response_format
        (500, {"error": {"message": "llama_decode returned -3"}}),
        (
            503,
            {
                "error": {
                    "message": "server busy, please try again.  maximum pending requests exceeded"
                }
            },
        ),
        (429, {"error": {"message": "Rate limit reached"}}),
        (0, httpx2.ReadTimeout("timed out")),
        (0, httpx2.RemoteProtocolError("Server disconnected without sending a response.")),
    ],
    ids=["traceback", "500", "503", "429", "timeout", "drop"],
)
def test_load_never_steps_the_format_down(status: int, body: Any) -> None:
    script = Script((status, body, {}), (status, body, {}), (200, ok_body(), {}))
    llm, sleeps = make_llm(script)
    completion = llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    assert completion.structured == llm.structured == "json_schema"
    assert {b["response_format"]["type"] for b in script.bodies()} == {"json_schema"}
    assert len(sleeps) == 2  # retried, as load is


def test_a_400_naming_the_format_is_a_refusal_but_other_400s_are_not() -> None:
    openai_refusal = {
        "error": {
            "message": "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
            "param": "response_format",
            "type": "invalid_request_error",
        }
    }
    llm, _ = make_llm(Script((400, openai_refusal, {}), (200, ok_body(), {})))
    llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    assert llm.structured == "json_object"
    too_long = {"error": {"message": "This model's maximum context length is 8192 tokens."}}
    other, _ = make_llm(Script((400, too_long, {})), model="other-model")
    with pytest.raises(ProviderError, match="rejected the request"):
        other.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    assert other.structured == "json_schema"


def test_concurrent_refusals_step_down_one_level() -> None:
    """Calls in flight together all get the refusal: the mode steps down once, not once
    per call (json_schema -> json_object, not on to plain text)."""
    sent: list[str] = []

    async def server(request: httpx2.Request) -> httpx2.Response:
        mode = json.loads(request.content)["response_format"]["type"]
        sent.append(mode)
        await asyncio.sleep(0.02)  # all three are in flight before the first answer
        if mode == "json_schema":
            return httpx2.Response(500, json=LLAMA_CPP_PYTHON_REFUSAL)
        return httpx2.Response(200, json=ok_body())

    llm, _ = make_llm(Script(), async_script=server)  # type: ignore[arg-type]
    llm.requested_concurrency = 3

    async def three() -> list[str]:
        done = await asyncio.gather(
            *(
                llm.acomplete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=5)
                for _ in range(3)
            )
        )
        return [c.structured for c in done]

    assert asyncio.run(three()) == ["json_object"] * 3
    assert sent == ["json_schema"] * 3 + ["json_object"] * 3
    assert llm.structured == "json_object"


def test_a_server_traceback_never_reaches_the_error() -> None:
    script = Script(*[(500, TRACEBACK_500, {})] * 4)
    llm, _ = make_llm(script)
    llm.requested_concurrency = 4
    with pytest.raises(ProviderError) as raised:
        llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    message = str(raised.value)
    assert "\n" not in message and "Traceback" not in message and 'File "' not in message
    assert message == (
        "http://test.invalid/v1 kept failing (HTTP 500) after 4 attempts: RuntimeError: "
        "llama_decode returned -3. Is it overloaded? Try --concurrency 1."
    )


def test_one_request_at_a_time_is_told_to_look_elsewhere() -> None:
    llm, _ = make_llm(Script(*[(500, {"error": {"message": "boom"}}, {})] * 4))
    llm.requested_concurrency = 1
    with pytest.raises(ProviderError, match=r"after 4 attempts: boom\. Check the server's log\."):
        llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)


class Server:
    """A scripted OpenAI-compatible server by route: GETs answered from ``gets`` (path ->
    (status, JSON)), chat requests from a ``Script``; records every request."""

    def __init__(self, gets: dict[str, tuple[int, Any]], chat: Script | None = None) -> None:
        self.gets = gets
        self.chat = chat or Script()
        self.requests: list[str] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if request.method == "GET":
            if request.url.path not in self.gets:
                return httpx2.Response(404, text="404 page not found")
            status, body = self.gets[request.url.path]
            if isinstance(body, Exception):
                raise body
            return httpx2.Response(status, json=body)
        return self.chat(request)


def server_llm(server: Server, model: str | None = None, **kwargs: Any) -> OpenAILLM:
    base = kwargs.pop("base_url", "http://127.0.0.1:8000/v1")
    client = http.Client(
        api_key="mock-api-key",
        base_url=base,
        http_client=httpx2.Client(transport=httpx2.MockTransport(server)),
    )
    kwargs.setdefault("retry", RetryPolicy(max_attempts=2, initial_wait=0.001, max_wait=0.01))
    return OpenAILLM(model, client=client, probe=True, sleep=lambda _: None, **kwargs)


def models(*ids: str, owned_by: str = "organization", **extra: Any) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": i, "object": "model", "owned_by": owned_by, **extra} for i in ids],
    }


def test_a_custom_server_without_model_is_asked_which_it_serves() -> None:
    server = Server(
        {"/v1/models": (200, models("qwen2.5-7b-instruct"))}, Script((200, ok_body(), {}))
    )
    llm = server_llm(server)
    assert llm.context_window == 8192  # the probe asks first: its answer is reused
    assert llm.model == "qwen2.5-7b-instruct"
    llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=5)
    assert server.chat.bodies()[0]["model"] == "qwen2.5-7b-instruct"
    assert server.requests.count("GET /v1/models") == 1  # asked once, for both purposes


@pytest.mark.parametrize(
    ("answer", "needle"),
    [
        (
            (404, {"detail": "Not Found"}),
            r"does not say which model it serves \(GET /models: HTTP 404\); pass --model NAME",
        ),
        ((200, {"object": "list", "data": []}), r"GET /models lists none\); pass --model NAME"),
        (
            (200, models("llama3.2:latest", "qwen2.5:7b", owned_by="library")),
            r"serves 2 models \(llama3.2:latest, qwen2.5:7b\); pass --model",
        ),
    ],
)
def test_a_server_that_cannot_say_its_model_asks_for_one(
    answer: tuple[int, Any], needle: str
) -> None:
    llm = server_llm(Server({"/v1/models": answer}))
    with pytest.raises(ConfigError, match=needle):
        _ = llm.model


def test_openai_keeps_its_default_model_and_is_never_probed() -> None:
    server = Server({})
    llm = server_llm(server, base_url="https://api.openai.com/v1")
    assert llm.model == "gpt-4o-mini" and llm.concurrency() == 16
    assert server.requests == []


def test_get_llm_with_a_base_url_and_no_model_is_not_labelled_gpt_4o_mini() -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    llm = get_llm("openai", env=env)
    assert isinstance(llm, OpenAILLM)
    assert llm._model is None  # asked of the server on first use, never assumed
    assert get_llm("openai", env={"OPENAI_API_KEY": "k"}).model == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("gets", "kind", "in_flight", "window", "mode"),
    [
        (  # llama-cpp-python: its /v1/models answer; /props is not asked
            {"/v1/models": (200, models("/m/SmolLM2.gguf", owned_by="me", permissions=[]))},
            "llama-cpp-python",
            1,
            8192,
            "json_object",
        ),
        (  # llama.cpp's llama-server: slots and context per slot at /props
            {
                "/v1/models": (200, models("model.gguf", owned_by="llamacpp")),
                "/props": (200, {"total_slots": 4, "default_generation_settings": {"n_ctx": 4096}}),
            },
            "llama.cpp",
            4,
            4096,
            "json_schema",
        ),
        (  # vLLM: many at once; its max_model_len
            {
                "/v1/models": (
                    200,
                    models("Qwen/Qwen2.5-7B-Instruct", owned_by="vllm", max_model_len=32768),
                )
            },
            "vllm",
            16,
            32768,
            "json_schema",
        ),
        (  # a local server that says nothing: start low
            {},
            "unknown",
            2,
            8192,
            "json_schema",
        ),
        (  # probes that fail never fail the run
            {
                "/v1/models": (0, httpx2.ConnectTimeout("timed out")),
                "/props": (0, httpx2.ReadTimeout("slow")),
            },
            "unknown",
            2,
            8192,
            "json_schema",
        ),
    ],
    ids=["llama-cpp-python", "llama-server", "vllm", "silent", "probe-fails"],
)
def test_what_the_server_is_decides_calls_in_flight_context_and_format(
    gets: dict[str, tuple[int, Any]], kind: str, in_flight: int, window: int, mode: str
) -> None:
    server = Server(gets)
    llm = server_llm(server, "model.gguf")
    assert llm.concurrency() == in_flight
    assert (llm.server.kind, llm.context_window, llm.structured) == (kind, window, mode)
    asked = [r for r in server.requests if r.startswith("GET")]
    assert len(asked) == len(set(asked)) <= 2  # each probe at most once
    llm.concurrency()
    assert [r for r in server.requests if r.startswith("GET")] == asked


def test_the_users_concurrency_wins() -> None:
    server = Server({"/v1/models": (200, models("m", owned_by="me", permissions=[]))})
    llm = server_llm(server, "m", concurrency=6)
    assert llm.concurrency() == 6 and server.requests == []


def test_probes_can_be_switched_off() -> None:
    llm, _ = make_llm(Script())
    assert llm.concurrency() == 8  # a remote server it knows nothing of
    assert llm.server.kind == "unknown"


def test_billed_schema_tokens_follow_the_format() -> None:
    llm, _ = make_llm(Script())
    strict = llm.billed_schema_tokens(SCHEMA)
    assert strict > 100
    llm.structured = "json_object"
    assert llm.billed_schema_tokens(SCHEMA) == strict  # billed as the strict schema
    llm.structured = "json_object_plain"
    outline = llm.billed_schema_tokens(SCHEMA)
    assert 0 < outline < strict
    llm.structured = "none"
    assert llm.billed_schema_tokens(SCHEMA) == outline
    assert llm.billed_schema_tokens({}) == 0


def test_the_format_in_use_is_logged_with_why(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="briefing")
    llm, _ = make_llm(Script((500, LLAMA_CPP_PYTHON_REFUSAL, {}), (200, ok_body(), {})))
    llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=10)
    said = [r.getMessage() for r in caplog.records]
    assert any("response format json_schema for test-model" in m for m in said), said
    assert any(
        "refused response_format json_schema (HTTP 500: 1 validation error: {'type'" in m
        and m.endswith("using json_object from now on")
        for m in said
    ), said


# --------------------------------------------------------------------------- Ollama, vLLM
# Hand-made cassettes (cassettes/test_openai_provider/), written from the servers'
# documented request and response shapes: Ollama's openai/openai.go (model list,
# response_format json_schema as its `format`, error bodies) and server/routes.go (503
# when OLLAMA_MAX_QUEUE is full, 404 for a model not pulled); vLLM's
# entrypoints/openai/protocol.py (ModelCard with owned_by "vllm" and max_model_len,
# ErrorResponse) and the 400 its versions before json_schema answer it with.

SMALL_SCHEMA = {
    "type": "object",
    "properties": {"headline": {"type": "string"}},
    "required": ["headline"],
}
SMALL_MESSAGES = [
    Message("system", "Summarize the article as JSON."),
    Message("user", "Title: Lima farmers get grain"),
]
QUICK = RetryPolicy(max_attempts=3, initial_wait=0.001, max_wait=0.01)


def server_at(url: str, **settings: str) -> OpenAILLM:
    """The provider ``briefing`` builds with only ``OPENAI_BASE_URL`` set."""
    llm = get_llm("openai", env={"OPENAI_BASE_URL": url, **settings})
    assert isinstance(llm, OpenAILLM)
    llm.retry = QUICK
    return llm


@pytest.mark.vcr
def test_ollama_with_default_settings() -> None:
    llm = server_at("http://127.0.0.1:11434/v1")
    # the model it serves, asked once; what it is: Ollama, queueing beyond its
    # OLLAMA_NUM_PARALLEL, so it starts low and learns
    assert llm.model == "llama3.2:latest"
    assert (llm.server.kind, llm.concurrency()) == ("ollama", 2)
    completion = llm.complete(
        SMALL_MESSAGES, schema=SMALL_SCHEMA, schema_name="article_summary", max_tokens=200
    )
    # its 503 "server busy" (queue full) is load: retried, fewer sent, format kept
    assert json.loads(completion.text) == {"headline": "Lima farmers get grain"}
    assert completion.structured == llm.structured == "json_schema"
    assert llm.capacity.cuts == 1  # halved to 1, then one more after the answer
    llm.close()


@pytest.mark.vcr
def test_ollama_model_not_pulled() -> None:
    llm = server_at("http://127.0.0.1:11434/v1", BRIEFING_MODEL="qwen2.5:7b")
    llm.retry = QUICK
    with pytest.raises(ModelNotFoundError, match=r"Model 'qwen2.5:7b' was not found at"):
        llm.complete(
            SMALL_MESSAGES, schema=SMALL_SCHEMA, schema_name="article_summary", max_tokens=200
        )
    llm.close()


@pytest.mark.vcr
def test_vllm_with_default_settings() -> None:
    llm = server_at("http://127.0.0.1:8000/v1")
    assert llm.model == "Qwen/Qwen2.5-7B-Instruct"
    # continuous batching: many at once from the start; its max_model_len as the window
    assert (llm.server.kind, llm.concurrency(), llm.context_window) == ("vllm", 16, 32768)
    completion = llm.complete(
        SMALL_MESSAGES, schema=SMALL_SCHEMA, schema_name="article_summary", max_tokens=200
    )
    assert completion.structured == "json_schema"  # guided decoding by response_format
    assert json.loads(completion.text)["headline"]
    llm.close()


@pytest.mark.vcr
def test_vllm_before_json_schema_gets_guided_json() -> None:
    """vLLM 0.5 and older refuse response_format json_schema (400, a validation error
    naming response_format): the next step is json_object with the schema as
    ``guided_json``, which they constrain decoding with."""
    llm = server_at("http://127.0.0.1:8000/v1")
    completion = llm.complete(
        SMALL_MESSAGES, schema=SMALL_SCHEMA, schema_name="article_summary", max_tokens=200
    )
    assert completion.structured == llm.structured == "json_object"
    assert json.loads(completion.text)["headline"]
    assert llm.context_window == 8192  # no max_model_len in its model list
    llm.close()


def test_a_model_still_loading_is_waited_for_without_using_up_attempts() -> None:
    """llama.cpp's server answers 503 "Loading model" until its model is loaded: waited
    out within the call's time budget, neither an attempt used up nor a sign of load."""
    loading = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    script = Script(*[(503, loading, {})] * 6, (200, ok_body(), {}))
    llm, sleeps = make_llm(script)  # 4 attempts
    completion = llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=5)
    assert completion.text == '{"a": 1}' and len(sleeps) == 6
    assert llm.capacity.cuts == 0


def test_empty_answers_send_fewer_and_refusals_of_the_format_do_not() -> None:
    empty = ok_body()
    empty["choices"][0]["message"]["content"] = ""  # what an interrupted request returns
    llm, _ = make_llm(
        Script((200, empty, {}), (500, LLAMA_CPP_PYTHON_REFUSAL, {}), (200, ok_body(), {}))
    )
    llm.requested_concurrency = None
    assert llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=5).text == ""
    assert llm.capacity.cuts == 1
    llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=5)
    assert llm.capacity.cuts == 1 and llm.structured == "json_object"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("boom", "boom"),
        (
            'Traceback (most recent call last):\n  File "a.py", line 1, in f\n    g()\nValueError: bad',
            "ValueError: bad",
        ),
        (
            LLAMA_CPP_PYTHON_REFUSAL["error"]["message"],
            "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', "
            "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_sche…",
        ),
        ('  File "x.py", line 3, in y\n    raise KeyError(1)', "raise KeyError(1)"),
        ("a  lot\n\n of\tspace", "a lot of space"),
    ],
)
def test_server_messages_become_one_line(text: str, line: str) -> None:
    from briefing.llm.retry import one_line

    assert one_line(text) == line


def test_raw_line_breaks_inside_json_strings_are_escaped() -> None:
    """llama-cpp-python's JSON-schema grammar lets a raw line break into a string (JSON
    forbids it): the answer is still the JSON the model meant."""
    content = '{\n  "headline": "Two\nlines",\t"n": "tab\there", "q": "a \\"quoted\\"\nword"\n}'
    llm, _ = make_llm(Script((200, ok_body(content), {}), (200, ok_body(content), {})))
    text = llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=5).text
    assert json.loads(text) == {"headline": "Two\nlines", "n": "tab\there", "q": 'a "quoted"\nword'}
    llm.structured = "none"  # prose is left alone
    assert llm.complete(MESSAGES, schema=SCHEMA, schema_name="x", max_tokens=5).text == content


# -- the wire ------------------------------------------------------------------------------
def test_a_call_imports_no_sdk_and_sends_plain_json() -> None:
    """The provider speaks the wire format itself (``briefing.llm.http``): importing the
    SDK would cost most of a second on every start of ``briefing summarize``."""
    import subprocess
    import sys

    program = f"""
import json, sys
import httpx2
from briefing.llm import http
from briefing.llm.base import Message
from briefing.llm.openai import OpenAILLM
sent = []
def answer(request):
    sent.append((request.headers, json.loads(request.content)))
    return httpx2.Response(200, json={ok_body()!r})
client = http.Client(base_url="http://test.invalid/v1", api_key="k-123",
    http_client=httpx2.Client(transport=httpx2.MockTransport(answer)))
llm = OpenAILLM("test-model", client=client)
done = llm.complete([Message("user", "u")], schema={{}}, schema_name="s", max_tokens=5)
headers, body = sent[0]
assert done.text == '{{"a": 1}}' and done.usage.prompt_tokens == 11, done
assert headers["authorization"] == "Bearer k-123" and body["model"] == "test-model", body
assert "openai" not in sys.modules, "the SDK was imported"
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr[-2000:]
