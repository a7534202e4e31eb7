"""Fault injection: the real OpenAI provider, summarizer and CLI against a loopback server
that answers 429/500/503, drops connections, stalls, and sends bad, cut-off, empty,
refused or non-chat answers (``tests/fault_server.py``). Every fault is retried or
repaired; what cannot be fixed fails that article with its reason, not the run (unless
the server has not answered once: then the run stops with one line, exit code 5)."""

from __future__ import annotations

import asyncio
import functools
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2._transports.default
import pytest
from click.testing import CliRunner
from fault_server import (
    CONTENT_FAULTS,
    FAULT_KINDS,
    MALFORMED_FAULTS,
    MODEL,
    STATUS_FAULTS,
    TRANSPORT_FAULTS,
    FaultServer,
    fault_server_fixture,  # noqa: F401  (the fault_server fixture)
)

import briefing.llm
from briefing.cli import cli
from briefing.errors import ProviderError
from briefing.llm.base import Message
from briefing.llm.openai import OpenAILLM
from briefing.llm.retry import RetryPolicy
from briefing.models import Article, ArticleSummary, Briefing, Sentence
from briefing.pipeline import summarize_articles
from briefing.summarize import Summarizer

#: read timeout of the clients meeting stalls (a ``stall`` outlasts it)...
READ_TIMEOUT = 0.3
#: ...and of the others (a loaded machine must not make a healthy answer time out)
PATIENT = 10.0
ATTEMPTS = 3
FAST = RetryPolicy(max_attempts=ATTEMPTS, initial_wait=0.001, max_wait=0.01, max_elapsed=10)

#: faults the provider retries (the same request again)
RETRIED = (*STATUS_FAULTS, *TRANSPORT_FAULTS, *MALFORMED_FAULTS)
#: faults the summarizer repairs (a new request showing the model its answer)
REPAIRED = CONTENT_FAULTS
assert sorted((*RETRIED, *REPAIRED)) == sorted(FAULT_KINDS)

#: the reason an article fails with when a fault comes back on every attempt
REASONS = {
    "rate_limit": r"kept failing \(HTTP 429\) after 3 attempts: Rate limit reached",
    "server_error": r"kept failing \(HTTP 500\) after 3 attempts: The server had an error",
    "unavailable": r"kept failing \(HTTP 503\) after 3 attempts: Service Unavailable",
    # (httpx2's error when calls run together, http.client's when one runs alone)
    "drop": r"connection dropped before its answer was complete \(3 attempts; last: "
    r"(RemoteProtocolError|IncompleteRead|RemoteDisconnected)",
    "stall": r"timed out after 3 attempts",
    "html": r"did not answer with a chat completion \(a non-JSON body: '<!doctype html>",
    "error_200": r"did not answer with a chat completion \(JSON without choices: model overloaded",
    "broken_json": r"did not answer with a chat completion \(a broken JSON body: ",
    "not_json": r"invalid after 2 attempts: the answer holds no JSON object",
    "bad_schema": r"invalid after 2 attempts: headline: .*; summary: Input should be a valid string",
    "truncated": r"invalid after 2 attempts: .*cut off",
    "empty_choices": r"invalid after 2 attempts: the server returned no answer \(an empty choices list\)",
    "refusal": r"invalid after 2 attempts: the model refused to answer",
}
assert sorted(REASONS) == sorted(FAULT_KINDS)

SENTENCES = [
    "Amira Haddad said on Monday that 4,000 farmers in Lima would receive grain by June.",
    "The finance ministry in Lima confirmed the plan after two weeks of talks.",
    "Farmers' unions welcomed the decision but asked for faster deliveries.",
    "Officials expect the first lorries to leave the capital on Thursday morning.",
]


def make_article(
    title: str = "Lima farmers get grain", sentences: list[str] = SENTENCES
) -> Article:
    return Article(
        title=title,
        text=" ".join(sentences),
        outlet="Wire",
        source=f"{title}.txt",
        sentences=[Sentence(id=i, text=t) for i, t in enumerate(sentences, 1)],
    )


