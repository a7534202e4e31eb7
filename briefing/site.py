"""The archive site: static HTML pages and an Atom feed over a profile's stored editions.

:func:`build_site` writes, into one directory::

    index.html                 every edition, newest first, with its continuity counts,
                               and the developing stories
    editions/YYYY-MM-DD.html   each edition: the brief as delivered, rendered by
                               ``briefing.render.render_html`` (the mailed HTML), with a
                               small archive bar added after ``<body>``
    stories/THREAD.html        a developing story (a ``Story.thread`` told in two or more
                               editions), followed edition by edition
    feed.xml                   an Atom feed, one entry per edition (``feedgen``)
    .briefing-site.json        the manifest: the files this site wrote

Every link between pages is relative and no page needs JavaScript, so the directory
works from ``file://`` and from any static host. Feeds need absolute links: with
``base_url`` the feed's links are absolute; without it they are relative (resolved by
readers against the feed's own URL, RFC 4287 section 4.2.7). Entry ids are ``tag:``
URIs of the profile and date, so they stay the same wherever the site is published.

Rewriting is idempotent: a file whose content did not change is not touched. Files the
previous run wrote (the manifest) that this run did not, such as the page of an edition
no longer stored, are removed; nothing else in the directory ever is, and a file this
site did not write is never overwritten (:class:`briefing.errors.InputError`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from briefing.editions import DEFAULT_PROFILE, Edition, EditionStore, EditionStory
from briefing.errors import InputError
from briefing.models import Briefing
from briefing.render import render_html, write_atomic
from briefing.render._env import clean, day_label, long_date, published_label, render_template

__all__ = ["MANIFEST", "SiteReport", "build_site", "feed_xml", "thread_filename"]

MANIFEST = ".briefing-site.json"
_STATUS = {"new": "New", "update": "Update", "repeat": "Still developing"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class SiteReport:
    """What :func:`build_site` did."""

    out_dir: Path
    editions: int = 0
    stories: int = 0
    #: files whose content changed (or are new), relative to ``out_dir``
    written: list[str] = field(default_factory=list)
    #: files of an earlier run no longer part of the site, removed
    removed: list[str] = field(default_factory=list)
    #: every file of the site (the manifest's list)
    files: list[str] = field(default_factory=list)


@dataclass
class _Stored:
    edition: Edition
    briefing: Briefing
    anchors: dict[str, str]  #: story id -> fragment in the edition page

    @property
    def href(self) -> str:
        return f"editions/{self.edition.date.isoformat()}.html"


def thread_filename(thread: str) -> str:
    """A file name for a story thread (its ids are ``s`` + hex; anything else is made safe)."""
    safe = _UNSAFE.sub("-", thread).strip("-")[:60]
    if safe == thread and safe:
        return f"{safe}.html"
    import hashlib

    return f"{safe or 'story'}-{hashlib.sha256(thread.encode()).hexdigest()[:8]}.html"


def _anchors(briefing: Briefing) -> dict[str, str]:
    """Story id -> its anchor in the rendered brief (``story-N``, numbered as
    ``briefing.render`` numbers them; listed repeats -> the "Still developing" list)."""
    out: dict[str, str] = {}
    number = 0
    for section in briefing.sections:
        for story in section.stories:
            if any(s.content is not None for s in story.summaries):
                number += 1
                out.setdefault(story.id, f"story-{number}")
    for story in briefing.developing:
        out.setdefault(story.id, "still-developing")
    return out


def _load(store: EditionStore, profile: str) -> list[_Stored]:
    """The profile's editions with a readable brief, newest first."""
    stored: list[_Stored] = []
    for row in store.rows(profile):
        edition = store.get(row.date, profile)
        briefing = store.briefing(row.date, profile)
        if edition is None or briefing is None:
            continue  # an older format or an unreadable row: not part of the site
        stored.append(_Stored(edition, briefing, _anchors(briefing)))
    return stored


# --------------------------------------------------------------------------- threads


@dataclass
class _Telling:
    stored: _Stored
    story: EditionStory


