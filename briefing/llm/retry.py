"""The one retry policy for model calls: tenacity, jittered backoff, honours Retry-After.

The openai SDK's own retries are switched off (``max_retries=0``) so this is the only
layer that retries: 429, 5xx, timeouts, dropped connections, and answers that are not a
chat completion at all (``TransientError``). A call never starts an attempt, nor sleeps,
past ``RetryPolicy.max_elapsed`` (providers also shorten the last attempt's read timeout
to what is left, see ``briefing.llm.openai``).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one call before giving up."""

    max_attempts: int = 5
    #: never wait longer than this between two attempts (also caps Retry-After)
    max_wait: float = 30.0
    #: a call's time budget from its first attempt: no wait or attempt starts that
    #: would end past it (providers cut the last attempt's read timeout to what is left)
    max_elapsed: float = 300.0
    initial_wait: float = 0.5


class TransientError(Exception):
    """A failure worth retrying that is not an HTTP error: the server answered 200 with
    something that is not a usable chat completion (a proxy's HTML page, an error body)."""


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: rate limits, server errors, timeouts, drops,
    malformed answers."""
    import openai

    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        if is_format_rejection(exc):
            return False
        if is_quota_exhausted(exc):
            return False  # waiting does not refill an account
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def is_quota_exhausted(exc: BaseException) -> bool:
    """True for OpenAI's 429 ``insufficient_quota``: the account is out of credit, which
    no retry fixes (a rate-limit 429 is transient)."""
    if getattr(exc, "status_code", None) != 429:
        return False
    code = getattr(exc, "code", None)
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            code = code or inner.get("code") or inner.get("type")
    return code == "insufficient_quota"


def is_format_rejection(exc: BaseException) -> bool:
    """True when a server refused the request's ``response_format`` (some servers, e.g.
    llama-cpp-python's, answer a 500 with a validation message instead of a 400)."""
    status = getattr(exc, "status_code", None)
    if status not in (400, 422, 500):
        return False
    text = str(getattr(exc, "body", None) or exc).lower()
    return "response_format" in text or "json_schema" in text


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's Retry-After (seconds or HTTP date, or retry-after-ms), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


class _Wait:
    """Retry-After when the server gives one, else jittered exponential backoff."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = wait_random_exponential(multiplier=policy.initial_wait, max=policy.max_wait)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_seconds(exc) if exc else None
        if hinted is not None:
            return min(hinted, self.policy.max_wait)
        return float(self.backoff(state))


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning(
        "model call failed (%s); retry %d in %.1fs", _describe(exc), state.attempt_number, wait
    )


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}" if status else type(exc).__name__


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Any] = time.sleep,
) -> T:
    """Run ``fn`` under ``policy``; the last error propagates unchanged."""
    return Retrying(sleep=sleep, **_retry_options(policy))(fn)


async def acall_with_retries(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T:
    """``call_with_retries`` for coroutines: the same policy, waits without blocking."""
    retrying = AsyncRetrying(sleep=sleep, **_retry_options(policy))
    result: T = await retrying(fn)
    return result


def _retry_options(policy: RetryPolicy) -> dict[str, Any]:
    return {
        "retry": retry_if_exception(is_transient),
        "wait": _Wait(policy),
        # never sleep into, nor start an attempt after, the call's time budget
        "stop": stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_elapsed),
        "before_sleep": _log_retry,
        "reraise": True,
    }
