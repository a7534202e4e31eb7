"""The ``verify`` command: check anyone's summary against its source (``briefing.cli`` adds it).

A few lines over :func:`briefing.grounding.verify_summary`, the checker the brief uses.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import click

from briefing.cli_options import handle_errors
from briefing.errors import InputError

VERIFY_HELP = """Check a summary against its source, claim by claim (each sentence a claim).

\b
  briefing verify SUMMARY_FILE --source SOURCE_FILE [--json]
  briefing verify --jsonl PAIRS.jsonl        (or - for standard input)

A claim is SUPPORTED when every exact check passes (no name, number or negation
the source lacks; not instruction-like text) and its calibrated score reaches the
threshold; its EVIDENCE is the two source sentences that match it best. A summary
is FAITHFUL when every claim is supported. SCORE (0..1, higher = better supported)
is the probability from the scorer trained on human-labelled summaries; a claim
failing an exact check scores 0; a summary's score is its weakest claim's.

With --jsonl each line is {"id": ..., "doc": "...", "summary": "..."} (id
optional: the line number stands in) and one JSON line is written per pair, as
soon as it is checked: {"id", "faithful", "score", "claims": [{"text",
"supported", "score", "evidence": [{"id", "text"}], "reason"}]}. Lines that are
not such objects are reported on stderr by line number and skipped.

\b
Exit codes: 0 the pairs were checked, whatever the verdicts (with --jsonl: at
least one line was; bad lines are reported on stderr); 2 bad usage; 4 input
(a file missing or unreadable, or no line of --jsonl usable: every line bad, or
none); 1 internal error (a bug)."""


@click.command("verify", help=VERIFY_HELP, short_help="Check a summary against its source.")
@click.argument("summary_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--source",
    "source_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The source document (plain text) SUMMARY_FILE summarizes.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the pair's verdict as JSON.")
@click.option(
    "--jsonl",
    "jsonl_file",
    metavar="PAIRS.jsonl",
    help='Check many pairs: one {"id", "doc", "summary"} object a line ("-": stdin).',
)
@handle_errors
def verify(
    summary_file: Path | None, source_file: Path | None, as_json: bool, jsonl_file: str | None
) -> None:
    if jsonl_file is not None:
        if summary_file is not None or source_file is not None or as_json:
            raise click.UsageError("--jsonl takes no SUMMARY_FILE, --source or --json.")
        checked = verify_jsonl(jsonl_file, sys.stdout)
        if not checked:
            raise InputError(f"no usable line in {jsonl_file}: nothing was checked")
        return
    if summary_file is None or source_file is None:
        raise click.UsageError("give SUMMARY_FILE and --source SOURCE_FILE, or --jsonl FILE.")
    from briefing.grounding import verify_summary

    verdict = verify_summary(_read(source_file), _read(summary_file))
    if as_json:
        click.echo(json.dumps(verdict.to_json(summary_file.name), ensure_ascii=False))
        return
    for claim in verdict.claims:
        mark = "supported" if claim.supported else "UNSUPPORTED"
        score = "-" if claim.score is None else f"{claim.score:.2f}"
        click.echo(f"[{mark} {score}] {claim.text}")
        if claim.reason:
            click.echo(f"    reason: {claim.reason}")
        for sid in claim.ids:
            if sid in verdict.source.evidence:
                click.echo(f"    evidence {sid}: {verdict.source.evidence[sid].text}")
    verdict_word = "faithful" if verdict.faithful else "NOT faithful"
    supported = sum(c.supported for c in verdict.claims)
    click.echo(
        f"{verdict_word}: {supported} of {len(verdict.claims)} claims supported "
        f"(score {verdict.score:.2f})"
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from e


def verify_jsonl(name: str, out: IO[str]) -> int:
    """Check each pair of the JSON-lines file ``name`` ("-": stdin), writing one verdict line
    to ``out`` per pair as it is done; bad lines go to stderr. The number checked."""
    from briefing.grounding import verify_summary

    checked = 0
    for number, pair in _pairs(name):
        if isinstance(pair, str):
            click.echo(f"briefing: {name}: line {number}: {pair}; skipped", err=True)
            continue
        pair_id, doc, summary = pair
        verdict = verify_summary(doc, summary)
        out.write(json.dumps(verdict.to_json(pair_id), ensure_ascii=False) + "\n")
        out.flush()
        checked += 1
    return checked


def _pairs(name: str) -> Iterator[tuple[int, tuple[Any, str, str] | str]]:
    """(line number, (id, doc, summary) or why the line is unusable), blank lines skipped."""
    if name == "-":
        yield from _parse(sys.stdin)
        return
    try:
        f = open(name, encoding="utf-8", errors="replace")  # noqa: SIM115 - closed below
    except OSError as e:
        raise InputError(f"cannot read {name}: {e.strerror or e}") from e
    with f:
        yield from _parse(f)


def _parse(lines: Iterable[str]) -> Iterator[tuple[int, tuple[Any, str, str] | str]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            yield number, f"not JSON ({e.msg})"
            continue
        if not isinstance(data, dict):
            yield number, "not a JSON object"
            continue
        missing = [k for k in ("doc", "summary") if not isinstance(data.get(k), str)]
        if missing:
            yield number, f"no {' or '.join(missing)} string"
            continue
        yield number, (data.get("id", number), data["doc"], data["summary"])


__all__ = ["verify", "verify_jsonl"]
