"""A scripted stand-in model for tests and dry runs: replies are queued with ``enqueue``."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from briefing.llm.base import Completion, JsonSchema, Message
from briefing.models import Usage

Reply = str | dict[str, Any] | Callable[[Sequence[Message]], str]


@dataclass
class FakeLLM:
    """Returns queued replies in order; counts one token per whitespace-separated word."""

    model: str = "fake-model"
    context_window: int = 8192
    provider: str = "fake"
    finish_reason: str = "stop"
    replies: deque[Reply] = field(default_factory=deque)
    calls: list[list[Message]] = field(default_factory=list)

    def enqueue(self, *replies: Reply) -> FakeLLM:
        """Queue replies: a string (sent as is), a dict (sent as JSON) or a function."""
        self.replies.extend(replies)
        return self

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_message_tokens(self, messages: Sequence[Message]) -> int:
        return sum(self.count_tokens(m.content) + 4 for m in messages) + 3

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,  # noqa: ARG002 - part of the protocol
        schema_name: str,  # noqa: ARG002
        max_tokens: int,  # noqa: ARG002
    ) -> Completion:
        self.calls.append(list(messages))
        if not self.replies:
            raise AssertionError("FakeLLM: no reply queued for this call")
        reply = self.replies.popleft()
        if callable(reply):
            text = reply(messages)
        elif isinstance(reply, dict):
            text = json.dumps(reply)
        else:
            text = reply
        return Completion(
            text=text,
            model=self.model,
            finish_reason=self.finish_reason,
            usage=Usage(
                calls=1,
                prompt_tokens=self.count_message_tokens(messages),
                completion_tokens=self.count_tokens(text),
            ),
            structured="none",
        )
