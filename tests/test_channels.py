"""Channel delivery (Slack, Telegram, ntfy, webhooks...) over real HTTP on loopback:
the compact message and its splitting, the ledger's at-most-once, retries, redaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import logging
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from briefing_samples import HOSTILE_TITLE, hostile_briefing, sample_briefing
from channel_support import (
    CANARIES,
    HMAC_SECRET,
    HOOK_PATH_TOKEN,
    NTFY_TOKEN,
    SLACK_TOKENS,
    TG_TOKEN,
    Receiver,
    receiver,
)

from briefing.config import ChannelOptions, Config, Profile, WebhookChannel
from briefing.deliver.channel_messages import Line, compact_lines, render_lines, split_message
from briefing.deliver.channels import (
    Channel,
    deliver_channels,
    plan_channels,
    redact,
    resolve_channels,
    sign,
)
from briefing.deliver.email import DeliveryReport, content_hash, deliver_profile
from briefing.deliver.ledger import DeliveryKey, Ledger
from briefing.errors import ConfigError, ExitCode
from briefing.models import Briefing, Section, Story

FAST = ChannelOptions(attempts=3, backoff=0, timeout=5)


def plugin_class(module: str, name: str) -> Any:
    """An Apprise plugin class (its modules import deprecated stdlib modules)."""
    import importlib
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(importlib.import_module(f"apprise.plugins.{module}"), name)


@pytest.fixture(autouse=True)
def no_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apprise waits between requests to one service (ntfy: 5.5 s); not in tests."""
    monkeypatch.setattr(plugin_class("base", "NotifyBase"), "request_rate_per_sec", 0)
    for module, name in (("ntfy", "NotifyNtfy"), ("slack", "NotifySlack")):
        monkeypatch.setattr(plugin_class(module, name), "request_rate_per_sec", 0)


@pytest.fixture
def rec() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
def fake_telegram(monkeypatch: pytest.MonkeyPatch, rec: Receiver) -> Receiver:
    telegram = plugin_class("telegram", "NotifyTelegram")
    monkeypatch.setattr(telegram, "notify_url", f"http://{rec.base}/bot")
    return rec


@pytest.fixture
def fake_slack(monkeypatch: pytest.MonkeyPatch, rec: Receiver) -> Receiver:
    slack = plugin_class("slack", "NotifySlack")
    monkeypatch.setattr(slack, "webhook_url", f"http://{rec.base}/services")
    rec.script.ok_body["/services"] = b"ok"
    return rec


def big_briefing(n: int = 90) -> Briefing:
    """Many stories with long headlines: too long for one Telegram or Slack message."""
    brief = sample_briefing()
    template = brief.sections[0].stories[0]
    sections = []
    for s, section in enumerate(brief.sections):
        stories = [
            template.model_copy(
                update={
                    "id": f"s{s}-{i}",
                    "headline": f"Story {s}-{i:02d}: " + "long headline words " * 4,
                    "region": section.region,
                }
            )
            for i in range(n // len(brief.sections))
        ]
        sections.append(Section(region=section.region, stories=stories))
    return brief.model_copy(update={"sections": sections, "top_stories": []})


def headlines(text: str) -> list[str]:
    return re.findall(r"Story \d+-\d\d", text)


def expected_headlines(briefing: Briefing) -> list[str]:
    return [h for s in briefing.sections for st in s.stories for h in headlines(st.headline)]


def run(
    briefing: Briefing,
    channels: list[Channel],
    ledger: Ledger,
    *,
    options: ChannelOptions = FAST,
    **kwargs: Any,
) -> dict[str, Any]:
    plans = plan_channels(briefing, channels, title="Morning brief — Tue 24 Nov 2026")
    results, _ = deliver_channels(
        briefing,
        plans,
        profile="morning",
        chash=content_hash(briefing),
        options=options,
        ledger=ledger,
        **kwargs,
    )
    return {r.recipient: r for r in results}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "state" / "deliveries.sqlite3") as led:
        yield led


def env_channels(env: dict[str, str], *entries: Any) -> list[Channel]:
    return resolve_channels(list(entries), env, profile="morning")


# --------------------------------------------------------------------------- the message


