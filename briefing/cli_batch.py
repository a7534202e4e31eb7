"""``briefing batch status|collect|cancel``: the batches ``brief --batch`` submitted
(recorded in ``batches.sqlite3`` beside the cache)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from briefing.cli_options import (
    EXIT_CODES_HELP,
    cache_dir_option,
    handle_errors,
    model_options,
    report_batch,
)
from briefing.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from briefing.batch import BatchStore
    from briefing.settings import ModelSettings


def _store(cache_dir: Path | None) -> BatchStore:
    from briefing.batch import BatchStore
    from briefing.cache import default_cache_dir
    from briefing.settings import run_settings

    directory = cache_dir or run_settings().cache_dir or default_cache_dir()
    return BatchStore(directory)


def _api(model: ModelSettings) -> Any:
    from briefing.llm import open_llm

    llm: Any = open_llm(model)
    if not hasattr(llm, "batch_api"):
        raise ConfigError(
            "The batches live on an OpenAI-compatible server: set OPENAI_API_KEY or "
            "OPENAI_BASE_URL (as for the run that submitted them)."
        )
    return llm.batch_api()


@click.group()
def batch() -> None:
    """The batches `briefing brief --batch` submitted (status, collect, cancel)."""


@batch.command(epilog=EXIT_CODES_HELP)
@click.argument("batch_id", required=False)
@click.option("--local", is_flag=True, help="Show what this machine recorded; ask no server.")
@cache_dir_option
@handle_errors
@model_options
def status(
    batch_id: str | None, local: bool, cache_dir: Path | None, model: ModelSettings, verbose: int
) -> None:
    """Each batch (or BATCH_ID): its state on the server, requests, when submitted and
    whether its results were collected."""
    del verbose
    store = _store(cache_dir)
    try:
        rows = store.batches(batch_id)
        if batch_id and not rows:
            raise ConfigError(f"No batch {batch_id} in {store.path}.")
        api = None if local or not rows else _api(model)
        for row in rows:
            state, counts = row.status, ""
            if api is not None and not row.collected:
                live = api.retrieve(row.id)
                store.update(live)
                state = str(live.get("status"))
                n = live.get("request_counts") or {}
                counts = f", {n.get('completed', 0)} done, {n.get('failed', 0)} failed"
            when = dt.datetime.fromtimestamp(row.created, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            collected = "collected" if row.collected else "not collected"
            click.echo(f"{row.id}  {state}  {row.requests} requests{counts}  {when}  {collected}")
        if not rows:
            click.echo(f"No batches recorded in {store.path}.", err=True)
    finally:
        store.close()


@batch.command(epilog=EXIT_CODES_HELP)
@click.argument("batch_id")
@cache_dir_option
@handle_errors
@model_options
def cancel(batch_id: str, cache_dir: Path | None, model: ModelSettings, verbose: int) -> None:
    """Cancel BATCH_ID on the server (requests already answered stay billed)."""
    del verbose
    store = _store(cache_dir)
    try:
        if not store.batches(batch_id):
            raise ConfigError(f"No batch {batch_id} in {store.path}.")
        done = _api(model).cancel(batch_id)
        store.update(done)
        click.echo(f"{batch_id}: {done.get('status')}")
    finally:
        store.close()


@batch.command(epilog=EXIT_CODES_HELP)
@click.argument("batch_id", required=False)
@cache_dir_option
@handle_errors
@model_options
def collect(
    batch_id: str | None, cache_dir: Path | None, model: ModelSettings, verbose: int
) -> None:
    """Wait for BATCH_ID (default: every batch not collected yet) and keep its summaries
    in the cache, grounded: the `brief` that submitted it then runs without a model call.
    The articles come from what the batch recorded, so no inputs are needed; the model
    settings must be those of the run that submitted it."""
    from dataclasses import replace

    from briefing.request import BriefRequest
    from briefing.runner import Loaded, Runner
    from briefing.settings import run_settings

    del verbose
    store = _store(cache_dir)
    try:
        rows = [r for r in store.batches(batch_id) if batch_id or not r.collected]
        if batch_id and not rows:
            raise ConfigError(f"No batch {batch_id} in {store.path}.")
        articles = {a.id: a for row in rows for _, a in store.requests(row.id)}
        directory = store.path.parent
    finally:
        store.close()
    if not articles:
        click.echo("Nothing to collect.", err=True)
        return
    run = replace(run_settings(), batch=True, cache_dir=directory)
    request = BriefRequest(inputs=(), model=model, run=run)
    with Runner(request) as runner:
        runner.on_batch_progress = report_batch
        summaries = runner.summaries(Loaded(list(articles.values())))
    failed = [s for s in summaries if s.error]
    click.echo(
        f"briefing: collected {len(summaries) - len(failed)} of {len(summaries)} summaries "
        "into the cache; run the brief again to build it (no model calls)",
        err=True,
    )
    if failed:
        sys.exit(int(ExitCode.PARTIAL))
