"""`briefing send`, `briefing schedule` and `brief --profile` through Click's CliRunner."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator, Sequence
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from briefing_samples import sample_briefing
from click.testing import CliRunner, Result
from smtp_support import CANARY_PASSWORD, USER, Server, self_signed, server_context, smtp_server

import briefing.cli
import briefing.llm
from briefing.cli import cli
from briefing.llm.base import Message
from briefing.llm.fake import FakeLLM

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "tests" / "data" / "short_article.txt"


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ledger's default place, inside the test's tmp dir."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def server() -> Iterator[Server]:
    with smtp_server() as srv:
        yield srv


@pytest.fixture
def brief_json(tmp_path: Path) -> Path:
    path = tmp_path / "brief.json"
    path.write_text(sample_briefing().model_dump_json(), encoding="utf-8")
    return path


def config(
    tmp_path: Path,
    srv: Server | None,
    *,
    recipients: str = '["alice@example.com", "bob@example.com"]',
    extra_smtp: str = "",
    extra_profile: str = "",
) -> Path:
    smtp = f'host = "{srv.host}"\nport = {srv.port}\nsecurity = "none"\n' if srv else ""
    text = (
        f'[smtp]\n{smtp}from = "Morning Brief <brief@example.com>"\nbackoff = 0\ntimeout = 5\n'
        f"{extra_smtp}\n"
        f'[profiles.morning]\nrecipients = {recipients}\nformats = ["html"]\n'
        f'timezone = "Europe/Berlin"\n{extra_profile}\n'
    )
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def summary_reply() -> dict[str, Any]:
    return {
        "headline": "Iraq works to stay out of the Israel-Iran war",
        "summary": "Iraq is trying to stay out of the conflict. Analysts warn of a spillover.",
        "key_points": [{"text": "Iraq balances ties with Iran and the US.", "sentence_ids": [1]}],
        "region": "Middle East & North Africa",
        "countries": ["Iraq"],
        "people": ["Sajad Jiyad"],
        "organizations": [],
        "quotes": [],
        "figures": [],
        "topic": "conflict",
        "importance": 4,
    }


def summary_or_synthesis(messages: Sequence[Message]) -> str:
    """A summary, or a region's paragraph when the prompt asks for one."""
    if "<stories>" in messages[-1].content:
        return json.dumps({"paragraph": "Iraq is caught between its neighbours."})
    return json.dumps(summary_reply())


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeLLM:
    llm = FakeLLM().enqueue(*[summary_or_synthesis] * 6)
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    return llm


# --------------------------------------------------------------------------- send


def test_send_mails_a_prebuilt_brief_then_never_twice(
    tmp_path: Path, server: Server, brief_json: Path, state_home: Path
) -> None:
    cfg = config(tmp_path, server)
    result = invoke("send", "--profile", "morning", "--config", cfg, "--brief", brief_json)
    assert result.exit_code == 0, result.output
    assert "briefing: alice@example.com: sent (250" in result.stderr
    assert "briefing: bob@example.com: sent (250" in result.stderr
    assert [r.rcpt_tos for r in server.handler.received] == [
        ["alice@example.com"],
        ["bob@example.com"],
    ]
    msg = server.handler.received[0].message
    assert msg["Subject"] == "Morning brief — Tue 24 Nov 2026"
    assert (state_home / "briefing" / "deliveries.sqlite3").exists()

    again = invoke("send", "--profile", "morning", "--config", cfg, "--brief", brief_json)
    assert again.exit_code == 0
    assert "alice@example.com: skipped (already sent" in again.stderr
    assert len(server.handler.received) == 2

    forced = invoke(
        "send", "--profile", "morning", "--config", cfg, "--brief", brief_json, "--force"
    )
    assert forced.exit_code == 0
    assert len(server.handler.received) == 4


