"""Fetch a URL over HTTP(S) and turn it into Articles (an HTML page or an RSS/Atom feed).

One polite GET with explicit timeouts, a redirect limit, a size cap (the body is
streamed and the download stops at the cap) and a User-Agent naming the tool. The
content type (header first, then a sniff of the first bytes) decides between
:func:`briefing.ingest.html.parse_html` and :func:`briefing.ingest.feeds.load_feed`.
Every failure a user can meet (bad URL, DNS, refused connection, timeout, HTTP error,
too large, not a page) becomes an :class:`~briefing.errors.InputError` whose one-line
message says what to do.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import httpx

from briefing.errors import InputError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "Fetched",
    "fetch",
    "make_client",
]

USER_AGENT = "briefing/0.1 (+https://github.com/briefing/briefing; news briefing tool)"
DEFAULT_TIMEOUT = 15.0  #: seconds to connect, and between two reads
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
#: a whole download may take this many times ``timeout`` (a slow drip is a timeout too)
TOTAL_TIME_FACTOR = 4

_ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5"
)
FEED_TYPES = re.compile(r"(rss|atom|rdf)\+xml|^(application|text)/xml$|/feed\+json", re.I)
HTML_TYPES = re.compile(r"^(text/html|application/xhtml\+xml)$", re.I)


@dataclass(frozen=True)
class Fetched:
    """A downloaded response body with what is needed to interpret it."""

    url: str  #: the final URL, after redirects
    content: bytes
    content_type: str  #: lower-case media type without parameters ("" if none)
    charset: str | None


def make_client(timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    """An ``httpx.Client`` with the tool's User-Agent, timeouts and redirect policy."""
    return httpx.Client(
        headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
    )


def _check_url(url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as e:
        raise InputError(f"{url}: not a valid URL ({e}); check the address.") from e
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InputError(
            f"{url}: only http:// and https:// URLs can be fetched; check the address."
        )


def fetch(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    client: httpx.Client | None = None,
) -> Fetched:
    """GET ``url`` (following at most ``MAX_REDIRECTS`` redirects), at most ``max_bytes``.

    ``timeout`` applies to connecting and to each read. A ``client`` passed in is used
    as is (its own timeouts and redirect policy apply) and is not closed.
    """
    _check_url(url)
    own = client is None
    http = make_client(timeout) if client is None else client
    try:
        with http.stream("GET", url) as response:
            if response.status_code >= 400:
                raise InputError(_status_message(url, response.status_code))
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise InputError(_too_large(url, max_bytes))
            chunks: list[bytes] = []
            size = 0
            deadline = time.monotonic() + TOTAL_TIME_FACTOR * timeout
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise InputError(_too_large(url, max_bytes))
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the download took too long")
                chunks.append(chunk)
            media = response.headers.get("content-type", "")
            return Fetched(
                url=str(response.url),
                content=b"".join(chunks),
                content_type=media.split(";")[0].strip().lower(),
                charset=response.charset_encoding,
            )
    except httpx.TooManyRedirects as e:
        raise InputError(
            f"{url}: more than {MAX_REDIRECTS} redirects; open it in a browser and pass the"
            " final address."
        ) from e
    except httpx.TimeoutException as e:
        raise InputError(
            f"{url}: timed out after {timeout:g} s; try again later or raise the timeout."
        ) from e
    except httpx.ConnectError as e:
        raise InputError(
            f"{url}: cannot connect ({_reason(e)}); check the address and your network."
        ) from e
    except httpx.HTTPError as e:
        raise InputError(f"{url}: download failed ({_reason(e)}); try again later.") from e
    finally:
        if own:
            http.close()


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:160]


def _status_message(url: str, status: int) -> str:
    hints = {
        401: "the page needs a login; save it from a browser and pass the file",
        403: "the server refused access; save the page from a browser and pass the file",
        404: "no such page; check the address",
        410: "the page was removed; check the address",
        429: "the server is rate-limiting; wait and try again",
    }
    hint = hints.get(status) or (
        "the server failed; try again later" if status >= 500 else "check the address"
    )
    return f"{url}: HTTP {status}; {hint}."


def _too_large(url: str, max_bytes: int) -> str:
    return (
        f"{url}: larger than {max_bytes / 1_048_576:.1f} MB; download it yourself and pass"
        " the file, or raise the size limit."
    )
