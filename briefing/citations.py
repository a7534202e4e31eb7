"""Where a document's sentences are: its pages or sections, so a summary can cite them.

Ingest keeps a document's structure as heading lines in ``Article.text``: a PDF's pages
as ``## Page N``, Word/ODT headings and EPUB chapters as ``## Heading``. Heading lines
are never sentences and always end a block (``briefing.sentences``), so splitting the
text at its headings and numbering the sentences of each part in turn gives exactly the
ids ``make_article`` gave: sentence ``id`` lies under the last heading before it.

:func:`locations` turns that into a short list of :class:`~briefing.models.Location`
(the first sentence id under each heading), kept with the summary (``ArticleSummary
.locations``) so a brief rendered later from its JSON still has it; :func:`cite` turns a
key point's ``sentence_ids`` into ``p. 4``, ``pp. 4–5`` or ``§ Findings``.

Pages are cited wherever they are found. Sections only for documents (a ``.docx``,
``.epub``, ``.odt``, ``.rtf`` or ``.pdf`` source): a news page's sub-headings ("'On
standby'") would only clutter a brief. An article without headings cites nothing.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from briefing.models import Article, Location
from briefing.sentences import sentence_texts

# ruff: noqa: RUF002  (the en dash of page ranges on purpose)

__all__ = ["cite", "locations"]

_HEADING = re.compile(r"^\s*#{1,6}\s+(.*\S)\s*$")
_PAGE = re.compile(r"Page (\d+)")
#: Sources whose headings are the document's own sections.
_DOCUMENTS = frozenset({".pdf", ".docx", ".epub", ".odt", ".rtf"})
#: A section heading longer than this (characters) is cut in a citation.
_MAX_HEADING = 60


def locations(article: Article) -> list[Location]:
    """The first sentence id under each page or section heading of ``article`` (``[]``
    for an article without them, or a web article whose headings are not pages)."""
    if "#" not in article.text:
        return []
    parts = _parts(article.text)
    headings = [h for h, _ in parts if h is not None]
    if not headings:
        return []
    if not _is_document(article.source) and not all(_PAGE.fullmatch(h) for h in headings):
        return []
    found: list[Location] = []
    ids = [s.id for s in article.sentences]
    split = [(h, sentence_texts(body, article.language)) for h, body in parts]
    flat = [text for _, texts in split for text in texts]
    if ids and flat == [s.text for s in article.sentences]:
        position = 0
        for heading, texts in split:
            if heading is not None and texts:
                found.append(Location(first=ids[position], heading=heading))
            position += len(texts)
        return _merged(found)
    return _merged(_by_search(article, parts))


def cite(where: Sequence[Location], sentence_ids: Iterable[int]) -> str:
    """``p. 4``, ``pp. 4–5``, ``pp. 2, 7``, ``§ Findings`` or ``""``: where the sentences
    ``sentence_ids`` are (ids before the first heading, or unknown, are left out)."""
    if not where:
        return ""
    firsts = [loc.first for loc in where]
    pages: set[int] = set()
    sections: list[str] = []
    for sid in sentence_ids:
        index = bisect.bisect_right(firsts, sid) - 1
        if index < 0:
            continue
        heading = where[index].heading
        page = _PAGE.fullmatch(heading)
        if page:
            pages.add(int(page.group(1)))
        elif heading not in sections:
            sections.append(heading)
    parts = [_pages(sorted(pages))] if pages else []
    parts += [f"§ {_short(s)}" for s in sections]
    return "; ".join(parts)


def _pages(pages: list[int]) -> str:
    if len(pages) == 1:
        return f"p. {pages[0]}"
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    return "pp. " + ", ".join(
        str(run[0]) if len(run) == 1 else f"{run[0]}\u2013{run[-1]}" for run in runs
    )


def _short(heading: str) -> str:
    heading = " ".join(heading.split())
    return heading if len(heading) <= _MAX_HEADING else heading[: _MAX_HEADING - 1] + "…"


def _parts(text: str) -> list[tuple[str | None, str]]:
    """``text`` cut at its heading lines: (heading or None for the start, body)."""
    parts: list[tuple[str | None, str]] = []
    heading: str | None = None
    lines: list[str] = []
    for line in text.split("\n"):
        match = _HEADING.match(line)
        if match:
            parts.append((heading, "\n".join(lines)))
            heading, lines = match.group(1), []
        else:
            lines.append(line)
    parts.append((heading, "\n".join(lines)))
    return parts


def _by_search(article: Article, parts: list[tuple[str | None, str]]) -> list[Location]:
    """Locations found by looking each sentence up in the text, in order (for sentences
    that were not split from this text by today's rules, e.g. an older cache entry)."""
    flat: list[str] = []
    starts: list[tuple[int, str | None]] = []  # (offset in the flattened text, heading)
    offset = 0
    for heading, body in parts:
        starts.append((offset, heading))
        words = " ".join(body.split())
        flat.append(words)
        offset += len(words) + 1
    text = " ".join(flat)
    offsets = [o for o, _ in starts]
    found: list[Location] = []
    cursor = 0
    for sentence in article.sentences:
        at = text.find(" ".join(sentence.text.split()), cursor)
        if at < 0:
            continue
        cursor = at + 1
        heading = starts[bisect.bisect_right(offsets, at) - 1][1]
        if heading is not None:
            found.append(Location(first=sentence.id, heading=heading))
    return found


def _merged(found: list[Location]) -> list[Location]:
    """One entry per run of sentences under the same heading."""
    out: list[Location] = []
    for loc in found:
        if not out or out[-1].heading != loc.heading:
            out.append(loc)
    return out


def _is_document(source: str) -> bool:
    path = urlsplit(source).path if "://" in source else source
    return PurePosixPath(path).suffix.lower() in _DOCUMENTS
