"""PDF files: the text layer, page by page (``## Page N`` markers), with pypdf.

pypdf is pure Python (no system library, nothing fetched at run time) and reads the
metadata (title, author, creation date) beside the text. A PDF whose pages hold no text
(a scan: images of pages) is an :class:`~briefing.errors.InputError` that says so and
what to do (OCR), and so is an encrypted one we cannot open.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from briefing.errors import InputError
from briefing.ingest.documents import Document, parse_pdf_date, unwrap_lines

__all__ = ["read"]

log = logging.getLogger(__name__)


def read(data: bytes, label: str) -> Document:
    """The text and metadata of the PDF ``data``; raises InputError (see the module)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings on odd files are noise
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{label} is a password-protected PDF; save an unprotected "
                             "copy and pass that")  # fmt: skip
        pages = list(reader.pages)
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        detail = (str(e).splitlines() or [""])[0][:120]
        raise InputError(f"{label} is not a readable PDF ({detail or type(e).__name__}); "
                         "check the file or export it again") from e  # fmt: skip
    except Exception as e:  # missing crypto support for AES, a parser limit...
        raise InputError(f"{label}: cannot open this PDF ({type(e).__name__}); export it "
                         "again or convert it to text first") from e  # fmt: skip
    paragraphs: list[str] = []
    for number, page in enumerate(pages, 1):
        try:
            text = page.extract_text() or ""
        except Exception:  # one broken page must not lose the others
            log.warning("%s: could not read the text of page %d", label, number)
            continue
        found = unwrap_lines(text.splitlines())
        if found:
            paragraphs.append(f"## Page {number}")
            paragraphs.extend(found)
    if not paragraphs:
        raise InputError(
            f"{label} has no text layer ({len(pages)} page{'s' if len(pages) != 1 else ''} "
            "of images: a scan?); run OCR on it first (e.g. ocrmypdf FILE out.pdf) and "
            "pass the result"
        )
    meta: Any = reader.metadata or {}
    return Document(
        paragraphs=paragraphs,
        title=_text(meta.get("/Title")),
        author=_text(meta.get("/Author")),
        published=parse_pdf_date(_text(meta.get("/CreationDate"))),
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None
