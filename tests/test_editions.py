"""Editions: every brief is kept, and the next day's brief knows what it already told
(issue 16, first slice: the store, continuity, the commands)."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from editions_support import DAY1, DAY2, DAY3, INPUTS, fake_llm, request_for, run_day

import briefing.llm
from briefing.cli import cli
from briefing.editions import EditionStore
from briefing.models import Briefing, Story
from briefing.render import render_html, render_markdown
from briefing.runner import Runner


def stories(brief: Briefing) -> list[Story]:
    return [s for section in brief.sections for s in section.stories]


def by_status(brief: Briefing, status: str) -> list[Story]:
    return [s for s in [*stories(brief), *brief.developing] if s.continuity == status]


def test_day_two_knows_what_day_one_told(tmp_path: Path) -> None:
    """The "done when": repeats listed, the story with new facts an Update leading with
    them, the rest New, and the header counts."""
    day1 = run_day(tmp_path, DAY1).briefing
    assert day1.continuity is not None and day1.continuity.line.startswith("6 new, 0 updates")
    assert {s.continuity for s in stories(day1)} == {"new"}

    day2 = run_day(tmp_path, DAY2).briefing
    assert day2.continuity is not None
    assert (day2.continuity.new, day2.continuity.updates, day2.continuity.repeats) == (1, 1, 5)
    assert day2.continuity.compared == [DAY1]
    [update] = by_status(day2, "update")
    assert update.headline == "Slovenia flood death toll rises to 12 as EU promises aid"
    assert update.previous_date == DAY1 and update.n_sources == 2
    assert any("rose to 12" in p.text for p in update.new_points)
    assert not any("killed at least seven" in p.text for p in update.new_points)
    [new] = by_status(day2, "new")
    assert "Chile" in new.headline
    # the repeats are listed, one line each, not in the sections (nor the top stories)
    assert len(day2.developing) == 5
    assert {s.continuity for s in day2.developing} == {"repeat"}
    assert all(s.continuity != "repeat" for s in [*stories(day2), *day2.top_stories])

    markdown = render_markdown(day2)
    assert "1 new, 1 update, 5 still developing" in markdown.splitlines()[2]
    update_at = markdown.index("### Slovenia flood death toll rises")
    lead = markdown[update_at:]
    assert (
        lead.index("**Update** — new since the edition of Mon 30 Nov")
        < lead.index("rose to 12")
        < lead.index("The European Commission")
    )
    assert "## Still developing" in markdown
    assert "- **Ferry capsizes on Meghna river" in markdown
    assert markdown.count("Ferry capsizes on Meghna river") == 1  # one line, no full story
    html = render_html(day2)
    assert "Still developing" in html and "continuity-update" in html


def test_a_third_day_gives_a_timeline_with_the_sources_own_times(tmp_path: Path) -> None:
    for day in (DAY1, DAY2):
        run_day(tmp_path, day)
    day3 = run_day(tmp_path, DAY3).briefing
    [update] = by_status(day3, "update")
    assert update.previous_date == DAY2
    assert [(t.date, t.headline[:30]) for t in update.timeline] == [
        (DAY1, "Floods kill seven in Slovenia "),
        (DAY2, "Slovenia flood death toll rise"),
    ]
    # the times the sources gave ("Published 30 November 2026 18:05 GMT"), none invented
    assert [t.published and t.published.hour for t in update.timeline] == [18, 16]
    assert any("500 million euros" in p.text for p in update.new_points)
    assert not any("stood at 12" in p.text for p in update.new_points)  # told on day 2
    markdown = render_markdown(day3)
    assert (
        "- Mon 30 Nov edition: Floods kill seven in Slovenia as rivers burst their banks"
        in markdown
    )
    assert "(source published Mon 30 Nov, 18:05 UTC)" in markdown
    # the wildfire, new on day 2 and repeated on day 3, has one earlier edition: no timeline
    [fire] = [s for s in day3.developing if "Chile" in s.headline]
    assert fire.timeline == [] and fire.previous_date == DAY2


def test_rerunning_a_day_replaces_its_edition(tmp_path: Path) -> None:
    run_day(tmp_path, DAY1)
    first = run_day(tmp_path, DAY2).briefing
    again = run_day(tmp_path, DAY2).briefing  # never compared with itself
    assert again.continuity == first.continuity
    with EditionStore(tmp_path / "editions.sqlite3") as store:
        rows = store.rows()
        assert [(r.date, r.profile) for r in rows] == [(DAY2, "default"), (DAY1, "default")]
        edition = store.get(DAY2)
    assert edition is not None and len(edition.stories) == 7
    flood = next(s for s in edition.stories if s.continuity == "update")
    assert len(flood.fingerprints) == 2 and flood.sources[0].published is not None
    assert flood.thread is not None and flood.new_points


def test_a_backfill_sees_only_the_editions_before_its_date(tmp_path: Path) -> None:
    run_day(tmp_path, DAY2)
    backfill = run_day(tmp_path, DAY1).briefing  # built after DAY2, for the day before
    assert backfill.continuity is not None and backfill.continuity.compared == []
    assert {s.continuity for s in stories(backfill)} == {"new"}


def test_profiles_keep_their_own_editions(tmp_path: Path) -> None:
    run_day(tmp_path, DAY1, profile="evening")
    day2 = run_day(tmp_path, DAY2).briefing  # the default profile has no day 1
    assert day2.continuity is not None and day2.continuity.new == 7


def test_an_unwritable_store_costs_a_warning_not_the_brief(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with caplog.at_level(logging.WARNING, logger="briefing.runner"):
        run = run_day(tmp_path, DAY1, editions_db=blocker / "editions.sqlite3")
    assert run.briefing.story_count == 6 and run.briefing.continuity is None
    assert "no editions this run" in caplog.text


def test_a_failed_write_costs_a_warning_not_the_brief(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: EditionStore, *args: object) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(EditionStore, "_insert", refuse)
    with caplog.at_level(logging.WARNING, logger="briefing.runner"):
        run = run_day(tmp_path, DAY1)
    assert run.briefing.story_count == 6
    assert "not kept as an edition" in caplog.text and "readonly" in caplog.text


def test_the_library_keeps_no_edition_unless_asked(tmp_path: Path) -> None:
    request = request_for(tmp_path, DAY1, editions=False)
    with Runner(request, llm=fake_llm()) as runner:
        brief = runner.brief().briefing
    assert brief.continuity is None
    assert not (tmp_path / "editions.sqlite3").exists()


# --------------------------------------------------------------------------- the CLI


def _brief(tmp_path: Path, day: object, *extra: str) -> str:
    args = ["brief", *map(str, INPUTS[day]), "--date", str(day), "--no-synthesis"]  # type: ignore[index]
    args += ["--cache-dir", str(tmp_path / "cache"), *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: fake_llm())
    _brief(tmp_path, DAY1)
    out = _brief(tmp_path, DAY2, "--repeats", "omit")
    assert "1 new, 1 update, 5 repeats left out" in out
    assert "Still developing" not in out and "Meghna" not in out
    assert (tmp_path / "cache" / "editions.sqlite3").exists()  # beside the run cache

    runner = CliRunner()
    monkeypatch.setenv("BRIEFING_CACHE_DIR", str(tmp_path / "cache"))
    listed = runner.invoke(cli, ["editions"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[1].split()[:6] == ["2026-12-01", "default", "2", "1", "1", "5"]
    assert lines[2].split()[:6] == ["2026-11-30", "default", "6", "6", "0", "0"]
    assert len(runner.invoke(cli, ["editions", "--limit", "1"]).output.splitlines()) == 2

    shown = runner.invoke(cli, ["editions", "show", "2026-12-01"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("# Morning brief") and "**Update**" in shown.output
    data = json.loads(runner.invoke(cli, ["editions", "show", "2026-12-01", "--json"]).output)
    assert data["date"] == "2026-12-01" and len(data["stories"]) == 7
    assert sum(not s["shown"] for s in data["stories"]) == 5  # omitted, still kept
    missing = runner.invoke(cli, ["editions", "show", "2026-12-05"])
    assert missing.exit_code == 4 and "No edition of 2026-12-05" in missing.output

    out = _brief(tmp_path, DAY3, "--no-editions")
    assert "still developing" not in out and "**Update**" not in out
    assert len(runner.invoke(cli, ["editions"]).output.splitlines()) == 3  # not kept


def test_a_profile_sets_repeats_and_its_store(tmp_path: Path) -> None:
    from briefing.config import load_config

    config = tmp_path / "config.toml"
    config.write_text(
        '[profiles.desk]\nsources = ["in"]\nrepeats = "omit"\neditions_db = "ed.sqlite3"\n',
        encoding="utf-8",
    )
    request = load_config(config).profile("desk").to_request(date=DAY1)
    assert request.editions and request.repeats == "omit"
    assert request.editions_db == tmp_path / "ed.sqlite3" and request.profile == "desk"
    assert load_config(config).profile("desk").to_request(editions=False).editions is False