def test_compact_message_lists_headlines_by_region_with_links_and_counts() -> None:
    brief = sample_briefing()
    lines = compact_lines(brief, brief_url="https://news.example.com/brief-2026-11-24.pdf")
    text = render_lines(lines)
    assert text.startswith(f"**{brief.story_count} stories** in ")
    assert "[Full brief](https://news.example.com/brief-2026-11-24.pdf)" in text
    for section in brief.sections:
        assert f"**{section.region.value}**" in text.replace("\\&", "&")
        for story in section.stories:
            if story.lead.url:
                assert f"]({story.lead.url})" in text
    if brief.failed:
        assert "could not be summarized" in text


def test_compact_message_escapes_markdown_in_headlines() -> None:
    brief = hostile_briefing()
    section = brief.sections[0]
    story = section.stories[0].model_copy(update={"headline": HOSTILE_TITLE + " [x](y) *b*"})
    section = section.model_copy(update={"stories": [story]})
    text = render_lines(compact_lines(brief.model_copy(update={"sections": [section]})))
    assert HOSTILE_TITLE not in text
    assert "\\<script\\>" in text and "\\[x\\](y) \\*b\\*" in text


def test_split_keeps_every_line_in_order_and_under_the_limit() -> None:
    brief = big_briefing()
    lines = compact_lines(brief)
    parts = split_message("Title", lines, limit=1000, measure=lambda t, b: len(b))
    assert len(parts) > 3
    assert all(len(p.body) <= 1000 for p in parts)
    joined = "\n".join(p.body for p in parts)
    assert headlines(joined) == expected_headlines(brief)
    assert [p.title for p in parts][:2] == [f"Title (1/{len(parts)})", f"Title (2/{len(parts)})"]
    assert "(continued)" in joined  # a region cut by a boundary is headed again


def test_split_cuts_a_line_too_long_for_any_part() -> None:
    lines = [Line(None, "short"), Line("Europe", "- " + "x" * 500), Line("Europe", "- after")]
    parts = split_message("T", lines, limit=100, measure=lambda t, b: len(b))
    assert all(len(p.body) <= 100 for p in parts)
    assert parts[1].body.endswith("…") and "after" in parts[-1].body


# --------------------------------------------------------------------------- config, secrets


def test_literal_urls_with_tokens_are_refused_and_the_message_shows_no_token() -> None:
    slack = "slack://{}/{}/{}".format(*SLACK_TOKENS)
    for url in (slack, f"ntfy://user:{NTFY_TOKEN}@127.0.0.1/t", f"https://h/x?token={NTFY_TOKEN}"):
        with pytest.raises(ConfigError) as e:
            resolve_channels([url], {}, profile="morning")
        assert "env:NAME" in str(e.value)
        assert not any(c in str(e.value) for c in CANARIES)


def test_env_channels_need_their_variable_except_in_a_dry_run() -> None:
    with pytest.raises(ConfigError, match="BRIEFING_SLACK_URL is not set: export it"):
        resolve_channels(["env:BRIEFING_SLACK_URL"], {}, profile="morning")
    (dry,) = resolve_channels(["env:BRIEFING_SLACK_URL"], {}, profile="morning", dry_run=True)
    assert dry.url is None and dry.label == "env:BRIEFING_SLACK_URL"
    with pytest.raises(ConfigError, match="HOOK_KEY is not set"):
        resolve_channels(
            [WebhookChannel(url="https://h/x", secret="env:HOOK_KEY")], {}, profile="m"
        )


def test_labels_and_ledger_keys_name_no_secret() -> None:
    env = {
        "TG": f"tgram://{TG_TOKEN}/-100123/",
        "HOOK": f"https://hooks.example.com/{HOOK_PATH_TOKEN}",
    }
    channels = env_channels(env, "env:TG", "env:HOOK", "ntfy://ntfy.example.com/my-topic")
    assert [c.label for c in channels][:2] == ["env:TG (tgram)", "env:HOOK (https)"]
    assert re.fullmatch(r"ntfy://ntfy\.example\.com/… #[0-9a-f]{8}", channels[2].label)
    for c in channels:
        assert not any(x in c.label + c.key + repr(c) for x in (*CANARIES, "my-topic"))
    assert redact(f"POST /bot{TG_TOKEN}/sendMessage failed") == "POST /bot****/sendMessage failed"


