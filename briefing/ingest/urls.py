"""An ``http(s)://`` input: fetch it, then read it as a web page or as a feed.

Sits above ``briefing.ingest.web`` (fetching) and ``briefing.ingest.feeds`` (feeds,
which fetch their entries' pages with ``web``), so neither imports the other's caller.
"""

from __future__ import annotations

import re

import httpx

from briefing.errors import InputError
from briefing.ingest.web import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    FEED_TYPES,
    HTML_TYPES,
    Fetched,
    fetch,
    make_client,
)
from briefing.models import Article

__all__ = ["load_url"]


def _kind(fetched: Fetched) -> str:
    """``"html"`` or ``"feed"`` from the media type, else from the first bytes."""
    if FEED_TYPES.search(fetched.content_type):
        head = fetched.content[:2048].lstrip().lower()
        # application/xml may still be XHTML
        return "html" if b"<html" in head and b"<rss" not in head else "feed"
    if HTML_TYPES.match(fetched.content_type):
        return "html"
    head = fetched.content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if re.search(rb"<(rss|feed|rdf:rdf)[\s>]", head):
        return "feed"
    if head.startswith((b"<!doctype html", b"<html")) or re.search(rb"<(head|body)[\s>]", head):
        return "html"
    if fetched.content_type in ("", "text/plain", "application/octet-stream") and b"<" in head:
        return "html"
    return "other"


def load_url(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    client: httpx.Client | None = None,
    fetch_entries: bool = True,
) -> list[Article]:
    """The article(s) at ``url``: one for an HTML page, one per entry for a feed.

    For a feed, each entry's page is fetched and extracted too unless
    ``fetch_entries`` is false (entries whose page cannot be had keep the feed's own
    text). Raises :class:`InputError` when the URL cannot be fetched or used.
    """
    from briefing.ingest.feeds import load_feed
    from briefing.ingest.html import parse_html

    own = client is None
    http = make_client(timeout) if client is None else client
    try:
        fetched = fetch(url, timeout=timeout, max_bytes=max_bytes, client=http)
        kind = _kind(fetched)
        if kind == "feed":
            return load_feed(
                fetched.content,
                source=url,
                fetch=fetch_entries,
                client=http,
                max_bytes=max_bytes,
            )
        if kind == "html":
            return parse_html(
                fetched.content, source=url, url=fetched.url, encoding=fetched.charset
            )
        shown = fetched.content_type or "unknown"
        raise InputError(
            f"{url}: content type {shown} is neither a web page nor a feed; download it"
            " and pass it as a file."
        )
    finally:
        if own:
            http.close()
