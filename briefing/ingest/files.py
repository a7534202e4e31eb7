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
* an ``http://`` or ``https://`` URL: :func:`briefing.ingest.urls.load_url`, which also
  recognizes feeds by their content.

**Errors.** Anything wrong with an input (missing, unreadable, a directory with nothing
to read, a broken symbolic link or a link loop, a FIFO or device, binary, empty, over
the size limit, a corrupt ``.gz``, no article text in it, a file deleted while the run
goes on) is an :class:`~briefing.errors.InputError` whose one-line message names the
input and says what to do; an unexpected failure of a parser on one input is turned
into one too, so a bad input never stops the others. By default
the first one is raised, and so is finding no article at all. Pass
``on_error=callback`` to go on past bad inputs: ``callback(input, error)`` is called for
each (``input`` is the file inside a directory, not the directory) and whatever could
be read is returned, possibly nothing::

    problems: list[tuple[str, InputError]] = []
    articles = load_articles(paths, on_error=lambda src, err: problems.append((src, err)))

**Size.** One input may hold at most :data:`MAX_BYTES` (20 MB) after decompression;
set ``BRIEFING_MAX_INPUT_MB`` (or pass ``max_bytes``) to change that. Files are read
with a bounded read and ``.gz`` files are decompressed in a stream that stops at the
limit, so neither a file that grows while it is read nor a gzip bomb (a small file that
inflates to gigabytes) is ever held in memory whole.