def test_the_same_channel_twice_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="listed twice"):
        resolve_channels(["ntfy://h/t", "ntfy://h/t"], {}, profile="m")


def test_a_channel_table_with_a_literal_secret_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    from briefing.config import load_config

    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[profiles.m]\nchannels = [{{ url = "https://h/x", secret = "{HMAC_SECRET}" }}]\n'
    )
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert "secret is never read from the config file" in str(e.value)
    assert HMAC_SECRET not in str(e.value)


# --------------------------------------------------------------------------- over HTTP


def test_ntfy_gets_one_post_per_day_across_reruns(rec: Receiver, ledger: Ledger) -> None:
    brief = sample_briefing()
    channels = env_channels({}, f"ntfy://{rec.base}/morning-brief")
    first = run(brief, channels, ledger)
    assert [r.status for r in first.values()] == ["sent"]
    (post,) = rec.received
    assert post.json()["topic"] == "morning-brief"
    assert post.json()["title"] == "Morning brief — Tue 24 Nov 2026"
    assert "stories** in" in post.json()["message"]
    again = run(brief, channels, ledger)
    assert [r.status for r in again.values()] == ["skipped"]
    assert len(rec.received) == 1
    forced = run(brief, channels, ledger, force=True)
    assert [r.status for r in forced.values()] == ["sent"] and len(rec.received) == 2


def test_telegram_split_arrives_complete_and_in_order(
    fake_telegram: Receiver, ledger: Ledger
) -> None:
    brief = big_briefing(150)
    (channel,) = env_channels({"TG": f"tgram://{TG_TOKEN}/-100123/"}, "env:TG")
    (result,) = run(brief, [channel], ledger).values()
    posts = fake_telegram.to(f"/bot{TG_TOKEN}/sendMessage")
    assert result.status == "sent" and f"{len(posts)} parts" in result.detail
    assert len(posts) >= 3
    texts = [p.json()["text"] for p in posts]
    assert all(len(t) <= 4096 for t in texts)
    assert headlines("\n".join(texts)) == expected_headlines(brief)
    assert texts[0].startswith("*Morning brief — Tue 24 Nov 2026 (1/")
    assert f"({len(posts)}/{len(posts)})" in texts[-1]
    (row,) = ledger.rows()
    assert row.status == "sent" and row.parts_done == len(posts)


def test_slack_split_respects_the_block_text_limit_and_its_dialect(
    fake_slack: Receiver, ledger: Ledger
) -> None:
    brief = big_briefing(60)
    url = "slack://{}/{}/{}/?blocks=yes&footer=no".format(*SLACK_TOKENS)
    (channel,) = env_channels({"SLACK": url}, "env:SLACK")
    (result,) = run(brief, [channel], ledger).values()
    assert result.status == "sent", result.line
    posts = fake_slack.to("/services/")
    assert len(posts) >= 2
    sections = [
        block["text"]["text"]
        for p in posts
        for block in p.json()["attachments"][0]["blocks"]
        if block["type"] == "section"
    ]
    assert len(sections) == len(posts) and all(len(t) <= 3000 for t in sections)
    assert headlines("\n".join(sections)) == expected_headlines(brief)
    assert "<https://" in sections[0] and "](" not in sections[0]  # Slack's <url|label>


def test_a_5xx_is_retried_with_backoff(rec: Receiver, ledger: Ledger) -> None:
    rec.script.statuses["/hook"] = [503, 502]
    (channel,) = env_channels({}, f"json://{rec.base}/hook")
    options = ChannelOptions(attempts=4, backoff=0.1, timeout=5)
    (result,) = run(sample_briefing(), [channel], ledger, options=options).values()
    assert result.status == "sent"
    posts = rec.to("/hook")
    assert len(posts) == 3
    gaps = [b.at - a.at for a, b in itertools.pairwise(posts)]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2  # 0.1 s, then doubled
    assert ledger.rows()[0].attempts == 3


def test_a_5xx_on_a_chat_channel_is_retried_too(rec: Receiver, ledger: Ledger) -> None:
    rec.script.statuses["/"] = [503]
    (channel,) = env_channels({}, f"ntfy://{rec.base}/t")
    (result,) = run(sample_briefing(), [channel], ledger).values()
    assert result.status == "sent" and len(rec.received) == 2


