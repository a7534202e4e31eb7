"""The small protocol every model provider implements, and the data it exchanges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from briefing.models import Usage

if TYPE_CHECKING:
    from briefing.ratelimit import RateLimiter

Role = Literal["system", "user", "assistant"]
JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: Role
    content: str


@dataclass(frozen=True)
class Completion:
    """What a provider returns for one call."""

    text: str
    model: str
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    #: how the output was constrained: "json_schema", "json_object", "grammar" or "none"
    structured: str = "none"
    #: the model's refusal message (``finish_reason == "refusal"``), if it gave one
    refusal: str | None = None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@runtime_checkable
class LLM(Protocol):
    """A chat model that can be asked for one JSON object matching a schema.

    Stages get an ``LLM`` passed in; nothing reaches for a global model. Everything a
    caller may need is here, so no caller probes a provider with ``getattr``.
    """

    #: provider name recorded with every summary ("openai", "local", ...)
    provider: str
    #: the model name recorded with every summary (what the server or file says it is)
    model: str
    #: where the model runs: a server's base URL, or the GGUF file of an in-process
    #: model. Part of every cache key, so two servers never share cached answers.
    endpoint: str
    #: total tokens the model can attend to (prompt + output)
    context_window: int
    #: how output is constrained now: "json_schema", "json_object",
    #: "json_object_plain", "none" (remote) or "grammar" (in process)
    structured: str
    #: True when the provider runs a small model that should be asked for tight caps
    compact_output: bool
    #: paces requests and tokens per minute, slows down on 429s (``None``: no pacing)
    limiter: RateLimiter | None
    #: a fixed bound on calls in flight: the user's (``--concurrency``) or the
    #: provider's own (1 for an in-process model); ``None``: the provider adapts to what
    #: it learns of the server (see ``concurrency``)
    requested_concurrency: int | None

    def concurrency(self) -> int:
        """How many calls may be in flight right now (at least 1): the user's
        ``requested_concurrency`` if set, else what the provider learned of the server
        (it may change during a run)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes for this model."""
        ...

    def count_message_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the whole prompt takes, including the chat template's overhead."""
        ...

    def billed_schema_tokens(self, schema: JsonSchema) -> int:
        """Prompt tokens the response format of ``schema`` adds to each call, where the
        provider bills them (OpenAI bills a strict schema; an outline in the system
        message is billed everywhere); 0 when nothing is added."""
        ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,
        schema_name: str,
        max_tokens: int,
    ) -> Completion:
        """Ask for one JSON object matching ``schema`` (best effort: callers validate)."""
        ...

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,
        schema_name: str,
        max_tokens: int,
    ) -> Completion:
        """``complete`` as a coroutine, so many calls share one event loop (providers
        without real async I/O run ``complete`` in a worker thread)."""
        ...

    def close(self) -> None:
        """Release connections and memory the sync calls hold."""
        ...

    async def aclose(self) -> None:
        """Release what the async calls opened (before the event loop ends)."""
        ...


#: Tokens a chat template adds per message (role markers, separators); an estimate
#: used where the provider cannot tokenize the template itself.
MESSAGE_OVERHEAD_TOKENS = 4


#: False in the test suite: the in-process model refuses to load, so a test that forgot
#: its fake model cannot quietly run the bundled one (see ``check_allowed``).
ALLOW_MODEL_REQUESTS = True


class ModelRequestsBlocked(RuntimeError):
    """A test loaded a real model without opting in (mark it ``llama``)."""


def check_allowed(provider: str) -> None:
    """Raise ``ModelRequestsBlocked`` when real models are switched off (tests)."""
    if not ALLOW_MODEL_REQUESTS:
        raise ModelRequestsBlocked(
            f"a real {provider!r} model was requested while briefing.llm.base."
            "ALLOW_MODEL_REQUESTS is False: give the code a FakeLLM, or mark the test llama"
        )
