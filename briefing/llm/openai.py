"""OpenAI and any OpenAI-compatible server (llama.cpp's server, llama-cpp-python's, vLLM,
Ollama, ...).

What the provider learns about its server, once and lazily, never failing a run because
a probe failed (see :mod:`briefing.llm.capacity`):

* the model, when none was given for a server other than OpenAI: ``GET {base}/models``
  names the one it serves (else a ConfigError asks for ``--model``), so a run is never
  labelled with a model it did not use;
* how many calls it takes at once (``concurrency()``): the user's
  ``requested_concurrency`` if set, else what the server says (llama.cpp's slots) or is
  known to take (llama-cpp-python's server: one), else what its answers show (AIMD).
  Async calls wait for a place in the provider's own queue first; that wait counts
  against neither the read timeout nor the call's time budget, which start when the
  request is sent.

Structured output degrades gracefully: strict ``json_schema`` where the server supports
it, else ``json_object`` with the schema attached (llama.cpp-family servers turn it into a
grammar), else ``json_object`` alone, else plain text; callers always validate. The
ladder steps down only when the server refuses the format itself
(:func:`~briefing.llm.retry.is_format_rejection`), never because of load, and the mode
is remembered per server and model for the process. ``--verbose`` logs the mode in use
and why. Retries live in :mod:`briefing.llm.retry`.

``complete`` (sync client) and ``acomplete`` (async client, for concurrent runs) share
one request builder, one error mapping and one fallback ladder; only the I/O differs.
An optional :class:`~briefing.ratelimit.RateLimiter` paces every attempt (requests and
tokens per minute) and is told about 429s.

One call takes at most ``RetryPolicy.max_elapsed`` seconds from when it is sent: the
retries stop before it, and an attempt that would run past it gets a read timeout cut
to what is left. An answer that is not a chat completion (a proxy's HTML page, an error
body sent with 200) is retried like a 5xx, then reported; an empty ``choices`` list or a
refusal comes back as a ``Completion`` saying so (``finish_reason`` ``"empty"`` /
``"refusal"``) for the caller's validation to report. Errors are one line that says
what to do; a server's traceback never gets into one.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from briefing.errors import ConfigError, ModelNotFoundError, ProviderError
from briefing.llm import http
from briefing.llm.base import Completion, JsonSchema, Message
from briefing.llm.capacity import (
    OUTPUT_TOKEN_WEIGHT,
    AsyncGate,
    Capacity,
    Server,
    Ticket,
    identify,
    is_local,
    model_entries,
)
from briefing.llm.retry import (
    RetryPolicy,
    TransientError,
    acall_with_retries,
    async_sleep,
    call_with_retries,
    error_message,
    is_format_rejection,
    is_model_loading,
    is_quota_exhausted,
    one_line,
)
from briefing.llm.schema import grammar_schema, schema_outline, strict_schema
from briefing.models import Usage

if TYPE_CHECKING:
    import asyncio

    from briefing.ratelimit import RateLimiter

log = logging.getLogger(__name__)

#: The model asked for when none is given: only for OpenAI itself (another server is
#: asked which model it serves).
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
#: Where OpenAI's API is (when no server is given).
OPENAI_URL = "https://api.openai.com/v1"
#: The label of a model a failing server did not name (never a made-up real name).
UNKNOWN_MODEL = "unknown-model"
#: Seconds a probe of the server (``GET /models``, ``GET /props``) may take.
PROBE_TIMEOUT = 3.0
#: Read timeout of one attempt when none is given: a cloud API answers in seconds...
DEFAULT_READ_TIMEOUT = 120.0
#: ...a model on this machine or the local network may take minutes (a CPU writing a
#: long answer, a server queueing requests): as long as a call's whole time budget
LOCAL_READ_TIMEOUT = 300.0

#: The response format each (server, model) stepped down to in this process, and why:
#: a server that refused a format once is not asked for it again.
_FORMATS: dict[tuple[str, str], tuple[str, str]] = {}


class MalformedResponse(TransientError):
    """The server answered 200 with something that is not a chat completion."""


@dataclass
class _Call:
    """One ``complete`` call across its attempts: its time budget (from when its first
    attempt is sent) and the attempts so far."""

    deadline: float | None = None
    attempts: int = 0
    #: attempts that timed out: each one doubles the next attempt's read timeout
    timeouts: int = 0

    def ends(self) -> float | None:
        return self.deadline


def context_window_for(model: str) -> int:
    name = model.lower().rsplit("/", 1)[-1]
    for prefix in sorted(CONTEXT_WINDOWS, key=len, reverse=True):
        if name.startswith(prefix):
            return CONTEXT_WINDOWS[prefix]
    return DEFAULT_CONTEXT_WINDOW


def forget_formats() -> None:
    """Forget the response formats servers refused in this process (for tests)."""
    _FORMATS.clear()


class OpenAILLM:
    """Chat completions over HTTP (:mod:`briefing.llm.http`: the OpenAI wire format on
    ``http.client`` one call at a time, ``httpx2`` for calls in flight together, without
    the SDK's second of imports).

    ``concurrency``: calls in flight the user asked for (else learned, see
    ``concurrency()``); ``probe``: ask the server what it is (default: when this object
    builds its own client; a client passed in, e.g. a test's, is not probed).
    """

    provider = "openai"
    compact_output = False

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        context_window: int | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        structured: str | None = None,
        client: Any = None,
        async_client: Any = None,
        sleep: Callable[[float], Any] = time.sleep,
        async_sleep: Callable[[float], Awaitable[Any]] = async_sleep,
        limiter: RateLimiter | None = None,
        concurrency: int | None = None,
        probe: bool | None = None,
    ) -> None:
        forced = structured or None  # (BRIEFING_STRUCTURED: briefing.settings)
        if forced is not None and forced not in STRUCTURED_MODES:
            raise ConfigError(
                f"Unknown structured-output mode {forced!r}; use one of {STRUCTURED_MODES}."
            )
        client_given = client is not None
        if read_timeout is None:  # a local model may take minutes to write an answer
            where = base_url or ""
            read_timeout = LOCAL_READ_TIMEOUT if is_local(where) else DEFAULT_READ_TIMEOUT
        if client is None and not api_key:
            if not base_url:
                raise ConfigError(
                    "Set OPENAI_API_KEY to use OpenAI, or run without --provider openai "
                    "to use the embedded local model."
                )
            # local OpenAI-compatible servers usually need no key; never send a real
            # OpenAI key anywhere the user did not point it
            api_key = "no-key"
        self._client_given = client_given
        #: the sync client (``http.Client``), built on first use
        self._sync: Any = client
        self._api_key = _Secret(api_key if client is None else client.api_key)
        #: built on first ``acomplete`` (bound to that event loop), or given for tests
        self._aclient: Any = async_client
        self._aclient_loop: asyncio.AbstractEventLoop | None = None
        self._aclient_given = async_client is not None
        self.base_url = str(client.base_url if client is not None else base_url or OPENAI_URL)
        self.base_url = self.base_url.rstrip("/")
        #: where the model runs (part of cache keys)
        self.endpoint = self.base_url
        self._is_openai = "api.openai.com" in self.base_url
        self._model: str | None = model or (DEFAULT_MODEL if self._is_openai else None)
        self._context_window = context_window
        self.retry = retry or RetryPolicy()
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._structured: str | None = forced
        if forced is not None:
            source = "BRIEFING_STRUCTURED or the caller"
            log.info("response format %s at %s (%s)", forced, self.base_url, source)
        #: paces requests and tokens per minute; told about 429s (None: no pacing)
        self.limiter = limiter
        #: calls in flight the user asked for (--concurrency); None: learned
        self.requested_concurrency = concurrency
        self._probe = (not client_given) if probe is None else probe
        self._lock = threading.Lock()
        self._listing: Any = None
        self._server: Server | None = None
        self._capacity: Capacity | None = None
        self._gate: tuple[asyncio.AbstractEventLoop, AsyncGate] | None = None
        self._derived_schemas: dict[tuple[int, str], tuple[JsonSchema, Any]] = {}

    # -- what the server is --------------------------------------------------------------
    @property
    def model(self) -> str:
        """The model asked for and recorded: the one given, ``gpt-4o-mini`` on OpenAI,
        else the one the server says it serves (asked on first use)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._served_model()
        return self._model

    @model.setter
    def model(self, value: str) -> None:
        self._model = value

    @property
    def context_window(self) -> int:
        """Tokens one request may use: the one given, else what the server says (vLLM's
        ``max_model_len``, llama.cpp's context per slot), else known for the model name,
        else ``DEFAULT_CONTEXT_WINDOW``."""
        if self._context_window is None:
            told = self.server.context_window
            if told:
                log.info("%s: %d tokens per request (the server says)", self.base_url, told)
            self._context_window = told or context_window_for(self.model)
        return self._context_window

    @context_window.setter
    def context_window(self, value: int) -> None:
        self._context_window = value

    @property
    def server(self) -> Server:
        """What the server is (asked once, on first use; see ``briefing.llm.capacity``)."""
        if self._server is None:
            with self._lock:
                if self._server is None:
                    self._server = self._identify()
        return self._server

    @property
    def capacity(self) -> Capacity:
        """Calls in flight the server takes, as learned so far."""
        if self._capacity is None:
            server = self.server
            with self._lock:
                if self._capacity is None:
                    self._capacity = server.capacity()
                    log.info(
                        "%s at %s: %d call%s at once (%s)",
                        server.name,
                        self.base_url,
                        self._capacity.limit,
                        "" if self._capacity.limit == 1 else "s",
                        self._capacity.why,
                    )
        return self._capacity

    def concurrency(self) -> int:
        """Calls that may be in flight now: the user's ``requested_concurrency``, else
        what the server takes (learned, see ``capacity``). A rate limiter slowed down by
        429s allows a share of it (``RateLimiter.concurrency``), in every queue alike."""
        if self.requested_concurrency is not None:
            return max(1, int(self.requested_concurrency))
        return max(1, self.capacity.limit)

    def _allowed(self) -> int:
        limit = self.concurrency()
        return self.limiter.concurrency(limit) if self.limiter is not None else limit

    def _served_model(self) -> str:
        """The model the server says it serves (``GET /models``), or a one-line error
        asking for ``--model``."""
        where = self.base_url
        call = _Call()

        def ask() -> Any:
            call.attempts += 1
            return self._get("/models", self.read_timeout)

        try:  # retried like a chat call: a server still loading its model answers 503
            listing = self._listing
            if listing is None:  # (else the probe has just asked)
                listing = call_with_retries(ask, self.retry, sleep=self._sleep)
        except http.APIStatusError as e:
            if e.status_code in (401, 403):
                raise self._status_error(e, _attempts(call.attempts)) from None
            if e.status_code in (408, 409, 429) or e.status_code >= 500:
                # the server is failing right now: say so, and let each article's call
                # fail (or work) on its own, so the brief still arrives with the reasons
                log.warning(
                    "%s did not say which model it serves (HTTP %d after %s); the brief "
                    "labels it %r: pass --model NAME",
                    where, e.status_code, _attempts(call.attempts), UNKNOWN_MODEL,
                )  # fmt: skip
                return UNKNOWN_MODEL
            raise ConfigError(
                f"{where} does not say which model it serves (GET /models: HTTP "
                f"{e.status_code}); pass --model NAME."
            ) from None
        except http.APITimeoutError:
            raise ProviderError(
                f"{where} did not list its models within {self.read_timeout:g}s; is it "
                "still starting? Pass --model NAME to skip asking."
            ) from None
        except http.APIConnectionError as e:
            raise self._connection_error(e, _attempts(call.attempts)) from None
        except (ValueError, TypeError):  # not JSON
            listing = None
        ids = [str(entry["id"]) for entry in model_entries(listing)]
        if not ids:
            raise ConfigError(
                f"{where} does not say which model it serves (GET /models lists none); "
                "pass --model NAME."
            )
        if len(ids) > 1:
            shown = ", ".join(ids[:6]) + (", ..." if len(ids) > 6 else "")
            raise ConfigError(
                f"{where} serves {len(ids)} models ({shown}); pass --model with the one to use."
            )
        self._listing = listing
        log.info("%s serves %s: using it (pass --model to choose)", where, ids[0])
        return ids[0]

    def _identify(self) -> Server:
        if self._is_openai or not self._probe:
            return identify(None, None, base_url=self.base_url)
        listing = self._listing
        if listing is None:
            listing = self._listing = self._quietly(lambda: self._get("/models", PROBE_TIMEOUT))
        server = identify(listing, None, base_url=self.base_url, model=self._model)
        if server.kind in ("llama.cpp", "unknown"):
            root = re.sub(r"/v1$", "", self.base_url)
            props = self._quietly(lambda: self._get(f"{root}/props", PROBE_TIMEOUT))
            server = identify(listing, props, base_url=self.base_url, model=self._model)
        return server

    def _get(self, path: str, timeout: float) -> Any:
        """The JSON a GET of ``path`` (relative to the base URL, or absolute) answers."""
        return self._client.get(path, http.timeout(timeout, self.connect_timeout))

    @staticmethod
    def _quietly(fetch: Callable[[], Any]) -> Any:
        """``fetch()``, or None when it fails in any way: a probe never fails a run (nor
        a replayed test whose cassette does not hold it)."""
        try:
            return fetch()
        except Exception as e:
            log.debug("probe failed: %s", one_line(redact(str(e)), 120))
            return None

    # -- tokens --------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        from briefing.tokens import count_tokens

        return count_tokens(text, self.model)

    def count_message_tokens(self, messages: Sequence[Message]) -> int:
        # OpenAI's chat format: ~3 tokens per message plus 3 to prime the reply.
        return sum(self.count_tokens(m.content) + 3 for m in messages) + 3

    def billed_schema_tokens(self, schema: JsonSchema) -> int:
        """Prompt tokens the response format of ``schema`` adds to every call: OpenAI bills
        a strict ``json_schema`` (and ``json_object`` with a schema, as the same compact
        strict schema); without a server-side schema the system message carries an
        outline (its tokens and a separator)."""
        if not schema:
            return 0
        mode = self.structured

        def count(schema: JsonSchema) -> int:
            if mode in ("json_schema", "json_object"):
                compact = json.dumps(strict_schema(schema), separators=(",", ":"))
                return self.count_tokens(compact)
            return self.count_tokens(f"Answer with one JSON object: {self._outline(schema)}") + 1

        return int(self._memo(schema, f"billed:{mode}", count))

    # -- structured output ---------------------------------------------------------------
    @property
    def structured(self) -> str:
        """How output is constrained now (decided on first use, see the module doc)."""
        if self._structured is None:
            mode, why = self._initial_format()
            with self._lock:
                decided = self._structured is None
                if decided:
                    self._structured = mode
            if decided:
                log.info(
                    "response format %s for %s at %s (%s)", mode, self.model, self.base_url, why
                )
        current = self._structured
        assert current is not None
        return current

    @structured.setter
    def structured(self, mode: str) -> None:
        if mode not in STRUCTURED_MODES:
            raise ConfigError(
                f"Unknown structured-output mode {mode!r}; use one of {STRUCTURED_MODES}."
            )
        self._structured = mode

    def _initial_format(self) -> tuple[str, str]:
        remembered = _FORMATS.get((self.base_url, self.model))
        if remembered is not None:
            return remembered[0], f"{remembered[1]} earlier in this process"
        if self.server.kind == "llama-cpp-python":
            return "json_object", "llama-cpp-python's server takes a schema with json_object"
        return "json_schema", "strict JSON schema, the default"

    def _response_format(self, mode: str, schema: JsonSchema, name: str) -> dict[str, Any] | None:
        if mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {
                    "name": name,
                    "strict": True,
                    "schema": self._derived(mode, schema),
                },
            }
        if mode == "json_object":
            if self._guided_json():  # sent beside, as ``guided_json`` (see ``_request``)
                return {"type": "json_object"}
            return {"type": "json_object", "schema": self._derived(mode, schema)}
        if mode == "json_object_plain":
            return {"type": "json_object"}
        return None

    def _derived(self, mode: str, schema: JsonSchema) -> JsonSchema:
        """The schema as ``mode`` sends it (memoized, see ``_memo``)."""
        derive = strict_schema if mode == "json_schema" else grammar_schema
        result: JsonSchema = self._memo(schema, mode, derive)
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
        self, mode: str, messages: Sequence[Message], schema: JsonSchema, name: str,
        max_tokens: int,
    ) -> dict[str, Any]:  # fmt: skip
        """The keyword arguments of one chat-completions request in structured ``mode``."""
        response_format = self._response_format(mode, schema, name)
        # OpenAI itself wants max_completion_tokens; compatible servers know max_tokens
        limit_key = "max_completion_tokens" if self._is_openai else "max_tokens"
        wire = [{"role": m.role, "content": m.content} for m in messages]
        if mode in ("json_object_plain", "none") and schema:
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
        if mode == "json_object" and schema and self._guided_json():
            kwargs["guided_json"] = self._derived(mode, schema)
        return kwargs

    # -- batches (briefing.batch) ---------------------------------------------------------
    def batch_body(
        self, messages: Sequence[Message], *, schema: JsonSchema, schema_name: str,
        max_tokens: int,
    ) -> dict[str, Any]:  # fmt: skip
        """The body of a chat-completions request as ``complete`` would send it now, for a
        line of a Batch API input file."""
        return self._request(self.structured, messages, schema, schema_name, max_tokens)

    def batch_completion(self, body: Any) -> Completion:
        """A Batch API output line's response body as a ``Completion`` (``ProviderError``
        when it is not a chat completion)."""
        try:
            return self._completion(_checked(body), self.structured)
        except MalformedResponse as e:
            raise ProviderError(f"the batch answered with something else ({e})") from None

    def batch_api(self) -> Any:
        """The Files and Batches endpoints of this provider's server
        (:class:`briefing.llm.batches.BatchAPI`)."""
        from briefing.llm.batches import BatchAPI

        return BatchAPI(
            base_url=self.base_url,
            api_key=str(self._api_key.value or ""),
            timeout=self.read_timeout,
            connect_timeout=self.connect_timeout,
        )

    def _guided_json(self) -> bool:
        """True on vLLM, whose versions before json_schema (0.5 and older) constrain
        output to a schema given as ``guided_json`` (and refuse unknown fields)."""
        return self._server is not None and self._server.kind == "vllm"

    def _cost(self, messages: Sequence[Message], max_tokens: int) -> int:
        """Tokens one attempt counts against a tokens-per-minute limit (as OpenAI counts:
        the prompt plus the output allowance)."""
        if self.limiter is None or not self.limiter.counts_tokens:
            return 0
        return self.count_message_tokens(messages) + max_tokens

    # -- generation ----------------------------------------------------------------------
    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,
        schema_name: str,
        max_tokens: int,
    ) -> Completion:
        cost = self._cost(messages, max_tokens)
        while True:
            mode = self.structured
            kwargs = self._request(mode, messages, schema, schema_name, max_tokens)
            call = _Call()
            try:
                response = call_with_retries(
                    functools.partial(self._create, kwargs, cost, call),
                    self.retry,
                    sleep=self._sleep,
                    deadline=call.ends,
                )
            except (http.APIStatusError, http.APIConnectionError, MalformedResponse) as e:
                error = self._failure(e, call.attempts, mode)
                if error is None:
                    continue
                raise error from (None if getattr(error, "redacted", False) else e)
            return self._completion(response, mode)

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,
        schema_name: str,
        max_tokens: int,
    ) -> Completion:
        """``complete`` through the async client: same request, retries, errors, fallback;
        each attempt first waits for a place in the provider's queue (``concurrency()``)."""
        cost = self._cost(messages, max_tokens)
        while True:
            mode = self.structured
            kwargs = self._request(mode, messages, schema, schema_name, max_tokens)
            call = _Call()
            try:
                response = await acall_with_retries(
                    functools.partial(self._acreate, kwargs, cost, call),
                    self.retry,
                    sleep=self._async_sleep,
                    deadline=call.ends,
                )
            except (http.APIStatusError, http.APIConnectionError, MalformedResponse) as e:
                error = self._failure(e, call.attempts, mode)
                if error is None:
                    continue
                raise error from (None if getattr(error, "redacted", False) else e)
            return self._completion(response, mode)

    def _attempt_options(self, call: _Call) -> dict[str, Any]:
        """Per-attempt request options: the read timeout, doubled after each attempt of
        the call that timed out (a server slower than we thought, or one still busy with
        the request we gave up on, gets more time), and cut to the call's time left. The
        call's budget starts with its first attempt, when the request is sent."""
        call.attempts += 1
        now = time.monotonic()
        if call.deadline is None:
            call.deadline = now + self.retry.max_elapsed
        read = min(self.read_timeout * 2**call.timeouts, max(call.deadline - now, 0.05))
        if read == self.read_timeout:
            return {}  # the client's own
        return {"timeout": http.timeout(read, self.connect_timeout)}

    def _create(self, kwargs: dict[str, Any], cost: int = 0, call: _Call | None = None) -> Any:
        if self.limiter is not None:
            self.limiter.acquire(cost)
        call = call or _Call()
        options = self._attempt_options(call)
        ticket = self.capacity.begin()
        try:
            response = self._client.post("/chat/completions", kwargs, **options)
        except BaseException as e:
            failure = self._failed(ticket, e, call)
            if failure is e:
                raise
            raise failure from e
        return self._answered(ticket, response)

    async def _acreate(
        self, kwargs: dict[str, Any], cost: int = 0, call: _Call | None = None
    ) -> Any:
        async with self._queue():  # our own queue: not timed
            if self.limiter is not None:
                await self.limiter.aacquire(cost)
            call = call or _Call()
            options = self._attempt_options(call)
            ticket = self.capacity.begin()
            try:
                response = await self._async_client().post("/chat/completions", kwargs, **options)
            except BaseException as e:
                failure = self._failed(ticket, e, call)
                if failure is e:
                    raise
                raise failure from e
            return self._answered(ticket, response)

    def _queue(self) -> AsyncGate:
        """The provider's queue in the running event loop: at most ``concurrency()``
        requests out at once (fewer while the rate limiter is slowed down), retries and
        repairs included."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate[0] is not loop:
            self._gate = (loop, AsyncGate(self._allowed))
        return self._gate[1]

    def _failed(self, ticket: Ticket, error: BaseException, call: _Call) -> BaseException:
        """Tell the capacity and the limiter how an attempt failed; the error to raise.
        A 429 is the rate limiter's to answer when there is one (it slows the pace and
        the share of calls in flight); the capacity is cut by it only without one."""
        overload = _overload(error)
        if self.limiter is not None and getattr(error, "status_code", None) == 429:
            overload = None
        if isinstance(error, http.APITimeoutError):
            call.timeouts += 1
        if overload is None:
            self.capacity.ended(ticket)
        else:
            self.capacity.overloaded(ticket, overload)
        if self.limiter is not None and getattr(error, "status_code", None) == 429:
            self.limiter.on_rate_limited()
        if isinstance(error, json.JSONDecodeError):  # a 200 whose JSON body is broken
            return MalformedResponse(f"a broken JSON body: {error}")
        return error

    def _answered(self, ticket: Ticket, response: Any) -> Any:
        """Tell the capacity and the limiter about an answer; the answer if it is a chat
        completion (else ``MalformedResponse``, retried)."""
        if self.limiter is not None:
            self.limiter.on_success()
        try:
            checked = _checked(response)
        except MalformedResponse:
            self.capacity.overloaded(ticket, "an answer that is not a chat completion")
            raise
        if _empty(checked):
            self.capacity.overloaded(ticket, "an empty answer")
        else:
            usage = _usage(checked)
            work = usage.prompt_tokens + OUTPUT_TOKEN_WEIGHT * usage.completion_tokens
            self.capacity.succeeded(ticket, float(work) or None)
        return checked

    def _async_client(self) -> Any:
        """The async client for the running event loop (one per loop: its
        connection pool cannot outlive the loop)."""
        import asyncio

        if self._aclient_given:
            return self._aclient
        loop = asyncio.get_running_loop()
        if self._aclient is None or self._aclient_loop is not loop:
            client = self._client
            self._aclient = http.AsyncClient(
                api_key=client.api_key,
                base_url=client.base_url,
                timeout=client.timeout,
                default_query=client.default_query,
            )
            self._aclient_loop = loop
        return self._aclient

    async def aclose(self) -> None:
        """Close the async client's connections (call before the event loop ends)."""
        self._gate = None
        if self._aclient is not None and not self._aclient_given:
            await self._aclient.close()
            self._aclient = None
            self._aclient_loop = None

    @property
    def _client(self) -> Any:
        """The sync client (built on first use)."""
        if self._sync is None:
            self._sync = http.Client(
                api_key=self._api_key.value or "",
                base_url=self.base_url,
                timeout=http.timeout(self.read_timeout, self.connect_timeout),
            )
        return self._sync

    def close(self) -> None:
        """Close the sync client's pooled connections (the async one: ``aclose``); a
        client passed in is left to its owner."""
        if not self._client_given and self._sync is not None:
            self._sync.close()

    # -- failures ------------------------------------------------------------------------
    def _failure(
        self, e: Exception, attempts: int = 0, mode: str | None = None
    ) -> ProviderError | None:
        """``_map_failure`` with any API key the server echoed taken out of the message
        (``redacted`` is set then, and the raw error must not be chained)."""
        error = self._map_failure(e, attempts, mode)
        if error is not None:
            message = str(error)
            clean = redact(message, str(self._api_key.value or ""))
            if clean != message:
                error.args = (clean,)
                error.redacted = True  # type: ignore[attr-defined]
        return error

    def _map_failure(
        self, e: Exception, attempts: int = 0, mode: str | None = None
    ) -> ProviderError | None:
        """The one mapping of an API error the retries could not fix to a ``ProviderError``;
        ``None`` when the server refused the response format and a weaker mode is now
        selected (the caller asks again). ``attempts``: how many were made; ``mode``: the
        structured mode the request was sent in."""
        tries = _attempts(attempts or self.retry.max_attempts)
        if isinstance(e, http.APIStatusError):
            if is_format_rejection(e) and self._downgrade(e, mode or self.structured):
                return None
            return self._status_error(e, tries)
        if isinstance(e, MalformedResponse):
            return ProviderError(
                f"{self.base_url} did not answer with a chat completion ({e}) after {tries}. "
                "Is it an OpenAI-compatible server? Check --base-url / OPENAI_BASE_URL."
            )
        if isinstance(e, http.APITimeoutError):
            longer = ", doubled on each retry" if attempts > 1 else ""
            return ProviderError(
                f"{self.base_url} timed out after {tries} (read timeout "
                f"{self.read_timeout:g}s{longer}); {self._advice(timeout=True)}",
                every_call=False,
            )
        return self._connection_error(e, tries)

    def _connection_error(self, e: BaseException, tries: str) -> ProviderError:
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

    def _advice(self, *, timeout: bool = False) -> str:
        """What to try when the server keeps failing or timing out."""
        in_flight = self.requested_concurrency
        if in_flight is None and self._capacity is not None:
            in_flight = max(self._capacity.limit, self._capacity.peak)
        if in_flight is not None and in_flight > 1:
            more = " or raise --timeout" if timeout else ""
            return f"is it overloaded? Try --concurrency 1{more}."
        return "is it overloaded? Raise --timeout." if timeout else "check the server's log."

    def _downgrade(self, error: Exception, refused: str) -> bool:
        """Step down from the structured-output mode ``refused`` after the server refused
        it; True when the caller should ask again (in the now current mode)."""
        with self._lock:
            if self._structured is not None and self._structured != refused:
                return True  # another call already stepped down from it
            if refused == "none":
                return False
            weaker = STRUCTURED_MODES[STRUCTURED_MODES.index(refused) + 1]
            self._structured = weaker
        status = getattr(error, "status_code", None)
        _FORMATS[(self.base_url, self.model)] = (weaker, f"{self.base_url} refused {refused}")
        log.info(
            "%s refused response_format %s (HTTP %s: %s); using %s from now on",
            self.base_url, refused, status, _server_message(error), weaker,
        )  # fmt: skip
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
        if status == 429:
            advice = "slow down with --concurrency, --rpm or --tpm."
        else:
            advice = self._advice()
        return ProviderError(
            f"{where} kept failing (HTTP {status}) after {tries}: "
            f"{_server_message(e).rstrip('.')}. {advice[0].upper()}{advice[1:]}",
            status_code=status,
        )

    def _completion(self, response: dict[str, Any], mode: str | None = None) -> Completion:
        structured = mode or self.structured
        model = str(response.get("model") or self.model)
        if not response["choices"]:
            return Completion(
                text="",
                model=model,
                finish_reason="empty",
                usage=_usage(response),
                structured=structured,
            )
        choice, message = _message(response)
        content = message.get("content")
        text = content if isinstance(content, str) else ""
        refusal = message.get("refusal")
        finish = choice.get("finish_reason")
        if refusal and not text:
            finish = "refusal"
            text = ""
        if structured != "none":
            text = escape_control_characters(text)
        return Completion(
            text=text,
            model=model,
            finish_reason=finish,
            usage=_usage(response),
            structured=structured,
            refusal=str(refusal)[:500] if refusal else None,
        )


