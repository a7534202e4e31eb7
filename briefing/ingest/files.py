"""Load Articles from paths, directories, stdin and URLs, dispatching on the kind of source.

Inputs (each a ``str`` or ``Path``):

* a **file**: ``.txt``/``.text`` (a scraped text page, see :mod:`briefing.ingest.text`),
  ``.md``/``.markdown`` (Markdown syntax stripped first), ``.html``/``.htm``/``.xhtml``
  (:func:`briefing.ingest.html.parse_html`), ``.xml``/``.rss``/``.atom``
  (:func:`briefing.ingest.feeds.load_feed`), and ``.gz`` of any of these. A file with
  another or no suffix is sniffed: markup goes to the HTML or feed reader, anything else
  that decodes as text is read as a text page.
* a **directory**: walked recursively in sorted (deterministic) order, following
  symbolic links but never into the same directory twice (no loops); hidden files and
  directories (``.name``) are skipped. Without ``include`` only the suffixes above are
  read; ``include``/``exclude`` are globs (``fnmatch``) matched against the path
  relative to the directory and against the file name: ``include=["*.txt"]``,
  ``exclude=["drafts/*"]``. They filter directory contents only: a file named
  explicitly is always read.
* ``-``: standard input (the ``stdin`` argument, else ``sys.stdin``), sniffed like a
  file without suffix.
* an ``http://`` or ``https://`` URL: :func:`briefing.ingest.web.load_url`, which also
  recognizes feeds by their content.

**Errors.** Anything wrong with an input (missing, unreadable, a directory with nothing
to read, binary, empty, over :data:`MAX_BYTES`, no article text in it) is an
:class:`~briefing.errors.InputError` whose one-line message says what to do. By default
the first one is raised, and so is finding no article at all. Pass
``on_error=callback`` to go on past bad inputs: ``callback(input, error)`` is called for
each (``input`` is the file inside a directory, not the directory) and whatever could
be read is returned, possibly nothing::

    problems: list[tuple[str, InputError]] = []
    articles = load_articles(paths, on_error=lambda src, err: problems.append((src, err)))

**Encodings.** UTF-8 (with or without a BOM) and UTF-16 with a BOM are read as such;
other bytes fall back to cp1252 (then Latin-1) with a logged warning. HTML is handed
over as bytes so its own ``<meta charset>`` can win.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

from briefing.errors import InputError
from briefing.ingest.sentences import split_sentences
from briefing.ingest.text import parse_text_page

if TYPE_CHECKING:
    import datetime as dt

    from briefing.models import Article

__all__ = [
    "MAX_BYTES",
    "ErrorHandler",
    "decode_text",
    "load_articles",
    "load_path",
    "markdown_to_text",
]

log = logging.getLogger(__name__)

#: Largest input read (after decompression): 20 MB.
MAX_BYTES = 20 * 1024 * 1024
#: Called with (input, error) for each input that cannot be used, instead of raising.
ErrorHandler = Callable[[str, InputError], None]

Kind = Literal["text", "markdown", "html", "feed"]
_SUFFIX_KINDS: dict[str, Kind] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
}
_MAGIC = [
    (b"%PDF", "a PDF file; convert it to text first (e.g. pdftotext FILE)"),
    (b"PK\x03\x04", "a ZIP or Office document; export it as text or HTML first"),
    (b"\x89PNG", "an image"),
    (b"\xff\xd8\xff", "an image"),
    (b"GIF8", "an image"),
    (b"\x1f\x8b", "gzip-compressed; name it with a .gz suffix"),
]


@dataclass(frozen=True)
class _Input:
    label: str  #: what error messages and Article.source show
    path: Path | None = None  #: a file to read (None: stdin or a URL)
    url: str | None = None


# --------------------------------------------------------------------------- public API


def load_articles(
    inputs: Sequence[str | Path],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    reference_time: dt.datetime | None = None,
    stdin: TextIO | None = None,
    on_error: ErrorHandler | None = None,
) -> list[Article]:
    """Read every article from ``inputs`` (files, directories, ``-``, URLs), in order.

    ``reference_time`` resolves relative dates ("2 hours ago"; default now, UTC).
    Without ``on_error`` the first bad input raises :class:`InputError`, as does finding
    no article at all; with it, bad inputs are reported to it and skipped (see the
    module docstring). Every article has ``text`` and ``sentences`` filled.
    Duplicates are kept: pass the result to :func:`briefing.ingest.dedupe.dedupe`.
    """

    def report(label: str, error: InputError) -> None:
        if on_error is None:
            raise error
        on_error(label, error)

    articles: list[Article] = []
    for item in _expand(inputs, include, exclude, report):
        try:
            found = _load_input(item, reference_time=reference_time, stdin=stdin)
        except InputError as e:
            report(item.label, e)
            continue
        articles.extend(_finish(a, item.label) for a in found)
    if not articles and on_error is None:
        shown = ", ".join(str(i) for i in inputs[:3]) + (" ..." if len(inputs) > 3 else "")
        raise InputError(f"no articles found in {shown or 'the inputs'}; pass text, Markdown "
                         "or HTML files, directories of them, '-' or URLs")  # fmt: skip
    return articles


def load_path(
    path: str | Path,
    *,
    reference_time: dt.datetime | None = None,
    kind: Kind | None = None,
) -> list[Article]:
    """Read one file (any supported kind, or ``kind`` to force one); raises InputError."""
    item = _Input(label=str(path), path=Path(path))
    return [
        _finish(a, item.label)
        for a in _load_input(item, reference_time=reference_time, stdin=None, kind=kind)
    ]


def decode_text(data: bytes, source: str) -> str:
    """Decode bytes as UTF-8 (BOM-aware), else cp1252 / Latin-1 with a warning."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    _reject_binary(data, source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        log.warning("%s is not valid UTF-8; read it as %s", source, encoding)
        return text
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


