"""What the CLI's commands share: options, the settings they build, progress and reports.

Options never read the environment themselves: ``briefing.settings`` does, once, and
the flags given are laid over what it found (flags > environment > defaults).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from briefing.errors import BriefingError, ExitCode

if TYPE_CHECKING:
    from briefing.models import Article, ArticleSummary
    from briefing.runner import BriefRun, Loaded

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = """\b
Exit codes: 0 ok; 2 bad usage; 3 configuration; 4 input; 5 model provider;
6 invalid model output; 7 delivery/writing; 10 partial (written, but some inputs
were skipped, some articles not (wholly) summarized: failed, partial, or stopped
by --deadline or --max-cost, or a region's synthesis failed; they are listed);
75 a --batch --no-wait batch is submitted, not done yet (collect it later);
130 interrupted (Ctrl-C/SIGTERM; finished summaries stay cached); 1 internal error
(a bug)."""


def handle_errors(fn: F) -> F:
    """Turn library errors into one line on stderr and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from briefing.settings import raise_errors

        try:
            return fn(*args, **kwargs)
        except BriefingError as e:
            if raise_errors():
                raise
            click.echo(f"briefing: error: {e}", err=True)
            sys.exit(int(e.exit_code))
        except KeyboardInterrupt:
            click.echo("briefing: interrupted; nothing more was written.", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))

    return wrapper  # type: ignore[return-value]


def _apply(fn: Any, options: list[Callable[[Any], Any]]) -> Any:
    for option in reversed(options):
        fn = option(fn)
    return fn


_MODEL_OPTIONS = (
    "provider",
    "model",
    "model_path",
    "base_url",
    "context_window",
    "timeout",
    "prompts_dir",
)


_MODEL_OPTION_DECORATORS = [
    click.option(
        "--provider",
        type=click.Choice(["auto", "openai", "local"]),
        help="openai: OpenAI or any OpenAI-compatible server; local: llama.cpp in "
        "process. auto (default): openai if OPENAI_API_KEY or OPENAI_BASE_URL is "
        "set, else local. [env BRIEFING_PROVIDER]",
    ),
    click.option(
        "--model",
        help="Model name. Default: gpt-4o-mini on OpenAI; on another server, the "
        "model it serves. [env BRIEFING_MODEL]",
    ),
    click.option(
        "--model-path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A GGUF file for --provider local (default: the bundled SmolLM2-135M). "
        "[env BRIEFING_MODEL_PATH]",
    ),
    click.option(
        "--base-url",
        help="OpenAI-compatible server URL (default OPENAI_BASE_URL). The key sent "
        "there is BRIEFING_API_KEY, never your OPENAI_API_KEY.",
    ),
    click.option(
        "--context-window",
        type=click.IntRange(min=512),
        help="The model's context window in tokens, if the server's differs. "
        "[env BRIEFING_CONTEXT_WINDOW]",
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(min=1),
        help="Read timeout of one attempt, seconds (default 120; 300 for a local server). "
        "[env BRIEFING_TIMEOUT]",
    ),
    click.option(
        "--prompts-dir",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="Use your own copies of the prompt templates (*.j2). [env BRIEFING_PROMPTS_DIR]",
    ),
    click.option("-v", "--verbose", count=True, help="Log more (-vv for debug)."),
]


