"""OpenAI and any OpenAI-compatible server (llama.cpp server, vLLM, Ollama, ...).

Structured output degrades gracefully: strict ``json_schema`` where the server supports
it, else ``json_object`` (with the schema attached, which llama.cpp's server turns into a
grammar), else plain text; callers always validate. The first mode a server accepts is
remembered. Retries live in :mod:`briefing.llm.retry` (the SDK's own are switched off).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from briefing.errors import ConfigError, ModelNotFoundError, ProviderError
from briefing.llm.base import Completion, JsonSchema, Message
from briefing.llm.retry import RetryPolicy, call_with_retries, is_format_rejection
from briefing.llm.schema import grammar_schema, strict_schema
from briefing.models import Usage

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
        sleep: Callable[[float], Any] = time.sleep,
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
        self.base_url = str(client.base_url)
        self._is_openai = "api.openai.com" in self.base_url
        self.model = model or DEFAULT_MODEL
        self.context_window = context_window or context_window_for(self.model)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.structured = structured

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
                "json_schema": {"name": name, "strict": True, "schema": strict_schema(schema)},
            }
        if self.structured == "json_object":
            return {"type": "json_object", "schema": grammar_schema(schema)}
        if self.structured == "json_object_plain":
            return {"type": "json_object"}
        return None

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,
        schema_name: str,
        max_tokens: int,
    ) -> Completion:
        import openai

        chat = [{"role": m.role, "content": m.content} for m in messages]
        while True:
            response_format = self._response_format(schema, schema_name)
            # OpenAI itself wants max_completion_tokens; compatible servers know max_tokens
            limit_key = "max_completion_tokens" if self._is_openai else "max_tokens"
            kwargs: dict[str, Any] = {
                "model": self.model,
                "messages": chat,
                limit_key: max_tokens,
                "temperature": 0,
            }
            if response_format is not None:
                kwargs["response_format"] = response_format
            try:
                response = call_with_retries(
                    functools.partial(self._create, kwargs), self.retry, sleep=self._sleep
                )
            except openai.APIStatusError as e:
                if is_format_rejection(e) and self._downgrade():
                    continue
                raise self._status_error(e) from e
            except openai.APITimeoutError as e:
                raise ProviderError(
                    f"{self.base_url} timed out after {self.retry.max_attempts} attempts; "
                    "try again later or raise --timeout."
                ) from e
            except openai.APIConnectionError as e:
                raise ProviderError(
                    f"Cannot reach the model server at {self.base_url}. Is it running? "
                    "Check OPENAI_BASE_URL."
                ) from e
            return self._completion(response)

    def _create(self, kwargs: dict[str, Any]) -> Any:
        return self._client.chat.completions.create(**kwargs)

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
