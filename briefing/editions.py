"""The edition store: every brief built is kept as an edition, one per profile and date.

An :class:`Edition` records what a brief told its readers on a day: its profile (or
``"default"``), date, generation time, title and, per story, the id, headline, region,
importance, the verified summary and key points, the people, organizations and
countries it names, its sources (outlet, URL, and the publication time only when the
source gave one) and the content fingerprints of its articles
(:attr:`briefing.models.Article.content_hash`). ``briefing.continuity`` compares
today's stories with these; the brief as delivered is kept beside them (for
``briefing editions show`` and the archive).

The store is one SQLite file, ``editions.sqlite3`` beside the run cache (``--cache-dir``,
else ``$XDG_CACHE_HOME/briefing``) or a path given. It runs in WAL mode with a busy
timeout, and an edition is written by one ``INSERT OR REPLACE`` keyed on (profile,
date): two runs touching the store at once never corrupt it, and rebuilding a day
replaces that day's edition instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from briefing.errors import ConfigError
from briefing.models import (
    Briefing,
    ContinuityReport,
    ContinuityStatus,
    KeyPoint,
    Region,
    Story,
)
from briefing.store import open_store

__all__ = [
    "DEFAULT_PROFILE",
    "EDITIONS_FILE",
    "Edition",
    "EditionRow",
    "EditionSource",
    "EditionStore",
    "EditionStory",
    "default_editions_path",
    "edition_of",
    "edition_story",
]

EDITIONS_FILE = "editions.sqlite3"
#: The profile name of briefs built without ``--profile``.
DEFAULT_PROFILE = "default"
#: Bump when the stored format changes (older rows are then skipped, not misread).
FORMAT = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS editions (
    profile TEXT NOT NULL,
    date TEXT NOT NULL,
    generated_at TEXT NOT NULL,
    title TEXT NOT NULL,
    format INTEGER NOT NULL,
    stories INTEGER NOT NULL,
    new INTEGER,
    updates INTEGER,
    repeats INTEGER,
    edition TEXT NOT NULL,
    briefing TEXT NOT NULL,
    PRIMARY KEY (profile, date)
)
"""


class EditionSource(BaseModel):
    """One article a stored story rests on."""

    article_id: str
    outlet: str | None = None
    url: str | None = None
    #: as the source gave it (``None`` when it gave none)
    published: dt.datetime | None = None
    #: the article's content hash (``None`` when the run did not know the article)
    fingerprint: str | None = None


class EditionStory(BaseModel):
    """A story as an edition keeps it: what continuity compares and the archive shows."""

    id: str
    headline: str
    region: Region
    importance: int = 0
    #: the lead source's verified summary
    summary: str = ""
    #: every source's verified key points, the lead's first, each once
    key_points: list[KeyPoint] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    #: the people and organizations its sources name
    names: list[str] = Field(default_factory=list)
    sources: list[EditionSource] = Field(default_factory=list)
    continuity: ContinuityStatus | None = None
    previous_date: dt.date | None = None
    new_points: list[KeyPoint] = Field(default_factory=list)
    #: the id of the story in the first edition that had it
    thread: str | None = None
    #: False for a repeat left out of the brief (``--repeats omit``)
    shown: bool = True

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(s.fingerprint for s in self.sources if s.fingerprint)

    @property
    def thread_id(self) -> str:
        return self.thread or self.id

    @property
    def published(self) -> dt.datetime | None:
        """The latest publication time its sources gave (``None``: none gave one)."""
        times = [s.published for s in self.sources if s.published is not None]
        return max(times, key=_timestamp) if times else None


def _timestamp(when: dt.datetime) -> float:
    return when.timestamp() if when.tzinfo is not None else when.replace(tzinfo=dt.UTC).timestamp()


class Edition(BaseModel):
    """One day's brief of one profile."""

    profile: str = DEFAULT_PROFILE
    date: dt.date
    generated_at: dt.datetime
    title: str
    stories: list[EditionStory] = Field(default_factory=list)
    continuity: ContinuityReport | None = None

    @property
    def shown(self) -> list[EditionStory]:
        return [s for s in self.stories if s.shown]


@dataclass(frozen=True)
class EditionRow:
    """One line of ``briefing editions``."""

    profile: str
    date: dt.date
    generated_at: dt.datetime
    title: str
    stories: int
    new: int | None
    updates: int | None
    repeats: int | None


def edition_story(story: Story, fingerprints: Mapping[str, str] | None = None) -> EditionStory:
    """``story`` as an edition keeps it (``fingerprints``: article id -> content hash)."""
    fingerprints = fingerprints or {}
    sources = [s for s in story.summaries if s.content is not None]
    points: dict[str, KeyPoint] = {}
    names: dict[str, None] = {}
    for summary in sources:
        assert summary.content is not None
        for point in summary.content.key_points:
            points.setdefault(" ".join(point.text.split()).casefold(), point)
        for name in [*summary.content.people, *summary.content.organizations]:
            names.setdefault(name, None)
    lead = sources[0].content if sources else None
    return EditionStory(
        id=story.id,
        headline=story.headline,
        region=story.region,
        importance=story.importance,
        summary=lead.summary if lead else "",
        key_points=list(points.values()),
        countries=list(story.countries),
        names=list(names),
        sources=[
            EditionSource(
                article_id=s.article_id,
                outlet=s.outlet,
                url=s.url,
                published=s.published,
                fingerprint=fingerprints.get(s.article_id),
            )
            for s in story.summaries
        ],
        continuity=story.continuity,
        previous_date=story.previous_date,
        new_points=list(story.new_points),
        thread=story.thread,
    )