def test_send_exit_codes_partial_and_none(tmp_path: Path, server: Server, brief_json: Path) -> None:
    server.handler.refuse["bob@example.com"] = "550 5.1.1 no such user"
    cfg = config(tmp_path, server)
    result = invoke("send", "--profile", "morning", "--config", cfg, "--brief", brief_json)
    assert result.exit_code == 10
    assert "bob@example.com: failed (permanent: 550 5.1.1 no such user" in result.stderr
    assert "alice@example.com: sent" in result.stderr

    server.handler.refuse["carol@example.com"] = "550 5.1.1 no such user"
    cfg = config(tmp_path, server, recipients='["carol@example.com"]')
    result = invoke("send", "--profile", "morning", "--config", cfg, "--brief", brief_json)
    assert result.exit_code == 7


def test_send_dry_run_needs_no_server(tmp_path: Path, brief_json: Path) -> None:
    cfg = config(tmp_path, None)
    out = tmp_path / "eml"
    result = invoke(
        "send", "--profile", "morning", "--config", cfg, "--brief", brief_json, "--dry-run", out
    )
    assert result.exit_code == 0, result.output
    eml = out / "brief-2026-11-24-morning.eml"
    assert eml.exists() and "Subject: Morning brief" in eml.read_text()
    assert "dry run: nothing sent" in result.stderr


def test_send_builds_the_brief_from_the_profile_sources(
    tmp_path: Path, fake_model: FakeLLM
) -> None:
    cfg = config(tmp_path, None, extra_profile=f'sources = ["{ARTICLE}"]')
    result = invoke(
        "send",
        "--profile",
        "morning",
        "--config",
        cfg,
        "--dry-run",
        tmp_path,
        "--date",
        "2026-11-24",
    )
    assert result.exit_code == 0, result.output
    msg = message_from_bytes(
        (tmp_path / "brief-2026-11-24-morning.eml").read_bytes(), policy=default
    )
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(("plain",))
    assert body is not None and "Iraq treads a tightrope" in body.get_content()
    assert len(fake_model.calls) >= 1


