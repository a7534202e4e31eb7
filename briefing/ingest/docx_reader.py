"""Word documents (.docx): paragraphs, headings and tables in order, with python-docx.

Headings ("Heading 1".."Heading 9" styles) become ``## Heading`` lines, the "Title"
style is the title when the core properties have none; title, author and creation date
come from the document's core properties.
"""

from __future__ import annotations

import io
import zipfile

from briefing.errors import InputError
from briefing.ingest.documents import Document

__all__ = ["read"]


def read(data: bytes, label: str) -> Document:
    """The text and metadata of the .docx ``data``; raises InputError if unreadable."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise InputError(f"{label} is not a readable Word document ({type(e).__name__}); "
                         "open and save it again, or export it as text") from e  # fmt: skip
    paragraphs: list[str] = []
    styled_title: str | None = None

    def add(paragraph: Paragraph) -> None:
        nonlocal styled_title
        text = " ".join(paragraph.text.split())
        if not text:
            return
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style == "Title" and styled_title is None:
            styled_title = text
            paragraphs.append(f"## {text}")
        elif style.startswith("Heading"):
            paragraphs.append(f"## {text}")
        else:
            paragraphs.append(text)

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            add(block)
        elif isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:  # merged cells repeat: keep each text once
                    text = " ".join(cell.text.split())
                    if text and text not in cells:
                        cells.append(text)
                if cells:
                    paragraphs.append(" | ".join(cells))
    props = document.core_properties
    title = props.title or styled_title
    if title and paragraphs and paragraphs[0] == f"## {title}":
        paragraphs.pop(0)
    created = props.created
    if created is not None and created.tzinfo is None:
        import datetime as dt

        created = created.replace(tzinfo=dt.UTC)
    return Document(
        paragraphs=paragraphs,
        title=title or None,
        author=props.author or None,
        published=created,
        language=(props.language or "").split("-")[0].lower() or None,
    )
