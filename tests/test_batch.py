"""Summaries through the Batch API (issue 18), against a loopback server speaking the
files and batches endpoints (tests/batch_server.py): one upload and one batch for a day,
the same brief as a live run on the same answers, a killed run following the same batch,
a rerun uploading nothing, files split at the limits, failed and expired requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from batch_server import BatchServer, chat_answer, running
from click.testing import CliRunner

from briefing.batch import BatchStore, split
from briefing.cli import cli
from briefing.errors import BatchPending, ConfigError, ExitCode
from briefing.request import BriefRequest, Outputs
from briefing.runner import Runner
from briefing.settings import ModelSettings, RunSettings

pytestmark = pytest.mark.real_server  # real HTTP to a loopback model server

TOPICS = [
    ("Flooding closes roads in Lagos", "Heavy rain flooded parts of Lagos on Sunday, officials "
     "said. Several roads were closed. Residents waded through water to reach markets."),
    ("Berlin talks on energy prices", "German and French ministers met in Berlin on Monday to "
     "discuss energy prices. Germany asked France to share more electricity in winter."),
    ("Iraq budget vote delayed", "Iraq's parliament in Baghdad delayed a vote on the budget on "
     "Sunday. Lawmakers said talks with the Kurdistan region had stalled."),
    ("Chile copper output rises", "Chile's copper output rose four percent in October, the "
     "mining ministry said. Prices in Santiago rose as exports grew."),
    ("Japan rail line reopens", "A rail line in northern Japan reopened on Tuesday after repairs "
     "that took two years. Officials in Tokyo said tourism would benefit."),
]  # fmt: skip


def write_articles(directory: Path, n: int = 5) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        title, body = TOPICS[i % len(TOPICS)]
        if i >= len(TOPICS):
            title = f"{title} ({i})"
            body = body.replace(".", f" in week {i}.", 1)
        (directory / f"{i:02d}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return directory


@pytest.fixture
def server() -> Iterator[BatchServer]:
    with running(BatchServer()) as s:
        yield s


def request(
    server: BatchServer, articles: Path, cache: Path, *, no_synthesis: bool = True, **run: Any
) -> BriefRequest:
    model = ModelSettings(provider="openai", base_url=server.base_url, model="gpt-4o-mini")
    settings = RunSettings(cache_dir=cache, batch_poll=0.01, **run)
    return BriefRequest(
        inputs=(str(articles),), model=model, run=settings, outputs=Outputs(),
        synthesize=not no_synthesis,
    )  # fmt: skip


def brief(req: BriefRequest) -> Any:
    with Runner(req, env={}) as runner:
        return runner.brief()


def contents(run: Any) -> list[tuple[str, str]]:
    return sorted(
        (s.title, s.content.model_dump_json(exclude={"cached"}) if s.content else "")
        for s in run.summaries
    )


def test_a_day_in_one_batch_gives_the_live_run_s_brief(server: BatchServer, tmp_path: Path) -> None:
    articles = write_articles(tmp_path / "in")
    live = brief(request(server, articles, tmp_path / "live-cache"))
    assert server.chat_calls == 5 and server.uploads == 0
    server.chat_calls = 0

    done = brief(request(server, articles, tmp_path / "cache", batch=True))
    assert (server.uploads, server.created, server.chat_calls) == (1, 1, 0)
    assert contents(done) == contents(live)  # the same answers make the same summaries
    report = done.briefing.run
    assert report is not None and report.batch is not None
    assert report.batch.requests == 5 and report.batch.uploaded == 5
    assert report.batch.failed == 0 and report.calls == 5
    # the batch bills half the live price, and the run's cost counts it so
    assert report.batch.cost_usd == pytest.approx(report.batch.live_cost_usd / 2)
    assert report.cost_usd == pytest.approx(report.batch.cost_usd, abs=1e-6)
    # the file held the same requests a live run sends, one per article
    [upload] = [data for fid, data in server.files.items() if fid == "file-1"]
    lines = [json.loads(x) for x in upload.decode().splitlines()]
    assert {x["url"] for x in lines} == {"/v1/chat/completions"}
    assert all(x["body"]["response_format"]["type"] == "json_schema" for x in lines)

    again = brief(request(server, articles, tmp_path / "cache", batch=True))
    assert server.uploads == 1 and server.created == 1  # all from the cache
    assert contents(again) == contents(live)


def test_no_wait_then_the_same_command_follows_the_same_batch(
    server: BatchServer, tmp_path: Path
) -> None:
    articles = write_articles(tmp_path / "in")
    server.polls_in_progress = 2
    with pytest.raises(BatchPending, match="run the same command again") as pending:
        brief(request(server, articles, tmp_path / "cache", batch=True, batch_wait=False))
    assert pending.value.exit_code == ExitCode.PENDING == 75
    assert (server.uploads, server.created, server.polls) == (1, 1, 0)
    done = brief(request(server, articles, tmp_path / "cache", batch=True))
    assert (server.uploads, server.created) == (1, 1)  # followed, not sent again
    assert len(done.summaries) == 5 and not done.partial
    store = BatchStore(tmp_path / "cache")
    [row] = store.batches()
    store.close()
    assert row.status == "completed" and row.collected and row.requests == 5


def test_files_are_split_at_the_provider_s_limits(server: BatchServer, tmp_path: Path) -> None:
    lines = [b"x" * 10 + b"\n"] * 7
    assert split(lines, max_requests=3, max_bytes=1000) == [[0, 1, 2], [3, 4, 5], [6]]
    assert split(lines, max_requests=100, max_bytes=25) == [[0, 1], [2, 3], [4, 5], [6]]
    with pytest.raises(ConfigError, match="over the file limit"):
        split([b"y" * 50], max_requests=10, max_bytes=20)

    import briefing.llm.batches

    articles = write_articles(tmp_path / "in")
    limit = briefing.llm.batches.MAX_REQUESTS
    briefing.llm.batches.MAX_REQUESTS = 2
    try:
        done = brief(request(server, articles, tmp_path / "cache", batch=True))
    finally:
        briefing.llm.batches.MAX_REQUESTS = limit
    assert (server.uploads, server.created) == (3, 3)  # 2 + 2 + 1
    assert len(done.summaries) == 5 and not done.partial
    assert len(done.briefing.run.batch.batches) == 3  # type: ignore[union-attr]


def test_failed_and_expired_requests_are_listed_or_asked_live(
    server: BatchServer, tmp_path: Path
) -> None:
    articles = write_articles(tmp_path / "in")
    server.outcome, server.expire_after = "expired", 4
    with Runner(request(server, articles, tmp_path / "c1", batch=True), env={}) as runner:
        loaded = runner.load()
        ids = [runner._summarizer().cache_key(a) for a in loaded.articles]
        server.fail_ids = {ids[0]}
        done = runner.brief(loaded)
    failed = {s.title: s.error for s in done.summaries if s.error}  # (shown extractive)
    assert len(failed) == 2 and done.partial  # one failed line, one never answered
    reasons = " ".join(str(e) for e in failed.values())
    assert "max_tokens is too large" in reasons and "expired before this request ran" in reasons
    assert done.briefing.run.batch.failed == 2  # type: ignore[union-attr]

    server.chat_calls = 0
    live = brief(request(server, articles, tmp_path / "c2", batch=True, fallback="live"))
    assert server.chat_calls == 2 and not live.partial  # both asked live
    assert live.briefing.run.batch.live_calls == 2  # type: ignore[union-attr]


def test_a_follow_up_call_is_made_live(server: BatchServer, tmp_path: Path) -> None:
    """An invalid batch answer gets its repair live (with the model's reply and what
    was wrong), not a second batch."""

    def broken_then_fine(body: dict[str, Any]) -> dict[str, Any]:
        answer = chat_answer(body)
        answer["choices"][0]["message"]["content"] = "Sorry, here it is: {not json"
        return answer

    server.answer = broken_then_fine
    articles = write_articles(tmp_path / "in", n=2)
    done = brief(request(server, articles, tmp_path / "cache", batch=True))
    assert server.chat_calls == 2  # one repair each
    assert all(s.status == "repaired" for s in done.summaries)
    assert done.briefing.run.batch.live_calls == 2  # type: ignore[union-attr]


def test_batch_needs_the_cache_and_no_deadline(server: BatchServer, tmp_path: Path) -> None:
    articles = write_articles(tmp_path / "in", n=1)
    with pytest.raises(ConfigError, match="drop --no-cache"):
        brief(request(server, articles, tmp_path / "c", batch=True, no_cache=True))
    with pytest.raises(ConfigError, match="--deadline"):
        brief(request(server, articles, tmp_path / "c", batch=True, deadline=60.0))


def test_the_embedded_model_has_no_batch_api(tmp_path: Path) -> None:
    articles = write_articles(tmp_path / "in", n=1)
    req = BriefRequest(
        inputs=(str(articles),), run=RunSettings(cache_dir=tmp_path / "c", batch=True)
    )
    from briefing.llm.fake import FakeLLM

    with pytest.raises(ConfigError, match="Batch API"), Runner(req, llm=FakeLLM()) as runner:
        runner.brief()


def test_killed_while_waiting_the_rerun_follows_the_same_batch(
    server: BatchServer, tmp_path: Path
) -> None:
    """``kill -9`` of ``briefing brief --batch`` while it polls, then the same command:
    no second upload, the same batch collected, the brief written."""
    articles = write_articles(tmp_path / "in")
    server.polls_in_progress = 10_000  # it will not finish while the first process waits
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFING_"))},
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "sk-test-batch",
        "BRIEFING_BATCH_POLL": "0.05",
    }
    args = [sys.executable, "-m", "briefing", "brief", str(articles), "--batch", "--model",
            "gpt-4o-mini", "--cache-dir", str(tmp_path / "cache"), "--out",
            str(tmp_path / "brief.md"), "--no-synthesis"]  # fmt: skip
    first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while server.polls < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.polls >= 3, "the first run never polled"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert (server.uploads, server.created) == (1, 1)

    server.polls_in_progress = 0
    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 0, second.stderr
    assert (server.uploads, server.created) == (1, 1)
    assert "batch: 5 requests in 1 batch" in second.stderr
    assert (tmp_path / "brief.md").read_text(encoding="utf-8").count("## ") >= 2
    assert "sk-test-batch" not in second.stderr


def test_brief_batch_no_wait_on_the_command_line(server: BatchServer, tmp_path: Path) -> None:
    articles = write_articles(tmp_path / "in", n=2)
    result = CliRunner().invoke(
        cli,
        ["brief", str(articles), "--batch", "--no-wait", "--model", "gpt-4o-mini",
         "--cache-dir", str(tmp_path / "cache")],
        env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-x"},
    )  # fmt: skip
    assert result.exit_code == 75, result.output
    assert "submitted batch" in result.stderr and "run the same command again" in result.stderr


def test_batch_status_collect_and_cancel(server: BatchServer, tmp_path: Path) -> None:
    articles = write_articles(tmp_path / "in", n=3)
    cache = tmp_path / "cache"
    env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-x",
           "BRIEFING_BATCH_POLL": "0.01"}  # fmt: skip
    server.polls_in_progress = 1
    submitted = CliRunner().invoke(
        cli, ["brief", str(articles), "--batch", "--no-wait", "--model", "gpt-4o-mini",
              "--cache-dir", str(cache)], env=env,
    )  # fmt: skip
    assert submitted.exit_code == 75, submitted.output

    local = CliRunner().invoke(cli, ["batch", "status", "--local", "--cache-dir", str(cache)])
    assert local.exit_code == 0, local.output
    assert "batch_2  validating  3 requests" in local.stdout and "not collected" in local.stdout

    shown = CliRunner().invoke(
        cli, ["batch", "status", "--cache-dir", str(cache), "--model", "gpt-4o-mini"], env=env
    )
    assert shown.exit_code == 0, shown.output
    assert "in_progress" in shown.stdout

    collected = CliRunner().invoke(
        cli, ["batch", "collect", "--cache-dir", str(cache), "--model", "gpt-4o-mini"], env=env
    )
    assert collected.exit_code == 0, collected.output
    assert "collected 3 of 3 summaries" in collected.stderr
    assert server.uploads == 1 and server.chat_calls == 0

    # the brief is now built from the cache: no upload, no call
    built = CliRunner().invoke(
        cli, ["brief", str(articles), "--batch", "--model", "gpt-4o-mini", "--cache-dir",
              str(cache), "--no-synthesis"], env=env,
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert server.uploads == 1 and server.chat_calls == 0
    assert "3 cache hits" in built.stderr

    again = CliRunner().invoke(cli, ["batch", "collect", "--cache-dir", str(cache)], env=env)
    assert again.exit_code == 0 and "Nothing to collect" in again.stderr

    more = write_articles(tmp_path / "more", n=5)
    CliRunner().invoke(
        cli, ["brief", str(more), "--batch", "--no-wait", "--model", "gpt-4o-mini",
              "--cache-dir", str(cache)], env=env,
    )  # fmt: skip
    [newest, *_] = BatchStore(cache).batches()
    cancelled = CliRunner().invoke(
        cli, ["batch", "cancel", newest.id, "--cache-dir", str(cache), "--model", "gpt-4o-mini"],
        env=env,
    )  # fmt: skip
    assert cancelled.exit_code == 0, cancelled.output
    assert f"{newest.id}: cancelling" in cancelled.stdout
    missing = CliRunner().invoke(cli, ["batch", "cancel", "nope", "--cache-dir", str(cache)])
    assert missing.exit_code == 3 and "No batch nope" in missing.stderr


# --------------------------------------------------------------------------- many profiles


def three_profiles(tmp_path: Path, articles: Path) -> Path:
    """Three desks over overlapping files: 0-2, 1-3 and 2-4 (5 distinct articles)."""
    files = sorted(articles.glob("*.txt"))
    config = tmp_path / "config.toml"
    text = ""
    for name, chosen in (("a", files[0:3]), ("b", files[1:4]), ("c", files[2:5])):
        text += (
            f"[profiles.{name}]\nsources = {json.dumps([str(p) for p in chosen])}\n"
            f'output_dir = "{tmp_path / "out" / name}"\ntitle = "Desk {name}"\n'
            'formats = ["md"]\n\n'
        )
    config.write_text(text, encoding="utf-8")
    return config


@pytest.mark.parametrize("batch", [False, True])
def test_all_profiles_summarize_each_distinct_article_once(
    server: BatchServer, tmp_path: Path, batch: bool
) -> None:
    articles = write_articles(tmp_path / "in")
    config = three_profiles(tmp_path, articles)
    env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-x",
           "BRIEFING_BATCH_POLL": "0.01"}  # fmt: skip
    args = ["brief", "--all-profiles", "--config", str(config), "--model", "gpt-4o-mini",
            "--cache-dir", str(tmp_path / "cache"), "--no-synthesis"]  # fmt: skip
    result = CliRunner().invoke(cli, [*args, *(["--batch"] if batch else [])], env=env)
    assert result.exit_code == 0, result.output
    if batch:
        assert (server.uploads, server.created, server.chat_calls) == (1, 1, 0)
        lines = server.files["file-1"].decode().splitlines()
        assert len(lines) == 5  # one request per distinct article
    else:
        assert server.chat_calls == 5 and server.uploads == 0
    for name, first, last in (("a", 0, 2), ("b", 1, 3), ("c", 2, 4)):
        [written] = list((tmp_path / "out" / name).glob("brief-*.md"))
        text = written.read_text(encoding="utf-8")
        assert f"# Desk {name}" in text
        assert text.count("\n### ") == last - first + 1  # its own three stories
    assert result.stderr.count("briefing: profile ") == 3


def test_all_profiles_needs_output_dirs_and_no_paths(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.a]\nsources = ["x.txt"]\n', encoding="utf-8")
    done = CliRunner().invoke(cli, ["brief", "--all-profiles", "--config", str(config)])
    assert done.exit_code == 3 and "has no output_dir" in done.stderr
    done = CliRunner().invoke(cli, ["brief", "x.txt", "--all-profiles", "--config", str(config)])
    assert done.exit_code == 2 and "takes no PATH" in done.output


def test_a_profile_can_ask_for_the_batch_api(server: BatchServer, tmp_path: Path) -> None:
    from dataclasses import replace

    from briefing.config import load_config

    articles = write_articles(tmp_path / "in", n=2)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.night]\nsources = ["{articles}"]\nbatch = true\n', encoding="utf-8"
    )  # (no synthesis: the test server writes summaries only)
    request = (
        load_config(config)
        .profile("night")
        .to_request(
            model=ModelSettings(provider="openai", base_url=server.base_url, model="gpt-4o-mini"),
            run=RunSettings(cache_dir=tmp_path / "cache", batch_poll=0.01),
        )
    )
    request = replace(request, synthesize=False)
    assert request.run.batch
    done = brief(request)
    assert (server.uploads, server.created, server.chat_calls) == (1, 1, 0)
    assert done.briefing.run.batch.requests == 2  # type: ignore[union-attr]


def test_send_all_profiles_builds_them_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``send --all-profiles --dry-run``: each profile with recipients gets its mail
    (written, not sent), and each distinct article is summarized once."""
    from test_runner import reply

    import briefing.llm
    from briefing.llm.fake import FakeLLM

    articles = write_articles(tmp_path / "in")
    files = sorted(articles.glob("*.txt"))
    config = tmp_path / "config.toml"
    config.write_text(
        '[smtp]\nhost = "127.0.0.1"\nfrom = "Brief <brief@example.com>"\n\n'
        f"[profiles.a]\nsources = {json.dumps([str(p) for p in files[0:3]])}\n"
        'recipients = ["a@example.com"]\n\n'
        f"[profiles.b]\nsources = {json.dumps([str(p) for p in files[2:5]])}\n"
        'recipients = ["b@example.com"]\n\n'
        f"[profiles.quiet]\nsources = {json.dumps([str(files[0])])}\n",  # nobody to send to
        encoding="utf-8",
    )
    llm = FakeLLM().enqueue(*[reply] * 40)  # type: ignore[arg-type]
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    out = tmp_path / "dry"
    result = CliRunner().invoke(
        cli,
        ["send", "--all-profiles", "--config", str(config), "--dry-run", str(out),
         "--cache-dir", str(tmp_path / "cache")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summaries = [c for c in llm.calls if "<stories>" not in c[-1].content]
    assert len(summaries) == 5  # 0-2 and 2-4: article 2 once
    mails = sorted(p.name for p in out.glob("*.eml"))
    assert len(mails) == 2 and any("-a." in m for m in mails) and any("-b." in m for m in mails)
    assert "profile a:" in result.stderr and "profile b:" in result.stderr
    from briefing.editions import EditionStore

    with EditionStore(tmp_path / "cache" / "editions.sqlite3") as store:
        assert store.rows() == []  # a dry run compares with the editions, keeps none
    bad = CliRunner().invoke(cli, ["send", "--config", str(config)])
    assert bad.exit_code == 2 and "--all-profiles" in bad.output