_CONTROL = re.compile(r"[\x00-\x1f]")
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def escape_control_characters(text: str) -> str:
    """``text`` with raw control characters inside JSON strings escaped. JSON forbids
    them there, but some servers' grammars let them through (llama-cpp-python's
    JSON-schema grammar allows any character but ``"`` and ``\\`` in a string, so a
    small model writes real line breaks into its summary): escaping them loses nothing
    and keeps a good answer from failing validation."""
    if _CONTROL.search(text) is None:  # (the usual case, checked in C)
        return text
    out: list[str] = []
    in_string = escaped = False
    for c in text:
        if in_string and not escaped and ord(c) < 0x20:
            out.append(_CONTROL_ESCAPES.get(c, f"\\u{ord(c):04x}"))
            continue
        out.append(c)
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = in_string
        elif c == '"':
            in_string = not in_string
    return "".join(out)


def _overload(error: BaseException) -> str | None:
    """Why a failed attempt is a sign the server has too much to do, or None (a refused
    connection, a 400, a format refusal, a model still loading, a cancellation...)."""
    if isinstance(error, http.APITimeoutError):
        return "a call timed out"
    if isinstance(error, http.APIConnectionError):
        return None if _never_connected(error) else "a connection dropped"
    if isinstance(error, json.JSONDecodeError):
        return "a broken answer"
    if isinstance(error, http.APIStatusError):
        status = error.status_code
        if is_format_rejection(error) or is_model_loading(error) or is_quota_exhausted(error):
            return None
        if status in (408, 429) or status >= 500:
            return f"HTTP {status} from the server"
    return None


