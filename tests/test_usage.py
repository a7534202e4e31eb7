"""Prices, the run report, the pre-run estimate and the --max-cost refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SEED
from test_summarize import make_article, output

import briefing.llm
from briefing.cli import cli
from briefing.errors import ConfigError, ExitCode
from briefing.llm.fake import FakeLLM
from briefing.models import Usage
from briefing.pipeline import Loaded, make_brief, summarize_articles
from briefing.summarize import EXPECTED_COMPLETION_TOKENS, Summarizer
from briefing.usage import (
    BudgetError,
    Price,
    check_budget,
    cost_usd,
    estimate_run,
    format_report,
    load_prices,
    price_for,
    run_report,
)


def test_builtin_prices_match_dated_snapshots_and_local_is_free() -> None:
    assert price_for("openai", "gpt-4o-mini") == Price(0.15, 0.60)
    assert price_for("openai", "gpt-4o-mini-2024-07-18") == Price(0.15, 0.60)
    assert price_for("openai", "gpt-4o-2024-08-06") == Price(2.50, 10.00)
    assert price_for("local", "SmolLM2-135M-Instruct.Q4_1") == Price(0.0, 0.0)
    assert price_for("openai", "mystery-model") is None
    assert cost_usd(Usage(prompt_tokens=1_000_000, completion_tokens=500_000), Price(1, 2)) == 2.0
    assert cost_usd(Usage(prompt_tokens=10), None) is None


def test_prices_from_the_environment(tmp_path: Path) -> None:
    text = json.dumps({"mystery-model": {"input": 1.0, "output": 3.0}, "gpt-4o-mini": [9, 9]})
    assert load_prices({"BRIEFING_PRICES": text})["mystery-model"] == Price(1.0, 3.0)
    path = tmp_path / "prices.json"
    path.write_text(text)
    table = load_prices({"BRIEFING_PRICES": str(path)})
    assert table["gpt-4o-mini"] == Price(9, 9) and table["gpt-4o"] == Price(2.50, 10.00)
    for bad in ("{not json", '{"m": {"input": 1}}', str(tmp_path / "missing.json"), "[1]"):
        with pytest.raises(ConfigError, match="BRIEFING_PRICES"):
            load_prices({"BRIEFING_PRICES": bad})


def test_estimate_counts_prompt_tokens_before_sending() -> None:
    llm = FakeLLM()
    summarizer = Summarizer(llm)
    article = make_article(n_sentences=6)
    estimate = summarizer.estimate(article)
    messages = summarizer._summarize_messages(article, article.sentences, 1, 1)
    assert estimate.calls == 1
    assert estimate.prompt_tokens == llm.count_message_tokens(messages)
    assert estimate.completion_tokens == EXPECTED_COMPLETION_TOKENS
    assert llm.calls == []  # nothing was sent


def test_estimate_includes_the_billed_schema() -> None:
    class Billing(FakeLLM):  # like OpenAI: the strict schema is billed as prompt tokens
        def billed_schema_tokens(self, schema: Any) -> int:
            return len(json.dumps(schema).split())

    summarizer = Summarizer(Billing(provider="openai", model="gpt-4o-mini"))
    assert summarizer.schema_tokens > 10
    plain = Summarizer(FakeLLM()).estimate(make_article())
    billed = summarizer.estimate(make_article())
    assert billed.prompt_tokens == plain.prompt_tokens + summarizer.schema_tokens


def test_budget_refusal_says_why_and_sends_nothing() -> None:
    llm = FakeLLM(provider="openai", model="gpt-4o")
    articles = [make_article(title=f"Story {i}") for i in range(20)]
    with pytest.raises(BudgetError, match=r"Not starting: .* over --max-cost \$0.001"):
        summarize_articles(articles, llm, max_cost=0.001)
    assert llm.calls == []
    estimate = estimate_run(Summarizer(llm), articles)
    assert estimate.usage.calls == 20 and estimate.cost_usd is not None
    check_budget(estimate, estimate.cost_usd + 0.01, model=llm.model)  # within budget: fine


def test_budget_with_unknown_price_cannot_be_checked() -> None:
    llm = FakeLLM(provider="openai", model="mystery-model")
    with pytest.raises(BudgetError, match="BRIEFING_PRICES"):
        summarize_articles([make_article()], llm, max_cost=1.0)


def test_local_runs_are_free_so_any_budget_holds() -> None:
    llm = FakeLLM(provider="local").enqueue(output())
    [summary] = summarize_articles([make_article()], llm, max_cost=0.0)
    assert summary.usage.calls == 1


def test_run_report_is_stored_in_the_brief() -> None:
    llm = FakeLLM(provider="openai", model="gpt-4o-mini").enqueue(output(), output())
    articles = [make_article(title="One"), make_article(title="Two")]
    run = make_brief(Loaded(articles), llm, concurrency=1, synthesize=False)
    report = run.report
    assert report is not None and run.briefing.run == report
    assert report.articles == 2 and report.calls == 2 and report.cache_hits == 0
    assert report.prompt_tokens == run.briefing.usage.prompt_tokens > 0
    assert report.cost_usd == pytest.approx(
        (report.prompt_tokens * 0.15 + report.completion_tokens * 0.60) / 1e6
    )
    assert report.seconds is not None and report.seconds >= 0
    stored = json.loads(run.briefing.model_dump_json())
    assert stored["run"]["calls"] == 2
    line = format_report(report)
    assert line.startswith("2 articles: 2 calls, 0 cache hits, ") and "~$" in line


def test_report_of_cached_and_unpriced_runs() -> None:
    from briefing.summarize import restamp

    llm = FakeLLM(provider="openai", model="mystery").enqueue(output())
    [summary] = Summarizer(llm).summarize_all([make_article()])
    cached = restamp(summary, make_article())
    report = run_report([summary, cached], provider="openai", model="mystery")
    assert (report.calls, report.cache_hits, report.cost_usd) == (1, 1, None)
    assert "cost unknown" in format_report(report)


def test_cli_refuses_over_budget(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    llm = FakeLLM(provider="openai", model="gpt-4o")
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    result = CliRunner().invoke(
        cli, ["brief", str(SEED), "--max-cost", "0.0001", "--out", str(tmp_path / "b.md")]
    )
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "Not starting" in result.output and "--max-cost" in result.output
    assert llm.calls == [] and not (tmp_path / "b.md").exists()
