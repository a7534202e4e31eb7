"""The wire under the OpenAI-compatible provider: JSON over HTTP.

Why not the ``openai`` SDK's client: importing it costs 0.65-1.4 s on every start (its
``openai.types`` package builds a pydantic model for every API it covers), which is most
of what ``briefing summarize FILE`` costs against a fast server; and for each answer the
SDK builds a ``ChatCompletion`` model we only read three fields of. The provider needs
two requests (``POST /chat/completions``, ``GET /models``); retries, backoff, time
budgets and error wording are its own already (see :mod:`briefing.llm.retry`), as they
were with the SDK (whose retries were switched off).

Two transports, one behaviour:

- ``AsyncClient`` (a brief: many calls in flight) uses ``httpx2`` (pydantic's maintained
  fork of httpx, the SDK's own transport): pooled keep-alive connections, timeouts,
  HTTP/1.1. Measured with 16 requests in flight, it spends half the CPU per request
  that httpx 0.28 does (its connection pool does not re-check every idle connection on
  each request): 1.8 ms less per call.
- ``Client`` (one call at a time: ``briefing summarize FILE``, the server probe) speaks
  through the standard library's ``http.client`` (:class:`_Wire`): one kept-alive
  connection per server. Importing the ``httpx2`` stack (httpx2, httpcore2, h11, anyio
  and ~90 modules, plus a scan of site-packages for its version) costs about 0.1 s of
  every start, a fifth of what ``summarize`` costs against an instant server; ``http.client``
  is loaded anyway. Where the environment names a proxy (``HTTP_PROXY``, ``HTTPS_PROXY``,
  ``ALL_PROXY``), or TLS would need a trust store the standard library does not find
  by itself (macOS, Windows, a Python whose OpenSSL has no CA paths), ``Client`` uses
  ``httpx2`` too, which handles those (``NO_PROXY``, truststore) as the async client does.

The errors keep the SDK's names and shape (``status_code``, ``body``, ``response``,
``code``; a timeout is a connection error), so the rest of the provider reads them the
way it read the SDK's. ``APIConnectError`` is a connection that was never made (refused,
no such host, a TLS handshake that failed), as opposed to one that dropped.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import socket
import ssl
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    import http.client

    import httpx2 as httpx

USER_AGENT = "briefing"
#: environment variables that route requests through a proxy (either case)
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


@dataclasses.dataclass(frozen=True)
class Timeout:
    """Seconds to wait: for the connection (and TLS handshake), then for each read."""

    read: float
    connect: float


def timeout(read: float, connect: float) -> Timeout:
    """A read timeout of ``read`` seconds (writes and the pool alike) and a connect one."""
    return Timeout(read=read, connect=min(connect, read))


class Response(Protocol):
    """What the errors and the clients read of an answer (``httpx.Response`` has it)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Any: ...  # case-insensitive ``get``

    @property
    def content(self) -> bytes: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class APIError(Exception):
    """A request to the model server failed."""