def test_send_reuses_the_run_cache_and_takes_run_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 6 a.m. send is the run that matters: a rerun after a failed delivery costs no
    model call (summaries and the regions' synthesis come from the cache), and
    --deadline / --max-cost / --concurrency apply to it too."""

    def reply(messages: Sequence[Message]) -> str:
        if "<stories>" in messages[-1].content:
            return json.dumps({"paragraph": "Iraq is caught between its neighbours."})
        return json.dumps(summary_reply())

    llm = FakeLLM().enqueue(*[reply] * 10)
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    cfg = config(tmp_path, None, extra_profile=f'sources = ["{ARTICLE}"]')
    args = ["send", "--profile", "morning", "--config", cfg, "--dry-run", tmp_path]
    args += ["--date", "2026-11-24", "--deadline", "600", "--concurrency", "2"]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    prompts = [m[-1].content for m in llm.calls]
    assert any("<stories>" in p for p in prompts)  # a synthesis was asked for
    assert any("<article>" in p for p in prompts)
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert len(llm.calls) == len(prompts)  # nothing asked again


def test_bad_config_is_one_line_and_exit_3(tmp_path: Path, brief_json: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[profiles.morning]\nsend_time = "25:00"\n')
    result = invoke("send", "--profile", "morning", "--config", cfg, "--brief", brief_json)
    assert result.exit_code == 3
    assert result.stderr.strip().endswith(
        "config.toml: profiles.morning.send_time: expected HH:MM, got '25:00'"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_password_appears_nowhere(
    tmp_path: Path,
    brief_json: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    state_home: Path,
) -> None:
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = made
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("BRIEFING_SMTP_USER", USER)
    monkeypatch.setenv("BRIEFING_SMTP_PASSWORD", CANARY_PASSWORD)
    with smtp_server(auth=True, starttls=server_context(cert, key)) as srv:
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f'[smtp]\nhost = "{srv.host}"\nport = {srv.port}\nca_file = "{cert}"\n'
            'from = "brief@example.com"\nbackoff = 0\n'
            '[profiles.morning]\nrecipients = ["alice@example.com"]\nformats = ["html"]\n'
        )
        args: list[str | Path] = [
            "send",
            "--profile",
            "morning",
            "--config",
            cfg,
            "--brief",
            brief_json,
            "-vv",
        ]
        result = invoke(*args)
        dry = invoke(*args, "--dry-run", tmp_path / "eml")
    assert result.exit_code == 0, result.output
    assert srv.handler.logins == [(USER, CANARY_PASSWORD)]
    places = {
        "stdout+stderr": result.output + dry.output,
        "log": caplog.text,
        "eml": (tmp_path / "eml" / "brief-2026-11-24-morning.eml").read_text(),
        "ledger": (state_home / "briefing" / "deliveries.sqlite3").read_bytes().decode("latin-1"),
        "message": srv.handler.received[0].data.decode(),
    }
    for where, text in places.items():
        assert CANARY_PASSWORD not in text, where


def test_the_password_is_not_a_command_line_option() -> None:
    result = invoke("send", "--help")
    assert "--password" not in result.output and "BRIEFING_SMTP_PASSWORD" in result.output


# --------------------------------------------------------------------------- schedule


def test_schedule_prints_cron_and_systemd(tmp_path: Path) -> None:
    cfg = config(tmp_path, None)
    cron = invoke("schedule", "--profile", "morning", "--config", cfg, "--print-cron")
    assert cron.exit_code == 0
    assert "CRON_TZ=Europe/Berlin" in cron.output
    assert f"send --profile morning --config {cfg.resolve()}" in cron.output
    units = invoke("schedule", "--profile", "morning", "--config", cfg, "--print-systemd")
    assert units.exit_code == 0
    assert "OnCalendar=*-*-* 06:30:00 Europe/Berlin" in units.output
    assert "[Service]" in units.output and "[Timer]" in units.output


def test_schedule_fires_and_mails(tmp_path: Path, server: Server, brief_json: Path) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.5)
    soon = soon.replace(microsecond=0) + dt.timedelta(seconds=1)
    cfg = config(
        tmp_path,
        server,
        recipients='["alice@example.com"]',
        extra_profile=f'send_time = "{soon:%H:%M:%S}"\n',
    )
    cfg.write_text(cfg.read_text().replace('timezone = "Europe/Berlin"', 'timezone = "UTC"'))
    result = invoke(
        "schedule",
        "--profile",
        "morning",
        "--config",
        cfg,
        "--brief",
        brief_json,
        "--max-runs",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert len(server.handler.to("alice@example.com")) == 1
    assert "profile 'morning': run started" in result.stderr
    assert "alice@example.com: sent" in result.stderr
    assert "run finished: 1 sent" in result.stderr


# --------------------------------------------------------------------------- brief --profile


def test_brief_with_a_profile_takes_sources_regions_and_formats(
    tmp_path: Path, fake_model: FakeLLM
) -> None:
    cfg = config(
        tmp_path,
        None,
        extra_profile=(
            f'sources = ["{ARTICLE}"]\nregions = ["Middle East & North Africa"]\n'
            'output_dir = "out"\ntitle = "Levant desk"\n'
        ),
    )
    cfg.write_text(cfg.read_text().replace('formats = ["html"]', 'formats = ["md", "json"]'))
    result = invoke("brief", "--profile", "morning", "--config", cfg, "--date", "2026-11-24")
    assert result.exit_code == 0, result.output
    md = tmp_path / "out" / "brief-2026-11-24.md"
    assert md.exists() and (tmp_path / "out" / "brief-2026-11-24.json").exists()
    assert "Levant desk" in md.read_text() and "Iraq treads a tightrope" in md.read_text()
    assert result.stdout == ""  # written to the profile's directory, not printed


def test_brief_profile_regions_filter(tmp_path: Path, fake_model: FakeLLM) -> None:
    cfg = config(tmp_path, None, extra_profile=f'sources = ["{ARTICLE}"]\nregions = ["Europe"]\n')
    result = invoke("brief", "--profile", "morning", "--config", cfg)
    assert result.exit_code == 0, result.output
    assert "# Morning brief" in result.stdout
    assert "Iraq treads a tightrope" not in result.stdout


def test_brief_without_inputs_or_profile_is_a_usage_error() -> None:
    result = invoke("brief")
    assert result.exit_code == 2 and "--profile" in result.output
