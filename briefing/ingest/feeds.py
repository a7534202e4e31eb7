"""Turn an RSS or Atom feed into Articles, one per entry.

With ``fetch=True`` each entry's page is downloaded and its article extracted
(:func:`briefing.ingest.html.parse_html`); when that is disabled or fails, the entry's
own content or summary (HTML stripped) is used, with its title, link, date and author
and the feed's title as the outlet. feedparser is imported lazily and never touches
the network itself: downloads go through :func:`briefing.ingest.web.fetch`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from typing import TYPE_CHECKING, Any

from briefing.errors import InputError
from briefing.models import Article

if TYPE_CHECKING:
    import httpx

__all__ = ["html_to_text", "load_feed"]

log = logging.getLogger(__name__)

_BLOCKS = (
    "p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr",
    "section", "article", "figure", "pre", "ul", "ol", "table",
)  # fmt: skip


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: paragraphs (blocks) separated by a blank line,
    scripts and styles dropped."""
    if "<" not in fragment:
        return _lines(_unescape(fragment))
    from lxml import etree
    from lxml.html import fragment_fromstring

    try:
        root = fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return _lines(re.sub(r"<[^>]+>", " ", fragment))
    for el in root.xpath("//script|//style|//noscript"):
        el.drop_tree()
    for el in root.iter(*_BLOCKS):
        el.tail = "\n" + (el.tail or "")
        if el.tag != "br":
            el.text = "\n" + (el.text or "")
    return _lines(str(root.text_content()))


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def _lines(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)


def _datetime(entry: Any, *keys: str) -> dt.datetime | None:
    for key in keys:
        parsed = entry.get(key)
        if parsed:
            try:
                return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _entry_text(entry: Any) -> str:
    """The longest of the entry's content blocks and summary, as plain text."""
    candidates = [c.get("value", "") for c in entry.get("content") or []]
    candidates.append(entry.get("summary", "") or "")
    texts = [html_to_text(c) for c in candidates if c]
    return max(texts, key=len, default="")


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(html_to_text(value).split())
    return text or None


def _from_entry(entry: Any, *, outlet: str | None, source: str) -> Article | None:
    text = _entry_text(entry)
    if not text:
        return None
    title = _clean(entry.get("title")) or text.split("\n", 1)[0][:120]
    return Article(
        title=title,
        text=text,
        outlet=outlet,
        url=entry.get("link") or None,
        published=_datetime(entry, "published_parsed", "updated_parsed", "created_parsed"),
        byline=_clean(entry.get("author")),
        language=_language(entry.get("language")),
        source=source,
    )


def _language(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    match = re.match(r"[A-Za-z]{2,3}", value.strip())
    return match.group(0).lower() if match else None


def _fetch_entry(
    link: str, fallback: Article | None, *, outlet: str | None, client: httpx.Client,
    max_bytes: int,
) -> Article | None:  # fmt: skip
    """The entry's page as an Article, completed from the feed; ``None`` if unusable."""
    from briefing.ingest.html import parse_html
    from briefing.ingest.web import fetch

    try:
        fetched = fetch(link, client=client, max_bytes=max_bytes)
        if "html" not in fetched.content_type and fetched.content_type:
            return None
        found = parse_html(fetched.content, source=link, url=fetched.url, encoding=fetched.charset)
        page = found[0]
    except InputError as e:
        log.info("feed entry %s: using the feed's text (%s)", link, e)
        return None
    if fallback is not None and len(page.text) < 0.5 * len(fallback.text):
        return None  # the page extraction is worse than what the feed carries
    updates: dict[str, Any] = {}
    if fallback is not None:
        for field in ("published", "byline", "language"):
            if getattr(page, field) is None and getattr(fallback, field) is not None:
                updates[field] = getattr(fallback, field)
        updates["title"] = fallback.title or page.title
    if page.outlet is None and outlet:
        updates["outlet"] = outlet
    if not updates:
        return page
    data = page.model_dump(exclude={"id"})
    data.update(updates)
    return Article(**data)


def load_feed(
    data: bytes | str,
    *,
    source: str,
    fetch: bool = True,
    client: httpx.Client | None = None,
    max_entries: int | None = None,
    max_bytes: int | None = None,
) -> list[Article]:
    """One Article per entry of an RSS/Atom feed, in feed order.

    ``source`` names the feed (path or URL). With ``fetch`` each entry's link is
    downloaded (through ``client`` if given) and extracted; entries whose page cannot
    be fetched or holds less text than the feed keep the feed's own content or
    summary. Entries with no text at all are skipped. Raises :class:`InputError` if
    ``data`` is not a feed.
    """
    import feedparser

    from briefing.ingest.web import DEFAULT_MAX_BYTES, make_client

    raw = data.encode("utf-8") if isinstance(data, str) else data  # bytes: never a URL
    parsed = feedparser.parse(raw)
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        detail = f" ({str(reason).splitlines()[0][:120]})" if reason else ""
        raise InputError(f"{source}: not an RSS or Atom feed{detail}; check the file or URL.")
    outlet = _clean(parsed.feed.get("title"))
    feed_language = _language(parsed.feed.get("language"))
    entries = parsed.entries[:max_entries] if max_entries is not None else parsed.entries

    own = fetch and client is None
    http = make_client() if own else client
    articles: list[Article] = []
    try:
        for entry in entries:
            link = entry.get("link") or None
            fallback = _from_entry(entry, outlet=outlet, source=link or source)
            if fallback is not None and fallback.language is None and feed_language:
                fallback = fallback.model_copy(update={"language": feed_language})
            article = None
            if fetch and link and http is not None and re.match(r"https?://", link):
                article = _fetch_entry(
                    link,
                    fallback,
                    outlet=outlet,
                    client=http,
                    max_bytes=max_bytes or DEFAULT_MAX_BYTES,
                )
            article = article or fallback
            if article is not None:
                articles.append(article)
    finally:
        if own and http is not None:
            http.close()
    return articles
