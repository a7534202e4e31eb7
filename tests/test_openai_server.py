"""The OpenAI provider against a real OpenAI-compatible server, replayed from cassettes.

Recorded against llama-cpp-python's server running the bundled SmolLM2 model on
loopback, with the settings a user would run (``make cassettes`` re-records). In CI
the cassettes replay with record mode ``none``: no network, deterministic. They hold
*successful* structured answers, and the tests assert on what came back; one cassette
holds the failure path (a server asked for plain text, whose answers do not validate).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RECORD_BASE_URL, ROOT

from briefing.cli import cli
from briefing.llm import get_llm
from briefing.models import Article, ArticleSummary, Sentence
from briefing.summarize import Summarizer

SHORT = ROOT / "tests" / "data" / "short_article.txt"
#: The model the recording server serves (asked with GET /v1/models, never assumed).
SERVED = "SmolLM2-135M-Instruct"


def short_article() -> Article:
    lines = SHORT.read_text().splitlines()
    sentences = [Sentence(id=i, text=t) for i, t in enumerate(lines[1:], 1)]
    return Article(title=lines[0], text=" ".join(lines[1:]), outlet="AFP", sentences=sentences)


@pytest.mark.vcr
def test_summarizer_on_openai_compatible_server() -> None:
    llm = get_llm("openai", base_url=RECORD_BASE_URL, env={})
    article = short_article()
    summary = Summarizer(llm).summarize(article)
    assert summary.provenance.provider == "openai"
    assert SERVED in summary.provenance.model  # the server's model, not gpt-4o-mini
    assert summary.status in ("ok", "repaired"), summary.error
    content = summary.content
    assert content is not None and content.headline.strip()
    assert content.summary.strip()
    n = len(article.sentences)
    cited = [i for point in content.key_points for i in point.sentence_ids]
    assert all(1 <= i <= n for i in cited)  # the schema bounds the ids to the article's
    assert summary.usage.calls >= 1 and summary.usage.prompt_tokens > 100


@pytest.mark.vcr
def test_cli_summarize_json_through_openai_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", RECORD_BASE_URL)
    result = CliRunner().invoke(cli, ["summarize", str(SHORT), "--json", "--no-cache"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    summary = ArticleSummary.model_validate(row)
    assert summary.provenance.provider == "openai" and SERVED in summary.provenance.model
    assert summary.title.startswith("Iraq treads a tightrope")
    # summarized by the model; or extractive *because verification* left too little
    assert summary.error is None
    assert summary.status in ("ok", "repaired", "extractive")
    assert summary.content is not None and summary.grounding is not None
    assert summary.grounding.checked > 0


@pytest.mark.vcr
def test_cli_brief_through_openai_base_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", RECORD_BASE_URL)
    out, data = tmp_path / "brief.md", tmp_path / "brief.json"
    args = ["brief", str(SHORT), "--out", str(out), "--json", str(data), "--no-cache"]
    result = CliRunner().invoke(cli, [*args, "--date", "2026-11-24"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "Tuesday 24 November 2026" in text
    brief = json.loads(data.read_text())
    assert brief["provider"] == "openai" and SERVED in brief["model"]
    [story] = [s for section in brief["sections"] for s in section["stories"]]
    assert story["summaries"][0]["error"] is None
    assert brief["failed"] == []


@pytest.mark.vcr
def test_answers_that_never_validate_fail_the_article_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The failure path, recorded for real: asked for plain text (no response format),
    the small model does not write the summary's JSON, the repair does not fix it, and
    the article is kept with the reason (as an extractive summary), exit 10."""
    monkeypatch.setenv("OPENAI_BASE_URL", RECORD_BASE_URL)
    monkeypatch.setenv("BRIEFING_STRUCTURED", "none")
    result = CliRunner().invoke(cli, ["summarize", str(SHORT), "--json", "--no-cache"])
    assert result.exit_code == 10, result.output
    [row] = json.loads(result.stdout)
    summary = ArticleSummary.model_validate(row)
    assert summary.status in ("failed", "extractive")
    assert "invalid after 2 attempts" in (summary.error or "")
    assert "not summarized" in result.stderr
