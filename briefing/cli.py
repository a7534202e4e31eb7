"""The ``briefing`` command: parses arguments, calls the library, prints. Nothing else.

Errors the user can cause are printed on one line and mapped to exit codes
(see ``briefing.errors.ExitCode``); set BRIEFING_RAISE_ERRORS=1 for a traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from briefing.errors import BriefingError, ExitCode, InputError

if TYPE_CHECKING:
    from briefing.llm.base import LLM
    from briefing.models import ArticleSummary
    from briefing.prompts import Prompts

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = """\b
Exit codes: 0 ok; 2 bad usage; 3 configuration; 4 input; 5 model provider;
6 invalid model output; 7 delivery/writing; 10 partial (written, some articles
failed); 130 interrupted; 1 internal error (a bug)."""


def _fail(error: BriefingError) -> None:
    click.echo(f"briefing: error: {error}", err=True)
    sys.exit(int(error.exit_code))


def handle_errors(fn: F) -> F:
    """Turn library errors into one line on stderr and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BriefingError as e:
            if os.environ.get("BRIEFING_RAISE_ERRORS"):
                raise
            _fail(e)
        except KeyboardInterrupt:
            click.echo("briefing: interrupted; nothing more was written.", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))

    return wrapper  # type: ignore[return-value]


def model_options(fn: F) -> F:
    """Options every command that calls a model shares."""
    options = [
        click.option(
            "--provider",
            type=click.Choice(["auto", "openai", "local"]),
            default="auto",
            envvar="BRIEFING_PROVIDER",
            show_default=True,
            help="openai: OpenAI or any OpenAI-compatible server; local: llama.cpp in "
            "process. auto: openai if OPENAI_API_KEY or OPENAI_BASE_URL is set, else local.",
        ),
        click.option("--model", help="Model name (openai; default gpt-4o-mini)."),
        click.option(
            "--model-path",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="BRIEFING_MODEL_PATH",
            help="A GGUF file for --provider local (default: the bundled SmolLM2-135M).",
        ),
        click.option(
            "--base-url",
            help="OpenAI-compatible server URL (default OPENAI_BASE_URL). The key sent "
            "there is BRIEFING_API_KEY, never your OPENAI_API_KEY.",
        ),
        click.option(
            "--context-window",
            type=click.IntRange(min=512),
            help="The model's context window in tokens, if the server's differs.",
        ),
        click.option("--timeout", type=click.FloatRange(min=1), help="Read timeout, seconds."),
        click.option(
            "--prompts-dir",
            type=click.Path(file_okay=False, exists=True, path_type=Path),
            envvar="BRIEFING_PROMPTS_DIR",
            help="Use your own copies of the prompt templates (*.j2).",
        ),
        click.option("-v", "--verbose", count=True, help="Log more (-vv for debug)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _setup(
    provider: str,
    model: str | None,
    model_path: Path | None,
    base_url: str | None,
    context_window: int | None,
    timeout: float | None,
    prompts_dir: Path | None,
    verbose: int,
) -> tuple[LLM, Prompts]:
    from briefing.llm import get_llm
    from briefing.prompts import Prompts

    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="briefing: %(levelname)s: %(message)s")
    prompts = Prompts(prompts_dir)  # fails fast on a bad directory, before loading a model
    llm = get_llm(
        provider,
        model=model,
        model_path=model_path,
        base_url=base_url,
        context_window=context_window,
        timeout=timeout,
    )
    return llm, prompts


