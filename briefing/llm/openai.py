"""OpenAI and any OpenAI-compatible server (llama.cpp server, vLLM, Ollama, ...).

Structured output degrades gracefully: strict ``json_schema`` where the server supports
it, else ``json_object`` (with the schema attached, which llama.cpp's server turns into a
grammar), else plain text; callers always validate. The first mode a server accepts is
remembered. Retries live in :mod:`briefing.llm.retry` (the SDK's own are switched off).

``complete`` (sync client) and ``acomplete`` (``AsyncOpenAI``, for concurrent runs) share
one request builder, one error mapping and one fallback ladder; only the I/O differs.
An optional :class:`~briefing.ratelimit.RateLimiter` paces every attempt (requests and
tokens per minute) and is told about 429s so it can slow the whole run down.

One call takes at most ``RetryPolicy.max_elapsed`` seconds: the retries stop before it,
and an attempt that would run past it gets a read timeout cut to what is left. An answer
that is not a chat completion (a proxy's HTML page, an error body sent with 200) is
retried like a 5xx, then reported; an empty ``choices`` list or a refusal comes back as a
``Completion`` saying so (``finish_reason`` ``"empty"`` / ``"refusal"``) for the caller's
validation to report.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from briefing.errors import ConfigError, ModelNotFoundError, ProviderError
from briefing.llm.base import Completion, JsonSchema, Message
from briefing.llm.retry import (
    RetryPolicy,
    TransientError,
    acall_with_retries,
    call_with_retries,
    is_format_rejection,
    is_quota_exhausted,
)
from briefing.llm.schema import grammar_schema, schema_outline, strict_schema
from briefing.models import Usage

if TYPE_CHECKING:
    from briefing.ratelimit import RateLimiter

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-4o-mini"
#: Context windows of known OpenAI models (prefix match); unknown models on a custom
#: server get ``DEFAULT_CONTEXT_WINDOW`` unless the user says otherwise.
CONTEXT_WINDOWS = {
    "gpt-4.1": 1_047_576,
    "gpt-5": 400_000,
    "gpt-4o": 128_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4": 200_000,
    "gpt-4-turbo": 128_000,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
}
DEFAULT_CONTEXT_WINDOW = 8_192
STRUCTURED_MODES = ("json_schema", "json_object", "json_object_plain", "none")


class MalformedResponse(TransientError):
    """The server answered 200 with something that is not a chat completion."""


@dataclass
class _Call:
    """One ``complete`` call across its attempts: its time budget and attempts so far."""

    deadline: float
    attempts: int = 0


def context_window_for(model: str) -> int:
    name = model.lower().rsplit("/", 1)[-1]
    for prefix in sorted(CONTEXT_WINDOWS, key=len, reverse=True):
        if name.startswith(prefix):
            return CONTEXT_WINDOWS[prefix]
    return DEFAULT_CONTEXT_WINDOW


class OpenAILLM:
    """Chat completions through the official ``openai`` SDK."""

    provider = "openai"

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        context_window: int | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        retry: RetryPolicy | None = None,
        structured: str | None = None,
        client: Any = None,
        async_client: Any = None,
        sleep: Callable[[float], Any] = time.sleep,
        async_sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        limiter: RateLimiter | None = None,
    ) -> None:
        import openai

        structured = structured or os.environ.get("BRIEFING_STRUCTURED") or "json_schema"
        if structured not in STRUCTURED_MODES:
            raise ConfigError(
                f"Unknown structured-output mode {structured!r}; use one of {STRUCTURED_MODES}."
            )
        client_given = client is not None
        if client is None:
            if not api_key:
                if not base_url:
                    raise ConfigError(
                        "Set OPENAI_API_KEY to use OpenAI, or run without --provider openai "
                        "to use the embedded local model."
                    )
                # local OpenAI-compatible servers usually need no key; never send a real
                # OpenAI key anywhere the user did not point it
                api_key = "no-key"
            client = openai.OpenAI(
                api_key=api_key,
                base_url=base_url or None,
                max_retries=0,
                timeout=openai.Timeout(read_timeout, connect=connect_timeout),
            )
        self._client_given = client_given
        self._client = client
        #: built on first ``acomplete`` (bound to that event loop), or given for tests
        self._aclient: Any = async_client
        self._aclient_loop: asyncio.AbstractEventLoop | None = None
        self._aclient_given = async_client is not None
        self.base_url = str(client.base_url).rstrip("/")
        self._is_openai = "api.openai.com" in self.base_url
        self.model = model or DEFAULT_MODEL
        self.context_window = context_window or context_window_for(self.model)
        self.retry = retry or RetryPolicy()
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        self._sleep = sleep
        self._async_sleep = async_sleep
        self.structured = structured
        #: paces requests and tokens per minute; slows down on 429 (None: no pacing)
        self.limiter = limiter
        self._derived_schemas: dict[tuple[int, str], tuple[JsonSchema, Any]] = {}

    # -- tokens --------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        from briefing.tokens import count_tokens

        return count_tokens(text, self.model)

    def count_message_tokens(self, messages: Sequence[Message]) -> int:
        # OpenAI's chat format: ~3 tokens per message plus 3 to prime the reply.
        return sum(self.count_tokens(m.content) + 3 for m in messages) + 3

    # -- generation ----------------------------------------------------------------------
    def _response_format(self, schema: JsonSchema, name: str) -> dict[str, Any] | None:
        if self.structured == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": name, "strict": True, "schema": self._derived(schema)},
            }
        if self.structured == "json_object":
            return {"type": "json_object", "schema": self._derived(schema)}
        if self.structured == "json_object_plain":
            return {"type": "json_object"}
        return None

    def _derived(self, schema: JsonSchema) -> JsonSchema:
        """The schema as the current mode sends it (memoized, see ``_memo``)."""
        derive = strict_schema if self.structured == "json_schema" else grammar_schema
        result: JsonSchema = self._memo(schema, self.structured, derive)
        return result

    def _outline(self, schema: JsonSchema) -> str:
        """``schema_outline(schema)`` (memoized, see ``_memo``)."""
        return str(self._memo(schema, "outline", schema_outline))

    def _memo(self, schema: JsonSchema, kind: str, make: Callable[[JsonSchema], Any]) -> Any:
        """``make(schema)``, memoized per schema object and ``kind`` (callers reuse schema
        objects; deriving one per call costs more than the request)."""
        key = (id(schema), kind)
        hit = self._derived_schemas.get(key)
        if hit is None or hit[0] is not schema:
            hit = self._derived_schemas[key] = (schema, make(schema))
            if len(self._derived_schemas) > 256:
                self._derived_schemas.pop(next(iter(self._derived_schemas)))
        return hit[1]

    def _request(
        self, messages: Sequence[Message], schema: JsonSchema, name: str, max_tokens: int
    ) -> dict[str, Any]:
        """The keyword arguments of one chat-completions request (current structured mode)."""
        response_format = self._response_format(schema, name)
        # OpenAI itself wants max_completion_tokens; compatible servers know max_tokens
        limit_key = "max_completion_tokens" if self._is_openai else "max_tokens"
        wire = [{"role": m.role, "content": m.content} for m in messages]
        if self.structured in ("json_object_plain", "none") and schema:
            # the server sees no schema: the system message carries its outline
            outline = f"Answer with one JSON object: {self._outline(schema)}"
            if wire and wire[0]["role"] == "system":
                wire[0]["content"] = f"{wire[0]['content']}\n{outline}"
            else:
                wire.insert(0, {"role": "system", "content": outline})
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": wire,
            limit_key: max_tokens,
            "temperature": 0,
        }
        if response_format is not None:
            kwargs["response_format"] = response_format
        return kwargs

    def _cost(self, messages: Sequence[Message], max_tokens: int) -> int:
        """Tokens one attempt counts against a tokens-per-minute limit (as OpenAI counts:
        the prompt plus the output allowance)."""
        if self.limiter is None or not self.limiter.counts_tokens:
            return 0
        return self.count_message_tokens(messages) + max_tokens

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,
        schema_name: str,
        max_tokens: int,
    ) -> Completion:
        import openai

        cost = self._cost(messages, max_tokens)
        while True:
            kwargs = self._request(messages, schema, schema_name, max_tokens)
            call = self._new_call()
            try:
                response = call_with_retries(
                    functools.partial(self._create, kwargs, cost, call),
                    self.retry,
                    sleep=self._sleep,
                )
            except (openai.APIStatusError, openai.APIConnectionError, MalformedResponse) as e:
                error = self._failure(e, call.attempts)
                if error is None:
                    continue
                raise error from (None if getattr(error, "redacted", False) else e)
            return self._completion(response)

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,
        schema_name: str,
        max_tokens: int,
    ) -> Completion:
        """``complete`` through ``AsyncOpenAI``: same request, retries, errors, fallback."""
        import openai

        cost = self._cost(messages, max_tokens)
        while True:
            kwargs = self._request(messages, schema, schema_name, max_tokens)
            call = self._new_call()
            try:
                response = await acall_with_retries(
                    functools.partial(self._acreate, kwargs, cost, call),
                    self.retry,
                    sleep=self._async_sleep,
                )
            except (openai.APIStatusError, openai.APIConnectionError, MalformedResponse) as e:
                error = self._failure(e, call.attempts)
                if error is None:
                    continue
                raise error from (None if getattr(error, "redacted", False) else e)
            return self._completion(response)

    def _new_call(self) -> _Call:
        return _Call(deadline=time.monotonic() + self.retry.max_elapsed)

    def _attempt_options(self, call: _Call) -> dict[str, Any]:
        """Per-attempt request options: a read timeout cut to the call's time left (only
        when that is shorter than the client's own)."""
        call.attempts += 1
        left = call.deadline - time.monotonic()
        if left >= self.read_timeout:
            return {}
        import openai

        left = max(left, 0.05)
        return {"timeout": openai.Timeout(left, connect=min(self.connect_timeout, left))}

    def _create(self, kwargs: dict[str, Any], cost: int = 0, call: _Call | None = None) -> Any:
        if self.limiter is not None:
            self.limiter.acquire(cost)
        options = self._attempt_options(call or self._new_call())
        try:
            response = self._client.post(
                "/chat/completions", body=kwargs, cast_to=_chat_completion(), options=options
            )
        except json.JSONDecodeError as e:  # a 200 whose JSON body is broken
            self._tell_limiter(None)
            raise MalformedResponse(f"a broken JSON body: {e}") from e
        except Exception as e:
            self._tell_limiter(e)
            raise
        self._tell_limiter(None)
        return _checked(response)

    async def _acreate(
        self, kwargs: dict[str, Any], cost: int = 0, call: _Call | None = None
    ) -> Any:
        if self.limiter is not None:
            await self.limiter.aacquire(cost)
        options = self._attempt_options(call or self._new_call())
        try:
            response = await self._async_client().post(
                "/chat/completions", body=kwargs, cast_to=_chat_completion(), options=options
            )
        except json.JSONDecodeError as e:  # a 200 whose JSON body is broken
            self._tell_limiter(None)
            raise MalformedResponse(f"a broken JSON body: {e}") from e
        except Exception as e:
            self._tell_limiter(e)
            raise
        self._tell_limiter(None)
        return _checked(response)

    def _tell_limiter(self, error: BaseException | None) -> None:
        if self.limiter is None:
            return
        if error is None:
            self.limiter.on_success()
        elif getattr(error, "status_code", None) == 429:
            self.limiter.on_rate_limited()

    def _async_client(self) -> Any:
        """The ``AsyncOpenAI`` client for the running event loop (one per loop: its
        connection pool cannot outlive the loop)."""
        if self._aclient_given:
            return self._aclient
        loop = asyncio.get_running_loop()
        if self._aclient is None or self._aclient_loop is not loop:
            import openai

            client = self._client
            self._aclient = openai.AsyncOpenAI(
                api_key=client.api_key,
                base_url=client.base_url,
                max_retries=0,
                timeout=client.timeout,
            )
            self._aclient_loop = loop
        return self._aclient

    async def aclose(self) -> None:
        """Close the async client's connections (call before the event loop ends)."""
        if self._aclient is not None and not self._aclient_given:
            await self._aclient.close()
            self._aclient = None
            self._aclient_loop = None

    def close(self) -> None:
        """Close the sync client's pooled connections (the async one: ``aclose``); a
        client passed in is left to its owner."""
        if not self._client_given:
            self._client.close()

    def _failure(self, e: Exception, attempts: int = 0) -> ProviderError | None:
        """``_map_failure`` with any API key the server echoed taken out of the message
        (``redacted`` is set then, and the raw error must not be chained)."""
        error = self._map_failure(e, attempts)
        if error is not None:
            message = str(error)
            clean = redact(message, str(self._client.api_key or ""))
            if clean != message:
                error.args = (clean,)
                error.redacted = True  # type: ignore[attr-defined]
        return error

    def _map_failure(self, e: Exception, attempts: int = 0) -> ProviderError | None:
        """The one mapping of an API error the retries could not fix to a ``ProviderError``;
        ``None`` when the server refused the response format and a weaker mode is now
        selected (the caller asks again). ``attempts``: how many were made."""
        import openai

        tries = _attempts(attempts or self.retry.max_attempts)
        if isinstance(e, openai.APIStatusError):
            if is_format_rejection(e) and self._downgrade():
                return None
            return self._status_error(e, tries)
        if isinstance(e, MalformedResponse):
            return ProviderError(
                f"{self.base_url} did not answer with a chat completion ({e}) after {tries}. "
                "Is it an OpenAI-compatible server? Check --base-url / OPENAI_BASE_URL."
            )
        if isinstance(e, openai.APITimeoutError):
            return ProviderError(
                f"{self.base_url} timed out after {tries} (read timeout "
                f"{self.read_timeout:g}s); try again later or raise --timeout.",
                every_call=False,
            )
        if _never_connected(e):
            return ProviderError(
                f"Cannot reach the model server at {self.base_url}. Is it running? "
                "Check OPENAI_BASE_URL."
            )
        return ProviderError(
            f"Cannot reach the model server at {self.base_url} reliably: the connection "
            f"dropped before its answer was complete ({tries}; last: {_cause(e)}).",
            every_call=False,
        )

    def _downgrade(self) -> bool:
        """Step down to a weaker structured-output mode after the server refused one."""
        if self.structured == "none":
            return False
        refused = self.structured
        self.structured = STRUCTURED_MODES[STRUCTURED_MODES.index(refused) + 1]
        log.info("server refused response_format %s; using %s", refused, self.structured)
        return True

    def _status_error(self, e: Any, tries: str = "") -> ProviderError:
        """A one-line, actionable error for an HTTP error the retries could not fix."""
        status = e.status_code
        where = self.base_url
        if status == 401:
            return ProviderError(
                f"{where} rejected the API key (HTTP 401). Check OPENAI_API_KEY "
                "(or BRIEFING_API_KEY for a custom --base-url).",
                status_code=401,
            )
        if status == 403:
            return ProviderError(
                f"{where} denied access (HTTP 403): {_server_message(e)}", status_code=403
            )
        if status == 404:
            return ModelNotFoundError(
                f"Model {self.model!r} was not found at {where}. "
                "Pass --model with a model the server serves.",
                status_code=404,
            )
        if is_quota_exhausted(e):
            return ProviderError(
                f"{where} says the account has no quota left (HTTP 429 insufficient_quota): "
                "check the plan and billing of the key's account.",
                status_code=429,
                every_call=True,
            )
        if status in (400, 422):
            return ProviderError(
                f"{where} rejected the request (HTTP {status}): {_server_message(e)}",
                status_code=status,
            )
        tries = tries or _attempts(self.retry.max_attempts)
        return ProviderError(
            f"{where} kept failing (HTTP {status}) after {tries}: {_server_message(e)}",
            status_code=status,
        )

    def _completion(self, response: Any) -> Completion:
        if not response.choices:
            return Completion(
                text="",
                model=self.model,
                finish_reason="empty",
                usage=_usage(response),
                structured=self.structured,
            )
        choice = response.choices[0]
        message = getattr(choice, "message", None)
        text = getattr(message, "content", None) or ""
        refusal = getattr(message, "refusal", None)
        finish = getattr(choice, "finish_reason", None)
        if refusal and not text:
            finish = "refusal"
            text = ""
        return Completion(
            text=text,
            model=getattr(response, "model", None) or self.model,
            finish_reason=finish,
            usage=_usage(response),
            structured=self.structured,
            refusal=str(refusal)[:500] if refusal else None,
        )


