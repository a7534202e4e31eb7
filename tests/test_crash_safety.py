"""Crash safety of a real `briefing brief` process against the fault server: SIGKILL
mid-run resumes from the cache, outputs are never half-written, SIGINT/SIGTERM stop
cleanly saying what was kept, and --deadline bounds the run."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_server import FaultServer

from briefing.errors import ExitCode

N_ARTICLES = 10
WORDS = [
    "harbour",
    "tariff",
    "drought",
    "council",
    "vaccine",
    "railway",
    "senate",
    "lithium",
    "ferry",
    "monsoon",
    "refinery",
    "election",
    "pipeline",
    "glacier",
    "textile",
    "satellite",
    "wheat",
    "copper",
    "tunnel",
    "orchard",
]


def write_articles(directory: Path, n: int = N_ARTICLES) -> None:
    """``n`` short, clearly different articles (no two are near-duplicates)."""
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        a, b = WORDS[i % len(WORDS)], WORDS[(i * 7 + 3) % len(WORDS)]
        body = " ".join(
            f"Officials in district {i} said the {a} plan number {i * 13 + k} would change "
            f"how the {b} office works from week {k + i}."
            for k in range(4)
        )
        (directory / f"story{i:02d}.txt").write_text(
            f"Story {i}: the {a} and the {b}\n\n{body}\n", encoding="utf-8"
        )


def command(inputs: Path, out: Path, cache: Path, server: FaultServer, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "briefing",
        "brief",
        str(inputs),
        "--base-url",
        server.url,
        "--model",
        "fault-model",
        "--cache-dir",
        str(cache),
        "--out",
        str(out / "brief.md"),
        "--json",
        str(out / "brief.json"),
        "--no-synthesis",
        "--concurrency",
        "2",
        *extra,
    ]


def cached(cache: Path) -> int:
    path = cache / "cache.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM summaries").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def wait_for_cached(cache: Path, at_least: int, process: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        n = cached(cache)
        if n >= at_least:
            return n
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"the run ended early ({process.returncode}): {err[-2000:]}")
        time.sleep(0.02)
    process.kill()
    pytest.fail("the run made no progress")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    inputs, out, cache = tmp_path / "in", tmp_path / "out", tmp_path / "cache"
    write_articles(inputs)
    out.mkdir()
    (out / "brief.md").write_text("yesterday's brief\n", encoding="utf-8")
    return inputs, out, cache


def test_sigkill_mid_run_leaves_old_outputs_and_the_rerun_redoes_only_the_rest(
    setup: tuple[Path, Path, Path],
) -> None:
    inputs, out, cache = setup
    with FaultServer(latency=0.2) as server:
        process = subprocess.Popen(
            command(inputs, out, cache, server), stderr=subprocess.PIPE, text=True
        )
        wait_for_cached(cache, 3, process)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL
        kept = cached(cache)
        assert 3 <= kept < N_ARTICLES
        # the old brief is intact and no temporary file is left beside it
        assert (out / "brief.md").read_text(encoding="utf-8") == "yesterday's brief\n"
        assert sorted(p.name for p in out.iterdir()) == ["brief.md"]
        before = server.count(fault=None)
        server.latency = 0.0
        rerun = subprocess.run(
            command(inputs, out, cache, server), capture_output=True, text=True, timeout=120
        )
        assert rerun.returncode == 0, rerun.stderr
        assert server.count(fault=None) - before == N_ARTICLES - kept  # only the missing ones
    brief = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    assert brief["run"]["cache_hits"] == kept
    assert brief["run"]["calls"] == N_ARTICLES - kept
    assert "Story 0" in (out / "brief.md").read_text(encoding="utf-8")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_cleanly_and_says_what_was_kept(
    setup: tuple[Path, Path, Path], signum: int
) -> None:
    inputs, out, cache = setup
    with FaultServer(latency=0.3) as server:
        # two at a time (0.3 s each): the run is surely mid-way when the signal lands
        run = command(inputs, out, cache, server, "--concurrency", "2")
        # a test runner started in the background inherits SIGINT ignored (as a shell's
        # background job does), and so would the CLI: give it the terminal's default
        process = subprocess.Popen(
            run, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint
        )
        wait_for_cached(cache, 2, process)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    assert process.returncode == ExitCode.INTERRUPTED
    kept = cached(cache)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("briefing: error: interrupted: ")
    assert f"{kept} of {N_ARTICLES} articles summarized" in lines[-1]
    assert "kept in the cache" in lines[-1] and "No brief was written." in lines[-1]
    assert "Traceback" not in err
    assert (out / "brief.md").read_text(encoding="utf-8") == "yesterday's brief\n"
    assert sorted(p.name for p in out.iterdir()) == ["brief.md"]


def test_deadline_bounds_a_run_with_a_stalled_call(setup: tuple[Path, Path, Path]) -> None:
    inputs, out, cache = setup
    with FaultServer(force="stall", force_match="Story 3", stall_seconds=60) as server:
        started = time.monotonic()
        result = subprocess.run(
            command(inputs, out, cache, server, "--deadline", "3", "--timeout", "50"),
            capture_output=True,
            text=True,
            timeout=50,
        )
        elapsed = time.monotonic() - started
    assert result.returncode == ExitCode.PARTIAL, result.stderr
    assert elapsed < 50  # the stall (60 s) and the read timeout (50 s) were cut short
    brief = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    summaries = [s for sec in brief["sections"] for st in sec["stories"] for s in st["summaries"]]
    summaries += brief["failed"]
    by_title = {s["title"].split(":")[0]: s for s in summaries}
    assert set(by_title) == {f"Story {i}" for i in range(N_ARTICLES)}  # nothing dropped
    stalled = by_title["Story 3"]
    assert "--deadline of 3 s passed while the model was answering" in stalled["error"]
    assert all(by_title[f"Story {i}"]["error"] is None for i in range(N_ARTICLES) if i != 3)
    assert "Story 3" in (out / "brief.md").read_text(encoding="utf-8")
