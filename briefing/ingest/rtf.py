"""Rich Text Format (.rtf): text with striprtf, metadata from the ``{\\info}`` group.

striprtf is a small pure-Python converter (escapes ``\\'e9`` and ``\\u8212?`` decoded);
the title, author and creation time are read from ``{\\info{\\title ...}{\\author ...}
{\\creatim\\yr2026\\mo12\\dy1...}}`` before the markup is stripped.
"""

from __future__ import annotations

import datetime as dt
import re

from briefing.ingest.documents import Document

__all__ = ["read"]

_INFO_FIELD = re.compile(r"\{\\(title|author)\s+((?:[^{}\\]|\\[^a-z]|\\[a-z]+-?\d* ?)*)\}")
_CREATED = re.compile(r"\\creatim((?:\\(?:yr|mo|dy|hr|min)\d+)+)")


def read(data: bytes, label: str) -> Document:  # noqa: ARG001 - the reader signature
    """The text and metadata of the RTF ``data`` (striprtf reads anything)."""
    from striprtf.striprtf import rtf_to_text

    raw = data.decode("cp1252", errors="replace")
    text: str = rtf_to_text(raw, errors="replace")  # type: ignore[no-untyped-call]
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n", text)]
    info: dict[str, str] = {}
    for m in _INFO_FIELD.finditer(raw[:200_000]):
        plain = rtf_to_text("{\\rtf1 " + m[2] + "}", errors="replace")  # type: ignore[no-untyped-call]
        value = " ".join(plain.split())
        info.setdefault(m[1], value)
    return Document(
        paragraphs=[p for p in paragraphs if p],
        title=info.get("title"),
        author=info.get("author"),
        published=_created(raw),
    )


def _created(raw: str) -> dt.datetime | None:
    m = _CREATED.search(raw[:200_000])
    if m is None:
        return None
    parts = dict(re.findall(r"\\(yr|mo|dy|hr|min)(\d+)", m[1]))
    try:
        return dt.datetime(
            int(parts.get("yr", 0)), int(parts.get("mo", 1)), int(parts.get("dy", 1)),
            int(parts.get("hr", 0)), int(parts.get("min", 0)), tzinfo=dt.UTC,
        )  # fmt: skip
    except ValueError:
        return None
