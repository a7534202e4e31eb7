"""The command line: thin over the library, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ROOT, SEED

import briefing.llm
from briefing.cli import cli
from briefing.errors import ExitCode
from briefing.llm.fake import FakeLLM
from briefing.models import ArticleSummary


def reply(messages: Any) -> str:
    """A faithful-looking answer built from the article's first numbered sentence."""
    user = messages[-1].content
    if user.startswith("Region:"):  # the per-region synthesis: restate a summary line
        line = user.split("\n- ", 1)[1].split("\n", 1)[0]
        return json.dumps({"paragraph": line})
    title = user.split("Title: ", 1)[1].split("\n", 1)[0]
    first = user.split("[1] ", 1)[1].split("\n", 1)[0]
    return json.dumps(
        {
            "headline": title[:100],
            "summary": first,
            "key_points": [{"text": first, "sentence_ids": [1]}],
            "region": "Europe" if "Kosovo" in title else "Middle East & North Africa",
            "countries": [],
            "people": [],
            "organizations": [],
            "quotes": [],
            "figures": [],
            "topic": "news",
            "importance": 3,
        }
    )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeLLM:
    llm = FakeLLM()
    llm.enqueue(*[reply] * 20)
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    return llm


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), input=input)


def test_help_explains_commands_and_exit_codes() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for word in ("summarize", "brief", "extract", "Exit codes"):
        assert word in result.output


def test_summarize_prints_markdown(fake: FakeLLM) -> None:
    result = run("summarize", str(SEED))
    assert result.exit_code == 0, result.output
    assert "## Iraq treads a tightrope" in result.stdout
    assert len(fake.calls) == 4  # one call per article on the page


def test_summarize_json_validates(fake: FakeLLM) -> None:
    result = run("summarize", str(SEED), "--json")
    rows = json.loads(result.stdout)
    assert [ArticleSummary.model_validate(r).status for r in rows] == ["ok"] * 4


def test_summarize_reads_stdin(fake: FakeLLM) -> None:
    text = (ROOT / "tests" / "data" / "short_article.txt").read_text()
    result = run("summarize", "-", input=text)
    assert result.exit_code == 0, result.output
    assert "Iraq treads a tightrope" in result.stdout


def test_brief_writes_markdown_and_json(fake: FakeLLM, tmp_path: Path) -> None:
    out, js = tmp_path / "b.md", tmp_path / "b.json"
    result = run(
        "brief", str(ROOT / "seeds"), "--out", str(out), "--json", str(js), "--date", "2026-11-24"
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "Middle East" in text and "Europe" in text
    data = json.loads(js.read_text())
    assert data["date"] == "2026-11-24" and data["model"] == "fake-model"
    assert "4 stories" in result.stderr


def test_missing_file_is_one_line_and_exit_4() -> None:
    result = run("summarize", "no/such/file.txt")
    assert result.exit_code == ExitCode.INPUT
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("briefing: error:")
    assert "Traceback" not in result.output


def test_missing_model_file_is_one_line(tmp_path: Path) -> None:
    result = run(
        "summarize", str(SEED), "--provider", "local", "--model-path", str(tmp_path / "x.gguf")
    )
    assert result.exit_code == ExitCode.PROVIDER
    assert "Model file not found" in result.stderr


def test_unreachable_server_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("BRIEFING_TIMEOUT", "2")
    monkeypatch.setenv("BRIEFING_MAX_ATTEMPTS", "2")
    result = run("summarize", str(ROOT / "tests" / "data" / "short_article.txt"))
    assert result.exit_code == ExitCode.PROVIDER, result.output
    assert "Cannot reach the model server" in result.stderr
    assert result.stderr.count("\n") <= 6  # retry warnings + the one error line


def test_openai_without_key_is_a_config_error() -> None:
    result = run("summarize", str(SEED), "--provider", "openai")
    assert result.exit_code == ExitCode.CONFIG
    assert "OPENAI_API_KEY" in result.stderr


def test_raise_errors_switch_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_RAISE_ERRORS", "1")
    result = run("summarize", "no/such/file.txt")
    assert result.exit_code != 0 and result.exception is not None


def test_extract_json_has_the_fields() -> None:
    result = run("extract", str(ROOT / "seeds"), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["outlet"] for r in rows] == ["AFP", "France 24", "France 24", "France 24"]
    for row in rows:
        assert {
            "id",
            "title",
            "outlet",
            "url",
            "published",
            "byline",
            "language",
            "source",
            "text",
        } <= set(row)
    assert not any("No comments yet" in r["text"] or "© 2025 AFP" in r["text"] for r in rows)


def test_schema_command_prints_json_schema() -> None:
    schema = json.loads(run("schema").stdout)
    assert schema["title"] == "ArticleSummary"


def test_the_process_exit_status_and_output_survive_the_fast_exit(tmp_path: Path) -> None:
    """``python -m briefing`` ends without tearing down every module (``cli._exit``):
    the exit status, stdout and stderr are still those of the command."""
    import subprocess
    import sys

    from briefing.errors import ExitCode

    missing = subprocess.run(
        [sys.executable, "-m", "briefing", "summarize", str(tmp_path / "missing.txt")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert missing.returncode == int(ExitCode.INPUT), missing.stderr
    assert "missing.txt" in missing.stderr and "Traceback" not in missing.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "briefing", "schema"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0 and json.loads(shown.stdout)["title"]