def test_retries_give_up_and_a_rerun_tries_again(rec: Receiver, ledger: Ledger) -> None:
    rec.script.statuses["/hook"] = [500, 500, 500]
    (channel,) = env_channels({}, f"json://{rec.base}/hook")
    (result,) = run(sample_briefing(), [channel], ledger).values()
    assert result.status == "failed" and "after 3 attempts: 500" in result.detail
    (again,) = run(sample_briefing(), [channel], ledger).values()
    assert again.status == "sent" and len(rec.to("/hook")) == 4


def test_a_4xx_fails_that_channel_only(rec: Receiver, ledger: Ledger) -> None:
    rec.script.statuses["/bad"] = [404]
    channels = env_channels({}, f"json://{rec.base}/bad", f"json://{rec.base}/good")
    results = run(sample_briefing(), channels, ledger)
    bad, good = (results[c.label] for c in channels)
    assert bad.status == "failed" and bad.detail.startswith("permanent: 404")
    assert good.status == "sent"
    assert len(rec.to("/bad")) == 1  # a 4xx is not retried
    report = DeliveryReport("", "", list(results.values()))
    assert report.exit_code == ExitCode.PARTIAL


def test_webhook_posts_the_json_brief_signed(rec: Receiver, ledger: Ledger) -> None:
    from briefing.render import render_json

    brief = sample_briefing()
    entry = WebhookChannel(url=f"json://{rec.base}/hook", secret="env:HOOK_SECRET")
    (channel,) = env_channels({"HOOK_SECRET": HMAC_SECRET}, entry)
    (result,) = run(brief, [channel], ledger).values()
    assert result.status == "sent"
    (post,) = rec.received
    assert post.body == render_json(brief).encode()  # exactly `brief --json`
    assert Briefing.model_validate_json(post.body) == brief
    stamp = post.headers["X-Briefing-Timestamp"]
    mac = hmac.new(HMAC_SECRET.encode(), stamp.encode() + b"." + post.body, hashlib.sha256)
    assert post.headers["X-Briefing-Signature-256"] == f"sha256={mac.hexdigest()}"
    assert post.headers["X-Briefing-Signature-256"] == sign(HMAC_SECRET.encode(), stamp, post.body)
    assert post.headers["X-Briefing-Delivery"].startswith("brief.morning.2026-11-24.")
    assert post.headers["Content-Type"] == "application/json"


def test_an_unsigned_webhook_has_no_signature_header(rec: Receiver, ledger: Ledger) -> None:
    (channel,) = env_channels({}, f"json://{rec.base}/hook")
    run(sample_briefing(), [channel], ledger)
    assert "X-Briefing-Signature-256" not in rec.received[0].headers


def test_a_failed_part_resumes_after_the_parts_that_arrived(
    fake_telegram: Receiver, ledger: Ledger
) -> None:
    brief = big_briefing(150)
    fake_telegram.script.statuses["/bot"] = [200, 400]
    (channel,) = env_channels({"TG": f"tgram://{TG_TOKEN}/-100123/"}, "env:TG")
    (first,) = run(brief, [channel], ledger).values()
    assert first.status == "failed" and "part 2 of" in first.detail
    assert ledger.rows()[0].parts_done == 1
    (again,) = run(brief, [channel], ledger).values()
    assert again.status == "sent" and "parts 2-" in again.detail
    texts = [p.json()["text"] for p in fake_telegram.to(f"/bot{TG_TOKEN}/sendMessage")]
    # part 2 twice (refused, then taken), part 1 once: nothing doubled that arrived
    assert headlines("\n".join([texts[0], *texts[2:]])) == expected_headlines(brief)


def test_a_dropped_answer_is_unknown_and_not_resent(rec: Receiver, ledger: Ledger) -> None:
    rec.script.drop.append("/hook")
    (channel,) = env_channels({}, f"json://{rec.base}/hook")
    (first,) = run(sample_briefing(), [channel], ledger).values()
    assert first.status == "unknown" and "--retry-unknown" in first.detail
    (again,) = run(sample_briefing(), [channel], ledger).values()
    assert again.status == "unknown" and len(rec.to("/hook")) == 1
    (retried,) = run(sample_briefing(), [channel], ledger, retry_unknown=True).values()
    assert retried.status == "sent" and len(rec.to("/hook")) == 2
    ids = {r.headers["X-Briefing-Delivery"] for r in rec.to("/hook")}
    assert len(ids) == 1  # the same delivery id: a receiver can drop the copy