def _threads(editions: Sequence[_Stored]) -> dict[str, list[_Telling]]:
    """Thread id -> its tellings, oldest edition first, for threads told in two or more
    editions (a story told once has its edition page and needs no page of its own)."""
    threads: dict[str, list[_Telling]] = {}
    for stored in sorted(editions, key=lambda s: s.edition.date):
        seen: set[str] = set()
        for story in sorted(stored.edition.stories, key=lambda s: (not s.shown, -s.importance)):
            if story.thread_id in seen:
                continue
            seen.add(story.thread_id)
            threads.setdefault(story.thread_id, []).append(_Telling(stored, story))
    return {t: tellings for t, tellings in threads.items() if len(tellings) >= 2}


def _status_label(story: EditionStory) -> str:
    if not story.shown:
        return "Told again with nothing new (left out of the brief)"
    if story.continuity is None:
        return "In the brief"
    return _STATUS[story.continuity]


def _thread_view(thread: str, tellings: Sequence[_Telling], prefix: str) -> dict[str, Any]:
    latest = next((t for t in reversed(tellings) if t.story.continuity != "repeat"), tellings[-1])
    views = []
    told: str = ""  # the date label of the last telling shown in full
    shown: set[str] = set()  # key points an earlier telling on the page already gave
    for t in tellings:
        story, stored = t.story, t.stored
        # a repeat whose headline an earlier telling on this page already showed: one line
        retold = told if story.continuity == "repeat" and told else ""
        if not retold:
            told = day_label(stored.edition.date)
        anchor = stored.anchors.get(story.id) if story.shown else None
        new = {clean(p.text) for p in story.new_points}
        views.append(
            {
                "date_iso": stored.edition.date.isoformat(),
                "date_long": long_date(stored.edition.date),
                "href": prefix + stored.href + (f"#{anchor}" if anchor else ""),
                "status": story.continuity or "",
                "retold": retold,
                "status_label": _status_label(story),
                "headline": clean(story.headline),
                "summary": clean(story.summary),
                "new_points": [p for p in (clean(k.text) for k in story.new_points) if p],
                "key_points": [
                    p
                    for p in (clean(k.text) for k in story.key_points)
                    if p and p not in new and p not in shown
                ],
                "sources": [
                    {
                        "outlet": clean(s.outlet) or "Unknown outlet",
                        "url": _safe_url(s.url),
                        "published": published_label(s.published, stored.edition.date),
                    }
                    for s in story.sources
                ],
            }
        )
        shown |= {clean(k.text) for k in story.key_points}
    changed = [t.stored.edition.date for t in tellings if t.story.continuity != "repeat"]
    return {
        "id": thread,
        "changed": max(changed) if changed else tellings[0].stored.edition.date,
        "href": f"stories/{thread_filename(thread)}",
        "headline": clean(latest.story.headline),
        "region": str(latest.story.region.value),
        "first": day_label(tellings[0].stored.edition.date),
        "last": day_label(tellings[-1].stored.edition.date),
        "last_date": tellings[-1].stored.edition.date,
        "tellings": views,
    }


def _safe_url(url: str | None) -> str | None:
    from briefing.render._env import safe_url

    return safe_url(url)


# --------------------------------------------------------------------------- pages


def _counts(stored: _Stored) -> str:
    report = stored.edition.continuity
    n = len(stored.edition.shown)
    stories = f"{n} {'story' if n == 1 else 'stories'}"
    return f"{stories} · {report.line}" if report is not None else stories


def _headlines(stored: _Stored) -> list[dict[str, str]]:
    shown = [s for s in stored.edition.shown if s.continuity != "repeat"]
    shown.sort(key=lambda s: -s.importance)
    return [
        {
            "mark": {"new": "New", "update": "Update"}.get(s.continuity or "", ""),
            "headline": clean(s.headline),
            "href": stored.href + (f"#{stored.anchors[s.id]}" if s.id in stored.anchors else ""),
        }
        for s in shown[:8]
    ]


