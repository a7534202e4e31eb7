"""A scripted stand-in model for tests and dry runs: replies are queued with ``enqueue``."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from briefing.llm.base import Completion, JsonSchema, Message
from briefing.models import Usage

if TYPE_CHECKING:
    from briefing.ratelimit import RateLimiter

Reply = str | dict[str, Any] | Callable[[Sequence[Message]], str]

_SENTENCE_RE = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)
_TITLE_RE = re.compile(r"^Title: (.+)$", re.MULTILINE)


def faithful_reply(prompt: str, *, topic: str = "news") -> str:
    """A schema-valid, source-faithful answer to a summarize prompt (the user message
    of ``prompts/summarize.user.j2``): the article's title as headline, its first
    sentences as summary and key points, citing ids that exist. For scripted models,
    test servers and benchmarks that need answers grounding keeps."""
    sentences = [(int(n), text.strip()) for n, text in _SENTENCE_RE.findall(prompt)]
    title_match = _TITLE_RE.search(prompt)
    title = title_match.group(1).strip() if title_match else "News"
    first = sentences[:3]
    return json.dumps(
        {
            "headline": title[:100],
            "summary": " ".join(text for _, text in first[:2])[:580] or title,
            "key_points": [{"text": text[:210], "sentence_ids": [n]} for n, text in first],
            "region": "Global",
            "countries": [],
            "people": [],
            "organizations": [],
            "quotes": [],
            "figures": [],
            "topic": topic,
            "importance": 3,
        }
    )


@dataclass
class FakeLLM:
    """Returns queued replies in order; counts one token per whitespace-separated word."""

    model: str = "fake-model"
    context_window: int = 8192
    provider: str = "fake"
    endpoint: str = "fake://scripted"
    structured: str = "none"
    compact_output: bool = False
    limiter: RateLimiter | None = None
    #: one call at a time unless a test asks for more (``None``: ``default_concurrency``)
    requested_concurrency: int | None = 1
    #: calls in flight when ``requested_concurrency`` is ``None`` (an adaptive provider)
    default_concurrency: int = 8
    finish_reason: str = "stop"
    replies: deque[Reply] = field(default_factory=deque)
    calls: list[list[Message]] = field(default_factory=list)
    #: seconds each call takes (``acomplete`` awaits, ``complete`` sleeps)
    delay: float = 0.0
    #: the most calls that were in flight at once (to test concurrency bounds)
    max_in_flight: int = 0
    in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def enqueue(self, *replies: Reply) -> FakeLLM:
        """Queue replies: a string (sent as is), a dict (sent as JSON) or a function."""
        self.replies.extend(replies)
        return self

    def concurrency(self) -> int:
        return self.requested_concurrency or self.default_concurrency

    def billed_schema_tokens(self, schema: JsonSchema) -> int:  # noqa: ARG002 - protocol
        return 0

    def close(self) -> None:
        return None

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
        self._enter()
        try:
            if self.delay:
                time.sleep(self.delay)
            return self._reply(messages)
        finally:
            self._leave()

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,  # noqa: ARG002 - part of the protocol
        schema_name: str,  # noqa: ARG002
        max_tokens: int,  # noqa: ARG002
    ) -> Completion:
        import asyncio

        self._enter()
        try:
            await asyncio.sleep(self.delay)
            return self._reply(messages)
        finally:
            self._leave()

    async def aclose(self) -> None:
        return None

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _reply(self, messages: Sequence[Message]) -> Completion:
        with self._lock:
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