def test_a_refused_connection_is_retried_then_failed(ledger: Ledger) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channels = env_channels({}, f"json://127.0.0.1:{port}/hook", f"ntfy://127.0.0.1:{port}/t")
    results = run(sample_briefing(), channels, ledger)
    for r in results.values():
        assert r.status == "failed" and "after 3 attempts: could not connect" in r.detail


# --------------------------------------------------------------------------- the profile


def profile_config(tmp_path: Path, channels: list[Any], **extra: Any) -> tuple[Config, Profile]:
    config = Config.model_validate(
        {
            "ledger": str(tmp_path / "ledger.sqlite3"),
            "channels": {"attempts": 2, "backoff": 0, "timeout": 5},
            "profiles": {"morning": {"channels": channels, **extra}},
        }
    )
    profile = config.profiles["morning"].model_copy(update={"name": "morning"})
    return config, profile


def test_a_profile_with_channels_only_needs_no_smtp(tmp_path: Path, rec: Receiver) -> None:
    config, profile = profile_config(tmp_path, [f"json://{rec.base}/hook"])
    report = deliver_profile(sample_briefing(), config, profile, environ={})
    assert report.exit_code == ExitCode.OK and len(rec.received) == 1
    again = deliver_profile(sample_briefing(), config, profile, environ={})
    assert [r.status for r in again.results] == ["skipped"] and len(rec.received) == 1


def test_a_bad_channel_fails_before_anything_is_sent(tmp_path: Path, rec: Receiver) -> None:
    config, profile = profile_config(tmp_path, [f"json://{rec.base}/hook", "env:MISSING"])
    with pytest.raises(ConfigError, match="MISSING is not set"):
        deliver_profile(sample_briefing(), config, profile, environ={})
    config, profile = profile_config(tmp_path, [f"json://{rec.base}/hook", "env:ODD"])
    with pytest.raises(ConfigError, match="not a channel URL Apprise knows"):
        deliver_profile(sample_briefing(), config, profile, environ={"ODD": "nosuch://x/y"})
    assert rec.received == []


def test_no_recipients_and_no_channels_is_a_config_error(tmp_path: Path) -> None:
    config, profile = profile_config(tmp_path, [])
    with pytest.raises(ConfigError, match="no recipients and no channels"):
        deliver_profile(sample_briefing(), config, profile, environ={})


def test_dry_run_writes_what_each_channel_would_receive(tmp_path: Path) -> None:
    entries = [
        "env:TG",
        "env:NOT_SET",
        WebhookChannel(url="https://hooks.example.com/x", secret="env:HOOK_SECRET").model_dump(),
    ]
    config, profile = profile_config(tmp_path, entries, brief_url="https://n.example/{date}")
    env = {"TG": f"tgram://{TG_TOKEN}/-100123/", "HOOK_SECRET": HMAC_SECRET}
    out = tmp_path / "dry"
    report = deliver_profile(big_briefing(150), config, profile, dry_run=out, environ=env)
    assert [r.status for r in report.results] == ["dry-run"] * 3
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "brief-2026-11-24-morning.channel-1-tgram.txt",
        "brief-2026-11-24-morning.channel-2-channel.txt",
        "brief-2026-11-24-morning.channel-3-https.json",
    ]
    telegram = (out / names[0]).read_text()
    assert telegram.startswith("channel: env:TG (tgram)")
    assert "===== part 3/" in telegram and "[Full brief](https://n.example/2026-11-24)" in telegram
    assert "generic Markdown" in (out / names[1]).read_text()
    assert Briefing.model_validate_json((out / names[2]).read_bytes()).date == dt.date(2026, 11, 24)
    assert not (tmp_path / "ledger.sqlite3").exists()  # a dry run does not touch it


# --------------------------------------------------------------------------- never leaks