class _Progress:
    """A progress line on a terminal; silent when stderr is piped."""

    def __init__(self, total: int, label: str) -> None:
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


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(package_name="briefing")
def cli() -> None:
    """Turn raw news articles into a grounded daily regional briefing.

    \b
    briefing summarize FILE          summary of one file (or - for stdin)
    briefing brief DIR --out b.md    the morning brief (Markdown, PDF)
    briefing extract PATH            the clean articles found in the inputs

    With no OPENAI_API_KEY it runs the bundled SmolLM2 model in process (no network).
    """


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("source", metavar="FILE|-")
@click.option("--json", "as_json", is_flag=True, help="Print the structured summaries as JSON.")
@model_options
@handle_errors
def summarize(source: str, as_json: bool, **opts: Any) -> None:
    """Summarize the article(s) in FILE (text, Markdown, HTML, .gz; - reads stdin).

    Prints Markdown, or with --json a JSON array of summaries (see `briefing schema`).
    """
    from briefing.pipeline import load, summarize_articles
    from briefing.render.summary import summaries_markdown

    loaded = load([source], stdin=sys.stdin)
    if not loaded.articles:
        raise InputError(f"No article found in {source}.")
    llm, prompts = _setup(**opts)
    summaries = summarize_articles(
        loaded.articles,
        llm,
        prompts=prompts,
        on_summary=_Progress(len(loaded.articles), "summarizing"),
    )
    if as_json:
        click.echo(json.dumps([s.model_dump(mode="json") for s in summaries], indent=2))
    else:
        click.echo(summaries_markdown(summaries))
    if any(s.content is None for s in summaries):
        sys.exit(int(ExitCode.PARTIAL))


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("inputs", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--out",
    "out_md",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Markdown brief here (default: print it).",
)
@click.option(
    "--pdf", "out_pdf", type=click.Path(dir_okay=False, path_type=Path), help="Also write a PDF."
)
@click.option(
    "--html",
    "out_html",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write standalone HTML.",
)
@click.option(
    "--json",
    "out_json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the whole Briefing as JSON.",
)
@click.option(
    "--date", "date_", type=click.DateTime(["%Y-%m-%d"]), help="The brief's date (default today)."
)
@click.option("--include", multiple=True, help="Glob of files to take from directories.")
@click.option("--exclude", multiple=True, help="Glob of files to skip in directories.")
@model_options
@handle_errors
def brief(
    inputs: tuple[str, ...],
    out_md: Path | None,
    out_pdf: Path | None,
    out_html: Path | None,
    out_json: Path | None,
    date_: dt.datetime | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    **opts: Any,
) -> None:
    """Build the brief from files, directories, URLs or - (stdin).

    Articles are summarized, grouped by region and written as Markdown (and PDF,
    HTML, JSON on request). Articles that could not be summarized are listed in the
    brief with the reason, and the exit code is 10.
    """
    from briefing.pipeline import load, make_brief
    from briefing.render import render_html, render_json, render_markdown, render_pdf, write_atomic

    loaded = load(inputs, include=include, exclude=exclude, stdin=sys.stdin)
    for problem in loaded.problems:
        click.echo(f"briefing: skipped {problem.source}: {problem.message}", err=True)
    llm, prompts = _setup(**opts)
    run = make_brief(
        loaded,
        llm,
        prompts=prompts,
        date=date_.date() if date_ else None,
        on_summary=_Progress(len(loaded.articles), "summarizing"),
    )
    markdown = render_markdown(run.briefing)
    if out_md is None:
        click.echo(markdown)
    else:
        write_atomic(out_md, markdown)
    if out_html:
        write_atomic(out_html, render_html(run.briefing))
    if out_json:
        write_atomic(out_json, render_json(run.briefing))
    if out_pdf:
        write_atomic(out_pdf, render_pdf(run.briefing))
    written = [str(p) for p in (out_md, out_pdf, out_html, out_json) if p]
    b = run.briefing
    if written:
        click.echo(
            f"briefing: wrote {', '.join(written)}: {b.story_count} stories in "
            f"{len(b.sections)} regions, {len(b.failed)} failed ({b.provider}: {b.model}; "
            f"{b.usage.calls} calls, {b.usage.prompt_tokens}+{b.usage.completion_tokens} tokens)",
            err=True,
        )
    if run.partial:
        sys.exit(int(ExitCode.PARTIAL))


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("inputs", nargs=-1, required=True, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of articles.")
@click.option("--include", multiple=True, help="Glob of files to take from directories.")
@click.option("--exclude", multiple=True, help="Glob of files to skip in directories.")
@handle_errors
def extract(
    inputs: tuple[str, ...], as_json: bool, include: tuple[str, ...], exclude: tuple[str, ...]
) -> None:
    """Print the clean articles found in files, directories, URLs or - (stdin)."""
    from briefing.pipeline import load

    loaded = load(inputs, include=include, exclude=exclude, stdin=sys.stdin)
    for problem in loaded.problems:
        click.echo(f"briefing: skipped {problem.source}: {problem.message}", err=True)
    if as_json:
        rows = [a.model_dump(mode="json", exclude={"sentences"}) for a in loaded.articles]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for article in loaded.articles:
            meta = " · ".join(
                x
                for x in (
                    article.outlet,
                    article.published and article.published.isoformat(),
                    article.byline,
                    article.url or article.source,
                )
                if x
            )
            click.echo(f"# {article.title}\n{meta}\n\n{article.text}\n")
    if loaded.problems:
        sys.exit(int(ExitCode.PARTIAL))


@cli.command()
def schema() -> None:
    """Print the JSON schema of one summary (what `summarize --json` items follow)."""
    from briefing.models import ArticleSummary

    click.echo(json.dumps(ArticleSummary.model_json_schema(), indent=2))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="briefing")


if __name__ == "__main__":  # pragma: no cover
    main()
