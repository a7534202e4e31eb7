"""Render a Briefing as Markdown, standalone HTML, PDF or JSON, and write files atomically.

Templates live in ``briefing/render/templates/`` (``brief.md.j2``, ``brief.html.j2``,
``brief.css``); pass ``template_dir`` to use your own copies of any of them first.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from briefing.errors import DeliveryError
from briefing.render.html import render_html
from briefing.render.json import render_json
from briefing.render.markdown import render_markdown
from briefing.render.pdf import render_pdf

__all__ = ["render_html", "render_json", "render_markdown", "render_pdf", "write_atomic"]


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` so readers see the old file or the new one.

    Writes a temporary file in the same directory, fsyncs it and ``os.replace``s it over
    ``path``: a crash, a full disk or Ctrl-C never leaves a half-written brief. Missing
    parent directories are created. A new file
    gets the usual umask permissions; an existing file keeps its mode.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    directory = path.parent
    tmp = directory / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)  # `--out out/brief.md` on a fresh clone
        try:
            mode: int | None = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = None
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            if mode is not None:
                os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as e:
        raise DeliveryError(
            f"Could not write {path}: {e.strerror or e}. "
            "Check that the directory exists and is writable, and that the disk is not full."
        ) from e
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless to skip where unsupported."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
