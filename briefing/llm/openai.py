"""OpenAI and any OpenAI-compatible server (llama.cpp server, vLLM, Ollama, ...).

Structured output degrades gracefully: strict ``json_schema`` where the server supports
it, else ``json_object`` (with the schema attached, which llama.cpp's server turns into a
grammar), else plain text; callers always validate. The first mode a server accepts is
remembered. Retries live in :mod:`briefing.llm.retry` (the SDK's own are switched off).

``complete`` (sync client) and ``acomplete`` (``AsyncOpenAI``, for concurrent runs) share
one request builder, one error mapping and one fallback ladder; only the I/O differs.
An optional :class:`~briefing.ratelimit.RateLimiter` paces every attempt (requests and
tokens per minute) and is told about 429s so it can slow the whole run down.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from briefing.errors import ConfigError, ModelNotFoundError, ProviderError
from briefing.llm.base import Completion, JsonSchema, Message
from briefing.llm.retry import (
    RetryPolicy,
    acall_with_retries,
    call_with_retries,
    is_format_rejection,
)
from briefing.llm.schema import grammar_schema, strict_schema
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
        self._client = client
        #: built on first ``acomplete`` (bound to that event loop), or given for tests
        self._aclient: Any = async_client
        self._aclient_loop: asyncio.AbstractEventLoop | None = None
        self._aclient_given = async_client is not None
        self.base_url = str(client.base_url)
        self._is_openai = "api.openai.com" in self.base_url
        self.model = model or DEFAULT_MODEL
        self.context_window = context_window or context_window_for(self.model)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._async_sleep = async_sleep
        self.structured = structured
        #: paces requests and tokens per minute; slows down on 429 (None: no pacing)
        self.limiter = limiter
        self._derived_schemas: dict[tuple[int, str], tuple[JsonSchema, JsonSchema]] = {}

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
        """The schema as the current mode sends it, memoized per schema object (callers
        reuse schema objects; deriving one per call costs more than the request)."""
        key = (id(schema), self.structured)
        hit = self._derived_schemas.get(key)
        if hit is None or hit[0] is not schema:
            derive = strict_schema if self.structured == "json_schema" else grammar_schema
            hit = self._derived_schemas[key] = (schema, derive(schema))
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
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
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
            try:
                response = call_with_retries(
                    functools.partial(self._create, kwargs, cost), self.retry, sleep=self._sleep
                )
            except (openai.APIStatusError, openai.APIConnectionError) as e:
                error = self._failure(e)
                if error is None:
                    continue
                raise error from e
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
            try:
                response = await acall_with_retries(
                    functools.partial(self._acreate, kwargs, cost),
                    self.retry,
                    sleep=self._async_sleep,
                )
            except (openai.APIStatusError, openai.APIConnectionError) as e:
                error = self._failure(e)
                if error is None:
                    continue
                raise error from e
            return self._completion(response)

    def _create(self, kwargs: dict[str, Any], cost: int = 0) -> Any:
        if self.limiter is not None:
            self.limiter.acquire(cost)
        try:
            response = self._client.chat.completions.create(**kwargs)
        except Exception as e:
            self._tell_limiter(e)
            raise
        self._tell_limiter(None)
        return response

    async def _acreate(self, kwargs: dict[str, Any], cost: int = 0) -> Any:
        if self.limiter is not None:
            await self.limiter.aacquire(cost)
        try:
            response = await self._async_client().chat.completions.create(**kwargs)
        except Exception as e:
            self._tell_limiter(e)
            raise
        self._tell_limiter(None)
        return response

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

    def _failure(self, e: Exception) -> ProviderError | None:
        """The one mapping of an API error the retries could not fix to a ``ProviderError``;
        ``None`` when the server refused the response format and a weaker mode is now
        selected (the caller asks again)."""
        import openai

        if isinstance(e, openai.APIStatusError):
            if is_format_rejection(e) and self._downgrade():
                return None
            return self._status_error(e)
        if isinstance(e, openai.APITimeoutError):
            return ProviderError(
                f"{self.base_url} timed out after {self.retry.max_attempts} attempts; "
                "try again later or raise --timeout."
            )
        return ProviderError(
            f"Cannot reach the model server at {self.base_url}. Is it running? "
            "Check OPENAI_BASE_URL."
        )

    def _downgrade(self) -> bool:
        """Step down to a weaker structured-output mode after the server refused one."""
        if self.structured == "none":
            return False
        refused = self.structured
        self.structured = STRUCTURED_MODES[STRUCTURED_MODES.index(refused) + 1]
        log.info("server refused response_format %s; using %s", refused, self.structured)
        return True

    def _status_error(self, e: Any) -> ProviderError:
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
        if status in (400, 422):
            return ProviderError(
                f"{where} rejected the request (HTTP {status}): {_server_message(e)}",
                status_code=status,
            )
        return ProviderError(
            f"{where} kept failing (HTTP {status}) after {self.retry.max_attempts} attempts: "
            f"{_server_message(e)}",
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
        message = choice.message
        text = message.content or ""
        refusal = getattr(message, "refusal", None)
        finish = choice.finish_reason
        if refusal and not text:
            finish = "refusal"
            text = ""
        return Completion(
            text=text,
            model=getattr(response, "model", None) or self.model,
            finish_reason=finish,
            usage=_usage(response),
            structured=self.structured,
        )


def _usage(response: Any) -> Usage:
    usage = getattr(response, "usage", None)
    if usage is None:
        return Usage(calls=1)
    return Usage(
        calls=1,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
    )


def _server_message(error: Exception) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
        if isinstance(body.get("detail"), str | list):
            return str(body["detail"])[:300]
    return str(error)[:300]
