"""Summaries through a provider's Batch API (``briefing brief --batch``): the same
requests a live run sends, run on the provider's side within 24 hours at about half the
price, from a separate rate-limit pool.

How a batch run goes:

1. Every article not in the cache gets its plan (:meth:`Summarizer.plan`, the same
   prompts, schema and cache key as live) and the plan's first call becomes one line of
   a JSONL input file; its ``custom_id`` is the article's cache key, so it ties the
   answer to the article and the exact request.
2. Lines already in a batch this machine submitted (and that did not fail or expire)
   are not sent again: the run follows that batch. The rest are uploaded
   (``/v1/files``) and a batch is created (``/v1/batches``), split into several when a
   file would pass the provider's limits (50,000 requests, 200 MB). Each batch and its
   requests (with the article, so ``briefing batch collect`` can finish it alone) are
   recorded in ``batches.sqlite3`` beside the cache *before* it is created on the
   server's side too, so a killed or rebooted machine follows the same batch.
3. It waits (polling with backoff, a progress line on a terminal), or with
   ``--no-wait`` returns at once (exit 75) saying how to collect.
4. Each answer goes into its plan, through the same validation as live. What a plan
   needs next (a repair, the next part of a long article, the merge) is asked **live**:
   those are few (repairs are rare with a strict schema; long articles are a few in a
   hundred) and waiting up to another 24 hours for them would hold the whole brief
   back. Then grounding, the cache and composition, as live.
5. Requests that failed or expired are listed with the reason (the article is listed as
   failed, exit 10), or with ``--fallback live`` asked live.

The run report shows what the batch billed (half the live price) and what the same
requests would have cost live.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefing.errors import BatchPending, ConfigError, ProviderError
from briefing.models import Article, ArticleSummary, Usage
from briefing.store import open_store

if TYPE_CHECKING:
    from briefing.llm.batches import BatchAPI
    from briefing.structured import Call, Plan
    from briefing.summarize import Summarizer, _Run

log = logging.getLogger(__name__)

#: the Batch API's discount on OpenAI (input and output tokens alike)
BATCH_DISCOUNT = 0.5
STORE_FILE = "batches.sqlite3"
FALLBACKS = ("fail", "live")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,          -- the provider's batch id
    endpoint TEXT NOT NULL,       -- the server (base URL)
    model TEXT NOT NULL,
    input_file TEXT NOT NULL,
    status TEXT NOT NULL,
    requests INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    output_file TEXT,
    error_file TEXT,
    collected INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS batch_requests (
    custom_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    article TEXT NOT NULL,        -- the Article, as JSON (collect needs no inputs)
    PRIMARY KEY (custom_id, batch_id)
);
"""


@dataclass
class BatchRow:
    id: str
    endpoint: str
    model: str
    status: str
    requests: int
    created: float
    updated: float
    output_file: str | None
    error_file: str | None
    collected: bool


