"""Continuity: today's stories against earlier editions -- new, update or repeat, matched
on the same articles first, then on the same event told again (issue 16)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from editions_support import DATA, DAY1, DAY2, DAY3, SEED, run_day

from briefing.compose import make_story
from briefing.continuity import (
    CONTINUITY_THRESHOLD,
    _doc,
    apply_continuity,
    compare,
    new_points,
)
from briefing.editions import Edition, edition_of, edition_story
from briefing.models import Briefing, KeyPoint, Region, Section, Story
from briefing.stories import features, similarity

ALL = [SEED, DATA / "day1", DATA / "day2", DATA / "day3", DATA / "pairs"]


@pytest.fixture(scope="module")
def singles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Story]:
    """Every article of the test data as a one-source story, by its file stem (the four
    seed articles by the start of their headline), summarized and grounded by the run."""
    tmp = tmp_path_factory.mktemp("singles")
    run = run_day(tmp, DAY3, inputs=ALL, editions=False)
    out: dict[str, Story] = {}
    for summary in run.summaries:
        assert summary.content is not None
        key = Path(summary.source).stem if summary.source.endswith(".txt") else ""
        if key.startswith("000_"):
            key = summary.title[:20]
        out[key] = make_story([summary])
    return out


def _similarities(stories: dict[str, Story]) -> dict[tuple[str, str], float]:
    names = sorted(stories)
    docs = [_doc(edition_story(stories[n])) for n in names]
    feats = features(docs)
    return {
        (a, b): similarity(feats[i], feats[j])
        for i, a in enumerate(names)
        for j, b in enumerate(names)
        if i < j
    }


FOLLOW_UPS = [
    ("slovenia-floods", "slovenia-floods-toll-rises"),
    ("slovenia-floods-toll-rises", "slovenia-floods-cleanup"),
    ("slovenia-floods", "slovenia-floods-cleanup"),
    ("bangladesh-ferry", "bangladesh-ferry-inquiry"),
]


def test_threshold_separates_follow_ups_from_other_events(singles: dict[str, Story]) -> None:
    """The calibration the module docstring reports: follow-ups of one event score at
    least 0.2 with what they follow; other events, even in the same country with the
    same prime minister, at most 0.1."""
    sims = _similarities(singles)
    pairs = {tuple(sorted(p)) for p in FOLLOW_UPS}
    same = [sims[p] for p in pairs]  # type: ignore[index]
    other = [v for p, v in sims.items() if p not in pairs]
    assert min(same) >= 0.2 > CONTINUITY_THRESHOLD
    assert max(other) <= 0.1 < CONTINUITY_THRESHOLD
    tough = tuple(sorted(("slovenia-floods-cleanup", "slovenia-pension-reform")))
    assert sims[tough] < CONTINUITY_THRESHOLD  # one country, one PM, one parliament


def _edition(date: dt.date, *stories: Story) -> Edition:
    """An edition of ``stories`` whose articles' fingerprints are unknown."""
    return edition_of(_briefing_of(*stories, date=date), fingerprints={})


def test_a_follow_up_with_no_shared_article_continues_the_story(
    singles: dict[str, Story],
) -> None:
    """No fingerprint in common: matched on the event, and an update with its new facts."""
    before = _edition(DAY1, singles["slovenia-floods"], singles["bangladesh-ferry"])
    today = [singles["slovenia-floods-toll-rises"], singles["slovenia-pension-reform"]]
    verdicts = compare(today, [before])
    flood = verdicts[singles["slovenia-floods-toll-rises"].id]
    assert flood.status == "update" and flood.how == "text"
    assert flood.thread == singles["slovenia-floods"].id
    assert flood.previous_date == DAY1
    assert any("rose to 12" in p.text for p in flood.new_points)
    assert verdicts[singles["slovenia-pension-reform"].id].status == "new"


def test_the_same_article_again_is_a_repeat(singles: dict[str, Story]) -> None:
    story = singles["bangladesh-ferry"]
    fingerprints = {s.article_id: "hash-" + s.article_id for s in story.summaries}
    before = edition_of(_briefing_of(story, date=DAY1), fingerprints=fingerprints)
    verdict = compare([story], [before], fingerprints=fingerprints)[story.id]
    assert verdict.status == "repeat" and verdict.how == "fingerprint"
    assert verdict.new_points == []


def test_new_points_are_the_untold_facts() -> None:
    known = [
        "Flash floods killed at least seven people in Slovenia on Monday.",
        "About 4,000 people were evacuated from their homes overnight.",
    ]
    points = [
        KeyPoint(
            text="Floods killed at least seven people in Slovenia on Monday.", sentence_ids=[1]
        ),
        KeyPoint(text="The death toll from the floods in Slovenia rose to 12.", sentence_ids=[2]),
        KeyPoint(
            text="About 6,000 people were evacuated from their homes overnight.", sentence_ids=[3]
        ),
        KeyPoint(text="Austria and Croatia sent rescue teams with boats.", sentence_ids=[4]),
    ]
    fresh = [p.sentence_ids[0] for p in new_points(points, known)]
    assert fresh == [2, 3, 4]  # a retold fact is known; a changed number is news


def test_repeats_modes(tmp_path: Path) -> None:
    run_day(tmp_path, DAY1)
    listed = run_day(tmp_path, DAY2, repeats="list").briefing
    assert len(listed.developing) == 5
    assert all(s.continuity != "repeat" for sec in listed.sections for s in sec.stories)
    full = run_day(tmp_path, DAY2, repeats="full").briefing
    assert not full.developing
    assert sum(s.continuity == "repeat" for sec in full.sections for s in sec.stories) == 5
    omitted = run_day(tmp_path, DAY2, repeats="omit").briefing
    assert not omitted.developing and omitted.story_count == 2
    assert omitted.continuity is not None and omitted.continuity.repeats == 5
    assert "5 repeats left out" in omitted.continuity.line
    shown = {s.id for sec in omitted.sections for s in sec.stories}
    assert {s.id for s in omitted.top_stories} <= shown


def test_apply_continuity_refuses_an_unknown_mode(singles: dict[str, Story]) -> None:
    edition = _edition(DAY1, singles["bangladesh-ferry"])
    briefing = _briefing_of(singles["bangladesh-ferry"])
    with pytest.raises(ValueError, match="repeats"):
        apply_continuity(briefing, [edition], repeats="hide")  # type: ignore[arg-type]


def _briefing_of(*stories: Story, date: dt.date = DAY2) -> Briefing:
    return Briefing(
        date=date,
        generated_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        provider="fake",
        model="fake",
        prompt_version="1",
        sections=[Section(region=Region.EUROPE, stories=list(stories))],
    )
