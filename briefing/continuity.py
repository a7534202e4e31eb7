"""Continuity: today's stories against the recent editions of the same profile.

Each story of today's brief is matched to the stories of the profile's editions of the
last :data:`WINDOW_DAYS` days *before* the brief's date (a backfill for an earlier day
sees only editions before that day; a rerun of a day never sees itself):

1. **The same article again is the same story**: a story sharing an article content
   fingerprint with an earlier one continues it (the most shared, then the newest).
2. Otherwise, **the same event told again**: the similarity ``briefing.stories`` groups a
   day's articles with (TF-IDF cosine of the verified headline, summary and key points
   with country names left out; Jaccard of the people and organizations; countries as
   a gate), between today's story and each earlier one, the IDF taken over both. The
   best earlier story at or above :data:`CONTINUITY_THRESHOLD` is continued.

A continued story joins that story's **thread** (the id it had in the first edition
that had it). Against everything the thread's earlier tellings said (their key points
and summaries, their articles):

* **repeat**: no article it rests on is new, or its new articles add no verified key
  point (the same facts retold by another outlet are not news);
* **update**: a new article with verified key points no earlier telling had
  (``new_points``; the brief leads with them). A key point is *known* when at least
  :data:`POINT_COVERAGE` of its content words (stems, plus its numbers) occur in one
  earlier key point or summary and every number it gives occurs there too ("12 dead"
  after "7 dead" is new);
* **new**: no earlier story matched.

A story whose thread appears in two or more earlier editions gets a **timeline**: each
edition's date and headline, with the latest publication time its sources gave (none
when no source gave one: never a time made up).

Calibration of ``CONTINUITY_THRESHOLD = 0.15`` (``tests/test_continuity.py`` over the
realistic wire-style articles of ``tests/data/editions`` and the seed articles, each
summarized by the pipeline with a faithful fake model and grounded): next-day
follow-ups of the same event with new facts and partly new words score 0.22 to 0.55
with the telling they follow (floods in Slovenia day 1 -> 2 -> 3; a ferry accident ->
the owner's arrest); different events in the same country, sharing its places and its
prime minister, score at most 0.08 (Slovenia's floods vs its pension reform; the ferry
vs a garment strike in Dhaka); the seed articles (two different Iraq stories among
them) at most 0.06 with each other. 0.15 sits between. Follow-ups share fewer words
than same-day rewrites, hence a lower bar than ``STORY_THRESHOLD`` (0.3); the country
gate keeps events in different places apart. Not yet measured: summaries that name
people and organizations (the fake model names none; a shared prime minister would
lift a same-country pair by up to 0.3 x their Jaccard index) -- re-check on a real
model's summaries.

On real articles (``bench/continuity.py``: the 81 pages of the extraction dev corpus,
summarised extractively, every pair scored): the four same-event pairs among them (one
tour, one medical case, one plague outbreak followed up, one ad campaign, each told by
two outlets) score 0.36 to 0.58, all matched; of the 3,218 different-event pairs, 16
reach 0.15 -- one subject, not one event: Apple deal round-ups, two retail-sales
reports, one site's two posts on one play -- and 6 reach 0.3. Such a pair marks a new
story an **update** of the other (its points are new, so it is never left out as a
repeat). Weighting words by general-language frequency (wordfreq) or requiring a shared
name did not separate them better (14 and 12 false pairs at 0.15 and 0.3), so the
threshold stays where the follow-ups need it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from briefing.compose import DEFAULT_TOP, rank_key, top_count
from briefing.editions import Edition, EditionStory, edition_story
from briefing.extractive import content_words
from briefing.models import (
    Briefing,
    ContinuityReport,
    ContinuityStatus,
    KeyPoint,
    RepeatsMode,
    Story,
    TimelineEntry,
)
from briefing.stories import country_keys, features, name_keys, similarity

__all__ = [
    "CONTINUITY_THRESHOLD",
    "POINT_COVERAGE",
    "REPEATS_MODES",
    "WINDOW_DAYS",
    "Verdict",
    "apply_continuity",
    "compare",
    "new_points",
]

#: Minimum similarity for a story to continue an earlier one (see the module docstring).
CONTINUITY_THRESHOLD = 0.15
#: Share of a key point's words an earlier telling must hold for the point to be known.
POINT_COVERAGE = 0.7
#: How many days of earlier editions a brief is compared with.
WINDOW_DAYS = 7
REPEATS_MODES: tuple[RepeatsMode, ...] = ("omit", "list", "full")

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class Verdict:
    """How one of today's stories stands against the earlier editions."""

    status: ContinuityStatus
    thread: str
    previous_date: dt.date | None = None
    new_points: list[KeyPoint] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    #: the earlier story it was matched to and how ("fingerprint" or "text"), with the score
    matched: str | None = None
    how: str | None = None
    score: float = 0.0


def _doc(story: EditionStory) -> tuple[str, frozenset[str], frozenset[str]]:
    points = " ".join(k.text for k in story.key_points)
    text = f"{story.headline}\n{story.summary}\n{points}"
    return text, name_keys(story.names), country_keys(story.countries)