# --------------------------------------------------------------------------- inputs


def _expand(
    inputs: Sequence[str | Path],
    include: Sequence[str],
    exclude: Sequence[str],
    report: ErrorHandler,
) -> Iterator[_Input]:
    for raw in inputs:
        name = str(raw)
        if name == "-":
            yield _Input(label="-")
            continue
        if re.match(r"^https?://", name, re.IGNORECASE):
            yield _Input(label=name, url=name)
            continue
        path = Path(name).expanduser()
        if path.is_dir():
            found = _walk(path, include, exclude)
            if not found:
                report(name, InputError(
                    f"{name}: no readable files in this directory (looked for "
                    f"{', '.join(sorted(_SUFFIX_KINDS))} and .gz); check --include/--exclude"
                ))  # fmt: skip
            yield from found
        elif path.is_file():
            yield _Input(label=name, path=path)
        elif path.exists():
            report(name, InputError(f"{name} is not a regular file; pass a file or directory"))
        elif path.is_symlink():
            report(name, InputError(f"{name}: broken symbolic link; fix or remove it"))
        else:
            report(name, InputError(f"{name}: no such file or directory; check the path"))


def _walk(root: Path, include: Sequence[str], exclude: Sequence[str]) -> list[_Input]:
    """The files to read under ``root``, sorted by their path relative to it."""
    found: list[tuple[tuple[str, ...], _Input]] = []
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:  # a symbolic-link loop, or a second link to the same directory
            log.debug("skipping %s: already visited", dirpath)
            dirnames[:] = []
            continue
        seen.add(key)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            path = Path(dirpath, filename)
            rel = path.relative_to(root).as_posix()
            if include:
                if not any(fnmatch(rel, g) or fnmatch(filename, g) for g in include):
                    continue
            elif _kind_of(path) is None:
                continue
            if any(fnmatch(rel, g) or fnmatch(filename, g) for g in exclude):
                continue
            found.append((Path(rel).parts, _Input(label=str(path), path=path)))
    return [item for _, item in sorted(found, key=lambda f: f[0])]


def _kind_of(path: Path) -> Kind | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return _SUFFIX_KINDS.get(suffixes[-1]) if suffixes else None


# --------------------------------------------------------------------------- reading


def _load_input(
    item: _Input,
    *,
    reference_time: dt.datetime | None,
    stdin: TextIO | None,
    kind: Kind | None = None,
) -> list[Article]:
    if item.url is not None:
        from briefing.ingest.web import load_url

        return load_url(item.url)
    if item.path is None:
        data = _read_stdin(stdin)
    else:
        data = _read_file(item.path, item.label)
        kind = kind or _kind_of(item.path)
    if not data.strip():
        raise InputError(f"{item.label} is empty; pass a file with article text")
    return _parse(data, kind, item.label, reference_time)


def _parse(
    data: bytes, kind: Kind | None, label: str, reference_time: dt.datetime | None
) -> list[Article]:
    sniffed = _sniff(data)
    if kind is None or (kind == "text" and sniffed == "html"):  # raw HTML saved as .txt
        kind = sniffed
    if kind == "html":
        _reject_binary(data, label)
        from briefing.ingest.html import parse_html

        found = parse_html(data, source=label)
    elif kind == "feed":
        _reject_binary(data, label)
        from briefing.ingest.feeds import load_feed

        found = load_feed(data, source=label)
    else:
        text = decode_text(data, label)
        if kind == "markdown":
            text = markdown_to_text(text)
        found = parse_text_page(text, source=label, reference_time=reference_time)
    if not found:
        raise InputError(f"no article text found in {label}; is it a news article?")
    return found


