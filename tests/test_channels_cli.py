"""`briefing send` with mail recipients and channels, as real processes: twice on the
same day, and killed with SIGKILL mid-delivery; plus the dry run and the output's secrecy."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from briefing_samples import sample_briefing
from channel_support import CANARIES, HMAC_SECRET, HOOK_PATH_TOKEN, Receiver, receiver
from click.testing import CliRunner
from smtp_support import Server, smtp_server

from briefing.cli import cli

RECIPIENTS = ("alice@example.com", "bob@example.com")


@pytest.fixture
def smtp() -> Iterator[Server]:
    with smtp_server() as srv:
        yield srv


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
def ntfy() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
def brief_json(tmp_path: Path) -> Path:
    path = tmp_path / "brief.json"
    path.write_text(sample_briefing().model_dump_json(), encoding="utf-8")
    return path


def write_config(tmp_path: Path, smtp: Server | None) -> Path:
    server = f'host = "{smtp.host}"\nport = {smtp.port}\nsecurity = "none"\n' if smtp else ""
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'ledger = "{tmp_path / "ledger.sqlite3"}"\n'
        f'[smtp]\n{server}from = "brief@example.com"\nbackoff = 0\ntimeout = 5\n'
        "[channels]\nattempts = 2\nbackoff = 0\ntimeout = 10\n"
        "[profiles.morning]\n"
        f"recipients = {list(RECIPIENTS)!r}\n".replace("'", '"')
        + 'formats = ["html"]\ntimezone = "Europe/Berlin"\n'
        'channels = [{ url = "env:BRIEFING_HOOK_URL", secret = "env:BRIEFING_HOOK_SECRET" }, '
        '"env:BRIEFING_NTFY_URL"]\n',
        encoding="utf-8",
    )
    return cfg


def environment(hooks: Receiver, ntfy: Receiver) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
    env.update(
        BRIEFING_HOOK_URL=f"json://{hooks.base}/{HOOK_PATH_TOKEN}",
        BRIEFING_HOOK_SECRET=HMAC_SECRET,
        BRIEFING_NTFY_URL=f"ntfy://{ntfy.base}/morning",
    )
    return env


def send(cfg: Path, brief: Path, env: dict[str, str], *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "briefing", "send", "--profile", "morning",
        "--config", str(cfg), "--brief", str(brief), *extra,
    ]  # fmt: skip


def counts(smtp: Server, hooks: Receiver, ntfy: Receiver) -> dict[str, int]:
    out = {a: len(smtp.handler.to(a)) for a in RECIPIENTS}
    out["webhook"] = len(hooks.received)
    out["ntfy"] = len(ntfy.received)
    return out


ONCE = {"alice@example.com": 1, "bob@example.com": 1, "webhook": 1, "ntfy": 1}


def test_send_twice_the_same_day_delivers_once_everywhere(
    tmp_path: Path, smtp: Server, hooks: Receiver, ntfy: Receiver, brief_json: Path
) -> None:
    cfg, env = write_config(tmp_path, smtp), environment(hooks, ntfy)
    first = subprocess.run(send(cfg, brief_json, env), env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "env:BRIEFING_HOOK_URL (json): sent (200 OK)" in first.stderr
    assert "env:BRIEFING_NTFY_URL (ntfy): sent (200 OK)" in first.stderr
    second = subprocess.run(send(cfg, brief_json, env), env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert second.stderr.count("skipped (already sent this brief") == 4
    assert counts(smtp, hooks, ntfy) == ONCE
    for text in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert not any(c in text for c in CANARIES)


def test_sigkill_mid_delivery_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, smtp: Server, hooks: Receiver, ntfy: Receiver, brief_json: Path
) -> None:
    """The run is killed while the webhook holds its answer (the request went out):
    the rerun sends what was not sent (ntfy) and does not resend what may have arrived."""
    cfg, env = write_config(tmp_path, smtp), environment(hooks, ntfy)
    hold = threading.Event()
    hooks.script.hold["/"] = hold
    process = subprocess.Popen(
        send(cfg, brief_json, env), env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        hooks.wait_for("/", 1)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        hold.set()
    assert process.returncode == -signal.SIGKILL
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        rows = dict(db.execute("SELECT recipient, status FROM deliveries").fetchall())
    assert rows == {
        "alice@example.com": "sent",
        "bob@example.com": "sent",
        "channel:env:BRIEFING_HOOK_URL": "sending",
    }
    assert len(ntfy.received) == 0
    rerun = subprocess.run(send(cfg, brief_json, env), env=env, capture_output=True, text=True)
    assert rerun.returncode == 10, rerun.stderr  # the webhook's fate is unknown
    assert "env:BRIEFING_HOOK_URL (json): unknown (a run that began sending" in rerun.stderr
    assert "env:BRIEFING_NTFY_URL (ntfy): sent" in rerun.stderr
    assert counts(smtp, hooks, ntfy) == ONCE
    third = subprocess.run(send(cfg, brief_json, env), env=env, capture_output=True, text=True)
    assert third.returncode == 10 and counts(smtp, hooks, ntfy) == ONCE


def test_send_dry_run_writes_each_channel_and_the_mail(
    tmp_path: Path, brief_json: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write_config(tmp_path, None)
    monkeypatch.setenv("BRIEFING_NTFY_URL", "ntfy://ntfy.example.com/morning")
    out = tmp_path / "dry"
    args = ["send", "--profile", "morning", "--config", str(cfg), "--brief", str(brief_json)]
    result = CliRunner().invoke(cli, [*args, "--dry-run", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "brief-2026-11-24-morning.channel-1-channel.json",
        "brief-2026-11-24-morning.channel-2-ntfy.txt",
        "brief-2026-11-24-morning.eml",
    ]
    assert result.stderr.count("(dry run: nothing sent)") == 3
    assert "env:BRIEFING_NTFY_URL (ntfy): dry-run (1 part in" in result.stderr
    assert not (tmp_path / "ledger.sqlite3").exists()
