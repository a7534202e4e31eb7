"""The one retry policy for model calls: tenacity, jittered backoff, honours Retry-After.

The HTTP client never retries, so this is the only layer
that does: 429, 5xx, timeouts, dropped connections, and answers that are not a chat
completion at all (``TransientError``). A call never starts an attempt, nor sleeps,
past ``RetryPolicy.max_elapsed`` from when its first attempt was sent (time waiting in the
client's own queue is not counted; providers also shorten the last attempt's read timeout
to what is left, see ``briefing.llm.openai``). A 503 saying the model is still loading is
waited out within that budget without using up attempts.

Which errors mean what is decided here too: ``is_format_rejection`` (the server refused
the output format: step down the structured-output ladder, never retry),
``is_quota_exhausted`` (no retry fixes it), ``error_message``/``one_line`` (a server's
message, fit for a one-line error: never its traceback).
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
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
    from briefing.llm import http

    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, http.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, http.APIStatusError):
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


#: words that name the output format in a server's error message
_FORMAT_WORDS = ("response_format", "json_schema", "guided_json", "structured output")
#: how a pydantic / FastAPI validation error reads (llama-cpp-python's server answers a
#: response_format it does not know with a 500 carrying one)
_VALIDATION_RE = re.compile(
    r"validation error|'loc':|\"loc\":|literal_error|input should be", re.IGNORECASE
)
#: where a validation error points at: a ``loc`` holding response_format
_FORMAT_LOC_RE = re.compile(r"""['"]loc['"]:\s*[\[(][^\])]*response_format""")
_TRACEBACK = "traceback (most recent call last)"
_STACK_LINE = re.compile(r'File "[^"]*", line \d+')


def error_message(exc: BaseException) -> str:
    """The message a server put in its error body (OpenAI's ``error.message``, FastAPI's
    ``detail``, a plain-text body), else ``str(exc)``; may be long or span lines."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str) and inner.strip():
            return inner  # Ollama's native {"error": "..."}
        if body.get("detail"):
            return str(body["detail"])
    elif isinstance(body, str) and body.strip():
        return body
    return str(exc)


def one_line(text: str, limit: int = 160) -> str:
    """``text`` fit for a one-line error: a Python traceback becomes its last line (the
    exception), stack lines (``File "...", line N``) and what follows them are dropped,
    whitespace runs become one space, and it is cut at ``limit``."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if _TRACEBACK in text.lower():
        lines = lines[-1:]
    else:
        stack = next((i for i, line in enumerate(lines) if _STACK_LINE.match(line)), None)
        if stack is not None:
            lines = lines[:stack] or lines[-1:]
    text = " ".join(" ".join(lines).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def is_format_rejection(exc: BaseException) -> bool:
    """True when a server refused the request's ``response_format`` itself: a 400/422
    whose error names it (or ``json_schema``), or llama-cpp-python's 500 whose body is
    the pydantic validation error of a ``response_format`` it does not know.

    Never a timeout, a dropped connection or a 5xx under load, nor a 500 carrying a
    traceback that merely mentions response_format somewhere: stepping down the format
    for those would make the rest of the run ask for free text because of one bad minute.
    """
    status = getattr(exc, "status_code", None)
    if status not in (400, 422, 500):
        return False
    message = error_message(exc)
    lowered = message.lower()
    if _TRACEBACK in lowered:
        return False
    param = getattr(exc, "param", None)
    if not (param == "response_format" or any(word in lowered for word in _FORMAT_WORDS)):
        return False
    if status == 500:
        return bool(_VALIDATION_RE.search(message) and _FORMAT_LOC_RE.search(message))
    return True


def is_model_loading(exc: BaseException | None) -> bool:
    """True for a 503 saying the model is still loading (llama.cpp's server answers
    "Loading model" until it is ready): worth waiting for, not an attempt used up."""
    if getattr(exc, "status_code", None) != 503 or exc is None:
        return False
    return "loading" in error_message(exc).lower()


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
    if is_model_loading(exc):  # expected while a server starts: not a warning
        log.info("the server is still loading its model; asking again in %.1fs", wait)
        return
    log.warning(
        "model call failed (%s); retry %d in %.1fs", _describe(exc), state.attempt_number, wait
    )


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}" if status else type(exc).__name__


class _Stop:
    """Stop after ``max_attempts`` failures (a "model loading" 503 does not count: the
    server is starting, not failing), or when the next wait would end past the call's
    deadline (``deadline()``: monotonic seconds, set when its first attempt was sent;
    without one, ``max_elapsed`` from the first attempt)."""

    def __init__(self, policy: RetryPolicy, deadline: Callable[[], float | None] | None) -> None:
        self.policy = policy
        self.deadline = deadline
        self.failures = 0

    def __call__(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if not is_model_loading(exc):
            self.failures += 1
        if self.failures >= self.policy.max_attempts:
            return True
        end = self.deadline() if self.deadline is not None else None
        if end is None:
            end = state.start_time + self.policy.max_elapsed
        return time.monotonic() + (state.upcoming_sleep or 0.0) >= end


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Any] = time.sleep,
    deadline: Callable[[], float | None] | None = None,
) -> T:
    """Run ``fn`` under ``policy``; the last error propagates unchanged. ``deadline``:
    when the call's time budget ends (monotonic), known once its first attempt is sent,
    so time spent waiting in the client's own queue is not counted."""
    return Retrying(sleep=sleep, **_retry_options(policy, deadline))(fn)


async def async_sleep(seconds: float) -> None:
    """``asyncio.sleep``, imported when first awaited: a run that makes one call at a
    time (``briefing summarize FILE``) never loads asyncio (about 30 modules)."""
    import asyncio

    await asyncio.sleep(seconds)


async def acall_with_retries(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[Any]] = async_sleep,
    deadline: Callable[[], float | None] | None = None,
) -> T:
    """``call_with_retries`` for coroutines: the same policy, waits without blocking."""
    retrying = AsyncRetrying(sleep=sleep, **_retry_options(policy, deadline))
    result: T = await retrying(fn)
    return result


def _retry_options(
    policy: RetryPolicy, deadline: Callable[[], float | None] | None = None
) -> dict[str, Any]:
    return {
        "retry": retry_if_exception(is_transient),
        "wait": _Wait(policy),
        # never sleep into, nor start an attempt after, the call's time budget
        "stop": _Stop(policy, deadline),
        "before_sleep": _log_retry,
        "reraise": True,
    }
