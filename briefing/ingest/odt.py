"""OpenDocument text (.odt): ``content.xml`` and ``meta.xml`` read with lxml.

An .odt file is a ZIP of XML; reading its two files directly is a few lines over lxml
(already a dependency), where odfpy, the library for it, has had no release since 2020.
Headings (``text:h``) become ``## Heading`` lines; title, author and date come from
``meta.xml``.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from briefing.errors import InputError
from briefing.ingest.documents import Document, parse_pdf_date

__all__ = ["read"]

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": _TEXT,
    "dc": "http://purl.org/dc/elements/1.1/",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
}


def read(data: bytes, label: str) -> Document:
    """The text and metadata of the .odt ``data``; raises InputError if unreadable."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            content = etree.fromstring(archive.read("content.xml"), parser)
            names = archive.namelist()
            has_meta = "meta.xml" in names
            meta = etree.fromstring(archive.read("meta.xml"), parser) if has_meta else None
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as e:
        raise InputError(f"{label} is not a readable OpenDocument text ({type(e).__name__}); "
                         "open and save it again, or export it as text") from e  # fmt: skip
    paragraphs: list[str] = []
    for element in content.iter(f"{{{_TEXT}}}p", f"{{{_TEXT}}}h"):
        text = " ".join(_text_of(element).split())
        if text:
            heading = element.tag == f"{{{_TEXT}}}h"
            paragraphs.append(f"## {text}" if heading else text)

    def field(path: str) -> str | None:
        if meta is None:
            return None
        found = meta.xpath(f"string({path})", namespaces=_NS)
        return str(found).strip() or None

    return Document(
        paragraphs=paragraphs,
        title=field("//dc:title"),
        author=field("//dc:creator") or field("//meta:initial-creator"),
        published=parse_pdf_date(field("//meta:creation-date") or field("//dc:date")),
        language=(field("//dc:language") or "").split("-")[0].lower() or None,
    )


def _text_of(element: Any) -> str:
    """An ODF paragraph's text: ``text:s`` is spaces, ``text:tab`` and line breaks a
    space; notes (``text:note``) are left out."""
    parts: list[str] = [element.text or ""]
    for child in element:
        name = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        if name == "s":
            parts.append(" " * int(child.get(f"{{{_TEXT}}}c", "1") or 1))
        elif name in ("tab", "line-break"):
            parts.append(" ")
        elif name not in ("note", "annotation"):
            parts.append(_text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)
