"""Saved e-mails (.eml) and saved web pages (.mhtml/.mht), with the standard library's
``email`` package: both are MIME messages, and nothing else is needed to read them.

A saved web page's HTML part goes through the web-page extractor
(:func:`briefing.ingest.html.parse_html`) with its address (``Snapshot-Content-Location``
or the part's ``Content-Location``); an e-mail's plain-text part (else its HTML part)
is the body, its subject the title, its sender the author and its date the date.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from email.message import EmailMessage, MIMEPart
from typing import TYPE_CHECKING

from briefing.ingest.documents import Document

if TYPE_CHECKING:
    from briefing.models import Article

__all__ = ["read"]


def read(data: bytes, label: str) -> Document | list[Article]:
    """The article of a saved page or the text of a saved e-mail."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html_part = message.get_body(preferencelist=("html",))
    plain_part = message.get_body(preferencelist=("plain",))
    location = message.get("Snapshot-Content-Location")
    published = None
    if message.get("Date"):
        try:
            published = email.utils.parsedate_to_datetime(str(message["Date"]))
        except (TypeError, ValueError):
            published = None
    is_page = location is not None or message.get_content_type() == "multipart/related"
    if html_part is not None and (is_page or plain_part is None):
        from briefing.ingest.html import parse_html

        url = str(location or html_part.get("Content-Location") or "") or None
        markup = _content(html_part)
        found = parse_html(markup, source=label, url=url if url and "://" in url else None)
        subject = str(message.get("Subject") or "").strip()
        if not found:
            return found
        fills: dict[str, object] = {}
        if published is not None and found[0].published is None:
            fills["published"] = published
        if subject and found[0].title in ("", "untitled"):
            fills["title"] = subject
        if fills:  # validated anew: a new title is a new id
            first = type(found[0]).model_validate({**found[0].model_dump(exclude={"id"}), **fills})
            return [first, *found[1:]]
        return found
    text = _content(plain_part).decode("utf-8", errors="replace") if plain_part else ""
    name, address = email.utils.parseaddr(str(message.get("From") or ""))
    return Document(
        paragraphs=[" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n")],
        title=str(message.get("Subject") or "").strip() or None,
        author=name or address or None,
        published=published,
    )


def _content(part: MIMEPart) -> bytes:
    """A part's decoded payload as UTF-8 bytes (text parts decoded by their charset)."""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset
        payload = part.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)