def _chat_completion() -> Any:
    """The SDK's response type. Requests go through the client's documented ``post`` for
    custom requests rather than ``chat.completions.create``: our bodies are plain JSON
    already, and the SDK's recursive transform of them cost about 4 ms of event-loop time
    per call (a tenth of the client's time in a 200-article run)."""
    from openai.types.chat import ChatCompletion

    return ChatCompletion


def _checked(response: Any) -> Any:
    """``response`` if it is a chat completion (possibly with no choices), else
    ``MalformedResponse`` (retried): the SDK hands back the text of a non-JSON body and
    an unvalidated object for JSON of another shape."""
    if isinstance(response, str | bytes):
        snippet = redact(" ".join(str(response)[:400].split()))[:80]
        raise MalformedResponse(f"a non-JSON body: {snippet!r}")
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list | tuple):
        error = getattr(response, "error", None)
        detail = f": {_snippet(error)}" if error else ""
        raise MalformedResponse(f"JSON without choices{detail}")
    return response


def _snippet(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("message") or value
    return redact(" ".join(str(value).split()))[:120]


def _never_connected(error: BaseException) -> bool:
    """True when the transport could not even connect (refused, no route, DNS), as
    opposed to a connection that dropped mid-request."""
    cause = error.__cause__
    return cause is not None and any(
        kind.__name__ == "ConnectError" for kind in type(cause).__mro__
    )


def _attempts(n: int) -> str:
    return f"{n} attempt{'' if n == 1 else 's'}"


def _cause(error: BaseException) -> str:
    cause = error.__cause__ or error
    text = " ".join(str(cause).split())[:120]
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def _usage(response: Any) -> Usage:
    usage = getattr(response, "usage", None)
    if usage is None:
        return Usage(calls=1)
    return Usage(
        calls=1,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
    )


#: bearer tokens and OpenAI-style keys, wherever a server echoes them
_TOKEN_RE = re.compile(r"(?i)(bearer\s+)[^\s\"',;)}\]]+|\bsk-[A-Za-z0-9_\-]{8,}")


def redact(text: str, secret: str | None = None) -> str:
    """``text`` without ``secret`` (when it is long enough to be a key), bearer tokens
    or ``sk-...`` keys: for server messages that go into errors, logs and the brief."""
    if secret and len(secret) >= 8:
        text = text.replace(secret, "[redacted]")
    return _TOKEN_RE.sub(lambda m: (m.group(1) or "") + "[redacted]", text)


def _server_message(error: Exception) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return redact(str(inner["message"]))[:300]
        if isinstance(body.get("detail"), str | list):
            return redact(str(body["detail"]))[:300]
    elif isinstance(body, str) and body.strip():  # a plain-text error page
        return redact(" ".join(body.split()))[:300]
    return redact(str(error))[:300]