def _empty(response: dict[str, Any]) -> bool:
    """True for an answer with nothing in it (no choices, or no content, no refusal and
    not cut at the token limit): what a server sends when it interrupted the request."""
    if not response["choices"]:
        return True
    choice, message = _message(response)
    if message.get("content") or message.get("refusal") or message.get("tool_calls"):
        return False
    return choice.get("finish_reason") != "length"


class _Secret:
    """A key kept where ``repr`` (of the provider, of ``vars()``) never shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"


def _checked(response: Any) -> dict[str, Any]:
    """``response`` (the answer's JSON) if it is a chat completion (possibly with no
    choices), else ``MalformedResponse`` (retried): a proxy's HTML page, an error body
    sent with 200, JSON of another shape."""
    if not isinstance(response, dict):
        snippet = redact(" ".join(str(response)[:400].split()))[:80]
        raise MalformedResponse(f"a non-JSON body: {snippet!r}")
    choices = response.get("choices")
    if not isinstance(choices, list):
        error = response.get("error")
        detail = f": {_snippet(error)}" if error else ""
        raise MalformedResponse(f"JSON without choices{detail}")
    return response


def _message(response: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first choice and its message (empty dicts where the server sent other shapes)."""
    choice = response["choices"][0] if response["choices"] else {}
    choice = choice if isinstance(choice, dict) else {}
    message = choice.get("message")
    return choice, message if isinstance(message, dict) else {}