def compare(
    stories: Sequence[Story],
    earlier: Sequence[Edition],
    *,
    fingerprints: Mapping[str, str] | None = None,
    threshold: float = CONTINUITY_THRESHOLD,
) -> dict[str, Verdict]:
    """A verdict per story id of ``stories`` against the ``earlier`` editions
    (``fingerprints``: article id -> content hash of today's articles)."""
    today = [edition_story(s, fingerprints) for s in stories]
    before = [(e.date, s) for e in earlier for s in e.stories]
    feats = features([_doc(s) for s in today] + [_doc(s) for _, s in before])
    mine, theirs = feats[: len(today)], feats[len(today) :]
    verdicts: dict[str, Verdict] = {}
    for story, f in zip(today, mine, strict=True):
        # the best score wins; on a tie the newer edition, then the earlier-listed story
        best: tuple[float, dt.date, int] | None = None
        best_j, how = -1, ""
        for j, (date, old) in enumerate(before):
            shared = story.fingerprints & old.fingerprints
            if shared:
                score, kind = 1.0 + len(shared) / len(story.fingerprints), "fingerprint"
            else:
                score, kind = similarity(f, theirs[j]), "text"
                if score < threshold:
                    continue
            key = (round(score, 6), date, -j)
            if best is None or key > best:
                best, best_j, how = key, j, kind
        if best is None:
            verdicts[story.id] = Verdict("new", thread=story.id)
            continue
        verdicts[story.id] = _verdict(story, before[best_j][1], before, how, best[0])
    return verdicts


def _verdict(
    story: EditionStory,
    matched: EditionStory,
    before: Sequence[tuple[dt.date, EditionStory]],
    how: str,
    score: float,
) -> Verdict:
    thread = matched.thread_id
    members = [(d, s) for d, s in before if s.thread_id == thread or s is matched]
    known_fps = frozenset().union(*(s.fingerprints for _, s in members))
    known = [k.text for _, s in members for k in s.key_points] + [s.summary for _, s in members]
    fresh = new_points(story.key_points, known)
    new_articles = not story.fingerprints or bool(story.fingerprints - known_fps)
    status: ContinuityStatus = "update" if new_articles and fresh else "repeat"
    dates = sorted({d for d, _ in members})
    timeline: list[TimelineEntry] = []
    if len(dates) >= 2:
        for date in dates:
            told = max((s for d, s in members if d == date), key=lambda s: s.importance)
            timeline.append(
                TimelineEntry(date=date, headline=told.headline, published=told.published)
            )
    return Verdict(
        status,
        thread=thread,
        previous_date=dates[-1],
        new_points=fresh if status == "update" else [],
        timeline=timeline,
        matched=matched.id,
        how=how,
        score=score,
    )


def _terms(text: str) -> tuple[set[str], set[str]]:
    numbers = {n.replace(",", "") for n in _NUMBER.findall(text)}
    return set(content_words(text)) | numbers, numbers


def new_points(points: Sequence[KeyPoint], known: Sequence[str]) -> list[KeyPoint]:
    """The key points of ``points`` no text of ``known`` already told (see the module
    docstring for when a point counts as told)."""
    told = [_terms(text) for text in known]
    fresh: list[KeyPoint] = []
    for point in points:
        words, numbers = _terms(point.text)
        if not words:
            continue
        if not any(
            len(words & k_words) >= POINT_COVERAGE * len(words) and numbers <= k_numbers
            for k_words, k_numbers in told
        ):
            fresh.append(point)
    return fresh


def _lead_with_news(story: Story) -> None:
    """An update's lead (the summary and headline the brief shows) becomes the first
    source that tells one of its new points."""
    fresh = {p.text for p in story.new_points}
    for i, summary in enumerate(story.summaries):
        content = summary.content
        if content is not None and any(k.text in fresh for k in content.key_points):
            if i:
                story.summaries = [summary, *story.summaries[:i], *story.summaries[i + 1 :]]
                story.headline = content.headline
            return


def apply_continuity(
    briefing: Briefing,
    earlier: Sequence[Edition],
    *,
    fingerprints: Mapping[str, str] | None = None,
    repeats: RepeatsMode = "list",
    threshold: float = CONTINUITY_THRESHOLD,
    top: int = DEFAULT_TOP,
) -> list[Story]:
    """Mark ``briefing``'s stories new, update or repeat against ``earlier`` (in place)
    and handle the repeats as ``repeats`` says: ``omit`` takes them out (returned, so
    the edition still records them), ``list`` moves them to ``briefing.developing``,
    ``full`` keeps them where they are. Sections left empty go; top stories are chosen
    again among what is left. Sets ``briefing.continuity``."""
    if repeats not in REPEATS_MODES:
        raise ValueError(f"repeats must be one of {', '.join(REPEATS_MODES)}, not {repeats!r}")
    stories = [s for section in briefing.sections for s in section.stories]
    verdicts = compare(stories, earlier, fingerprints=fingerprints, threshold=threshold)
    for story in stories:
        verdict = verdicts[story.id]
        story.continuity = verdict.status
        story.thread = verdict.thread
        story.previous_date = verdict.previous_date
        story.new_points = verdict.new_points
        story.timeline = verdict.timeline
        if verdict.status == "update":
            _lead_with_news(story)
    taken: list[Story] = []
    if repeats != "full":
        for section in briefing.sections:
            taken += [s for s in section.stories if s.continuity == "repeat"]
            section.stories = [s for s in section.stories if s.continuity != "repeat"]
        briefing.sections = [s for s in briefing.sections if s.stories]
        shown = sorted((s for sec in briefing.sections for s in sec.stories), key=rank_key)
        kept = {s.id for s in shown}
        if any(s.id not in kept for s in briefing.top_stories):
            briefing.top_stories = shown[: top_count(len(shown), top)]
    if repeats == "list":
        briefing.developing = sorted(taken, key=rank_key)
    briefing.continuity = ContinuityReport(
        new=sum(v.status == "new" for v in verdicts.values()),
        updates=sum(v.status == "update" for v in verdicts.values()),
        repeats=sum(v.status == "repeat" for v in verdicts.values()),
        repeats_mode=repeats,
        compared=[e.date for e in earlier],
    )
    return taken if repeats == "omit" else []
