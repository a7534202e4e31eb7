"""The run cache: summaries already made, in SQLite, so rerunning a day costs nothing.

A summary is stored under a key made of everything that could change it: the article
as the model sees it (content hash, outlet, sentence split), provider, model, the
server or model file that ran it (``LLM.endpoint``: a llama.cpp server and OpenAI never
share an entry, even under the same model name), the
prompt templates (their versions *and* a hash of their text, so an edited prompt
invalidates what it produced), the summary schema version and the summarizer's
settings. Only summaries the model produced successfully are stored; failures are
retried on the next run.

The database runs in WAL mode and every write is its own transaction, so a run killed
half-way leaves a usable cache holding everything finished before it. The file lives
at ``$XDG_CACHE_HOME/briefing/cache.sqlite3`` (or ``--cache-dir``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefing.models import Article, ArticleSummary, Sentence
from briefing.prompts import TEMPLATES, Prompts
from briefing.store import open_store

CACHE_FILE = "cache.sqlite3"
#: Bump when the stored format or the key recipe changes (old entries are then ignored).
CACHE_FORMAT = "2"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS summaries (
    key TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    created REAL NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS texts (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created REAL NOT NULL,
    value TEXT NOT NULL
)
"""


def text_key(
    kind: str, *, provider: str, model: str, endpoint: str, messages: Sequence[Any]
) -> str:
    """The key of a model answer that depends only on the exact request (``messages``:
    ``briefing.llm.base.Message`` objects), the provider, the model and its endpoint."""
    material = {
        "format": CACHE_FORMAT,
        "kind": kind,
        "provider": provider,
        "model": model,
        "endpoint": endpoint,
        "messages": [[m.role, m.content] for m in messages],
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False).encode()
    return f"{kind}:{hashlib.sha256(blob).hexdigest()}"


@functools.cache
def code_fingerprint() -> str:
    """A hash of this package's source: work keyed on it (grounding) is done again
    whenever the code that does it changes, with no version number to forget."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def grounded_key(summary: ArticleSummary, article: Article, policy: str) -> str:
    """The key of ``summary`` grounded against ``article`` under ``policy``: the model's
    output, the source as grounding sees it, the policy and the code."""
    material = {
        "format": CACHE_FORMAT,
        "code": code_fingerprint(),
        "policy": policy,
        "status": summary.status,
        "error": summary.error,
        "content": summary.content.model_dump(mode="json") if summary.content else None,
        "article": article.content_hash,
        "title": article.title,
        "sentences": [[s.id, s.text] for s in article.sentences],
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False).encode()
    return "grounded:" + hashlib.sha256(blob).hexdigest()


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/briefing`` (``~/.cache/briefing`` when unset)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "briefing"


def prompt_fingerprint(prompts: Prompts, names: Sequence[str] = TEMPLATES) -> str:
    """The templates' declared versions plus a hash of their text."""
    env = prompts.env
    digest = hashlib.sha256()
    for name in names:
        source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        digest.update(f"{name}\0{source}\0".encode())
    return f"{prompts.combined_version(names)}#{digest.hexdigest()[:16]}"


def cache_key(
    article: Article,
    sentences: Sequence[Sentence],
    *,
    provider: str,
    model: str,
    endpoint: str,
    prompt_fingerprint: str,
    schema_version: str,
    settings: Mapping[str, Any] | None = None,
) -> str:
    """The key of one article's summary (a hex SHA-256 over every input that matters)."""
    parts = {
        "format": CACHE_FORMAT,
        "article": article.content_hash,
        "outlet": article.outlet,
        "sentences": hashlib.sha256(
            "\n".join(f"{s.id}\t{s.text}" for s in sentences).encode()
        ).hexdigest(),
        "provider": provider,
        "model": model,
        "endpoint": endpoint.rstrip("/"),
        "prompts": prompt_fingerprint,
        "schema": schema_version,
        "settings": dict(sorted((settings or {}).items())),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    """What the cache holds."""

    path: Path
    entries: int
    size_bytes: int
    #: entries per ``provider:model``
    by_model: dict[str, int]
    oldest: float | None = None
    newest: float | None = None


class SummaryCache:
    """Summaries by cache key in one SQLite file (safe to share between threads)."""

    def __init__(self, cache_dir: str | Path | None = None) -> None:
        directory = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        self.path = directory / CACHE_FILE
        self._db = open_store(
            self.path, _SCHEMA, what="cache", advice=" Pass --cache-dir DIR, or --no-cache."
        )
        self._lock = threading.Lock()

    def get(self, key: str) -> ArticleSummary | None:
        """The stored summary for ``key``, or None (an unreadable entry counts as none)."""
        with self._lock:
            row = self._db.execute("SELECT summary FROM summaries WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return ArticleSummary.model_validate_json(row[0])
        except ValueError:
            return None

    def __contains__(self, key: object) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM summaries WHERE key = ?", (key,)).fetchone()
        return row is not None

    def put(self, key: str, summary: ArticleSummary) -> None:
        """Store a successful summary (one transaction; failed summaries are skipped)."""
        if summary.content is None or summary.status == "failed":
            return
        prov = summary.provenance
        row = (
            key,
            summary.article_id,
            prov.provider,
            prov.model,
            prov.prompt_version,
            prov.schema_version,
            time.time(),
            summary.model_dump_json(exclude={"cached"}),
        )
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO summaries "
                "(key, article_id, provider, model, prompt_version, schema_version, created, "
                "summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def get_text(self, key: str) -> str | None:
        """A stored model answer other than a summary (e.g. a region's synthesis)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM texts WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put_text(self, key: str, kind: str, value: str) -> None:
        """Store ``value`` under ``key`` (one transaction); ``kind`` says what it is."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO texts (key, kind, created, value) VALUES (?, ?, ?, ?)",
                (key, kind, time.time(), value),
            )

    def get_grounded(self, key: str) -> ArticleSummary | None:
        """A grounded summary stored under ``key`` (``grounded_key``), or None."""
        text = self.get_text(key)
        if text is None:
            return None
        try:
            return ArticleSummary.model_validate_json(text)
        except ValueError:
            return None

    def put_grounded(self, key: str, summary: ArticleSummary) -> None:
        """Store a grounded summary (so an unchanged rerun skips grounding it)."""
        self.put_text(key, "grounded", summary.model_dump_json())

    def stats(self) -> CacheStats:
        """Entries, size on disk and entries per model."""
        with self._lock:
            entries, oldest, newest = self._db.execute(
                "SELECT COUNT(*), MIN(created), MAX(created) FROM summaries"
            ).fetchone()
            rows = self._db.execute(
                "SELECT provider || ':' || model, COUNT(*) FROM summaries "
                "GROUP BY provider, model ORDER BY 2 DESC"
            ).fetchall()
        size = sum(
            p.stat().st_size
            for p in (self.path, self.path.with_name(CACHE_FILE + "-wal"))
            if p.exists()
        )
        return CacheStats(
            path=self.path,
            entries=int(entries),
            size_bytes=size,
            by_model={str(name): int(n) for name, n in rows},
            oldest=oldest,
            newest=newest,
        )

    def clear(self) -> int:
        """Delete every entry; how many there were."""
        with self._lock:
            count = int(self._db.execute("SELECT COUNT(*) FROM summaries").fetchone()[0])
            count += int(self._db.execute("SELECT COUNT(*) FROM texts").fetchone()[0])
            self._db.execute("DELETE FROM summaries")
            self._db.execute("DELETE FROM texts")
            self._db.execute("VACUUM")
        return count

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SummaryCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