@functools.cache
def _tls_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
    return _create_tls_context(verify=verify, cert=cert, trust_env=trust_env)


_create_tls_context = httpx2._transports.default.create_ssl_context


@pytest.fixture(autouse=True)
def one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every client here speaks plain HTTP to loopback: build the TLS context each new
    client makes (50 ms of loading CA certificates, unused) once."""
    monkeypatch.setattr(httpx2._transports.default, "create_ssl_context", _tls_context)


@pytest.fixture
def server(fault_server: FaultServer) -> FaultServer:
    return fault_server


class Client:
    """An ``OpenAILLM`` on the fault server that records its backoff sleeps."""

    def __init__(self, server: FaultServer, retry: RetryPolicy = FAST, **kwargs: Any) -> None:
        self.sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            time.sleep(seconds)

        async def async_sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            await asyncio.sleep(seconds)

        kwargs.setdefault("read_timeout", PATIENT)
        self.llm = OpenAILLM(
            MODEL, base_url=server.url, retry=retry, sleep=sleep, async_sleep=async_sleep, **kwargs
        )

    def summarize(self, article: Article, mode: str) -> ArticleSummary:
        summarizer = Summarizer(self.llm)
        if mode == "sync":
            return summarizer.summarize(article)

        async def run() -> ArticleSummary:
            try:
                return await summarizer.asummarize(article)
            finally:
                await self.llm.aclose()

        return asyncio.run(run())


@pytest.fixture
def client(server: FaultServer, request: pytest.FixtureRequest) -> Iterator[Client]:
    """A client of ``server``, with a short read timeout in tests of the ``stall`` kind."""
    callspec = getattr(request.node, "callspec", None)
    stalls = callspec is not None and callspec.params.get("kind") == "stall"
    made = Client(server, read_timeout=READ_TIMEOUT if stalls else PATIENT)
    yield made
    made.llm.close()


def assert_faithful(summary: ArticleSummary, article: Article) -> None:
    """A summary of ``article`` as the healthy server writes it: valid, ids that exist."""
    assert summary.content is not None, summary.error
    assert summary.content.headline == article.title
    ids = {s.id for s in article.sentences}
    cited = {i for kp in summary.content.key_points for i in kp.sentence_ids}
    assert cited and cited <= ids


# --------------------------------------------------------------------------- one fault


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_the_first_attempt_is_retried_or_repaired(
    server: FaultServer, client: Client, kind: str, mode: str
) -> None:
    server.inject(kind, first=1)
    article = make_article()
    summary = client.summarize(article, mode)

    assert_faithful(summary, article)
    first, second = server.chat_requests
    assert (first.fault, second.fault) == (kind, None)
    if kind in RETRIED:  # the same request again, after a backoff
        assert summary.status == "ok"
        assert second.body_hash == first.body_hash and second.sighting == 1
        assert len(client.sleeps) == 1
        if kind == "rate_limit":  # the server's Retry-After (retry-after-ms: 10)
            assert client.sleeps == [0.01]
    else:  # a repair: the model is shown its answer and what was wrong with it
        assert summary.status == "repaired"
        assert second.body_hash != first.body_hash
        assert client.sleeps == []
    assert summary.usage.calls == (2 if kind in REPAIRED else 1)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_every_attempt_is_a_failure_with_its_reason(
    server: FaultServer, client: Client, kind: str, mode: str
) -> None:
    server.inject(kind)  # every request
    article = make_article()
    if kind in RETRIED:
        # the provider gives up after its attempts with one ProviderError saying why
        # (the summarizer's caller fails that article, see the pipeline test below)
        with pytest.raises(ProviderError, match=REASONS[kind]):
            client.summarize(article, mode)
        assert server.count(fault=kind) == ATTEMPTS
        assert len({r.body_hash for r in server.chat_requests}) == 1
    else:
        summary = client.summarize(article, mode)
        assert summary.status == "failed" and summary.content is None
        assert re.search(REASONS[kind], summary.error or ""), summary.error
        assert server.count(fault=kind) == 2  # the answer and its one repair


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_pipeline_keeps_an_article_that_always_faults_with_its_reason(
    server: FaultServer, client: Client, kind: str
) -> None:
    """Once the server has worked, an article whose calls keep failing is kept: filled
    from its own sentences (extractive) and marked with why the model could not."""
    server.inject(kind, match="Title: Doomed")
    healthy, doomed = make_article("Healthy"), make_article("Doomed")

    done = summarize_articles([healthy, doomed], client.llm, concurrency=1)

    assert [s.title for s in done] == ["Healthy", "Doomed"]
    assert done[0].status == "ok"
    kept = done[1]
    assert kept.status == "extractive"
    assert kept.grounding is not None and kept.grounding.extractive
    assert re.search(REASONS[kind], kept.grounding.extractive_reason or "")
    assert re.search(REASONS[kind], kept.error or "")
    assert server.count(title="Doomed") == (2 if kind in REPAIRED else ATTEMPTS)
    assert server.count(title="Healthy", fault=None) == 1


def test_an_article_nothing_can_be_extracted_from_fails_with_the_reason(
    server: FaultServer, client: Client
) -> None:
    server.inject("refusal", match="Title: Doomed")
    terse = make_article("Doomed", ["Talks stalled again.", "Nobody came.", "No date set."])
    done = summarize_articles([make_article("Healthy"), terse], client.llm, concurrency=1)
    assert done[1].status == "failed" and done[1].content is None
    assert re.search(REASONS["refusal"], done[1].error or "")


def test_a_refusal_keeps_the_models_words(server: FaultServer, client: Client) -> None:
    server.inject("refusal")
    messages = [Message("user", "<article>\nTitle: T\n[1] Some words here.\n</article>")]
    completion = client.llm.complete(messages, schema={}, schema_name="x", max_tokens=10)
    assert completion.finish_reason == "refusal" and completion.text == ""
    assert completion.refusal == "I'm sorry, but I can't help with that request."


# --------------------------------------------------------------------------- time budget


@pytest.mark.parametrize("fault_server", [{"retry_after_ms": 2000}], indirect=True)
def test_retries_never_sleep_past_the_calls_time_budget(server: FaultServer) -> None:
    """A Retry-After longer than the time left ends the call at once, without sleeping."""
    server.inject("rate_limit")
    slow = Client(server, RetryPolicy(max_attempts=5, max_wait=5, max_elapsed=1.0))
    try:
        with pytest.raises(ProviderError, match=r"HTTP 429\) after 1 attempt:"):
            slow.summarize(make_article(), "sync")
    finally:
        slow.llm.close()
    assert slow.sleeps == []
    assert server.count() == 1


def test_an_attempt_never_runs_past_the_calls_time_budget(server: FaultServer) -> None:
    """The read timeout of an attempt is cut to the call's time left: a 5 s client
    timeout, a 0.4 s budget and a server that stalls 3 s make one attempt that times
    out (without the cut, it would see the stall end in a dropped connection)."""
    server.inject("stall")
    patient = Client(server, RetryPolicy(max_attempts=5, max_elapsed=0.4), read_timeout=5)
    try:
        with pytest.raises(ProviderError, match=r"timed out after 1 attempt \("):
            patient.summarize(make_article(), "sync")
    finally:
        patient.llm.close()
    assert server.count() == 1


# --------------------------------------------------------------------------- the fault server


def test_faults_depend_on_the_request_not_on_arrival_order() -> None:
    """The same articles under the same seed get the same faults, one at a time or
    eight at once."""
    articles = [make_article(f"Story {i}", [f"{s} ({i})" for s in SENTENCES]) for i in range(16)]
    # faults that never stop a run (a server that has not answered yet and keeps
    # dropping stops it) nor take long (stalls)
    kinds = [*STATUS_FAULTS, *CONTENT_FAULTS]
    seen: list[list[tuple[str | None, str, int, str | None]]] = []
    statuses: list[list[str]] = []
    for concurrency in (1, 8):
        with FaultServer(seed=3, rate=0.5, kinds=kinds) as server:
            run = Client(server)
            summaries = Summarizer(run.llm).summarize_all(articles, concurrency=concurrency)
            run.llm.close()
            records = server.chat_requests
        seen.append(sorted((r.title, r.body_hash, r.sighting, r.fault) for r in records))
        statuses.append([s.status for s in summaries])
    assert seen[0] == seen[1]
    assert statuses[0] == statuses[1]
    faults = [fault for *_, fault in seen[0] if fault is not None]
    assert len(faults) >= 3 and len(set(faults)) >= 2  # the seed does inject faults


def test_fault_server_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultServer(kinds=["teapot"])


# --------------------------------------------------------------------------- the CLI

CITIES = ["Lima", "Accra", "Hanoi", "Rabat", "Dakar", "Quito", "Tbilisi", "Perth", "Oslo"]
NAMES = ["Amira Haddad", "John Okafor", "Lena Fischer", "Carlos Mendoza", "Siti Rahma"]
NOUNS = ["farmers", "teachers", "nurses", "drivers", "miners", "students", "traders"]
THINGS = ["grain", "fuel", "water", "housing", "wages", "medicine", "power", "bread"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = ["March", "May", "June", "July"]


def news(i: int) -> tuple[str, str]:
    """Article ``i``: (title, body). Every fifth is a terse bulletin whose sentences are
    too short to quote from, so if the model fails on it, it fails for good."""
    rng = random.Random(i)
    city, thing = CITIES[i % len(CITIES)], rng.choice(THINGS)
    title = f"Story {i:02d} {city} {thing} talks"
    if i % 5 == 4:
        body = (
            f"{city} {thing} talks {rng.choice(['stalled', 'collapsed', 'paused'])} "
            f"{rng.choice(['again', 'today', 'abruptly'])}. {rng.choice(NAMES)} "
            f"{rng.choice(['walked out', 'left early', 'stayed away'])} {rng.choice(DAYS)}. "
            f"Next round: {rng.choice(MONTHS)} {rng.randint(1, 28)}."
        )
        return title, body
    sentences = [
        f"{rng.choice(NAMES)} said on {rng.choice(DAYS)} that {rng.randint(100, 99999)} "
        f"{rng.choice(NOUNS)} in {city} would get {rng.randint(2, 900)} tonnes of "
        f"{rng.choice(THINGS)} by {rng.choice(MONTHS)} {rng.randint(2026, 2030)}."
        for _ in range(4)
    ]
    return title, " ".join(sentences)


DOOMED = "Story 09 Lima"  # a terse bulletin the server always refuses


def test_cli_brief_under_thirty_percent_faults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 50
    inputs = tmp_path / "in"
    inputs.mkdir()
    titles = []
    for i in range(n):
        title, body = news(i)
        titles.append(title)
        (inputs / f"{i:02d}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    assert news(9)[0].startswith(DOOMED) and 9 % 5 == 4
    out, out_json = tmp_path / "brief.md", tmp_path / "brief.json"
    monkeypatch.setenv("BRIEFING_MAX_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setenv("BRIEFING_TIMEOUT", str(READ_TIMEOUT))  # --timeout takes >= 1 s
    # the policy get_llm builds, with millisecond backoff
    monkeypatch.setattr(
        briefing.llm,
        "RetryPolicy",
        functools.partial(RetryPolicy, initial_wait=0.001, max_wait=0.02),
    )

    with FaultServer(
        seed=5, rate=0.3, force="refusal", force_match=f"Title: {DOOMED}", stall_seconds=3
    ) as server:
        result = CliRunner().invoke(
            cli,
            [
                "brief", str(inputs), "--base-url", server.url, "--model", MODEL,
                "--out", str(out), "--json", str(out_json), "--date", "2026-11-24",
                "--no-synthesis", "--no-cache", "--concurrency", "8",
            ],
        )  # fmt: skip
        records = server.chat_requests

    # the run finished: no crash, the brief written
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    brief = Briefing.model_validate_json(out_json.read_text())
    markdown = out.read_text()
    shown = [s for section in brief.sections for story in section.stories for s in story.summaries]
    # every article is in the brief: summarized, or listed as failed with its reason
    assert sorted(s.title for s in [*shown, *brief.failed]) == sorted(titles)
    for summary in shown:
        assert summary.content is not None
        assert f"“{summary.title}”" in markdown  # among the sources
    failed_part = markdown.split("## Could not be summarized", 1)[-1]
    for summary in brief.failed:
        assert summary.error
        assert f"**{summary.title}**" in failed_part
        assert summary.error[:60] in failed_part
    # articles the model failed on but the brief could fill from their own sentences
    # keep the model's failure as their reason
    for summary in shown:
        if summary.status == "extractive" and summary.error:
            assert summary.grounding is not None
            assert summary.error in (summary.grounding.extractive_reason or "")
    doomed = [s for s in brief.failed if s.title.startswith(DOOMED)]
    assert doomed and "refused" in (doomed[0].error or "")
    # exit code 10 (partial) because the model failed on some articles; each named
    model_failures = [s for s in [*shown, *brief.failed] if s.content is None or s.error]
    assert result.exit_code == (10 if model_failures else 0), result.output
    assert result.exit_code == 10
    assert f"{len(brief.failed)} failed" in result.stderr
    for summary in model_failures[:10]:
        assert f"not summarized: {summary.title!r}" in result.stderr

    faults = {r.fault for r in records} - {None}
    assert len(faults) >= 6, faults  # the run did meet a variety of faults
    # each article: at most one answer and one repair, each at most ATTEMPTS attempts
    assert n <= len(records) <= n * 2 * ATTEMPTS
    for title in titles:
        assert sum(r.title == title for r in records) <= 2 * ATTEMPTS


@pytest.mark.parametrize("kind", ["html", "connection_refused"])
def test_cli_stops_with_one_line_when_the_server_never_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A server that has never answered (not an OpenAI API, or nothing listening)
    would fail every article alike: the run stops with exit code 5 and one line."""
    for i in range(2):  # (two articles, so the run takes the async path, which closes
        title, body = news(i)  # its connections; see the report on the sync path)
        (tmp_path / f"{i}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    monkeypatch.setenv("BRIEFING_MAX_ATTEMPTS", "2")
    monkeypatch.setattr(
        briefing.llm, "RetryPolicy", functools.partial(RetryPolicy, initial_wait=0.001)
    )
    out = tmp_path / "out" / "brief.md"
    with FaultServer(force=None if kind == "connection_refused" else kind) as server:
        url = server.url
        if kind != "connection_refused":
            result = brief(tmp_path, url, out)
            requests = server.count(fault=kind)
    if kind == "connection_refused":  # the server is gone: nothing listens on its port
        result = brief(tmp_path, url, out)
        requests = 2
    assert result.exit_code == 5, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    reason = REASONS.get(kind, r"Cannot reach the model server at .* Is it running\?")
    assert re.search(reason.replace("3 attempts", "2 attempts"), errors[0])
    assert 2 <= requests <= 4  # each article at most its 2 attempts
    assert not out.exists()


def brief(inputs: Path, url: str, out: Path) -> Any:
    return CliRunner().invoke(
        cli,
        ["brief", str(inputs), "--base-url", url, "--no-synthesis",
         "--no-cache", "--concurrency", "2", "--out", str(out)],
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["drop", "stall"])
def test_one_calls_bad_luck_fails_only_its_article_even_before_any_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A dropped or stalled answer is that call's bad luck, not proof the server is down:
    even when it strikes the first article on every attempt, the run goes on."""
    titles = []
    for i in range(2):
        title, body = news(i)
        titles.append(title)
        (tmp_path / f"{i}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    monkeypatch.setenv("BRIEFING_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("BRIEFING_TIMEOUT", "0.3")
    monkeypatch.setattr(
        briefing.llm, "RetryPolicy", functools.partial(RetryPolicy, initial_wait=0.001)
    )
    out = tmp_path / "out" / "brief.md"
    with FaultServer(force=kind, force_match=titles[0], stall_seconds=2) as server:
        result = brief(tmp_path, server.url, out)
    assert result.exit_code == 10, result.output
    assert "Traceback" not in result.output
    assert f"not summarized: {titles[0][:60]!r}" in result.stderr
    assert re.search(REASONS[kind].replace("3 attempts", "2 attempts"), result.stderr)
    assert titles[1] in out.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- capacity


@pytest.mark.parametrize("fault_server", [{"latency": 0.25}], indirect=True)
def test_default_settings_reach_sixteen_in_flight_on_a_server_that_takes_many(
    server: FaultServer,
) -> None:
    """A loopback server the provider knows nothing of starts low (it may run one call at
    a time) and, answering as fast with more at once, is soon sent 16 and more."""
    llm = OpenAILLM(MODEL, base_url=server.url, read_timeout=PATIENT)  # nothing requested
    articles = [make_article(f"Story {i}", [f"{s} ({i})" for s in SENTENCES]) for i in range(80)]
    try:
        summaries = Summarizer(llm).summarize_all(articles)
    finally:
        llm.close()
    assert [s.status for s in summaries] == ["ok"] * len(articles)
    assert llm.requested_concurrency is None
    assert server.max_in_flight >= 16, (server.max_in_flight, llm.capacity.limit)
    assert llm.capacity.peak >= 16


@pytest.mark.parametrize("fault_server", [{"latency": 0.25}], indirect=True)
def test_overload_halves_the_calls_sent_at_once(server: FaultServer) -> None:
    server.inject("unavailable", first=2)  # the first call's first two attempts
    llm = OpenAILLM(MODEL, base_url=server.url, read_timeout=PATIENT, retry=FAST)
    assert llm.concurrency() == 2  # an unknown loopback server starts low
    try:
        summary = Summarizer(llm).summarize(make_article())
    finally:
        llm.close()
    assert summary.status == "ok"
    # halved on each 503 (2 -> 1, then no lower), one more after the answer: additive
    # growth from now on, no longer doubling
    assert llm.capacity.cuts == 2 and llm.concurrency() == 2


@pytest.mark.parametrize("fault_server", [{"latency": 0.25}], indirect=True)
def test_time_in_our_own_queue_never_counts_against_the_read_timeout(
    server: FaultServer,
) -> None:
    """Eight articles, one call at a time, 0.25 s each, a 0.6 s read timeout: the last
    waits 1.75 s in the provider's queue and still succeeds (its timer starts when sent)."""
    llm = OpenAILLM(MODEL, base_url=server.url, read_timeout=0.6, retry=FAST, concurrency=1)
    articles = [make_article(f"Story {i}", [f"{s} ({i})" for s in SENTENCES]) for i in range(8)]

    async def run() -> list[ArticleSummary]:
        summarizer = Summarizer(llm)
        try:
            return list(await asyncio.gather(*(summarizer.asummarize(a) for a in articles)))
        finally:
            await llm.aclose()

    started = time.monotonic()
    summaries = asyncio.run(run())
    llm.close()
    assert [s.status for s in summaries] == ["ok"] * 8, [s.error for s in summaries]
    assert time.monotonic() - started >= 8 * 0.25
    assert server.max_in_flight == 1 and server.count() == 8
