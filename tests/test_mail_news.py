"""The mail of a compared brief says what is new (subject and top of the brief), and a
profile can send nothing on a day with nothing new (issue 16, second slice)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from briefing_samples import sample_briefing
from click.testing import CliRunner, Result
from smtp_support import Server, smtp_server

from briefing.cli import cli
from briefing.deliver.email import news_line, nothing_new, subject_for
from briefing.models import Briefing, ContinuityReport


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def server() -> Iterator[Server]:
    with smtp_server() as srv:
        yield srv


def compared(new: int, updates: int, repeats: int = 3) -> Briefing:
    brief = sample_briefing()
    brief.continuity = ContinuityReport(new=new, updates=updates, repeats=repeats)
    return brief


def write(tmp_path: Path, brief: Briefing, srv: Server, *, skip: bool) -> tuple[Path, Path]:
    path = tmp_path / "brief.json"
    path.write_text(brief.model_dump_json(), encoding="utf-8")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[smtp]\nhost = "{srv.host}"\nport = {srv.port}\nsecurity = "none"\n'
        'from = "Morning Brief <brief@example.com>"\nbackoff = 0\ntimeout = 5\n\n'
        '[profiles.morning]\nrecipients = ["alice@example.com"]\nformats = ["html"]\n'
        f"skip_if_nothing_new = {'true' if skip else 'false'}\n",
        encoding="utf-8",
    )
    return cfg, path


def send(cfg: Path, brief: Path) -> Result:
    return CliRunner().invoke(
        cli,
        ["send", "--profile", "morning", "--config", str(cfg), "--brief", str(brief)],
        catch_exceptions=False,
    )


def test_the_subject_carries_the_new_and_updated_counts() -> None:
    assert subject_for(sample_briefing()) == "Morning brief — Tue 24 Nov 2026"  # not compared
    assert subject_for(compared(2, 1)) == "Morning brief — Tue 24 Nov 2026 · 2 new, 1 update"
    assert subject_for(compared(0, 3), "Desk") == "Desk — Tue 24 Nov 2026 · 0 new, 3 updates"
    assert subject_for(compared(0, 0)) == "Morning brief — Tue 24 Nov 2026 · nothing new"
    assert news_line(sample_briefing()) == "" and not nothing_new(sample_briefing())
    assert nothing_new(compared(0, 0, repeats=5)) and not nothing_new(compared(1, 0))


def test_a_day_with_news_is_mailed_with_the_counts_on_top(tmp_path: Path, server: Server) -> None:
    cfg, brief = write(tmp_path, compared(2, 1), server, skip=True)
    result = send(cfg, brief)
    assert result.exit_code == 0, result.output
    [received] = server.handler.received
    msg = received.message
    assert msg["Subject"] == "Morning brief — Tue 24 Nov 2026 · 2 new, 1 update"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert "2 new, 1 update, 3 still developing" in "\n".join(text.get_content().splitlines()[:4])
    top = html.get_content().split('<nav class="toc', 1)[0]
    assert '<span class="continuity">2 new, 1 update, 3 still developing</span>' in top


def test_skip_if_nothing_new_sends_and_records_nothing(
    tmp_path: Path, server: Server, state_home: Path
) -> None:
    cfg, brief = write(tmp_path, compared(0, 0, repeats=6), server, skip=True)
    result = send(cfg, brief)
    assert result.exit_code == 0, result.output
    assert "nothing new on 2026-11-24" in result.stderr
    assert "skip_if_nothing_new" in result.stderr and "nothing sent" in result.stderr
    assert server.handler.received == []
    assert not (state_home / "briefing" / "deliveries.sqlite3").exists()  # no ledger row

    # without the option the same day is mailed, and says so in the subject
    cfg, brief = write(tmp_path, compared(0, 0, repeats=6), server, skip=False)
    result = send(cfg, brief)
    assert result.exit_code == 0, result.output
    [received] = server.handler.received
    assert received.message["Subject"].endswith("· nothing new")


def test_a_brief_never_compared_is_always_sent(tmp_path: Path, server: Server) -> None:
    cfg, brief = write(tmp_path, sample_briefing(), server, skip=True)
    assert send(cfg, brief).exit_code == 0
    assert len(server.handler.received) == 1
