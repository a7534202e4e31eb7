"""Composition: stories by region, top stories, region filters, dates, edge cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from briefing_samples import PROVENANCE, _summary
from click.testing import CliRunner
from seed_brief import (
    FABRICATED,
    ROOT,
    faithful_reply,
    seed_articles,
    seed_summaries,
    synthesis_llm,
    synthesis_reply,
)

from briefing.cli import cli
from briefing.compose import compose, story_region, top_count
from briefing.errors import ConfigError
from briefing.llm.fake import FakeLLM
from briefing.models import Briefing, ClaimCheck, GroundingReport, Region
from briefing.regions import focus_region, parse_region
from briefing.render import render_html, render_json, render_markdown

NOW = dt.datetime(2026, 11, 24, 5, 30, tzinfo=dt.UTC)


def test_seed_brief_has_middle_east_europe_top_stories_synthesis_and_sources() -> None:
    briefing = compose(seed_summaries(), generated_at=NOW, llm=synthesis_llm())
    assert [s.region for s in briefing.sections] == [Region.MIDDLE_EAST, Region.EUROPE]
    middle_east, europe = briefing.sections
    assert len(middle_east.stories) == 3
    assert [s.headline for s in europe.stories] == [
        "Male victim breaks 'suffocating' silence on Kosovo war rapes"
    ]
    assert middle_east.stories[0].headline.startswith("Iraq treads a tightrope")  # importance 4
    assert len(briefing.top_stories) == 2  # half of a four-story day
    assert briefing.top_stories[0].id == middle_east.stories[0].id
    for section in briefing.sections:
        assert section.synthesis and FABRICATED not in section.synthesis
    assert briefing.synthesis_prompt_version == "synthesize.system@1+synthesize.user@1"
    md = render_markdown(briefing)
    assert "## Top stories" in md and "**What it means:**" in md
    assert "[^4]: France 24, “Male victim breaks" in md
    assert md.index("## Middle East") < md.index("## Europe")
    assert "2 regions · 4 stories" in md


def test_regions_filter_and_order_sections() -> None:
    summaries = seed_summaries()
    briefing = compose(summaries, regions=[Region.EUROPE, Region.MIDDLE_EAST], generated_at=NOW)
    assert [s.region for s in briefing.sections] == [Region.EUROPE, Region.MIDDLE_EAST]
    only = compose(summaries, regions=[parse_region("europe")], generated_at=NOW)  # type: ignore[list-item]
    assert [s.region for s in only.sections] == [Region.EUROPE] and only.story_count == 1
    assert only.top_stories == []  # a one-story day has no lead section
    assert "## Top stories" not in render_markdown(only)


@pytest.mark.parametrize(
    ("name", "region"),
    [
        ("middle_east", Region.MIDDLE_EAST),
        ("Middle East & North Africa", Region.MIDDLE_EAST),
        ("asia-pacific", Region.ASIA_PACIFIC),
        ("AFRICA", Region.AFRICA),
        ("global", Region.GLOBAL),
        ("atlantis", None),
    ],
)
def test_region_names(name: str, region: Region | None) -> None:
    assert parse_region(name) == region


def test_focus_weighs_the_headline_over_the_body() -> None:
    texts = [("Kosovo court jails commander", 3.0), ("Serbia and Iran and Iraq", 1.0)]
    assert focus_region(texts) == Region.EUROPE
    assert focus_region([("Iran and Iraq talk", 1.0), ("Kosovo", 1.0)]) == Region.MIDDLE_EAST
    assert focus_region([("No country here", 3.0)]) is None


def test_story_without_countries_keeps_only_a_verified_region() -> None:
    summary = _summary(5)  # São Paulo metro: names no country
    assert summary.content is not None and summary.content.region == Region.AMERICAS
    assert story_region([summary]) == Region.GLOBAL  # never verified
    summary.grounding = GroundingReport(
        claims=[
            ClaimCheck(kind="region", text="Americas", supported=True, action="kept"),
        ]
    )
    assert story_region([summary]) == Region.AMERICAS


def test_top_stories_rank_by_importance_then_sources() -> None:
    assert [top_count(n) for n in (0, 1, 2, 3, 4, 6, 200)] == [0, 0, 1, 1, 2, 3, 3]
    summaries = [_summary(i) for i in range(7)]
    for s, importance in zip(summaries, [2, 5, 3, 3, 1, 4, 3], strict=True):
        assert s.content is not None
        s.content.importance = importance
    briefing = compose(summaries, generated_at=NOW)
    assert [s.importance for s in briefing.top_stories] == [5, 4, 3]


def test_empty_day_is_a_short_valid_brief() -> None:
    briefing = compose([], date=dt.date(2026, 11, 24), generated_at=NOW, llm=synthesis_llm(0))
    assert briefing.sections == [] and briefing.top_stories == [] and briefing.story_count == 0
    md = render_markdown(briefing)
    assert "Nothing new today." in md and "Top stories" not in md
    assert "Nothing new today." in render_html(briefing)
    assert Briefing.model_validate_json(render_json(briefing)) == briefing


def test_timezone_sets_the_date_and_shown_times() -> None:
    late = dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC)
    briefing = compose(seed_summaries(), generated_at=late, timezone="Asia/Tokyo")
    assert briefing.date == dt.date(2026, 11, 24) and briefing.timezone == "Asia/Tokyo"
    md = render_markdown(briefing)
    assert "**Tuesday 24 November 2026**" in md
    assert "times in Asia/Tokyo" in md and "generated 2026-11-24 08:30 JST" in md
    with pytest.raises(ConfigError, match="IANA"):
        compose([], timezone="Mars/Olympus")


def test_json_round_trips_stories_and_keeps_section_summaries() -> None:
    briefing = compose(seed_summaries(), generated_at=NOW, llm=synthesis_llm())
    again = Briefing.model_validate_json(render_json(briefing))
    assert again == briefing
    assert [s.article_id for s in again.sections[0].summaries] == [
        s.summaries[0].article_id for s in briefing.sections[0].stories
    ]


def test_language_is_recorded_and_sets_html_lang() -> None:
    briefing = compose(seed_summaries(), generated_at=NOW, language="French")
    assert briefing.language == "French"
    assert '<html lang="fr">' in render_html(briefing)


def test_provenance_of_an_empty_day() -> None:
    briefing = compose([], generated_at=NOW)
    assert briefing.model == "none" and PROVENANCE.model != "none"


# --------------------------------------------------------------------------- the brief command


def _cli_llm(monkeypatch: pytest.MonkeyPatch) -> FakeLLM:
    import briefing.llm

    articles = seed_articles()
    importance = [4, 3, 2, 3]
    llm = FakeLLM().enqueue(
        *[faithful_reply(a, n) for a, n in zip(articles, importance, strict=True)]
    )
    llm.enqueue(*[synthesis_reply] * 4)
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    return llm


def test_brief_command_formats_regions_tz_language_and_synthesis(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    llm = _cli_llm(monkeypatch)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "brief", str(ROOT / "seeds"), "--format", "md,html,json", "--out-dir", str(out),
            "--regions", "europe,middle_east", "--tz", "Europe/Paris", "--language", "French",
            "--synthesis", "--date", "2026-11-24", "--concurrency", "1",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["brief.html", "brief.json", "brief.md"]
    md = (out / "brief.md").read_text()
    assert md.index("## Europe") < md.index("## Middle East")
    assert "**Tuesday 24 November 2026**" in md and "times in Europe/Paris" in md
    assert "**What it means:**" in md
    data = Briefing.model_validate_json((out / "brief.json").read_text())
    assert data.language == "French" and data.timezone == "Europe/Paris"
    assert '<html lang="fr">' in (out / "brief.html").read_text()
    assert "in French" in llm.calls[0][-1].content  # the summarize prompt asks for French
    assert "language=French" in data.prompt_version


def test_brief_command_rejects_unknown_region_format_and_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _cli_llm(monkeypatch)
    seeds = str(ROOT / "seeds")
    for args, message in (
        (["--regions", "atlantis"], "unknown region"),
        (["--format", "docx"], "unknown format"),
        (["--tz", "Mars/Olympus"], "IANA"),
    ):
        result = CliRunner().invoke(cli, ["brief", seeds, *args])
        assert result.exit_code != 0 and message in result.output, result.output


def test_brief_command_uses_the_template_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _cli_llm(monkeypatch)
    (tmp_path / "brief.md.j2").write_text("MINE {{ story_count }}\n")
    result = CliRunner().invoke(
        cli, ["brief", str(ROOT / "seeds"), "--template-dir", str(tmp_path), "--concurrency", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "MINE 4" in result.stdout