class BatchStore:
    """The batches this machine submitted and their requests (SQLite, WAL)."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory).expanduser() / STORE_FILE
        self._db = open_store(self.path, _SCHEMA, what="batch store")
        self._lock = threading.Lock()

    def add(
        self, batch: dict[str, Any], endpoint: str, model: str, file_id: str,
        requests: Sequence[tuple[str, Article]],
    ) -> None:  # fmt: skip
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO batches (id, endpoint, model, input_file, status, "
                "requests, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (batch["id"], endpoint, model, file_id, batch.get("status") or "validating",
                 len(requests), now, now),
            )  # fmt: skip
            self._db.executemany(
                "INSERT OR REPLACE INTO batch_requests (custom_id, batch_id, article) "
                "VALUES (?, ?, ?)",
                [(cid, batch["id"], a.model_dump_json()) for cid, a in requests],
            )
            self._db.execute("COMMIT")

    def update(self, batch: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE batches SET status = ?, output_file = ?, error_file = ?, updated = ? "
                "WHERE id = ?",
                (batch.get("status"), batch.get("output_file_id"), batch.get("error_file_id"),
                 time.time(), batch["id"]),
            )  # fmt: skip

    def mark_collected(self, batch_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE batches SET collected = 1 WHERE id = ?", (batch_id,))

    def following(self, custom_id: str, endpoint: str) -> str | None:
        """The batch (of this server) that holds ``custom_id`` and may still answer it:
        not failed, expired or cancelled."""
        with self._lock:
            row = self._db.execute(
                "SELECT b.id FROM batch_requests r JOIN batches b ON b.id = r.batch_id "
                "WHERE r.custom_id = ? AND b.endpoint = ? "
                "AND b.status NOT IN ('failed', 'expired', 'cancelled') "
                "ORDER BY b.created DESC LIMIT 1",
                (custom_id, endpoint),
            ).fetchone()
        return None if row is None else str(row[0])

    def requests(self, batch_id: str) -> list[tuple[str, Article]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT custom_id, article FROM batch_requests WHERE batch_id = ?", (batch_id,)
            ).fetchall()
        return [(str(cid), Article.model_validate_json(text)) for cid, text in rows]

    def batches(self, batch_id: str | None = None) -> list[BatchRow]:
        query = (
            "SELECT id, endpoint, model, status, requests, created, updated, output_file, "
            "error_file, collected FROM batches"
        )
        args: tuple[str, ...] = ()
        if batch_id:
            query += " WHERE id = ?"
            args = (batch_id,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY created DESC", args).fetchall()
        return [
            BatchRow(
                id=str(r[0]),
                endpoint=str(r[1]),
                model=str(r[2]),
                status=str(r[3]),
                requests=int(r[4]),
                created=float(r[5]),
                updated=float(r[6]),
                output_file=r[7],
                error_file=r[8],
                collected=bool(r[9]),
            )
            for r in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass
class BatchReport:
    """What the batch part of a run did and cost."""

    batches: list[str] = field(default_factory=list)
    uploaded: int = 0
    requests: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    #: live calls a batch run made anyway (follow-ups, --fallback live)
    live_calls: int = 0


@dataclass
class _Item:
    index: int
    custom_id: str
    plan: Plan[ArticleSummary]
    call: Call


def request_lines(items: Sequence[_Item], llm: Any) -> list[bytes]:
    """One JSONL line per item: the body ``complete`` would send now."""
    return [
        json.dumps(
            {
                "custom_id": item.custom_id,
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": llm.batch_body(
                    item.call.messages,
                    schema=item.call.schema,
                    schema_name=item.call.schema_name,
                    max_tokens=item.call.max_tokens,
                ),
            },
            ensure_ascii=False,
        ).encode()
        + b"\n"
        for item in items
    ]


def split(lines: Sequence[bytes], max_requests: int, max_bytes: int) -> list[list[int]]:
    """Indexes of ``lines`` cut into files of at most ``max_requests`` lines and
    ``max_bytes`` bytes (a single line larger than that is a ``ConfigError``)."""
    files: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i, line in enumerate(lines):
        if len(line) > max_bytes:
            raise ConfigError(f"one batch request is {len(line)} bytes, over the file limit")
        if current and (len(current) >= max_requests or size + len(line) > max_bytes):
            files.append(current)
            current, size = [], 0
        current.append(i)
        size += len(line)
    if current:
        files.append(current)
    return files


class BatchRun:
    """The batch part of one run: submit or follow, wait, collect into the plans."""

    def __init__(
        self,
        summarizer: Summarizer,
        store: BatchStore,
        *,
        api: BatchAPI | None = None,
        wait: bool = True,
        fallback: str = "fail",
        poll: tuple[float, float] = (2.0, 60.0),
        max_requests: int | None = None,
        max_bytes: int | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> None:
        from briefing.llm.batches import MAX_BYTES, MAX_REQUESTS

        llm: Any = summarizer.llm
        if not hasattr(llm, "batch_body"):
            raise ConfigError(
                f"--batch needs an OpenAI-compatible server with the Batch API (OpenAI, or "
                f"OPENAI_BASE_URL at one); the {llm.provider} model answers live only."
            )
        if fallback not in FALLBACKS:
            raise ConfigError(f"--fallback must be one of {', '.join(FALLBACKS)}, not {fallback!r}")
        self.summarizer = summarizer
        self.llm = llm
        self.store = store
        self.api = api if api is not None else llm.batch_api()
        self.wait = wait
        self.fallback = fallback
        self.poll = poll
        self.max_requests = max_requests or MAX_REQUESTS
        self.max_bytes = max_bytes or MAX_BYTES
        self.on_progress = on_progress
        self.report = BatchReport()
        #: custom_id -> the batch that answers it
        self._assigned: dict[str, str] = {}

    # -- the whole run ----------------------------------------------------------------------
    def summarize(self, run: _Run, todo: Iterable[int]) -> None:
        """Every article of ``todo`` summarized through batches (finished into ``run``)."""
        items = self._start(run, todo)
        if not items:
            return
        followed = self._submit(run, items)
        if not self.wait:
            ids = ", ".join(followed)
            raise BatchPending(
                f"batch {ids} holds {len(items)} request(s) ({self.report.uploaded} uploaded "
                "now); run the same command again to wait for it and build the brief, or "
                "`briefing batch status` to see how far it is."
            )
        batches = {bid: self._wait(bid) for bid in followed}
        answers: dict[str, dict[str, Any]] = {}
        for batch in batches.values():
            answers.update(self._answers(batch))
        self._collect(run, items, answers, batches)
        for bid in followed:
            self.store.mark_collected(bid)

    def _start(self, run: _Run, todo: Iterable[int]) -> list[_Item]:
        """Each article's plan up to its first call (a plan that needs no call, e.g. an
        article without text, is finished at once)."""
        items = []
        for index in todo:
            article = run.articles[index]
            plan = self.summarizer.plan(article)
            try:
                call = next(plan)
            except StopIteration as done:
                run.finish(index, done.value)
                continue
            items.append(_Item(index, run.keys[index], plan, call))
        return items

    def _submit(self, run: _Run, items: list[_Item]) -> list[str]:
        """The batches that will answer ``items``: the ones already holding them, plus new
        ones for the rest (uploaded and recorded here)."""
        endpoint = self.llm.endpoint
        followed: dict[str, None] = {}
        fresh: list[_Item] = []
        for item in items:
            batch_id = self.store.following(item.custom_id, endpoint)
            if batch_id is None:
                fresh.append(item)
            else:
                followed[batch_id] = None
                self._assigned[item.custom_id] = batch_id
        if followed:
            log.info("following batch(es) %s from an earlier run", ", ".join(followed))
        lines = request_lines(fresh, self.llm)
        for n, indexes in enumerate(split(lines, self.max_requests, self.max_bytes), 1):
            data = b"".join(lines[i] for i in indexes)
            file_id = self.api.upload(f"briefing-{int(time.time())}-{n}.jsonl", data)
            batch = self.api.create(file_id, {"tool": "briefing", "part": str(n)})
            chosen = [fresh[i] for i in indexes]
            self.store.add(
                batch, endpoint, self.llm.model, file_id,
                [(item.custom_id, run.articles[item.index]) for item in chosen],
            )  # fmt: skip
            self.report.uploaded += len(chosen)
            followed[str(batch["id"])] = None
            self._assigned.update((item.custom_id, str(batch["id"])) for item in chosen)
            self._say(f"submitted batch {batch['id']}: {len(chosen)} requests")
        self.report.batches = list(followed)
        self.report.requests = len(items)
        return list(followed)

    def _wait(self, batch_id: str) -> dict[str, Any]:
        """Poll until the batch is done (completed, failed, expired or cancelled)."""
        from briefing.llm.batches import TERMINAL

        delay, longest = self.poll
        while True:
            batch = self.api.retrieve(batch_id)
            self.store.update(batch)
            status = str(batch.get("status"))
            counts = batch.get("request_counts") or {}
            self._say(
                f"batch {batch_id}: {status}, {counts.get('completed', 0)} of "
                f"{counts.get('total', '?')} done, {counts.get('failed', 0)} failed"
            )
            if status in TERMINAL:
                return batch
            time.sleep(delay)
            delay = min(longest, delay * 2)

    def _answers(self, batch: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """``custom_id -> output line`` from the batch's output and error files; a batch
        that failed or expired as a whole gives every request its reason."""
        answers: dict[str, dict[str, Any]] = {}
        for key in ("output_file_id", "error_file_id"):
            file_id = batch.get(key)
            if not file_id:
                continue
            for raw in self.api.content(str(file_id)).splitlines():
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw)
                    answers[str(line["custom_id"])] = line
                except (ValueError, KeyError, TypeError):
                    log.warning("batch %s: an unreadable result line skipped", batch["id"])
        return answers

    def _collect(
        self, run: _Run, items: list[_Item], answers: dict[str, dict[str, Any]],
        batches: dict[str, dict[str, Any]],
    ) -> None:  # fmt: skip
        """Each answer into its plan; what the plans need next, live."""
        live: list[tuple[_Item, Call]] = []
        for item in items:
            line = answers.get(item.custom_id)
            batch = batches.get(self._assigned.get(item.custom_id, ""), {})
            problem = _problem(line, str(batch.get("id", "?")), str(batch.get("status", "?")))
            completion = None
            if problem is None:
                assert line is not None
                try:
                    completion = self.llm.batch_completion(line["response"]["body"])
                except ProviderError as e:
                    problem = str(e)
            if completion is None:
                assert problem is not None
                if self.fallback == "live":
                    live.append((item, item.call))
                else:
                    self._fail(run, item, problem)
                continue
            self.report.usage += completion.usage
            try:
                follow_up = item.plan.send(completion)
            except StopIteration as done:
                run.finish(item.index, done.value)
                continue
            live.append((item, follow_up))
        if live:
            self._live(run, live)

    def _fail(self, run: _Run, item: _Item, problem: str) -> None:
        self.report.failed[item.custom_id] = problem
        item.plan.close()
        article = run.articles[item.index]
        summary = self.summarizer._summary(article, None, "failed", Usage(), 1, error=problem)
        run.finish(item.index, summary)

    def _live(self, run: _Run, pending: list[tuple[_Item, Call]]) -> None:
        """Finish plans live from the call each is waiting on (concurrently)."""
        from briefing.structured import adrive
        from briefing.summarize import Gate, run_coroutine

        self._say(f"{len(pending)} follow-up call(s) live (repairs, parts of long articles)")

        async def main() -> None:
            gate = Gate(self.llm)

            async def one(item: _Item, call: Call) -> None:
                async with gate:
                    try:
                        summary = await adrive(self.llm, item.plan, call)
                    except ProviderError as e:
                        summary = run.provider_failure(item.index, e)
                run.finish(item.index, summary)

            try:
                async with asyncio.TaskGroup() as group:
                    for item, call in pending:
                        group.create_task(one(item, call))
            finally:
                await self.llm.aclose()

        run_coroutine(main)
        self.report.live_calls += len(pending)

    def _say(self, message: str) -> None:
        log.info("%s", message)
        if self.on_progress is not None:
            self.on_progress(message)


def _problem(line: dict[str, Any] | None, batch_id: str, status: str) -> str | None:
    """Why a request has no usable answer (``None``: it has one)."""
    if line is None:
        if status in ("expired", "failed", "cancelled"):
            return f"not answered: batch {batch_id} {status} before this request ran"
        return f"not answered: batch {batch_id} ({status}) holds no result for it"
    error = line.get("error")
    response = line.get("response") or {}
    code = response.get("status_code")
    if error or (code is not None and int(code) >= 400):
        body = response.get("body")
        detail = error or (body.get("error") if isinstance(body, dict) else None) or {}
        message = detail.get("message") if isinstance(detail, dict) else str(detail)
        return f"failed in batch {batch_id} (HTTP {code or '?'}): {message or 'no reason given'}"
    if not isinstance(response.get("body"), dict):
        return f"failed in batch {batch_id}: an answer without a body"
    return None
