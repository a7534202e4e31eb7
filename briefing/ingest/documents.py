"""Documents (PDF, Word, EPUB, OpenDocument, RTF, e-mail / MHTML): what they have in
common, and which reader a file goes to.

Each format has its own small reader module (:mod:`~briefing.ingest.pdf`,
:mod:`~briefing.ingest.docx_reader`, :mod:`~briefing.ingest.epub`,
:mod:`~briefing.ingest.odt`, :mod:`~briefing.ingest.rtf`, :mod:`~briefing.ingest.mime`),
imported only when a file of its kind is read (start-up time). A reader turns the bytes
into a :class:`Document` (paragraphs, ``## Heading`` lines, title/author/date from the
document's metadata); :func:`document_article` makes it one Article. A document is one
article: long ones go through the summarizer's map-reduce like any long article.

Pages: a PDF's text keeps its page boundaries as ``## Page N`` heading lines in
``Article.text`` (headings are never sentences, so sentence ids are unchanged and a
sentence's page is the last marker before it). Chapters (EPUB) and headings (Word, ODT)
are ``## Heading`` lines the same way.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Literal

from briefing.scripts import NO_SPACE_CHARS, word_count

if TYPE_CHECKING:
    from briefing.models import Article

__all__ = ["DOCUMENT_KINDS", "Document", "document_article", "read_document", "sniff_document"]

DocumentKind = Literal["pdf", "docx", "epub", "odt", "rtf", "mime"]
#: kind -> the module that reads it (a ``read(data, label) -> Document | list[Article]``)
_READERS: dict[str, str] = {
    "pdf": "briefing.ingest.pdf",
    "docx": "briefing.ingest.docx_reader",
    "epub": "briefing.ingest.epub",
    "odt": "briefing.ingest.odt",
    "rtf": "briefing.ingest.rtf",
    "mime": "briefing.ingest.mime",
}
DOCUMENT_KINDS: frozenset[str] = frozenset(_READERS)
#: Longest first paragraph taken as the title when the metadata has none (words).
_MAX_TITLE_WORDS = 20
#: Metadata titles that are no title (what a converter or an editor left there).
_JUNK_TITLE = re.compile(
    r"^(?:untitled|document\d*|microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|pdf|odt|rtf|"
    r"txt|html?|indd|tex|dvi)|slide \d+|title|none|unknown|\W*)$",
    re.IGNORECASE,
)


@dataclass
class Document:
    """What a reader found: paragraphs (``## `` marks headings) and metadata."""

    paragraphs: list[str] = field(default_factory=list)
    title: str | None = None
    author: str | None = None
    published: dt.datetime | None = None
    language: str | None = None
    url: str | None = None


def sniff_document(data: bytes) -> DocumentKind | None:
    """The document kind of ``data`` by its content, or ``None`` (not a document)."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"{\\rtf"):
        return "rtf"
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    head = data[:4096]
    if re.match(rb"(?:[A-Za-z][\w-]*:[^\n]*\r?\n(?:[ \t][^\n]*\r?\n)*){2,}", head) and (
        re.search(rb"(?im)^MIME-Version:", head)
    ):
        return "mime"
    return None


def _sniff_zip(data: bytes) -> DocumentKind | None:
    if data[30:38] == b"mimetype":  # EPUB and ODF store their type first, uncompressed
        if data[38:58] == b"application/epub+zip":
            return "epub"
        if data[38:77] == b"application/vnd.oasis.opendocument.text":
            return "odt"
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "META-INF/container.xml" in names:
        return "epub"
    if "content.xml" in names and "meta.xml" in names:
        return "odt"
    return None


def read_document(data: bytes, kind: str, label: str) -> list[Article]:
    """Read a document of ``kind`` into its article (``[]`` when it holds no text).

    Raises :class:`InputError` for a file the reader cannot open (corrupt, encrypted,
    a scanned PDF without text)."""
    module = importlib.import_module(_READERS[kind])
    found: Document | list[Article] = module.read(data, label)
    if isinstance(found, list):
        return found
    article = document_article(found, source=label)
    return [] if article is None else [article]


def document_article(doc: Document, *, source: str) -> Article | None:
    """The Article of a document: its metadata title (else a short first paragraph, else
    the file name), its clean paragraphs; ``None`` without body text."""
    from briefing.ingest.text import clean_body, make_article

    paragraphs = [p for p in (_tidy(p) for p in doc.paragraphs) if p]
    title = _tidy(doc.title or "")
    if not title or _JUNK_TITLE.match(title):
        title = ""
        first = next((p for p in paragraphs if not _is_page_marker(p)), "")
        first_text = first.removeprefix("## ")
        if first and word_count(first_text) <= _MAX_TITLE_WORDS and first_text[-1:] not in ".:;":
            title = first_text
            paragraphs.remove(first)
    body = clean_body(paragraphs)
    if not any(not line.startswith("## ") for line in body.split("\n\n") if line):
        return None
    if not title:
        stem = PurePath(source).stem if source != "-" else ""
        title = stem.replace("_", " ").strip() or "untitled"
    return make_article(
        title=title,
        body=body,
        source=source,
        url=doc.url,
        published=doc.published,
        byline=_tidy(doc.author or "") or None,
        language=doc.language,
    )


def _is_page_marker(paragraph: str) -> bool:
    return paragraph.startswith("## Page ")


def _tidy(text: str) -> str:
    return " ".join(text.split())


_NO_SPACE_END = re.compile(f"[{NO_SPACE_CHARS}\u3001-\u303f\uff01-\uff60]$")
_NO_SPACE_START = re.compile(f"^[{NO_SPACE_CHARS}\u3001-\u303f\uff01-\uff60]")
_SENTENCE_END = re.compile(
    "[.!?\u2026\u3002\uff01\uff1f\u061f\u06d4][\"'\u201d\u2019\u00bb)\\]\u300d]*$"
)


def unwrap_lines(lines: Iterable[str]) -> list[str]:
    """Paragraphs from hard-wrapped lines (a PDF page's text): a blank line, or a line
    that ends a sentence and is clearly shorter than the others, ends a paragraph;
    ``inter-`` + ``national`` joins to ``international``; CJK lines join without a space."""
    rows = [line.strip() for line in lines]
    widths = sorted(len(r) for r in rows if r)
    full = widths[int(len(widths) * 0.8)] if widths else 0
    paragraphs: list[str] = []
    current = ""
    for row in rows:
        if not row:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if not current:
            current = row
        elif current.endswith("-") and row[:1].islower() and current[-2:-1].isalpha():
            current = current[:-1] + row
        elif _NO_SPACE_END.search(current) and _NO_SPACE_START.search(row):
            current += row
        else:
            current += " " + row
        if _SENTENCE_END.search(row) and len(row) < 0.8 * full:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def parse_pdf_date(value: object) -> dt.datetime | None:
    """A metadata date (a datetime, or "D:20261201093000+01'00'", or ISO 8601)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().removeprefix("D:")
    m = re.match(r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?", text)
    if m and not re.match(r"\d{4}-", text):
        y, mo, d, h, mi, s = (
            int(p) if p else default
            for p, default in zip(m.groups(), (0, 1, 1, 0, 0, 0), strict=True)
        )
        try:
            return dt.datetime(y, mo, d, h, mi, s, tzinfo=dt.UTC)
        except ValueError:
            return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = _HEADINGS | {"p", "li", "blockquote", "pre", "dt", "dd", "td", "th", "figcaption"}


def markup_paragraphs(markup: bytes) -> list[str]:
    """Paragraphs of an (X)HTML chapter: each innermost block element's text, headings
    as ``## Heading``; scripts, styles and navigation dropped."""
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.document_fromstring(markup)
    except (ValueError, lxml.etree.ParserError):
        return []
    for bad in list(root.iter("script", "style", "nav", "head")):
        bad.drop_tree()  # type: ignore[attr-defined]  # an HtmlElement
    out: list[str] = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower() if isinstance(element.tag, str) else ""
        if tag not in _BLOCKS:
            continue
        if any(
            isinstance(d.tag, str) and d.tag.rsplit("}", 1)[-1].lower() in _BLOCKS
            for d in element.iterdescendants()
        ):
            continue  # the inner blocks are read on their own
        text = " ".join(lxml.html.tostring(element, method="text", encoding="unicode").split())
        if text:
            out.append(f"## {text}" if tag in _HEADINGS else text)
    return out
