"""``briefing verify`` and ``verify_summary``: the checker the brief uses, on anyone's summary."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefing.cli import cli
from briefing.cli_verify import verify_jsonl
from briefing.errors import ExitCode
from briefing.grounding import Source, verify_summary

DOC = (
    "Israel on Saturday targeted the massive South Pars gas field, the world's largest "
    "reservoir of natural gas. Iran said 12 people were killed in the strikes. "
    "Officials in Tehran vowed to respond. The field is shared with Qatar."
)
FAITHFUL = "Israel targeted the South Pars gas field on Saturday. Iran said 12 people died."
INVENTED = "Israel targeted the South Pars gas field. Iran said 40 people were killed in Oslo."


def test_verify_summary_splits_claims_and_gives_evidence() -> None:
    verdict = verify_summary(DOC, FAITHFUL)
    assert verdict.faithful
    assert [c.text for c in verdict.claims] == [
        "Israel targeted the South Pars gas field on Saturday.",
        "Iran said 12 people died.",
    ]
    assert all(c.supported and c.reason == "" for c in verdict.claims)
    assert verdict.claims[0].ids and 1 in verdict.claims[0].ids
    assert 0 < verdict.score <= 1 and verdict.score == min(c.score or 0 for c in verdict.claims)


def test_an_invented_number_and_place_make_the_summary_unfaithful() -> None:
    verdict = verify_summary(DOC, INVENTED)
    assert not verdict.faithful and verdict.score == 0.0
    first, second = verdict.claims
    assert first.supported
    assert not second.supported
    assert "number not in the source: 40" in second.reason
    assert "not in the source: Oslo" in second.reason


def test_lower_cased_text_is_checked_too() -> None:
    doc = DOC.lower()
    assert verify_summary(doc, FAITHFUL.lower()).faithful
    wrong = verify_summary(doc, "iran said 40 people were killed.")
    assert not wrong.faithful and "40" in wrong.claims[0].reason


def test_a_sentence_of_the_source_is_supported_as_a_claim() -> None:
    source = Source.from_text(DOC)
    for sentence in source.sentences.values():
        assert verify_summary(source, sentence.text).faithful, sentence.text


def test_json_form() -> None:
    data = verify_summary(DOC, INVENTED).to_json("pair-1")
    assert data["id"] == "pair-1" and data["faithful"] is False
    assert set(data["claims"][0]) == {"text", "supported", "score", "evidence", "reason"}
    evidence = data["claims"][0]["evidence"]
    assert evidence and {"id", "text"} == set(evidence[0]) and evidence[0]["text"] in DOC
    json.dumps(data)  # serialisable as is


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "source.txt"
    source.write_text(DOC, encoding="utf-8")
    summary = tmp_path / "summary.txt"
    summary.write_text(INVENTED, encoding="utf-8")
    return summary, source


def test_cli_prints_each_claim_with_verdict_evidence_and_reason(files: tuple[Path, Path]) -> None:
    summary, source = files
    result = CliRunner().invoke(cli, ["verify", str(summary), "--source", str(source)])
    assert result.exit_code == 0, result.output  # exit 0 whatever the verdict
    lines = result.output.splitlines()
    assert lines[0].startswith("[supported ") and "South Pars" in lines[0]
    assert any(line.startswith("[UNSUPPORTED 0.00] Iran said 40") for line in lines)
    assert any("reason: number not in the source: 40" in line for line in lines)
    assert any(line.startswith("    evidence 1: Israel on Saturday") for line in lines)
    assert lines[-1].startswith("NOT faithful: 1 of 2 claims supported")


def test_cli_json(files: tuple[Path, Path]) -> None:
    summary, source = files
    result = CliRunner().invoke(cli, ["verify", str(summary), "--source", str(source), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["id"] == "summary.txt" and data["faithful"] is False
    assert [c["supported"] for c in data["claims"]] == [True, False]


def test_cli_usage_and_missing_files(files: tuple[Path, Path], tmp_path: Path) -> None:
    summary, _source = files
    runner = CliRunner()
    assert runner.invoke(cli, ["verify", str(summary)]).exit_code == ExitCode.USAGE
    both = runner.invoke(cli, ["verify", str(summary), "--jsonl", "x.jsonl"])
    assert both.exit_code == ExitCode.USAGE
    missing = runner.invoke(cli, ["verify", str(summary), "--source", str(tmp_path / "no.txt")])
    assert missing.exit_code == ExitCode.INPUT and "cannot read" in missing.output


def test_help_explains_verdicts_score_and_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["verify", "--help"])
    assert result.exit_code == 0
    for words in ("SUPPORTED", "FAITHFUL", "SCORE", "Exit codes", "--jsonl", "line number"):
        assert words in result.output


def _pair_lines() -> list[str]:
    return [
        json.dumps({"id": "a", "doc": DOC, "summary": FAITHFUL}),
        "{not json",
        json.dumps(["a list"]),
        "",
        json.dumps({"id": "b", "doc": DOC}),
        json.dumps({"doc": DOC, "summary": INVENTED}),
    ]


def test_jsonl_writes_one_line_per_pair_and_skips_bad_lines(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(_pair_lines()) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify", "--jsonl", str(pairs)])
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["faithful"]) for o in out] == [("a", True), (6, False)]  # id: line
    assert set(out[0]) == {"id", "faithful", "score", "claims"}
    errors = result.stderr.splitlines()
    assert [e.split(": ")[2] for e in errors] == ["line 2", "line 3", "line 5"]
    assert "not JSON" in errors[0] and "not a JSON object" in errors[1]
    assert "no summary string" in errors[2]


def test_jsonl_from_stdin_and_all_lines_bad() -> None:
    runner = CliRunner()
    good = runner.invoke(cli, ["verify", "--jsonl", "-"], input="\n".join(_pair_lines()[:2]))
    assert good.exit_code == 0 and len(good.stdout.splitlines()) == 1
    bad = runner.invoke(cli, ["verify", "--jsonl", "-"], input="nope\n[1]\n")
    assert bad.exit_code == ExitCode.INPUT
    assert "no usable line" in bad.stderr
    empty = runner.invoke(cli, ["verify", "--jsonl", "-"], input="")
    assert empty.exit_code == ExitCode.INPUT
    unreadable = runner.invoke(cli, ["verify", "--jsonl", "/nonexistent/pairs.jsonl"])
    assert unreadable.exit_code == ExitCode.INPUT and "cannot read" in unreadable.stderr


class _Recorder(io.StringIO):
    """Output that notes, at each flush, how many input lines had been read by then."""

    def __init__(self, read: list[int]) -> None:
        super().__init__()
        self.read = read
        self.at_flush: list[int] = []

    def flush(self) -> None:
        self.at_flush.append(self.read[0])
        super().flush()


def test_jsonl_streams_each_verdict_before_reading_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each verdict is written and flushed before the next line is read."""
    read = [0]
    lines = [json.dumps({"id": i, "doc": DOC, "summary": FAITHFUL}) + "\n" for i in range(5)]

    def counting(name: str, *args: object, **kwargs: object) -> object:
        class Lines:
            def __enter__(self) -> Lines:
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def __iter__(self):  # type: ignore[no-untyped-def]
                for line in lines:
                    read[0] += 1
                    yield line

        return Lines()

    monkeypatch.setattr("builtins.open", counting)
    out = _Recorder(read)
    assert verify_jsonl("pairs.jsonl", out) == 5
    assert out.at_flush == [1, 2, 3, 4, 5]
    assert len(out.getvalue().splitlines()) == 5


def test_jsonl_streams_through_a_pipe(tmp_path: Path) -> None:
    """A real process: the first verdict arrives while the input is still open."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "briefing", "verify", "--jsonl", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps({"id": "first", "doc": DOC, "summary": FAITHFUL}) + "\n")
    proc.stdin.flush()
    started = time.monotonic()
    first = proc.stdout.readline()  # blocks until written: the input is not closed yet
    assert json.loads(first)["id"] == "first" and time.monotonic() - started < 30
    proc.stdin.write(json.dumps({"id": "second", "doc": DOC, "summary": INVENTED}) + "\n")
    proc.stdin.close()
    rest = proc.stdout.read()
    assert proc.wait(timeout=30) == 0
    assert json.loads(rest)["id"] == "second"
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()
