"""The wire under the OpenAI-compatible provider: JSON over HTTP with ``httpx``.

Why not the ``openai`` SDK's client: importing it costs 0.65-1.4 s on every start (its
``openai.types`` package builds a pydantic model for every API it covers), which is most
of what ``briefing summarize FILE`` costs against a fast server; and for each answer the
SDK builds a ``ChatCompletion`` model we only read three fields of. The provider needs
two requests (``POST /chat/completions``, ``GET /models``); retries, backoff, time
budgets and error wording are its own already (see :mod:`briefing.llm.retry`), as they
were with the SDK (whose retries were switched off). ``httpx2`` (pydantic's maintained
fork of httpx, the SDK's own transport) does the HTTP: pooled keep-alive connections,
timeouts, HTTP/1.1. Measured with 16 requests in flight, it spends half the CPU per
request that httpx 0.28 does (its connection pool does not re-check every idle
connection on each request): 1.8 ms less per call.

The errors keep the SDK's names and shape (``status_code``, ``body``, ``response``,
``code``; a timeout is a connection error), so the rest of the provider reads them the
way it read the SDK's.
"""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import Mapping
from typing import Any

import httpx2 as httpx  # pydantic's httpx, the openai SDK's own transport

USER_AGENT = "briefing (httpx)"


class APIError(Exception):
    """A request to the model server failed."""


class APIStatusError(APIError):
    """The server answered with an HTTP error status. ``body``: its JSON (else text)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.body: Any = _body(response)
        inner = self.body.get("error") if isinstance(self.body, dict) else None
        self.code = inner.get("code") if isinstance(inner, dict) else None
        super().__init__(f"Error code: {self.status_code} - {self.body}")


class APIConnectionError(APIError):
    """No answer: the connection failed or dropped (the transport's error is the
    ``__cause__``)."""


class APITimeoutError(APIConnectionError):
    """No answer within the timeout."""


def _body(response: httpx.Response) -> Any:
    """The response's JSON, else its text."""
    try:
        return response.json()
    except ValueError:
        return response.text


def _url(base_url: str, path: str) -> str:
    """``path`` relative to ``base_url`` (an absolute URL is taken as it is)."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{base_url.rstrip('/')}/{path.lstrip('/')}"


def _answer(response: httpx.Response) -> Any:
    """A 2xx answer's JSON (its text when it says it is not JSON: the caller reports
    it; ``json.JSONDecodeError`` when it says it is but is broken), else
    ``APIStatusError``."""
    if response.status_code >= 400:
        raise APIStatusError(response)
    if "json" in response.headers.get("content-type", ""):
        return json.loads(response.content)
    return _body(response)


def _failed(error: httpx.TransportError) -> APIConnectionError:
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out: {error}")
    return APIConnectionError(f"Connection error: {error}")


class _Base:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: httpx.Timeout | None = None,
        default_query: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout or httpx.Timeout(600.0, connect=10.0)
        self.default_query = dict(default_query or {})
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }

    def _request(
        self, method: str, path: str, body: Any, timeout: httpx.Timeout | None
    ) -> dict[str, Any]:
        content = None
        headers = self._headers
        if body is not None:
            content = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers = {**headers, "Content-Type": "application/json"}
        return {
            "method": method,
            "url": _url(self.base_url, path),
            "content": content,
            "headers": headers,
            "params": self.default_query or None,
            "timeout": timeout or self.timeout,
        }


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context (certifi's CAs) for every client of the process: building one
    loads the CA bundle, about 50 ms."""
    return httpx.create_ssl_context()


def _verify(base_url: str) -> ssl.SSLContext | bool:
    """What ``httpx`` verifies with: plain HTTP needs no TLS context (redirects are never
    followed, so a request never leaves the scheme it was given)."""
    return _tls() if base_url.startswith("https:") else False


class Client(_Base):
    """A sync client: ``post``/``get`` answer the JSON, or raise the errors above.
    ``http_client``: an ``httpx.Client`` of the caller's (tests pass a mock transport);
    it is then theirs to close."""

    def __init__(self, *, http_client: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._given = http_client is not None
        self._http = http_client or httpx.Client(
            timeout=self.timeout, verify=_verify(self.base_url)
        )

    def post(self, path: str, body: Any, timeout: httpx.Timeout | None = None) -> Any:
        return self._send(self._request("POST", path, body, timeout))

    def get(self, path: str, timeout: httpx.Timeout | None = None) -> Any:
        return self._send(self._request("GET", path, None, timeout))

    def _send(self, request: dict[str, Any]) -> Any:
        try:
            response = self._http.request(**request)
        except httpx.TransportError as e:
            raise _failed(e) from e
        return _answer(response)

    def close(self) -> None:
        if not self._given:
            self._http.close()


class AsyncClient(_Base):
    """``Client`` for an event loop (bound to the loop it is first used in)."""

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._given = http_client is not None
        self._http = http_client or httpx.AsyncClient(
            timeout=self.timeout,
            verify=_verify(self.base_url),
            # as many connections as calls in flight (the provider's queue bounds those)
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )

    async def post(self, path: str, body: Any, timeout: httpx.Timeout | None = None) -> Any:
        return await self._send(self._request("POST", path, body, timeout))

    async def get(self, path: str, timeout: httpx.Timeout | None = None) -> Any:
        return await self._send(self._request("GET", path, None, timeout))

    async def _send(self, request: dict[str, Any]) -> Any:
        try:
            response = await self._http.request(**request)
        except httpx.TransportError as e:
            raise _failed(e) from e
        return _answer(response)

    async def close(self) -> None:
        if not self._given:
            await self._http.aclose()


def timeout(read: float, connect: float) -> httpx.Timeout:
    """A read timeout of ``read`` seconds (writes and the pool alike) and a connect one."""
    return httpx.Timeout(read, connect=min(connect, read))
