"""Opening the project's SQLite files (the cache, the edition store, the batch store):
one connection shared by threads, WAL so readers never block the writer and two runs can
share a file, autocommit, the schema created if missing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from briefing.errors import ConfigError


def open_store(path: Path, schema: str, *, what: str, advice: str = "") -> sqlite3.Connection:
    """A connection to ``path`` (its directory made) with ``schema`` applied; a
    ``ConfigError`` naming ``what`` and ``advice`` when it cannot be opened."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
    except (OSError, sqlite3.Error) as e:
        raise ConfigError(f"Cannot open the {what} at {path}: {e}.{advice}") from e
    return db