def _edition_page(
    stored: _Stored,
    newer: _Stored | None,
    older: _Stored | None,
    follow: Sequence[dict[str, Any]],
) -> str:
    """The mailed HTML of the edition, with the archive bar after ``<body>``."""
    html = render_html(stored.briefing)
    links = ['<a href="../index.html">All editions</a>']
    if older is not None:
        label = day_label(older.edition.date)
        links.append(f'<a href="{older.edition.date.isoformat()}.html" rel="prev">← {label}</a>')
    if newer is not None:
        label = day_label(newer.edition.date)
        links.append(f'<a href="{newer.edition.date.isoformat()}.html" rel="next">{label} →</a>')
    bar = " · ".join(links)
    if follow:
        from html import escape

        items = ", ".join(
            f'<a href="../{escape(t["href"])}">{escape(t["headline"])}</a>' for t in follow
        )
        bar += f'<span class="follow">Follow across editions: {items}</span>'
    nav = f'<nav class="site-nav" aria-label="Archive">{bar}</nav>\n'
    css = render_template("site.css", {})
    html = html.replace("</style>\n</head>", f"{css}</style>\n</head>", 1)
    head, sep, body = html.partition("<body>\n")
    if not sep:  # a user's own template without that line: put the bar first anyway
        head, sep, body = html.partition("<body>")
    return head + sep + nav + body if sep else html


def _index_page(title: str, profile: str, editions: Sequence[_Stored], threads: list[Any]) -> str:
    views = [
        {
            "href": s.href,
            "date_long": long_date(s.edition.date),
            "counts": _counts(s),
            "headlines": _headlines(s),
        }
        for s in editions
    ]
    return render_template(
        "site_index.html.j2",
        {"title": title, "profile": profile, "editions": views, "threads": threads},
    )


# --------------------------------------------------------------------------- feed


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _entry_html(stored: _Stored, link: str) -> str:
    from html import escape

    parts = [f"<p>{escape(_counts(stored))}</p>", "<ul>"]
    stories = sorted(stored.edition.shown, key=lambda s: (s.continuity == "repeat", -s.importance))
    for s in stories:
        mark = _STATUS.get(s.continuity or "", "")
        anchor = stored.anchors.get(s.id)
        href = escape(link + (f"#{anchor}" if anchor else ""))
        lede = escape(clean(s.summary)) if s.continuity != "repeat" else ""
        parts.append(
            f"<li>{f'<strong>{mark}</strong> · ' if mark else ''}"
            f'<a href="{href}">{escape(clean(s.headline))}</a>'
            f"{f'<br>{lede}' if lede else ''}</li>"
        )
    parts.append("</ul>")
    return "".join(parts)


