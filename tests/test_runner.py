"""One run, assembled once: the request and the runner own the whole brief (issue 20).

A profile's time zone, regions and language reach the brief; no call is paid for a
region it drops; limits cover synthesis; a failed chunk or synthesis shows in the brief
and in the exit code; two servers never share a cache entry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

import briefing.llm
from briefing.cache import SummaryCache
from briefing.cli import cli
from briefing.config import load_config
from briefing.limits import RunLimits
from briefing.llm.base import Message
from briefing.llm.fake import FakeLLM, faithful_reply
from briefing.models import Article, ArticleSummary, Region, Sentence, Usage
from briefing.render import render_json, render_markdown
from briefing.request import BriefRequest
from briefing.runner import Loaded, Runner
from briefing.settings import RunSettings
from briefing.summarize import Summarizer
from briefing.usage import Price

EUROPE = (
    "Berlin talks on energy prices",
    [
        "German and French ministers met in Berlin on Monday to discuss energy prices.",
        "Germany asked France to share more electricity over the winter months.",
        "The two governments agreed to meet again in Paris next month.",
    ],
)
MIDEAST = (
    "Baghdad parliament delays vote",
    [
        "Iraq's parliament in Baghdad delayed a vote on the budget on Sunday.",
        "Iraqi lawmakers said talks with the Kurdistan region had stalled.",
        "The speaker said the vote would take place later this week.",
    ],
)
PARAGRAPH = {"paragraph": "German and French ministers met in Berlin to discuss energy prices."}


def write_article(path: Path, title: str, lines: list[str]) -> Path:
    path.write_text(f"{title}\n\n" + " ".join(lines) + "\n", encoding="utf-8")
    return path


def reply(messages: Sequence[Message]) -> str:
    """A faithful summary, or a region's paragraph when the prompt asks for one."""
    prompt = messages[-1].content
    if "<stories>" in prompt:
        return json.dumps(PARAGRAPH)
    return faithful_reply(prompt)


def is_synthesis(call: list[Message]) -> bool:
    return "<stories>" in call[-1].content


def article(title: str, lines: list[str]) -> Article:
    sentences = [Sentence(id=i, text=t) for i, t in enumerate(lines, 1)]
    return Article(title=title, text=" ".join(lines), outlet="AFP", sentences=sentences)


# --------------------------------------------------------------------------- profiles


def profile_config(tmp_path: Path) -> Path:
    sources = [write_article(tmp_path / f"{i}.txt", *a) for i, a in enumerate((EUROPE, MIDEAST))]
    config = tmp_path / "config.toml"
    config.write_text(
        "[profiles.tokyo]\n"
        f"sources = {json.dumps([str(p) for p in sources])}\n"
        'regions = ["Europe"]\ntimezone = "Asia/Tokyo"\nlanguage = "de"\n'
        'title = "Tokyo desk"\n',
        encoding="utf-8",
    )
    return config


def test_a_profile_shapes_its_brief_and_pays_for_no_dropped_region(tmp_path: Path) -> None:
    profile = load_config(profile_config(tmp_path)).profile("tokyo")
    request = profile.to_request(run=RunSettings(no_cache=True))
    assert request.timezone == "Asia/Tokyo" and request.language == "German"
    assert request.regions == (Region.EUROPE,)
    llm = FakeLLM().enqueue(*[reply] * 4)
    with Runner(request, llm=llm) as runner:
        run = runner.brief()
    brief = run.briefing
    assert brief.timezone == "Asia/Tokyo" and brief.language == "German"
    assert brief.title == "Tokyo desk"
    assert [s.region for s in brief.sections] == [Region.EUROPE]
    # one synthesis call, for the region the profile keeps: none paid for the Middle East
    assert sum(is_synthesis(c) for c in llm.calls) == 1
    assert "German" in llm.calls[-1][0].content  # written in the profile's language
    shown = {story.id for section in brief.sections for story in section.stories}
    assert {s.id for s in brief.top_stories} <= shown
    data = json.loads(render_json(brief))
    assert data["timezone"] == "Asia/Tokyo" and data["language"] == "German"
    assert "summaries" not in data["sections"][0]  # each summary once, in its story
    assert render_markdown(brief).count(EUROPE[1][0]) >= 1


