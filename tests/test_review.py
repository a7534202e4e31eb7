"""The judge's round of a run (``--verify-with``): it reaches the brief and the summaries,
its cost is reported apart and counted against the cap, a weak judge is refused before
anything runs, and a failing judge leaves the lexical verdicts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_runner import EUROPE, MIDEAST, PARAGRAPH, write_article

import briefing.llm
from briefing.cli import cli
from briefing.errors import ConfigError, ProviderError
from briefing.judge import JudgeRefused
from briefing.limits import RunLimits
from briefing.llm.base import Message
from briefing.llm.fake import FakeLLM, faithful_reply
from briefing.models import ArticleSummary, RunReport
from briefing.request import BriefRequest
from briefing.runner import Runner
from briefing.settings import RunSettings
from briefing.usage import Price, format_report


def is_judge(messages: Sequence[Message]) -> bool:
    return "Claims:" in messages[-1].content


def scripted(verdict: str, reason: str = "the sentences say so") -> object:
    """Faithful summaries; the judge gives ``verdict`` on claim 1, supported on the rest."""

    def reply(messages: Sequence[Message]) -> str:
        prompt = messages[-1].content
        if is_judge(messages):
            n = sum(1 for line in prompt.splitlines() if line[:1].isdigit() and ". (cites" in line)
            verdicts = [{"claim": 1, "reason": reason, "verdict": verdict}]
            verdicts += [
                {"claim": i, "reason": "stated", "verdict": "supported"} for i in range(2, n + 1)
            ]
            return json.dumps({"verdicts": verdicts})
        if "<stories>" in prompt:
            return json.dumps(PARAGRAPH)
        return faithful_reply(prompt)

    return reply


def fake(verdict: str, concurrency: int = 1, model: str = "judge-7b") -> FakeLLM:
    llm = FakeLLM(model=model, requested_concurrency=concurrency)
    reply = scripted(verdict)
    llm.enqueue(*[reply] * 40)  # type: ignore[arg-type]
    return llm


def request(tmp_path: Path, verify_with: str | None = "same", **run: object) -> BriefRequest:
    inputs = tuple(
        str(write_article(tmp_path / f"{i}.txt", *a)) for i, a in enumerate((EUROPE, MIDEAST))
    )
    settings = RunSettings(no_cache=True, verify_with=verify_with, **run)  # type: ignore[arg-type]
    return BriefRequest(inputs=inputs, run=settings)


def claims(summary: ArticleSummary) -> list[tuple[str, bool]]:
    assert summary.grounding is not None
    return [(c.text, c.supported) for c in summary.grounding.claims]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_the_judge_rejects_a_claim_the_lexical_checks_passed(
    tmp_path: Path, concurrency: int
) -> None:
    baseline = Runner(request(tmp_path, None), llm=fake("supported", concurrency)).brief()
    run = Runner(request(tmp_path), llm=fake("contradicted", concurrency)).brief()
    before = {s.article_id: claims(s) for s in baseline.summaries}
    for summary in run.summaries:
        first_text, first_ok = claims(summary)[0]
        assert before[summary.article_id][0] == (first_text, True)  # lexically fine
        assert not first_ok  # the judge's "contradicted" wins
        assert "judge" in (summary.grounding.claims[0].reason or "")  # type: ignore[union-attr]
    report = run.briefing.run
    assert report is not None and report.judge is not None
    assert report.judge.model == "judge-7b"
    assert report.judge.calls == 2 and report.judge.judged == 2
    assert report.judge.rejected == 2 and report.judge.unjudged == 0
    # the judge's calls are its own: not in the run's figures
    assert report.calls == baseline.briefing.run.calls  # type: ignore[union-attr]
    assert "; judge judge-7b: 2 calls" in format_report(report)


def test_a_judge_that_agrees_changes_nothing(tmp_path: Path) -> None:
    baseline = Runner(request(tmp_path, None), llm=fake("supported")).brief()
    run = Runner(request(tmp_path), llm=fake("supported")).brief()
    assert [claims(s) for s in run.summaries] == [claims(s) for s in baseline.summaries]
    assert run.briefing.run.judge.rejected == 0  # type: ignore[union-attr]


def test_the_embedded_model_is_refused_before_anything_runs(tmp_path: Path) -> None:
    runner = Runner(request(tmp_path), env={})  # the embedded model: no key, no server
    with pytest.raises(JudgeRefused, match="not a reliable judge"):
        runner.brief()
    assert runner._llm is None  # the model was never loaded


def test_a_named_judge_needs_a_server_when_the_run_is_embedded(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY|OPENAI_BASE_URL"):
        Runner(request(tmp_path, "gpt-4o-mini"), env={}).brief()


def test_a_failing_judge_leaves_the_lexical_verdicts(tmp_path: Path) -> None:
    baseline = Runner(request(tmp_path, None), llm=fake("supported")).brief()
    llm = FakeLLM(model="judge-7b")

    def reply(messages: Sequence[Message]) -> str:
        if is_judge(messages):
            raise ProviderError("the judge's server is down")
        return scripted("supported")(messages)  # type: ignore[operator,no-any-return]

    llm.enqueue(*[reply] * 10)  # type: ignore[arg-type]
    run = Runner(request(tmp_path), llm=llm).brief()
    assert [claims(s) for s in run.summaries] == [claims(s) for s in baseline.summaries]
    assert run.briefing.run.judge.unjudged == 2  # type: ignore[union-attr]
    assert "2 articles not judged" in format_report(run.briefing.run)  # type: ignore[arg-type]


def test_the_judge_counts_against_the_spending_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The judge is priced at its own model's price: a dear judge stops at the cap while
    the cheap summaries went through."""
    import briefing.usage

    dear = Price(input=1000.0, output=1000.0)  # dollars per million tokens
    monkeypatch.setattr(briefing.usage, "price_for", lambda provider, model, prices=None: dear)
    # a judge call costs about $0.34 here (the fake model counts a token a word)
    limits = RunLimits(max_cost=0.2, price=Price(input=0.01, output=0.01))
    run = Runner(request(tmp_path), llm=fake("contradicted"), limits=limits).brief()
    judge = run.briefing.run.judge  # type: ignore[union-attr]
    assert judge is not None
    assert judge.calls == 0 and judge.unjudged == 2  # each call would pass the cap
    assert all(s.content is not None for s in run.summaries)  # the summaries were made
    assert all(claims(s)[0][1] for s in run.summaries)  # and keep their lexical verdicts

    limits = RunLimits(max_cost=0.5, price=Price(input=0.01, output=0.01))
    run = Runner(request(tmp_path), llm=fake("contradicted"), limits=limits).brief()
    judge = run.briefing.run.judge  # type: ignore[union-attr]
    assert judge is not None and judge.calls == 1 and judge.unjudged == 1  # one fits
    spent = limits.spent_usd
    assert spent is not None and 0.3 < spent <= 0.5  # the judge's dollars are counted