def _snippet(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("message") or value
    return redact(" ".join(str(value).split()))[:120]


def _never_connected(error: BaseException) -> bool:
    """True when the transport could not even connect (refused, no route, DNS), as
    opposed to a connection that dropped mid-request."""
    return isinstance(error, http.APIConnectError)


def _attempts(n: int) -> str:
    return f"{n} attempt{'' if n == 1 else 's'}"


def _cause(error: BaseException) -> str:
    cause = error.__cause__ or error
    text = " ".join(str(cause).split())[:120]
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def _usage(response: dict[str, Any]) -> Usage:
    usage = response.get("usage")
    if not isinstance(usage, dict):
        return Usage(calls=1)
    return Usage(
        calls=1,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
    )


def _count(value: Any) -> int:
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


#: bearer tokens and OpenAI-style keys, wherever a server echoes them
_TOKEN_RE = re.compile(r"(?i)(bearer\s+)[^\s\"',;)}\]]+|\bsk-[A-Za-z0-9_\-]{8,}")


def redact(text: str, secret: str | None = None) -> str:
    """``text`` without ``secret`` (when it is long enough to be a key), bearer tokens
    or ``sk-...`` keys: for server messages that go into errors, logs and the brief."""
    if secret and len(secret) >= 8:
        text = text.replace(secret, "[redacted]")
    return _TOKEN_RE.sub(lambda m: (m.group(1) or "") + "[redacted]", text)


def _server_message(error: BaseException) -> str:
    """The server's message for an error, on one short line (a traceback becomes its
    last line) and without keys."""
    return one_line(redact(error_message(error))) or type(error).__name__
