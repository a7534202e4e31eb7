"""``briefing eval``: ROUGE, faithfulness metrics, reference lookup and the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import briefing.llm
from briefing.evaluate import (
    evaluate,
    format_report,
    load_references,
    rouge,
    rouge_l,
    rouge_n,
)
from briefing.grounding import ground
from briefing.models import Article, ArticleSummary, Provenance, SummaryOutput

DATA = Path(__file__).parent / "data" / "grounding"
PROVENANCE = Provenance(provider="fake", model="fake-model", prompt_version="t")


def seed(index: int) -> Article:
    rows = json.loads((DATA / "seed_articles.json").read_text(encoding="utf-8"))["articles"]
    return Article.model_validate(rows[index])


# --------------------------------------------------------------------------- ROUGE


def test_rouge_n_by_hand() -> None:
    # candidate: the cat sat on the mat (6) / reference: the cat lay on the mat (6)
    r1 = rouge_n("The cat sat on the mat.", "the cat lay on the mat", 1)
    assert (r1.precision, r1.recall) == (5 / 6, 5 / 6)
    r2 = rouge_n("The cat sat on the mat.", "the cat lay on the mat", 2)
    # bigrams shared: (the cat) (on the) (the mat) of 5
    assert r2.f1 == pytest.approx(3 / 5)
    # clipped counts: "the the the" vs "the cat" -> 1 overlap
    clipped = rouge_n("the the the", "the cat", 1)
    assert (clipped.precision, clipped.recall) == (1 / 3, 1 / 2)


def test_rouge_l_by_hand() -> None:
    # LCS of "police killed the gunman" and "the gunman was killed by police" = "the gunman" (2)
    r = rouge_l("police killed the gunman", "the gunman was killed by police")
    assert (r.precision, r.recall) == (2 / 4, 2 / 6)
    assert r.f1 == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    assert rouge_l("", "anything").f1 == 0.0


def test_rouge_identical_and_disjoint() -> None:
    same = rouge("Iraq fears a spillover.", "iraq fears a spillover")
    assert all(score.f1 == 1.0 for score in same.values())
    assert all(score.f1 == 0.0 for score in rouge("alpha beta", "gamma delta").values())


# --------------------------------------------------------------------------- metrics


def model_output(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "headline": "Iraqi pilgrims",
        "summary": "Iraq expects to receive 76,000 Iranian pilgrims by land.",
        "key_points": [
            {"text": "Iraq will welcome 2,500 Iranian pilgrims a day.", "sentence_ids": [8]},
            {"text": "Iraq will welcome 9,000 Iranian pilgrims a day.", "sentence_ids": [8]},
        ],
        "region": "Middle East & North Africa",
        "countries": ["Iraq", "Iran", "Chile"],
        "people": ["Aziz Yussef"],
        "organizations": [],
        "quotes": [
            {"speaker": "Amna Hammudi", "text": "We fear for our children"},
            {"speaker": "Amna Hammudi", "text": "We fear nothing"},
        ],
        "figures": [{"value": "76,000", "what": "Iranian pilgrims expected", "sentence_id": 7}],
        "topic": "migration",
        "importance": 3,
    }
    data.update(changes)
    return data


def summary(article: Article, data: dict[str, Any] | None) -> ArticleSummary:
    raw = ArticleSummary(
        article_id=article.id,
        title=article.title,
        status="ok" if data else "failed",
        content=SummaryOutput.model_validate(data) if data else None,
        error=None if data else "invalid JSON",
        provenance=PROVENANCE,
        source=article.source,
    )
    return ground(raw, article)


def test_rates_come_from_the_grounding_reports() -> None:
    pilgrims, kosovo = seed(2), seed(3)
    summaries = [summary(pilgrims, model_output()), summary(kosovo, None)]
    report = evaluate([pilgrims, kosovo], summaries)
    first, second = report.articles
    assert first.quotes == (1, 2)
    assert first.figures == (1, 1)
    assert first.entities == (3, 4)  # Chile is not in the article
    # headline "Iraqi pilgrims" (too little support), summary sentence, 2 key points
    assert first.claims == (2, 4)
    assert not first.extractive and second.extractive and second.claims == (0, 0)
    overall = report.overall()
    assert overall["quote_verbatim_rate"] == 0.5
    assert overall["entity_support_rate"] == 0.75
    assert overall["extractive_share"] == 0.5
    assert overall["rouge1"] is None
    assert first.compression is not None and 0 < first.compression < 0.2
    text = format_report(report)
    assert "claim support rate    50%" in text
    assert "extractive fallbacks  50%" in text
    assert "Iranian pilgrims in Iraq long to ret" in text


def test_references_by_id_stem_and_position(tmp_path: Path) -> None:
    a, b, c = seed(0), seed(1), seed(2)
    a.source = b.source = "pages/front.html"
    c.source = "one.txt"
    (tmp_path / "front-2.txt").write_text("Israel wants regime change in Iran.")
    (tmp_path / "one.md").write_text("Pilgrims wait to go home.")
    (tmp_path / f"{a.id}.txt").write_text("Iraq avoids the war.")
    refs = load_references(tmp_path, [a, b, c])
    assert refs == {
        a.id: "Iraq avoids the war.",
        b.id: "Israel wants regime change in Iran.",
        c.id: "Pilgrims wait to go home.",
    }
    report = evaluate([c], [summary(c, model_output())], refs)
    assert report.articles[0].rouge is not None
    assert "R-1" in format_report(report) and "ROUGE F1" in format_report(report)


def test_missing_reference_directory_is_an_input_error(tmp_path: Path) -> None:
    from briefing.errors import InputError

    with pytest.raises(InputError):
        load_references(tmp_path / "nope", [seed(0)])


def test_eval_command_runs_the_pipeline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from briefing import cli as cli_module
    from briefing.llm.fake import FakeLLM

    article = tmp_path / "pilgrims.txt"
    pilgrims = seed(2)
    article.write_text(f"{pilgrims.title}\n\n{pilgrims.text}\n", encoding="utf-8")
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "pilgrims.txt").write_text("Iraq expects 76,000 Iranian pilgrims by land.")
    fake = FakeLLM().enqueue(model_output(), model_output())

    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: fake)
    runner = CliRunner()
    result = runner.invoke(cli_module.cli, ["eval", str(article), "--references", str(refs)])
    assert result.exit_code == 0, result.output
    assert "quote verbatim rate   50%" in result.output
    assert "ROUGE F1" in result.output
    as_json = runner.invoke(cli_module.cli, ["eval", str(article), "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["overall"]["quote_verbatim_rate"] == 0.5
    assert data["articles"][0]["quotes"] == [1, 2]