def test_tokens_never_leak(
    tmp_path: Path,
    fake_telegram: Receiver,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every channel kind, with failures (whose messages name the channel) and -vv
    logging of Apprise, urllib3 and httpx: no canary anywhere."""
    caplog.set_level(logging.DEBUG)
    rec = fake_telegram
    rec.script.statuses[f"/{HOOK_PATH_TOKEN}"] = [401]
    rec.script.statuses[f"/bot{TG_TOKEN}"] = [503, 400]
    entries = [
        "env:TG",
        "env:HOOK",
        {"url": "env:HOOK2", "secret": "env:HOOK_SECRET"},
        "env:NTFY",
    ]
    env = {
        "TG": f"tgram://{TG_TOKEN}/-100123/",
        "HOOK": f"json://{rec.base}/{HOOK_PATH_TOKEN}",
        "HOOK2": f"json://{rec.base}/ok/{HOOK_PATH_TOKEN}2",
        "HOOK_SECRET": HMAC_SECRET,
        "NTFY": f"ntfy://{NTFY_TOKEN}@{rec.base}/topic?auth=token",
    }
    config, profile = profile_config(tmp_path, entries)
    report = deliver_profile(sample_briefing(), config, profile, environ=env)
    statuses = [r.status for r in report.results]
    assert statuses == ["failed", "failed", "sent", "sent"], [r.line for r in report.results]
    dry = deliver_profile(sample_briefing(), config, profile, environ=env, dry_run=tmp_path / "d")
    lines = "\n".join(r.line for r in [*report.results, *dry.results])
    captured = capsys.readouterr()
    ledger_bytes = (tmp_path / "ledger.sqlite3").read_bytes().decode("latin-1")
    files = "".join(p.read_text() for p in (tmp_path / "d").iterdir())
    places = {
        "results": lines,
        "log": caplog.text,
        "stdout+stderr": captured.out + captured.err,
        "ledger": ledger_bytes,
        "dry run": files,
    }
    assert f"/bot{TG_TOKEN}" in rec.received[0].path  # the token was really used
    assert "urllib3" in caplog.text or "HTTP Request" in caplog.text  # and -vv logged
    for where, text in places.items():
        for canary in CANARIES:
            assert canary not in text, (where, canary)


# --------------------------------------------------------------------------- the ledger


def test_an_old_ledger_gains_the_parts_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE deliveries (profile TEXT NOT NULL, brief_date TEXT NOT NULL, "
            "recipient TEXT NOT NULL, content_hash TEXT NOT NULL, message_id TEXT NOT NULL, "
            "status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, smtp_code INTEGER, "
            "detail TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, "
            "updated_at TEXT NOT NULL, PRIMARY KEY (profile, brief_date, recipient, content_hash))"
        )
        db.execute(
            "INSERT INTO deliveries VALUES ('m', '2026-11-24', 'a@example.com', 'h', '<id>', "
            "'sent', 1, 250, 'OK', 'x', 'x')"
        )
    with Ledger(path) as ledger:
        (row,) = ledger.rows()
        assert row.status == "sent" and row.parts_done == 0
        key = DeliveryKey("m", dt.date(2026, 11, 24), "channel:env:X", "h")
        assert ledger.claim(key, "id").resume_from == 0
        ledger.mark_part(key, 2)
        ledger.mark_failed(key, code=400, detail="no", attempts=1)
        assert ledger.claim(key, "id").resume_from == 2
        assert ledger.claim(key, "id", force=True).resume_from == 0


# --------------------------------------------------------------------------- start-up


def test_apprise_is_imported_only_when_a_chat_channel_is_used() -> None:
    code = (
        "import sys, briefing.cli, briefing.deliver.email, briefing.deliver.channels\n"
        "print('apprise' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _story_count(brief: Briefing) -> int:
    return sum(len(s.stories) for s in brief.sections)


def test_a_brief_with_no_stories_still_makes_one_message() -> None:
    brief = sample_briefing().model_copy(update={"sections": [], "top_stories": []})
    parts = split_message("T", compact_lines(brief), limit=4096, measure=lambda t, b: len(b))
    assert len(parts) == 1 and parts[0].body.startswith("**0 stories**")
    assert _story_count(brief) == 0
    assert isinstance(Story, type)