def feed_xml(
    editions: Sequence[_Stored],
    *,
    title: str,
    profile: str,
    base_url: str | None = None,
) -> bytes:
    """The Atom feed of ``editions`` (newest first): one entry per edition."""
    from feedgen.feed import FeedGenerator

    base = base_url.rstrip("/") + "/" if base_url else ""
    fg = FeedGenerator()
    fg.id(_tag(profile, None))
    fg.title(title)
    fg.author({"name": title})
    fg.link(href=f"{base}index.html", rel="alternate", type="text/html")
    fg.link(href=f"{base}feed.xml", rel="self", type="application/atom+xml")
    fg.generator("briefing")
    fg.language("en")
    when = [_aware(s.edition.generated_at) for s in editions]
    fg.updated(max(when) if when else dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    # feedgen lists entries in reverse order of adding: add oldest first, newest ends first
    for stored in reversed(editions):
        link = f"{base}{stored.href}"
        entry = fg.add_entry()
        entry.id(_tag(profile, stored.edition.date))
        entry.title(f"{clean(stored.edition.title) or title} — {long_date(stored.edition.date)}")
        entry.link(href=link, rel="alternate", type="text/html")
        entry.updated(_aware(stored.edition.generated_at))
        entry.published(_aware(stored.edition.generated_at))
        entry.summary(_counts(stored))
        entry.content(_entry_html(stored, link), type="html")
    data: bytes = fg.atom_str(pretty=True)
    return data


def _tag(profile: str, date: dt.date | None) -> str:
    """``tag:briefing,2026:PROFILE`` / ``tag:briefing,2026:PROFILE/2026-12-01``: stable ids."""
    safe = re.sub(r"[^A-Za-z0-9._~-]+", "-", profile) or DEFAULT_PROFILE
    return f"tag:briefing,2026:{safe}" + (f"/{date.isoformat()}" if date else "")


# --------------------------------------------------------------------------- writing


def _read_manifest(out_dir: Path) -> list[str]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text("utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as e:
        raise InputError(
            f"{out_dir / MANIFEST} is unreadable ({e}); it lists the files `briefing site` "
            "wrote there. Remove it only if the directory holds nothing else of yours."
        ) from e
    files = data.get("files") if isinstance(data, dict) else None
    return [f for f in files or [] if isinstance(f, str) and _inside(f)]


def _inside(relative: str) -> bool:
    """A plain relative path with no ``..`` (a manifest entry is never trusted further)."""
    path = PurePosixPath(relative)
    return bool(relative) and not path.is_absolute() and ".." not in path.parts


def _remove_stale(out_dir: Path, stale: Iterable[str]) -> list[str]:
    removed: list[str] = []
    root = out_dir.resolve()
    for relative in sorted(stale):
        path = out_dir / relative
        if path.is_symlink() or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            continue
        path.unlink()
        removed.append(relative)
        parent = path.parent
        while parent != out_dir and parent.resolve().is_relative_to(root):
            try:
                parent.rmdir()  # only when empty
            except OSError:
                break
            parent = parent.parent
    return removed


def build_site(
    store: EditionStore,
    out_dir: str | Path,
    *,
    profile: str = DEFAULT_PROFILE,
    base_url: str | None = None,
    title: str | None = None,
) -> SiteReport:
    """Write the archive site of ``profile``'s editions in ``store`` into ``out_dir``
    (see the module docstring). An ``InputError`` says why it could not."""
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is not a directory: give `briefing site` a directory.")
    editions = _load(store, profile)
    site_title = title or (clean(editions[0].edition.title) if editions else "") or "Morning brief"
    threads = _threads(editions)
    views = sorted(
        (_thread_view(t, tellings, "../") for t, tellings in threads.items()),
        key=lambda v: (v["last_date"], v["changed"], len(v["tellings"])),
        reverse=True,
    )
    by_thread = {v["id"]: v for v in views}

    pages: dict[str, bytes] = {}
    for i, stored in enumerate(editions):
        newer = editions[i - 1] if i > 0 else None
        older = editions[i + 1] if i + 1 < len(editions) else None
        # the stories this edition told something of (new or updated) that have a page
        follow = [
            by_thread[t]
            for t in dict.fromkeys(
                s.thread_id for s in stored.edition.shown if s.continuity != "repeat"
            )
            if t in by_thread
        ]
        pages[stored.href] = _edition_page(stored, newer, older, follow).encode()
    for view in views:
        page = render_template("site_story.html.j2", {"title": site_title, "thread": view})
        pages[view["href"]] = page.encode()
    pages["index.html"] = _index_page(site_title, profile, editions, views).encode()
    pages["feed.xml"] = feed_xml(editions, title=site_title, profile=profile, base_url=base_url)

    previous = set(_read_manifest(out))
    foreign = [name for name in pages if name not in previous and (out / name).exists()]
    if foreign:
        raise InputError(
            f"{out / foreign[0]} exists and was not written by `briefing site`; give an "
            "empty directory (or one `briefing site` wrote) so nothing of yours is replaced."
        )
    report = SiteReport(out_dir=out, editions=len(editions), stories=len(views))
    for name, data in pages.items():
        path = out / name
        try:
            unchanged = path.read_bytes() == data
        except OSError:
            unchanged = False
        if not unchanged:
            write_atomic(path, data)
            report.written.append(name)
    report.removed = _remove_stale(out, previous - set(pages))
    report.files = sorted(pages)
    manifest = (
        json.dumps(
            {"generator": "briefing site", "profile": profile, "files": report.files}, indent=1
        )
        + "\n"
    )
    try:
        unchanged = (out / MANIFEST).read_text("utf-8") == manifest
    except OSError:
        unchanged = False
    if not unchanged:
        write_atomic(out / MANIFEST, manifest)
    return report