**Encodings.** UTF-8 (with or without a BOM) and UTF-16/UTF-32 with a BOM are read as
such, and so is UTF-16 without a BOM; UTF-8 with a few invalid bytes keeps its UTF-8
(the bad bytes become U+FFFD); other bytes fall back to cp1252 (then Latin-1), all with
a logged warning. Control characters (other than tabs and line breaks) are dropped.
HTML is handed over as bytes so its own ``<meta charset>`` can win.
"""

from __future__ import annotations

import errno
import gzip
import logging
import math
import os
import re
import stat
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

from briefing.errors import BriefingError, ConfigError, InputError
from briefing.ingest.text import parse_text_page
from briefing.sentences import split_sentences

if TYPE_CHECKING:
    import datetime as dt

    from briefing.memo import TextStore
    from briefing.models import Article

__all__ = [
    "MAX_BYTES",
    "MAX_BYTES_ENV",
    "ErrorHandler",
    "decode_text",
    "load_articles",
    "load_path",
    "markdown_to_text",
    "max_input_bytes",
]

log = logging.getLogger(__name__)

#: Largest input read (after decompression): 20 MB, unless ``BRIEFING_MAX_INPUT_MB`` says.
MAX_BYTES = 20 * 1024 * 1024
#: The environment variable that changes :data:`MAX_BYTES` (a number of megabytes).
MAX_BYTES_ENV = "BRIEFING_MAX_INPUT_MB"
#: Longest title kept; longer ones (a whole page in a <title>) are cut at a word.
MAX_TITLE_CHARS = 300
#: Called with (input, error) for each input that cannot be used, instead of raising.
ErrorHandler = Callable[[str, InputError], None]

Kind = Literal["text", "markdown", "html", "feed", "pdf", "docx", "epub", "odt", "rtf", "mime"]
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
    ".pdf": "pdf",
    ".docx": "docx",
    ".epub": "epub",
    ".odt": "odt",
    ".rtf": "rtf",
    ".eml": "mime",
    ".mhtml": "mime",
    ".mht": "mime",
}
#: Kinds read by a document reader (briefing.ingest.documents), not as text.
_DOCUMENT_KINDS = frozenset({"pdf", "docx", "epub", "odt", "rtf", "mime"})
_MAGIC = [
    (b"%PDF", "a PDF file; name it with a .pdf suffix"),
    (b"PK\x03\x04", "a ZIP archive (not a Word, EPUB or OpenDocument file); extract it first"),
    (b"\x89PNG", "an image"),
    (b"\xff\xd8\xff", "an image"),
    (b"GIF8", "an image"),
    (b"\x1f\x8b", "gzip-compressed; name it with a .gz suffix"),
    (b"\x7fELF", "a program (an ELF executable)"),
    (b"MZ\x90\x00", "a program (a Windows executable)"),
    (b"\xfd7zXZ\x00", "an xz archive; decompress it first (unxz FILE)"),
    (b"(\xb5/\xfd", "a zstd archive; decompress it first (unzstd FILE)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive; extract it first"),
    (b"Rar!\x1a\x07", "a RAR archive; extract it first"),
    (b"\xd0\xcf\x11\xe0", "an old Office document; save it as text or HTML first"),
]
#: Bytes that never occur in text (C0 controls but tab, line breaks, form feed, escape).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
#: More than this share of control bytes: binary, not text with a few stray ones.
_MAX_CONTROL_SHARE = 0.01
#: Control characters dropped from decoded text (C0 but tab/line breaks, DEL, C1).
_CONTROL_CHARS = dict.fromkeys([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)])


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
    max_bytes: int | None = None,
    store: TextStore | None = None,
    language_model: bool = True,
) -> list[Article]:
    """Read every article from ``inputs`` (files, directories, ``-``, URLs), in order.

    ``reference_time`` resolves relative dates ("2 hours ago"; default now, UTC).
    ``max_bytes`` caps each input (default :func:`max_input_bytes`).
    ``store`` (e.g. the run's cache) keeps what each file parsed to, so an unchanged
    file is not parsed again (see :mod:`briefing.ingest.parsed`). ``language_model``
    False: an article's language is set only where its script or function words tell
    (no 1-1.5 s model load; :func:`briefing.ingest.language.detect_language`).
    Without ``on_error`` the first bad input raises :class:`InputError`, as does finding
    no article at all; with it, bad inputs are reported to it and skipped (see the
    module docstring). Every article has ``text`` and ``sentences`` filled.
    Duplicates are kept: pass the result to :func:`briefing.ingest.dedupe.dedupe`.
    """

    limit = max_input_bytes() if max_bytes is None else max_bytes

    def report(label: str, error: InputError) -> None:
        error = _one_line(error)
        if on_error is None:
            raise error
        on_error(label, error)

    articles: list[Article] = []
    items = list(_expand(inputs, include, exclude, report))
    ahead: dict[int, list[Article] | InputError] = {}
    if store is not None:
        ahead = _parse_ahead(
            items, reference_time=reference_time, limit=limit, store=store,
            language_model=language_model,
        )  # fmt: skip
    for index, item in enumerate(items):
        try:
            found = ahead.get(index)
            if isinstance(found, InputError):
                raise found
            if found is None:
                found = _load_input(
                    item, reference_time=reference_time, stdin=stdin, limit=limit, store=store,
                    language_model=language_model,
                )  # fmt: skip
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
    max_bytes: int | None = None,
) -> list[Article]:
    """Read one file (any supported kind, or ``kind`` to force one); raises InputError."""
    item = _Input(label=_shown(str(path)), path=Path(path))
    limit = max_input_bytes() if max_bytes is None else max_bytes
    try:
        found = _load_input(item, reference_time=reference_time, stdin=None, kind=kind, limit=limit)
    except InputError as e:
        raise _one_line(e) from e.__cause__
    return [_finish(a, item.label) for a in found]


def max_input_bytes() -> int:
    """The size limit of one input: ``BRIEFING_MAX_INPUT_MB`` megabytes, else
    :data:`MAX_BYTES`. Raises :class:`~briefing.errors.ConfigError` for a bad value."""
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not raw:
        return MAX_BYTES
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = math.nan
    if not math.isfinite(megabytes) or megabytes <= 0:
        raise ConfigError(f"{MAX_BYTES_ENV}: expected a positive number of megabytes, got {raw!r}")
    return max(1, int(megabytes * 1024 * 1024))


def decode_text(data: bytes, source: str) -> str:
    """Decode bytes as text: a BOM's encoding (UTF-8, UTF-16, UTF-32), UTF-16 without a
    BOM, UTF-8 (kept when only a few bytes are invalid: they become U+FFFD), else cp1252
    / Latin-1; every guess is logged as a warning. Control characters are dropped.

    Raises :class:`InputError` for binary data (images, archives, programs...)."""
    return _decode(data, source).translate(_CONTROL_CHARS)


def _decode(data: bytes, source: str) -> str:
    for bom, encoding in _TEXT_BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        log.warning("%s has no byte-order mark; read it as %s", source, utf16)
        return data.decode(utf16, errors="replace")
    _reject_binary(data, source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for c in text if c > "\x7f") - bad
    if good > bad:  # real UTF-8 with a few broken bytes (a bad copy-paste, a cut file)
        log.warning("%s has %d invalid UTF-8 byte(s); replaced them with \ufffd", source, bad)
        return text
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        log.warning("%s is not valid UTF-8; read it as %s", source, encoding)
        return text
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


_TEXT_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),  # before UTF-16 LE: same first two bytes
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when every other byte of the start is NUL (ASCII-range
    text in UTF-16 without a byte-order mark), else ``None``."""
    head = data[:4096]
    if len(head) < 8 or b"\x00" not in head:
        return None
    head = head[: len(head) // 2 * 2]
    even, odd = head[0::2], head[1::2]
    for zeros, others, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.9 * len(zeros) and others.count(0) <= 0.05 * len(others):
            return encoding
    return None


# --------------------------------------------------------------------------- inputs


def _expand(
    inputs: Sequence[str | Path],
    include: Sequence[str],
    exclude: Sequence[str],
    report: ErrorHandler,
) -> Iterator[_Input]:
    for raw in inputs:
        name = _shown(str(raw))
        if str(raw) == "-":
            yield _Input(label="-")
            continue
        if re.match(r"^https?://", str(raw), re.IGNORECASE):
            yield _Input(label=name, url=str(raw))
            continue
        try:
            path = Path(str(raw)).expanduser()
        except RuntimeError:  # "~nosuchuser/...", or no home directory at all
            report(name, InputError(f"{name}: cannot expand '~' here (unknown user or no "
                                    "home directory); write the path out in full"))  # fmt: skip
            continue
        try:
            st = path.stat()
        except (OSError, ValueError) as e:
            report(name, InputError(_path_error(name, path, e, reading=False)))
            continue
        if stat.S_ISDIR(st.st_mode):
            found = _walk(path, include, exclude, report)
            if not found:
                report(name, InputError(
                    f"{name}: no readable files in this directory (looked for "
                    f"{', '.join(sorted(_SUFFIX_KINDS))} and .gz); check --include/--exclude"
                ))  # fmt: skip
            yield from found
        elif stat.S_ISREG(st.st_mode):
            yield _Input(label=name, path=path)
        else:
            report(name, InputError(f"{name} is not a regular file ({_file_type(st.st_mode)}); "
                                    "pass a file or directory"))  # fmt: skip


def _walk(
    root: Path, include: Sequence[str], exclude: Sequence[str], report: ErrorHandler
) -> list[_Input]:
    """The files to read under ``root``, sorted by their path relative to it.

    Walked depth first in sorted order without recursion (a tree thousands of levels
    deep cannot raise RecursionError), following symbolic links to directories inside
    ``root`` but never into the same directory twice: a link loop, or a second link to
    a directory already walked, is skipped quietly (its files are read once). A link to
    a directory outside ``root`` is reported and not followed (a link to ``/`` in an
    inbox must not walk the whole disk). Directories that cannot be listed are reported.
    """
    found: list[tuple[tuple[str, ...], _Input]] = []
    seen: set[tuple[int, int]] = set()
    real_root = os.path.realpath(root)
    stack = [str(root)]
    while stack:
        dirpath = stack.pop()
        try:
            st = os.stat(dirpath)
        except OSError:  # gone since it was listed
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:  # a symbolic-link loop, or a second link to the same directory
            log.debug("skipping %s: already visited", dirpath)
            continue
        seen.add(key)
        try:
            with os.scandir(dirpath) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as e:
            where = _shown(dirpath)
            report(where, InputError(_listing_error(where, e)))
            continue
        subdirectories: list[str] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()  # follows symbolic links
            except OSError:  # a link loop or a broken link: read (and reported) as a file
                is_dir = False
            if is_dir:
                if entry.is_symlink() and not _inside(entry.path, real_root):
                    where = _shown(entry.path)
                    report(where, InputError(
                        f"{where}: a link to a directory outside {_shown(str(root))} "
                        f"({_shown(os.path.realpath(entry.path))}); not followed. Pass that "
                        "directory itself to read it"
                    ))  # fmt: skip
                    continue
                subdirectories.append(entry.path)
                continue
            path = Path(entry.path)
            rel = path.relative_to(root).as_posix()
            if include:
                if not any(fnmatch(rel, g) or fnmatch(entry.name, g) for g in include):
                    continue
            elif _kind_of(path) is None:
                continue
            if any(fnmatch(rel, g) or fnmatch(entry.name, g) for g in exclude):
                continue
            found.append((Path(rel).parts, _Input(label=_shown(str(path)), path=path)))
        stack.extend(reversed(subdirectories))  # the first one is walked next
    return [item for _, item in sorted(found, key=lambda f: f[0])]


def _inside(path: str, real_root: str) -> bool:
    """True when ``path`` (links resolved) is ``real_root`` or lies under it."""
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _listing_error(label: str, error: OSError) -> str:
    reason = error.strerror or str(error)
    if error.errno == errno.ENOENT:
        return f"{label}: the directory disappeared during the run; check it and run again"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"{label}: cannot list this directory ({reason}); check its permissions"
    if error.errno == errno.ENAMETOOLONG:
        return f"{label}: the path is too long for this system; move the files up the tree"
    return f"{label}: cannot list this directory ({reason}); check it"


def _kind_of(path: Path) -> Kind | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return _SUFFIX_KINDS.get(suffixes[-1]) if suffixes else None


def _path_error(label: str, path: Path, error: OSError | ValueError, *, reading: bool) -> str:
    """The one-line message for a path that cannot be opened (``reading``: it was
    listed or named a moment ago, so a missing file has gone during the run)."""
    if isinstance(error, ValueError):  # a NUL byte in the name
        return f"{label}: not a valid path ({error}); check the name"
    code = error.errno
    if code == errno.ENOENT:
        try:
            target = os.readlink(path)
        except (OSError, ValueError):
            target = None
        if target is not None:
            return (f"{label}: broken symbolic link (it points to {_shown(target)}, which "
                    "does not exist); fix or remove the link")  # fmt: skip
        if reading:
            return (f"{label}: the file disappeared before it could be read (deleted or "
                    "moved during the run); check it and run again")  # fmt: skip
        return f"{label}: no such file or directory; check the path"
    if code == errno.ELOOP:
        return f"{label}: symbolic link loop (the link leads back to itself); fix or remove it"
    if code in (errno.EACCES, errno.EPERM):
        return f"{label}: permission denied; check the file's permissions"
    if code == errno.ENAMETOOLONG:
        return f"{label}: the path is too long for this system; rename or move the file"
    if code == errno.ENOTDIR:
        return f"{label}: a part of this path is a file, not a directory; check the path"
    if code == errno.EISDIR:
        return f"{label} is a directory; pass it as a directory input"
    return f"{label}: cannot read ({error.strerror or error}); check the file"


def _file_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file or directory"


# --------------------------------------------------------------------------- reading


def _load_input(
    item: _Input,
    *,
    reference_time: dt.datetime | None,
    stdin: TextIO | None,
    limit: int,
    kind: Kind | None = None,
    store: TextStore | None = None,
    language_model: bool = True,
) -> list[Article]:
    try:
        if item.url is not None:
            from briefing.ingest.urls import load_url

            return _with_language(load_url(item.url), model=language_model)
        if item.path is None:
            data = _read_stdin(stdin, limit)
        else:
            data = _read_file(item.path, item.label, limit)
            kind = kind or _kind_of(item.path)
    except BriefingError:
        raise
    except Exception as e:  # a reader's bug or limit must not stop the other inputs
        if os.environ.get("BRIEFING_RAISE_ERRORS"):
            raise
        raise _unreadable(item.label, e) from e
    if _BLANK.fullmatch(data):
        raise InputError(f"{item.label} is empty; pass a file with article text")
    if store is None:
        return _parse_guarded(data, kind, item.label, reference_time, language_model)
    from briefing.ingest.parsed import cached_parse, parsed_key

    return cached_parse(  # (the language is detected once, and kept with the parse)
        store,
        parsed_key(
            data, kind, item.label, language_model=language_model,
            captured=reference_time is not None,
        ),
        reference_time,
        lambda: _parse_guarded(data, kind, item.label, reference_time, language_model),
    )  # fmt: skip


def _parse_guarded(
    data: bytes,
    kind: Kind | None,
    label: str,
    reference_time: dt.datetime | None,
    language_model: bool,
) -> list[Article]:
    """The articles in ``data`` with their languages; any failure but a
    :class:`BriefingError` is an InputError (BRIEFING_RAISE_ERRORS=1: raised as it is)."""
    try:
        return _with_language(_parse(data, kind, label, reference_time), model=language_model)
    except BriefingError:
        raise
    except Exception as e:  # a parser's bug or limit must not stop the other inputs
        if os.environ.get("BRIEFING_RAISE_ERRORS"):  # the developer wants the traceback
            raise
        raise _unreadable(label, e) from e


def _unreadable(label: str, e: Exception) -> InputError:
    log.debug("reading %s failed", label, exc_info=e)
    detail = (str(e).splitlines() or [""])[0][:160]
    return InputError(
        f"{label}: could not be read ({type(e).__name__}"
        f"{': ' + detail if detail else ''}); skipped it, please report this file"
    )


# -------------------------------------------------------------- many files: parsed in parallel

#: fewest files to parse before they are parsed by worker processes
PARALLEL_MIN_FILES = 16


def _parse_ahead(
    items: Sequence[_Input],
    *,
    reference_time: dt.datetime | None,
    limit: int,
    store: TextStore,
    language_model: bool,
) -> dict[int, list[Article] | InputError]:
    """Parse, in forked worker processes (one per core), the files of ``items`` the store
    has no parse of; what each gave (or its error), by index, saved in the store as
    :func:`_load_input` would have, and what the store has for the others. Empty where
    that does not pay or is not safe: under ``PARALLEL_MIN_FILES`` files, one core, no
    ``fork``, or other threads in this process (a fork copies only the calling thread);
    with fewer than that to parse, only what the store had. Parsing is pure Python, so
    this is what makes a second core help: 181 real articles, 0.97 s on one core."""
    import threading

    workers = min(os.cpu_count() or 1, 4)
    if workers < 2 or not hasattr(os, "fork") or threading.active_count() > 1:
        return {}
    if sum(item.path is not None for item in items) < PARALLEL_MIN_FILES:
        return {}
    from briefing.ingest.parsed import lookup, parsed_key, save

    done: dict[int, list[Article] | InputError] = {}
    jobs: list[tuple[int, str, bytes, Kind | None]] = []
    for index, item in enumerate(items):
        if item.path is None:
            continue
        try:
            data = _read_file(item.path, item.label, limit)
        except Exception:  # read again, and reported, in order
            continue
        if _BLANK.fullmatch(data):
            continue
        kind = _kind_of(item.path)
        key = parsed_key(
            data, kind, item.label, language_model=language_model,
            captured=reference_time is not None,
        )  # fmt: skip
        hit = lookup(store, key, reference_time)
        if hit is not None:
            done[index] = hit  # (read once: an unchanged day looks each file up once)
        else:
            jobs.append((index, key, data, kind))
    if len(jobs) < PARALLEL_MIN_FILES:
        return done  # the few to parse are parsed in order, here
    import concurrent.futures
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_ignores_ctrl_c,
    )
    try:
        futures = {
            pool.submit(
                _parse_job, data, kind, items[index].label, reference_time, language_model
            ): (index, key)
            for index, key, data, kind in jobs
        }
        for future in concurrent.futures.as_completed(futures):
            index, key = futures[future]
            try:
                articles, relative = future.result()
            except InputError as e:
                done[index] = e
                continue
            save(store, key, reference_time, articles, relative=relative)
            done[index] = articles
    except BrokenProcessPool:
        log.debug("parsing in worker processes failed; parsing here", exc_info=True)
        return {i: found for i, found in done.items() if not isinstance(found, InputError)}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return done


def _parse_job(
    data: bytes,
    kind: Kind | None,
    label: str,
    reference_time: dt.datetime | None,
    language_model: bool,
) -> tuple[list[Article], bool]:
    """One file parsed in a worker: its articles, and whether it read a relative date
    (any failure comes back as an InputError)."""
    from briefing.ingest.text import RELATIVE_DATES

    token = RELATIVE_DATES.set(False)
    try:
        return _parse_guarded(data, kind, label, reference_time, language_model), (
            RELATIVE_DATES.get()
        )
    except InputError:
        raise
    except Exception as e:  # (BRIEFING_RAISE_ERRORS) the error's own words, in the parent
        raise InputError(f"{label}: could not be read ({type(e).__name__}: {e})") from None
    finally:
        RELATIVE_DATES.reset(token)


def _worker_ignores_ctrl_c() -> None:
    """Ctrl-C is the parent's to handle (it stops the pool); a worker would print a
    traceback of its own."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


_BLANK = re.compile(rb"\s*")


def _parse(
    data: bytes, kind: Kind | None, label: str, reference_time: dt.datetime | None
) -> list[Article]:
    document = _sniff_document(data)
    if document is not None:
        kind = document  # a PDF, Word, EPUB... file, whatever its name says
    elif kind in _DOCUMENT_KINDS and kind not in ("rtf", "mime"):
        kind = None  # a binary document kind whose bytes are not that: sniff them
    sniffed = _sniff(data)
    if kind is None or (kind == "text" and sniffed == "html"):  # raw HTML saved as .txt
        kind = sniffed
    if kind in _DOCUMENT_KINDS:
        from briefing.ingest.documents import read_document

        found = read_document(data, kind, label)
    elif kind == "html":
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


def _read_file(path: Path, label: str, limit: int) -> bytes:
    """At most ``limit`` bytes of ``path`` (decompressed when it ends in ``.gz``): the
    read is bounded, so a file that grows, a device or a gzip bomb cannot fill memory."""
    try:
        st = os.stat(path)
    except (OSError, ValueError) as e:
        raise InputError(_path_error(label, path, e, reading=True)) from e
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block, /dev/zero never end
        raise InputError(f"{label} is not a regular file ({_file_type(st.st_mode)}); "
                         "pass a text, Markdown or HTML file")  # fmt: skip
    if st.st_size > limit:
        raise InputError(_too_big(label, st.st_size, limit))
    compressed = path.suffix.lower() == ".gz"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # non-blocking: a FIFO swapped in now cannot hang us
    except OSError as e:
        raise InputError(_path_error(label, path, e, reading=True)) from e
    with open(fd, "rb") as fh:
        try:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise InputError(f"{label} is not a regular file; pass a text, Markdown or "
                                 "HTML file")  # fmt: skip
            if compressed:
                with gzip.GzipFile(fileobj=fh, mode="rb") as inflated:
                    data = inflated.read(limit + 1)  # inflates at most limit + 1 bytes
            else:
                data = fh.read(limit + 1)
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise InputError(f"{label} is not a valid gzip file ({e}); recompress it") from e
        except OSError as e:
            raise InputError(_path_error(label, path, e, reading=True)) from e
    if len(data) > limit:
        raise InputError(_too_big(label, None, limit, compressed=compressed))
    if compressed and data.startswith(b"\x1f\x8b"):
        raise InputError(f"{label} is compressed twice (a .gz inside the .gz); decompress "
                         "it once and pass the result")  # fmt: skip
    return data


def _read_stdin(stdin: TextIO | None, limit: int) -> bytes:
    stream = stdin if stdin is not None else sys.stdin
    if stream is None:  # pragma: no cover - no stdin at all (pythonw)
        raise InputError("'-' reads standard input, but there is none; pass a file instead")
    if stream.isatty():
        raise InputError("'-' reads standard input, but nothing is piped in; "
                         "try: cat article.txt | briefing ...")  # fmt: skip
    buffer = getattr(stream, "buffer", None)
    raw = buffer.read(limit + 1) if buffer is not None else stream.read(limit + 1)
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    if len(data) > limit:
        raise InputError(_too_big("standard input", None, limit))
    return data


def _too_big(label: str, size: int | None, limit: int, *, compressed: bool = False) -> str:
    cap = _size(limit)
    if size is None:
        what = "decompresses to" if compressed else "is"
        return (f"{label} {what} more than the {cap} limit; split it into smaller files "
                f"or raise {MAX_BYTES_ENV} (megabytes)")  # fmt: skip
    shown = _size(size)
    if shown == cap:
        shown = f"{size:,} bytes"
    return (f"{label} is {shown}, over the {cap} limit; split it into smaller files or "
            f"raise {MAX_BYTES_ENV} (megabytes)")  # fmt: skip


def _size(n: int) -> str:
    """``n`` bytes for people: 20 MB, 1.5 MB, 100 KB, 12 bytes."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def _reject_binary(data: bytes, source: str) -> None:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"{source} is {what}, not text; pass text, Markdown or HTML")
    head = data[:8192]
    if b"\x00" in head:
        raise InputError(f"{source} looks like a binary file; pass text, Markdown or HTML")
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if controls > max(8, _MAX_CONTROL_SHARE * len(data)):
        raise InputError(f"{source} looks like a binary file ({controls:,} control bytes); "
                         "pass text, Markdown or HTML")  # fmt: skip


def _sniff_document(data: bytes) -> Kind | None:
    """A document kind (PDF, Word, EPUB, ODT, RTF, MIME) sniffed from the first bytes;
    the ZIP-based ones are told apart by their contents (briefing.ingest.documents)."""
    if not data.startswith((b"%PDF", b"{\\rtf", b"PK\x03\x04")) and not (
        b"MIME-Version" in data[:4096] or b"mime-version" in data[:4096].lower()
    ):
        return None
    from briefing.ingest.documents import sniff_document

    return sniff_document(data)


def _sniff(data: bytes) -> Kind:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml") or head.startswith((b"<rss", b"<feed", b"<rdf")):
        return "html" if b"<html" in head else "feed"
    if head.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<article", b"<div", b"<p")):
        return "html"
    if head.startswith(b"# ") or head.startswith(b"---\n"):
        return "markdown"
    return "text"


def _with_language(articles: list[Article], *, model: bool = True) -> list[Article]:
    """``articles`` with ``language`` filled where the reader did not set it."""
    from briefing.ingest.language import detect_language

    out = []
    for article in articles:
        if article.language is None:
            language = detect_language(article.text, model=model)
            if language is not None:
                article = article.model_copy(update={"language": language})
        out.append(article)
    return out


def _finish(article: Article, source: str) -> Article:
    updates: dict[str, object] = {}
    title = _clean_title(article.title)
    if title != article.title:
        updates["title"] = title
    language = article.language
    if not article.sentences:
        updates["sentences"] = split_sentences(article.text, language)
    if article.source == "-" and source != "-":
        updates["source"] = source
    if "title" in updates:  # a new title is a new content hash, hence a new id
        return type(article).model_validate({**article.model_dump(exclude={"id"}), **updates})
    return article.model_copy(update=updates) if updates else article


def _clean_title(title: str) -> str:
    """One line of plain text: control characters dropped, whitespace (CR, LF, tabs)
    collapsed, at most :data:`MAX_TITLE_CHARS` characters (cut at a word)."""
    text = " ".join(title.translate(_CONTROL_CHARS).split())
    if len(text) > MAX_TITLE_CHARS:
        cut = text[: MAX_TITLE_CHARS - 1]
        head, space, _ = cut.rpartition(" ")
        text = (head if space and len(head) > MAX_TITLE_CHARS // 2 else cut) + "\u2026"
    return text or "untitled"


def _shown(name: str) -> str:
    """``name`` for a one-line message: control characters (a newline in a file name)
    written as escapes."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in name)


def _one_line(error: InputError) -> InputError:
    message = str(error)
    lines = message.splitlines()
    if len(lines) <= 1 and "\r" not in message:
        return error
    flat = InputError(" ".join(line.strip() for line in lines if line.strip()))
    flat.__cause__ = error.__cause__ or error
    return flat


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