def edition_of(
    briefing: Briefing,
    *,
    profile: str | None = None,
    fingerprints: Mapping[str, str] | None = None,
    omitted: Sequence[Story] = (),
) -> Edition:
    """The edition of ``briefing``: every story it shows (sections, then "Still
    developing"), and the repeats left out of it (``omitted``, kept so tomorrow's
    continuity still knows them)."""
    stories = [edition_story(s, fingerprints) for sec in briefing.sections for s in sec.stories]
    stories += [edition_story(s, fingerprints) for s in briefing.developing]
    stories += [edition_story(s, fingerprints).model_copy(update={"shown": False}) for s in omitted]
    return Edition(
        profile=profile or DEFAULT_PROFILE,
        date=briefing.date,
        generated_at=briefing.generated_at,
        title=briefing.title,
        stories=stories,
        continuity=briefing.continuity,
    )


def default_editions_path(cache_dir: str | Path | None = None) -> Path:
    """``editions.sqlite3`` beside the run cache (``cache_dir``, else the default one)."""
    from briefing.cache import default_cache_dir

    directory = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    return directory / EDITIONS_FILE


class EditionStore:
    """Editions by (profile, date) in one SQLite file (safe to share between threads and
    between processes)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_editions_path()
        self._db = open_store(
            self.path,
            _SCHEMA,
            what="edition store",
            advice=" Pass --editions-db FILE, or --no-editions.",
        )
        self._lock = threading.Lock()

    # -- writing --------------------------------------------------------------------------
    def record(self, edition: Edition, briefing: Briefing) -> None:
        """Keep ``edition`` (and the brief as delivered), replacing the profile's edition
        of the same date. A ``ConfigError`` says why it could not be written."""
        counts = edition.continuity
        row = (
            edition.profile,
            edition.date.isoformat(),
            edition.generated_at.isoformat(),
            edition.title,
            FORMAT,
            len(edition.shown),
            counts.new if counts else None,
            counts.updates if counts else None,
            counts.repeats if counts else None,
            edition.model_dump_json(),
            briefing.model_dump_json(),
        )
        try:
            self._insert(row)
        except sqlite3.Error as e:
            raise ConfigError(f"Cannot write the edition store at {self.path}: {e}.") from e

    def _insert(self, row: tuple[object, ...]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO editions (profile, date, generated_at, title, "
                "format, stories, new, updates, repeats, edition, briefing) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    # -- reading --------------------------------------------------------------------------
    def get(self, date: dt.date, profile: str = DEFAULT_PROFILE) -> Edition | None:
        """The profile's edition of ``date``, or None."""
        row = self._one("edition", profile, date)
        return _edition(row)

    def briefing(self, date: dt.date, profile: str = DEFAULT_PROFILE) -> Briefing | None:
        """The brief as delivered on ``date``, or None."""
        row = self._one("briefing", profile, date)
        if row is None:
            return None
        try:
            return Briefing.model_validate_json(row)
        except ValidationError:
            return None

    def recent(
        self, before: dt.date, profile: str = DEFAULT_PROFILE, *, days: int = 7
    ) -> list[Edition]:
        """The profile's editions of the ``days`` days before ``before`` (not that day
        itself), newest first."""
        start = before - dt.timedelta(days=days)
        with self._lock:
            rows = self._db.execute(
                "SELECT edition FROM editions WHERE profile = ? AND format = ? "
                "AND date >= ? AND date < ? ORDER BY date DESC",
                (profile, FORMAT, start.isoformat(), before.isoformat()),
            ).fetchall()
        return [e for e in (_edition(r[0]) for r in rows) if e is not None]

    def rows(self, profile: str | None = None, *, limit: int | None = None) -> list[EditionRow]:
        """The editions kept (of ``profile``, or all), newest first."""
        query = (
            "SELECT profile, date, generated_at, title, stories, new, updates, repeats "
            "FROM editions"
        )
        args: list[object] = []
        if profile is not None:
            query += " WHERE profile = ?"
            args.append(profile)
        query += " ORDER BY date DESC, profile"
        if limit is not None:
            query += " LIMIT ?"
            args.append(limit)
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [
            EditionRow(
                profile=p,
                date=dt.date.fromisoformat(d),
                generated_at=dt.datetime.fromisoformat(g),
                title=t,
                stories=int(n),
                new=new,
                updates=updates,
                repeats=repeats,
            )
            for p, d, g, t, n, new, updates, repeats in rows
        ]

    def _one(self, column: str, profile: str, date: dt.date) -> str | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {column} FROM editions WHERE profile = ? AND date = ? AND format = ?",
                (profile, date.isoformat(), FORMAT),
            ).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> EditionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _edition(text: str | None) -> Edition | None:
    if text is None:
        return None
    try:
        return Edition.model_validate_json(text)
    except ValidationError:
        return None