def test_brief_profile_flags_win_over_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm = FakeLLM().enqueue(*[reply] * 6)
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    out = tmp_path / "brief.json"
    args = ["brief", "--profile", "tokyo", "--config", str(profile_config(tmp_path))]
    args += ["--tz", "Europe/Paris", "--json", str(out), "--no-cache", "--date", "2026-11-24"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["timezone"] == "Europe/Paris"  # the flag
    assert data["language"] == "German" and data["date"] == "2026-11-24"  # the profile


# --------------------------------------------------------------------------- limits


class RefuseAfter(RunLimits):
    """A spending cap that lets the first ``n`` starts through and refuses the rest."""

    def __init__(self, n: int) -> None:
        super().__init__(max_cost=1.0, price=Price(1.0, 1.0))
        self.n = n
        self.asked: list[Usage | None] = []

    def stop_reason(self, estimate: Usage | None = None) -> str | None:
        self.asked.append(estimate)
        if len(self.asked) <= self.n:
            return None
        return "not summarized: --max-cost $1 reached ($0.9 spent, this article ~$0.2)"


def test_max_cost_covers_the_synthesis() -> None:
    items = [article(*EUROPE)]
    llm = FakeLLM().enqueue(*[reply] * 3)
    limits = RefuseAfter(1)
    request = BriefRequest(inputs=(), run=RunSettings(no_cache=True, max_cost=1.0))
    with Runner(request, llm=llm, limits=limits) as runner:
        run = runner.brief(Loaded(items))
    assert not any(is_synthesis(c) for c in llm.calls)  # the synthesis was not paid for
    assert len(limits.asked) == 2 and limits.asked[1] is not None  # asked with its estimate
    [section] = run.briefing.sections
    assert section.synthesis is None
    assert "--max-cost" in (section.synthesis_error or "")
    assert "not written" in (section.synthesis_error or "")
    assert run.partial and run.synthesis_failures == [section]
    assert "No “what it means” paragraph" in render_markdown(run.briefing)


def test_a_failed_synthesis_shows_in_the_brief_and_exits_10(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_paragraph(messages: Sequence[Message]) -> str:
        return "not json" if is_synthesis(list(messages)) else reply(messages)

    llm = FakeLLM().enqueue(*[no_paragraph] * 3)
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    source = write_article(tmp_path / "a.txt", *EUROPE)
    out = tmp_path / "brief.md"
    result = CliRunner().invoke(cli, ["brief", str(source), "--out", str(out), "--no-cache"])
    assert result.exit_code == 10, result.output
    assert "no synthesis for Europe" in result.stderr
    assert "No “what it means” paragraph: the model's answer was invalid" in out.read_text()


# --------------------------------------------------------------------------- chunks


def test_a_failed_chunk_makes_the_summary_partial_and_the_run_partial() -> None:
    lines = [f"Sentence number {i} says what happened in Berlin on day {i}." for i in range(1, 101)]
    long = article("Berlin week", lines)

    def answer(messages: Sequence[Message]) -> str:
        first = messages[1].content  # the part's prompt (repairs keep it)
        return "broken" if first.startswith("Part 2 of") else faithful_reply(first)

    llm = FakeLLM(context_window=900).enqueue(*[answer] * 20)
    summary = Summarizer(llm, max_output_tokens=256).summarize(long)
    assert summary.chunks >= 3
    assert summary.status == "partial" and summary.content is not None
    assert "part 2 of" in (summary.error or "") and "covers the rest" in (summary.error or "")

    request = BriefRequest(inputs=(), synthesize=False, run=RunSettings(no_cache=True))
    llm = FakeLLM(context_window=900).enqueue(*[answer] * 20)
    with Runner(request, llm=llm) as runner:
        runner._summarizer = lambda: Summarizer(runner.llm, runner.prompts, max_output_tokens=256)  # type: ignore[method-assign]
        run = runner.brief(Loaded([long]))
    assert run.partial and run.model_failures[0].status == "partial"
    assert "Partial summary: part 2 of" in render_markdown(run.briefing)


# --------------------------------------------------------------------------- cache


def test_two_servers_never_share_a_cache_entry(tmp_path: Path) -> None:
    items = [article(*EUROPE)]
    request = BriefRequest(inputs=(), synthesize=False)
    cache = SummaryCache(tmp_path)
    first = FakeLLM(provider="openai", model="m", endpoint="http://127.0.0.1:8080/v1")
    first.enqueue(reply)
    with Runner(request, llm=first, cache=cache) as runner:
        runner.summaries(Loaded(items))
    again = FakeLLM(provider="openai", model="m", endpoint="http://127.0.0.1:8080/v1")
    with Runner(request, llm=again, cache=cache) as runner:
        [hit] = runner.summaries(Loaded(items))
    assert hit.cached and again.calls == []
    other = FakeLLM(provider="openai", model="m", endpoint="https://api.openai.com/v1")
    other.enqueue(reply)
    with Runner(request, llm=other, cache=cache) as runner:
        [fresh] = runner.summaries(Loaded(items))
    assert not fresh.cached and len(other.calls) == 1
    cache.close()


def test_a_bad_environment_number_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_THREADS", "abc")
    result = CliRunner().invoke(cli, ["summarize", "-"], input="Title\n\nSome text here.\n")
    assert result.exit_code == 3
    assert (
        result.stderr.strip()
        == "briefing: error: BRIEFING_THREADS must be a whole number, not 'abc'."
    )


def test_an_unchanged_rerun_does_no_grounding_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import briefing.grounding

    calls: list[str] = []
    real = briefing.grounding.ground

    def counting(summary: ArticleSummary, article: Article, **kwargs: str) -> ArticleSummary:
        calls.append(article.title)
        return real(summary, article, **kwargs)

    monkeypatch.setattr(briefing.grounding, "ground", counting)
    items = [article(*EUROPE), article(*MIDEAST)]
    request = BriefRequest(inputs=(), synthesize=False, run=RunSettings(cache_dir=tmp_path))
    with Runner(request, llm=FakeLLM().enqueue(reply, reply)) as runner:
        first = runner.summaries(Loaded(items))
    assert sorted(calls) == sorted(a.title for a in items)
    calls.clear()
    with Runner(request, llm=FakeLLM()) as runner:  # no reply queued: no call may be made
        again = runner.summaries(Loaded(items))
    assert calls == []
    assert [s.content for s in again] == [s.content for s in first]
    assert [s.grounding for s in again] == [s.grounding for s in first]
    assert all(s.cached and s.usage == Usage() for s in again)