def test_the_report_line_names_the_judge() -> None:
    from briefing.models import JudgeReport

    line = format_report(
        RunReport(
            articles=3,
            calls=3,
            judge=JudgeReport(
                model="gpt-4o-mini",
                calls=3,
                prompt_tokens=2600,
                completion_tokens=480,
                cost_usd=0.0007,
                rejected=1,
                overturned=2,
            ),
        )
    )
    assert line.endswith(
        "; judge gpt-4o-mini: 3 calls, 2600+480 tokens, ~$0.0007, 1 claims rejected, 2 kept"
    )


def test_summarize_verify_with_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_article(tmp_path / "a.txt", *EUROPE)
    llm = fake("contradicted")
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    done = CliRunner().invoke(
        cli, ["summarize", str(path), "--no-cache", "--verify-with", "same", "--json"]
    )
    assert done.exit_code == 0, done.output
    assert "briefing: judge judge-7b: 1 calls" in done.stderr
    [summary] = json.loads(done.stdout)
    assert summary["grounding"]["claims"][0]["supported"] is False


def test_verify_with_is_refused_for_the_embedded_model_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_article(tmp_path / "a.txt", *EUROPE)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BRIEFING_PROVIDER", "BRIEFING_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(
        briefing.llm, "open_llm", lambda *a, **k: pytest.fail("the model was opened")
    )
    done = CliRunner().invoke(cli, ["summarize", str(path), "--verify-with", "same"])
    assert done.exit_code == 3, done.output
    assert "judge" in done.stderr and "Traceback" not in done.stderr