class APIStatusError(APIError):
    """The server answered with an HTTP error status. ``body``: its JSON (else text)."""

    def __init__(self, response: Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.body: Any = _body(response)
        inner = self.body.get("error") if isinstance(self.body, dict) else None
        self.code = inner.get("code") if isinstance(inner, dict) else None
        super().__init__(f"Error code: {self.status_code} - {self.body}")


class APIConnectionError(APIError):
    """No answer: the connection failed or dropped (the transport's error is the
    ``__cause__``)."""


class APIConnectError(APIConnectionError):
    """No connection was made at all: refused, no route, no such host, TLS refused."""


class APITimeoutError(APIConnectionError):
    """No answer within the timeout."""


def _body(response: Response) -> Any:
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


def _answer(response: Response) -> Any:
    """A 2xx answer's JSON (its text when it says it is not JSON: the caller reports
    it; ``json.JSONDecodeError`` when it says it is but is broken), else
    ``APIStatusError``."""
    if response.status_code >= 400:
        raise APIStatusError(response)
    if "json" in (response.headers.get("content-type") or ""):
        return json.loads(response.content)
    return _body(response)


class _Base:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: Timeout | None = None,
        default_query: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout or Timeout(read=600.0, connect=10.0)
        self.default_query = dict(default_query or {})
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }

    def _request(
        self, method: str, path: str, body: Any, timeout: Timeout | None
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


# -- httpx2 ---------------------------------------------------------------------------------
@functools.cache
def _httpx_tls() -> ssl.SSLContext:
    """One TLS context (the system's CAs, or truststore's) for every ``httpx2`` client of
    the process: building one loads the CA bundle, about 50 ms."""
    import httpx2

    return httpx2.create_ssl_context()


def _httpx_verify(base_url: str) -> ssl.SSLContext | bool:
    """What ``httpx`` verifies with: plain HTTP needs no TLS context (redirects are never
    followed, so a request never leaves the scheme it was given)."""
    return _httpx_tls() if base_url.startswith("https:") else False


def _httpx_timeout(value: Timeout) -> httpx.Timeout:
    import httpx2

    return httpx2.Timeout(value.read, connect=value.connect)


def _httpx_request(request: dict[str, Any]) -> dict[str, Any]:
    return {**request, "timeout": _httpx_timeout(request["timeout"])}


def _httpx_failed(error: Exception) -> APIConnectionError:
    import httpx2

    if isinstance(error, httpx2.TimeoutException):
        return APITimeoutError(f"Request timed out: {error}")
    if isinstance(error, httpx2.ConnectError):
        return APIConnectError(f"Connection error: {error}")
    return APIConnectionError(f"Connection error: {error}")


class _HttpxWire:
    """``Client``'s requests through an ``httpx2.Client`` (its own, or the caller's)."""

    def __init__(self, http_client: httpx.Client | None, base_url: str, timeout: Timeout):
        import httpx2

        self._given = http_client is not None
        self._http = http_client or httpx2.Client(
            timeout=_httpx_timeout(timeout), verify=_httpx_verify(base_url)
        )
        self._transport_error = httpx2.TransportError

    def send(self, request: dict[str, Any]) -> Response:
        try:
            return self._http.request(**_httpx_request(request))
        except self._transport_error as e:
            raise _httpx_failed(e) from e

    def close(self) -> None:
        if not self._given:
            self._http.close()


# -- the standard library -------------------------------------------------------------------
@dataclasses.dataclass
class _Answer:
    """An answer read whole from ``http.client``: the ``Response`` the errors read."""

    status_code: int
    headers: Any  # http.client.HTTPMessage: case-insensitive get
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def proxy_configured(environ: Mapping[str, str] = os.environ) -> bool:
    """True when the environment routes requests through a proxy (``NO_PROXY`` may still
    exempt the server: ``httpx2`` decides that)."""
    return any(environ.get(name) or environ.get(name.upper()) for name in PROXY_VARIABLES)


@functools.cache
def _stdlib_tls() -> ssl.SSLContext | None:
    """The standard library's TLS context with the CAs OpenSSL finds by itself
    (``SSL_CERT_FILE`` / ``SSL_CERT_DIR``, else its compiled-in paths), or None where
    that is not the system's trust (macOS, Windows: ``httpx2`` uses truststore there)
    or there are none (a Python built with CA paths that do not exist here)."""
    if sys.platform not in ("linux", "linux2") and not sys.platform.startswith("freebsd"):
        return None
    if not (os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR")):
        paths = ssl.get_default_verify_paths()
        if not (
            os.path.isfile(paths.openssl_cafile or "") or os.path.isdir(paths.openssl_capath or "")
        ):
            return None
    return ssl.create_default_context()


def stdlib_serves(base_url: str, environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``_Wire`` speaks for a client of ``base_url``: no proxy in the
    environment, and plain HTTP or a TLS trust the standard library finds."""
    if proxy_configured(environ):
        return False
    return not base_url.startswith("https:") or _stdlib_tls() is not None


#: a connection that dropped while idle shows up as one of these on the next request
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class _Wire:
    """``Client``'s requests through ``http.client``: one kept-alive connection per
    server (scheme, host, port), opened on first use, closed when the server says so.
    A kept connection the server has closed while it sat idle is noticed before it is
    used (its socket reads as ready: end of file) and replaced, and a request that
    fails on a reused connection before any answer is sent once more on a new one."""

    def __init__(self) -> None:
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def send(self, request: dict[str, Any]) -> Response:
        import http.client

        url = urlsplit(request["url"])
        target = url.path or "/"
        query = "&".join(x for x in (url.query, urlencode(request["params"] or {})) if x)
        if query:
            target = f"{target}?{query}"
        key = (url.scheme, url.hostname or "", url.port or (443 if url.scheme == "https" else 80))
        limits: Timeout = request["timeout"]
        for attempt in (1, 2):
            connection, reused = self._connection(key, limits)
            try:
                connection.request(
                    request["method"], target, body=request["content"], headers=request["headers"]
                )
                response = connection.getresponse()
                content = response.read()
            except TimeoutError as e:
                self._drop(key)
                raise APITimeoutError(f"Request timed out: {e}") from e
            except (OSError, http.client.HTTPException) as e:
                self._drop(key)
                stale = isinstance(e, (*_STALE, http.client.RemoteDisconnected))
                if reused and stale and attempt == 1:
                    continue  # the server closed it while idle: it never saw the request
                raise APIConnectionError(f"Connection error: {e}") from e
            if getattr(response, "will_close", True):
                self._drop(key)
            return _Answer(response.status, response.headers, content)
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(
        self, key: tuple[str, str, int], limits: Timeout
    ) -> tuple[http.client.HTTPConnection, bool]:
        """The kept connection to ``key`` (its read timeout set to ``limits``) and True,
        or a new one, connected, and False."""
        import http.client

        kept = self._connections.get(key)
        if kept is not None and kept.sock is not None and not _closed_by_peer(kept.sock):
            _read_timeout(kept, limits.read)
            return kept, True
        self._drop(key)
        scheme, host, port = key
        connection: http.client.HTTPConnection
        if scheme == "https":
            context = _stdlib_tls()
            assert context is not None  # (stdlib_serves said so)
            connection = http.client.HTTPSConnection(
                host, port, timeout=limits.connect, context=context
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=limits.connect)
        try:
            connection.connect()
        except TimeoutError as e:
            connection.close()
            raise APITimeoutError(f"Request timed out: {e}") from e
        except OSError as e:  # refused, unreachable, no such host, TLS handshake
            connection.close()
            raise APIConnectError(f"Connection error: {e}") from e
        connection.timeout = limits.read  # (a reconnect by http.client itself waits this)
        _read_timeout(connection, limits.read)
        self._connections[key] = connection
        return connection, False

    def _drop(self, key: tuple[str, str, int]) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for key in list(self._connections):
            self._drop(key)


def _read_timeout(connection: http.client.HTTPConnection, seconds: float) -> None:
    sock = connection.sock
    if isinstance(sock, socket.socket):  # (a test's replayed connection has none)
        sock.settimeout(seconds)


def _closed_by_peer(sock: Any) -> bool:
    """True when an idle kept-alive socket is readable: the server closed it (or sent
    bytes nobody asked for); either way it cannot carry the next request."""
    if not isinstance(sock, socket.socket):
        return False
    import selectors

    try:
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            return bool(selector.select(0))
    except (OSError, ValueError):
        return True


# -- the clients ----------------------------------------------------------------------------
class Client(_Base):
    """A sync client: ``post``/``get`` answer the JSON, or raise the errors above.
    ``http_client``: an ``httpx.Client`` of the caller's (tests pass a mock transport);
    it is then theirs to close. Without one, the standard library speaks (``_Wire``)
    unless a proxy or the platform's trust store needs ``httpx2``."""

    def __init__(self, *, http_client: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._wire: _Wire | _HttpxWire
        if http_client is None and stdlib_serves(self.base_url):
            self._wire = _Wire()
        else:
            self._wire = _HttpxWire(http_client, self.base_url, self.timeout)

    def post(self, path: str, body: Any, timeout: Timeout | None = None) -> Any:
        return _answer(self._wire.send(self._request("POST", path, body, timeout)))

    def get(self, path: str, timeout: Timeout | None = None) -> Any:
        return _answer(self._wire.send(self._request("GET", path, None, timeout)))

    def close(self) -> None:
        self._wire.close()


class AsyncClient(_Base):
    """``Client`` for an event loop (bound to the loop it is first used in), on
    ``httpx2``."""

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        import httpx2

        super().__init__(**kwargs)
        self._given = http_client is not None
        self._http = http_client or httpx2.AsyncClient(
            timeout=_httpx_timeout(self.timeout),
            verify=_httpx_verify(self.base_url),
            # as many connections as calls in flight (the provider's queue bounds those)
            limits=httpx2.Limits(max_connections=None, max_keepalive_connections=64),
        )
        self._transport_error = httpx2.TransportError

    async def post(self, path: str, body: Any, timeout: Timeout | None = None) -> Any:
        return await self._send(self._request("POST", path, body, timeout))

    async def get(self, path: str, timeout: Timeout | None = None) -> Any:
        return await self._send(self._request("GET", path, None, timeout))

    async def _send(self, request: dict[str, Any]) -> Any:
        try:
            response = await self._http.request(**_httpx_request(request))
        except self._transport_error as e:
            raise _httpx_failed(e) from e
        return _answer(response)

    async def close(self) -> None:
        if not self._given:
            await self._http.aclose()
