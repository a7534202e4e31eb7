"""The small protocol every model provider implements, and the data it exchanges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from briefing.models import Usage

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

    Stages get an ``LLM`` passed in; nothing reaches for a global model.
    """

    #: provider name recorded with every summary ("openai", "local", ...)
    provider: str
    #: the model name recorded with every summary
    model: str
    #: total tokens the model can attend to (prompt + output)
    context_window: int

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes for this model."""
        ...

    def count_message_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the whole prompt takes, including the chat template's overhead."""
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


@runtime_checkable
class AsyncLLM(LLM, Protocol):
    """An ``LLM`` that can also be awaited, so many calls share one event loop.

    Providers without it still run concurrently (in worker threads) or one at a time.
    """

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,
        schema_name: str,
        max_tokens: int,
    ) -> Completion:
        """``complete`` as a coroutine."""
        ...

    async def aclose(self) -> None:
        """Release what the async calls opened (before the event loop ends)."""
        ...


#: Tokens a chat template adds per message (role markers, separators); an estimate
#: used where the provider cannot tokenize the template itself.
MESSAGE_OVERHEAD_TOKENS = 4