def model_options(fn: F) -> F:
    """Options every command that calls a model shares; the command gets ``model``
    (``ModelSettings``: the environment's, with the flags given laid over)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from briefing.settings import model_settings

        flags = {name: kwargs.pop(name) for name in _MODEL_OPTIONS}
        verbose = kwargs.pop("verbose")
        level = logging.WARNING - 10 * min(verbose, 2)
        logging.basicConfig(level=level, format="briefing: %(levelname)s: %(message)s")
        given = {k: v for k, v in flags.items() if v is not None}
        settings = replace(model_settings(), **given)
        return fn(*args, model=settings, verbose=verbose, **kwargs)

    return _apply(wrapper, _MODEL_OPTION_DECORATORS)  # type: ignore[no-any-return]


_RUN_OPTIONS = (
    "concurrency", "rpm", "tpm", "no_cache", "cache_dir", "max_cost", "deadline", "verify_with",
    "batch", "fallback",
)  # fmt: skip

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the run cache lives (default $XDG_CACHE_HOME/briefing). [env BRIEFING_CACHE_DIR]",
)

unsupported_option = click.option(
    "--unsupported",
    type=click.Choice(["drop", "flag"]),
    help="What to do with claims the source does not support: drop them (default), or "
    "show them marked unverified. [env BRIEFING_UNSUPPORTED]",
)


_RUN_OPTION_DECORATORS = [
    click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        help="Calls in flight at once. Default: what the server can take (llama.cpp "
        "servers say; others are probed and adapted to); the in-process model runs "
        "one at a time. [env BRIEFING_CONCURRENCY]",
    ),
    click.option(
        "--rpm",
        type=click.FloatRange(min=0, min_open=True),
        help="At most this many requests per minute (client-side). [env BRIEFING_RPM]",
    ),
    click.option(
        "--tpm",
        type=click.FloatRange(min=0, min_open=True),
        help="At most this many tokens per minute (prompt + output allowance). [env BRIEFING_TPM]",
    ),
    click.option(
        "--no-cache",
        is_flag=True,
        help="Summarize every article again (do not read or write the run cache).",
    ),
    cache_dir_option,
    click.option(
        "--max-cost",
        type=click.FloatRange(min=0),
        metavar="USD",
        help="Refuse to start when the run's estimated cost exceeds this many "
        "dollars, and start no more calls (summaries or synthesis) once the billed "
        "cost would (prices: BRIEFING_PRICES). [env BRIEFING_MAX_COST]",
    ),
    click.option(
        "--deadline",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="Finish within this many seconds: articles not summarized by then are "
        "listed as failed (exit code 10) and the brief is written with the rest. "
        "[env BRIEFING_DEADLINE]",
    ),
    click.option(
        "--verify-with",
        metavar="MODEL",
        help="A second opinion on every claim: MODEL (on the same provider and server, "
        "e.g. gpt-4o-mini; 'same' for the run's own model; or FILE.gguf) judges each "
        "article's claims against the sentences they cite, one call per article; a "
        "claim is kept only when both it and the lexical checks hold it (the judge can "
        "vouch for a paraphrase, never for a number, quote or name missing from the "
        "source). Its cost is in the run report. Refused for the embedded 135M model "
        "(not a reliable judge). Off by default. [env BRIEFING_VERIFY_WITH]",
    ),
    click.option(
        "--batch",
        is_flag=True,
        help="Summarize through the provider's Batch API (OpenAI's /v1/batches, or a "
        "compatible server): the same requests at about half the price, answered within "
        "24 hours. It waits (polling) unless --no-wait; a killed run, run again, follows "
        "the same batch. Needs the cache.",
    ),
    click.option(
        "--no-wait",
        is_flag=True,
        help="With --batch: submit and exit at once (code 75); run the same command again "
        "to collect and build the brief.",
    ),
    click.option(
        "--fallback",
        type=click.Choice(["fail", "live"]),
        help="With --batch: requests the batch failed or let expire are listed as failed "
        "(default) or asked live.",
    ),
]


def run_options(fn: F) -> F:
    """Concurrency, rate limits, cache and budget options; the command gets ``run``
    (``RunSettings``: the environment's, with the flags given laid over)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from briefing.settings import run_settings

        flags = {name: kwargs.pop(name) for name in _RUN_OPTIONS}
        unsupported = kwargs.pop("unsupported", None)
        given = {k: v for k, v in flags.items() if v not in (None, False)}
        if kwargs.pop("no_wait", False):
            given["batch_wait"] = False
        if unsupported:
            given["unsupported"] = unsupported
        return fn(*args, run=replace(run_settings(), **given), **kwargs)

    return _apply(wrapper, _RUN_OPTION_DECORATORS)  # type: ignore[no-any-return]


class Progress:
    """A progress line on a terminal; silent when stderr is piped."""

    def __init__(self, total: int, label: str = "summarizing") -> None:
        self.enabled = sys.stderr.isatty() and total > 0
        self.total = total
        self.done = 0
        self.label = label
        if self.enabled:
            self._draw("")

    def _draw(self, note: str) -> None:
        width = 24
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        line = f"{self.label} [{bar}] {self.done}/{self.total} {note}"[:100]
        click.echo(f"\r\x1b[2K{line}", err=True, nl=False)

    def __call__(self, summary: ArticleSummary) -> None:
        self.done += 1
        if self.enabled:
            self._draw(summary.title[:40])
            if self.done == self.total:
                click.echo("", err=True)

    def part(self, article: Article, done: int, total: int) -> None:
        """A part of a long article is done: "part 12/50 of 'Annual report'" (a
        200-page report is one article that takes many calls)."""
        if self.enabled:
            self._draw(f"part {done}/{total} of {article.title[:40]!r}")

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        """Leave the progress line (e.g. on an interrupt) so the next message is clean."""
        if self.enabled and self.done < self.total:
            click.echo("", err=True)


def report_batch(message: str) -> None:
    """A line about a --batch run's batch (submitted, waiting, collected) on stderr."""
    click.echo(f"briefing: {message}", err=True)


def report_skipped(loaded: Loaded) -> None:
    for problem in loaded.problems:
        click.echo(f"briefing: skipped: {problem}", err=True)


def report_model_failures(failures: list[ArticleSummary]) -> None:
    """One line per article the model did not (wholly) summarize (at most 10, then a
    count)."""
    for summary in failures[:10]:
        if summary.status == "partial":
            shown = "partial summary"
        elif summary.content is not None:
            shown = "extractive summary"
        else:
            shown = "listed as failed"
        click.echo(
            f"briefing: not summarized: {summary.title[:60]!r} ({shown}): {summary.error}",
            err=True,
        )
    if len(failures) > 10:
        click.echo(f"briefing: ... and {len(failures) - 10} more (see the brief)", err=True)


def report_run(run: BriefRun, written: list[Path]) -> None:
    """What was written, what failed, and what the run cost, on stderr."""
    b = run.briefing
    if written:
        click.echo(
            f"briefing: wrote {', '.join(str(p) for p in written)}: {b.story_count} stories "
            f"in {len(b.sections)} regions, {len(b.failed)} failed ({b.provider}: {b.model}; "
            f"{b.usage.calls} calls, {b.usage.prompt_tokens}+{b.usage.completion_tokens} tokens)",
            err=True,
        )
    report_model_failures(run.model_failures)
    for section in run.synthesis_failures:
        click.echo(
            f"briefing: no synthesis for {section.region.value}: {section.synthesis_error}",
            err=True,
        )
    if run.report is not None:
        from briefing.usage import format_report

        click.echo(f"briefing: run: {format_report(run.report)}", err=True)
