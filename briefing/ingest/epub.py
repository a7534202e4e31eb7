"""E-books (.epub): the chapters in reading (spine) order, with ebooklib.

Each chapter's XHTML becomes paragraphs (headings as ``## Heading``, so chapters are
sections a summary can name); title, author (creator), date and language come from the
book's Dublin Core metadata.
"""

from __future__ import annotations

import io
import zipfile

from briefing.errors import InputError
from briefing.ingest.documents import Document, markup_paragraphs, parse_pdf_date

__all__ = ["read"]


def read(data: bytes, label: str) -> Document:
    """The text and metadata of the EPUB ``data``; raises InputError if unreadable."""
    import ebooklib
    from ebooklib import epub

    try:
        book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
    except (zipfile.BadZipFile, KeyError, ValueError, ebooklib.epub.EpubException) as e:
        raise InputError(f"{label} is not a readable EPUB ({type(e).__name__}); "
                         "check the file or convert it again") from e  # fmt: skip
    paragraphs: list[str] = []
    seen: set[str] = set()
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or idref in seen:
            continue
        seen.add(idref)
        paragraphs.extend(markup_paragraphs(item.get_content()))

    def first(name: str) -> str | None:
        values = book.get_metadata("DC", name)
        return str(values[0][0]).strip() or None if values else None

    return Document(
        paragraphs=paragraphs,
        title=first("title"),
        author=first("creator"),
        published=parse_pdf_date(first("date")),
        language=(first("language") or "").split("-")[0].lower() or None,
    )