def _read_file(path: Path, label: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(_too_big(label, size))
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rb") as fh:
                data = fh.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise InputError(_too_big(label, None))
            return data
        return path.read_bytes()
    except InputError:
        raise
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise InputError(f"{label} is not a valid gzip file ({e}); recompress it") from e
    except PermissionError as e:
        raise InputError(f"{label}: permission denied; check the file's permissions") from e
    except IsADirectoryError as e:  # pragma: no cover - directories are expanded earlier
        raise InputError(f"{label} is a directory; pass it as a directory input") from e
    except OSError as e:
        raise InputError(f"{label}: cannot read ({e.strerror or e}); check the file") from e


def _read_stdin(stdin: TextIO | None) -> bytes:
    stream = stdin if stdin is not None else sys.stdin
    if stream is None:  # pragma: no cover - no stdin at all (pythonw)
        raise InputError("'-' reads standard input, but there is none; pass a file instead")
    if stream.isatty():
        raise InputError("'-' reads standard input, but nothing is piped in; "
                         "try: cat article.txt | briefing ...")  # fmt: skip
    buffer = getattr(stream, "buffer", None)
    raw = buffer.read(MAX_BYTES + 1) if buffer is not None else stream.read(MAX_BYTES + 1)
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    if len(data) > MAX_BYTES:
        raise InputError(_too_big("standard input", None))
    return data


def _too_big(label: str, size: int | None) -> str:
    limit = MAX_BYTES // (1024 * 1024)
    what = f"is {size / 1024 / 1024:.0f} MB" if size is not None else "is too large"
    return f"{label} {what}, over the {limit} MB limit; split it into smaller files"


def _reject_binary(data: bytes, source: str) -> None:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"{source} is {what}, not text; pass text, Markdown or HTML")
    head = data[:8192]
    if b"\x00" in head:
        raise InputError(f"{source} looks like a binary file; pass text, Markdown or HTML")


def _sniff(data: bytes) -> Kind:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml") or head.startswith((b"<rss", b"<feed", b"<rdf")):
        return "html" if b"<html" in head else "feed"
    if head.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<article", b"<div", b"<p")):
        return "html"
    if head.startswith(b"# ") or head.startswith(b"---\n"):
        return "markdown"
    return "text"


def _finish(article: Article, source: str) -> Article:
    updates: dict[str, object] = {}
    if not article.sentences:
        updates["sentences"] = split_sentences(article.text, article.language)
    if article.source == "-" and source != "-":
        updates["source"] = source
    return article.model_copy(update=updates) if updates else article


# --------------------------------------------------------------------------- markdown

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_MD_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^```.*$|^~~~.*$", re.M), ""),  # code fences (content kept)
    (re.compile(r"^ {0,3}(?:[-*_][ \t]*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$", re.M), ""),  # setext heading underlines
    (re.compile(r"^ {0,3}\[[^\]]+\]:\s+\S+.*$", re.M), ""),  # link reference definitions
    (re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.M), r"\1"),  # ATX headings
    (re.compile(r"^ {0,3}(?:>[ \t]?)+", re.M), ""),  # block quotes
    (re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+", re.M), ""),  # list markers
    (re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # inline links
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),  # inline HTML tags
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\w)"), r"\1"),  # emphasis *x*
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),  # emphasis _x_
    (re.compile(r"~~(.+?)~~"), r"\1"),  # strikethrough
    (re.compile(r"`([^`]+)`"), r"\1"),  # inline code
    (re.compile(r"^\|?(?:\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$", re.M), ""),  # table rules
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])"), r"\1"),  # backslash escapes
]
_FRONT_KEYS = {
    "title": "title",
    "headline": "title",
    "author": "byline",
    "byline": "byline",
    "date": "published",
    "published": "published",
    "source": "outlet",
    "outlet": "outlet",
    "publisher": "outlet",
}


def markdown_to_text(markdown: str) -> str:
    """Strip Markdown syntax, keeping the words: headings become lines (the first
    ``# ...`` is the title), links their text, images go, emphasis and code marks go.

    A YAML-style front matter block (``---`` ... ``---``) with ``title``, ``author``,
    ``date`` or ``source`` keys becomes the header lines a text page would have.
    """
    header: list[str] = []
    front = _FRONT_MATTER.match(markdown)
    if front:
        markdown = markdown[front.end() :]
        fields: dict[str, str] = {}
        for line in front.group(1).splitlines():
            key, sep, value = line.partition(":")
            target = _FRONT_KEYS.get(key.strip().lower())
            if sep and target and value.strip():
                fields.setdefault(target, value.strip().strip("\"'"))
        if "title" in fields:
            header.append(fields["title"])
        if "byline" in fields:
            header.append(f"By {fields['byline']}")
        if "outlet" in fields:
            header.append(f"Source: {fields['outlet']}")
        if "published" in fields:
            header.append(f"Published {fields['published']}")
    text = markdown
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    text = re.sub(r"^\|(.*)\|[ \t]*$", lambda m: m.group(1).replace("|", " "), text, flags=re.M)
    body = text.strip("\n")
    return "\n".join([*header, body]) if header else body
