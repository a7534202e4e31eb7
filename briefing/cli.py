"""The ``briefing`` command: parses arguments, calls the library, prints. Nothing else.

Errors the user can cause are printed on one line and mapped to exit codes
(see ``briefing.errors.ExitCode``); set BRIEFING_RAISE_ERRORS=1 for a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from briefing.errors import BriefingError, ExitCode, InputError, Interrupted

if TYPE_CHECKING:
    from briefing.cache import SummaryCache
    from briefing.llm.base import LLM
    from briefing.models import ArticleSummary, Region
    from briefing.prompts import Prompts

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = """\b
Exit codes: 0 ok; 2 bad usage; 3 configuration; 4 input; 5 model provider;
6 invalid model output; 7 delivery/writing; 10 partial (written, but some inputs
were skipped or some articles not summarized: failed, or stopped by --deadline or
--max-cost; they are listed); 130 interrupted (Ctrl-C/SIGTERM; finished summaries
stay cached); 1 internal error (a bug)."""


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


@dataclass(frozen=True)
class RunSettings:
    """How a run paces, caches and budgets its model calls (``run_options``)."""

    concurrency: int | None = None
    rpm: float | None = None
    tpm: float | None = None
    no_cache: bool = False
    cache_dir: Path | None = None
    max_cost: float | None = None
    deadline: float | None = None

    def open_cache(self) -> SummaryCache | None:
        if self.no_cache:
            return None
        from briefing.cache import SummaryCache

        return SummaryCache(self.cache_dir)

    def pace(self, llm: LLM) -> None:
        """Give a remote model a rate limiter (it also slows the run down on 429s)."""
        if hasattr(llm, "limiter"):
            from briefing.ratelimit import RateLimiter

            llm.limiter = RateLimiter(self.rpm, self.tpm)


_RUN_OPTION_NAMES = ("concurrency", "rpm", "tpm", "no_cache", "cache_dir", "max_cost", "deadline")

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="BRIEFING_CACHE_DIR",
    help="Where the run cache lives (default $XDG_CACHE_HOME/briefing).",
)


def run_options(fn: F) -> F:
    """Concurrency, rate limits, cache and budget options; the command gets ``run``."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = RunSettings(**{name: kwargs.pop(name) for name in _RUN_OPTION_NAMES})
        return fn(*args, run_settings=settings, **kwargs)

    options = [
        click.option(
            "--concurrency",
            type=click.IntRange(min=1),
            envvar="BRIEFING_CONCURRENCY",
            help="Articles summarized at once (default 8 for openai; the local model "
            "runs 1 at a time).",
        ),
        click.option(
            "--rpm",
            type=click.FloatRange(min=0, min_open=True),
            envvar="BRIEFING_RPM",
            help="At most this many requests per minute (client-side).",
        ),
        click.option(
            "--tpm",
            type=click.FloatRange(min=0, min_open=True),
            envvar="BRIEFING_TPM",
            help="At most this many tokens per minute (prompt + output allowance).",
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
            envvar="BRIEFING_MAX_COST",
            metavar="USD",
            help="Refuse to start when the run's estimated cost exceeds this many dollars, "
            "and start no more articles once the billed cost would (prices: BRIEFING_PRICES).",
        ),
        click.option(
            "--deadline",
            type=click.FloatRange(min=0, min_open=True),
            envvar="BRIEFING_DEADLINE",
            metavar="SECONDS",
            help="Finish within this many seconds: articles not summarized by then are "
            "listed as failed (exit code 10) and the brief is written with the rest.",
        ),
    ]
    result: Any = wrapper
    for option in reversed(options):
        result = option(result)
    return result  # type: ignore[no-any-return]


unsupported_option = click.option(
    "--unsupported",
    type=click.Choice(["drop", "flag"]),
    default="drop",
    envvar="BRIEFING_UNSUPPORTED",
    show_default=True,
    help="What to do with claims the source does not support: drop them, or show them "
    "marked unverified.",
)


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
        #: summaries the model delivered (these are in the cache)
        self.kept = 0
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
        self.kept += summary.ok
        if self.enabled:
            self._draw(summary.title[:40])
            if self.done == self.total:
                click.echo("", err=True)


@contextlib.contextmanager
def _keep_on_interrupt(progress: _Progress, cache: SummaryCache | None, llm: LLM) -> Iterator[None]:
    """Turn Ctrl-C / SIGTERM during a run into ``Interrupted`` saying what was kept;
    close the model's connections either way."""
    try:
        yield
    except KeyboardInterrupt:
        if progress.enabled:
            click.echo("", err=True)
        done = f"{progress.kept} of {progress.total} articles summarized"
        if cache is None:
            kept = "not kept (--no-cache)"
        else:
            kept = f"kept in the cache ({cache.path}): run the same command again to resume"
        raise Interrupted(f"interrupted: {done}, {kept}. No brief was written.") from None
    finally:
        close = getattr(llm, "close", None)
        if close is not None:
            close()


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(package_name="briefing")
def cli() -> None:
    """Turn raw news articles into a grounded daily regional briefing.

    \b
    briefing summarize FILE          summary of one file (or - for stdin)
    briefing brief DIR --out b.md    the morning brief (Markdown, PDF)
    briefing extract PATH            the clean articles found in the inputs
    briefing eval PATH               faithfulness metrics of the summaries

    With no OPENAI_API_KEY it runs the bundled SmolLM2 model in process (no network).
    """


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("source", metavar="FILE|-")
@click.option("--json", "as_json", is_flag=True, help="Print the structured summaries as JSON.")
@unsupported_option
@model_options
@run_options
@handle_errors
def summarize(
    source: str, as_json: bool, unsupported: str, run_settings: RunSettings, **opts: Any
) -> None:
    """Summarize the article(s) in FILE (text, Markdown, HTML, .gz; - reads stdin).

    Prints Markdown, or with --json a JSON array of summaries (see `briefing schema`).
    """
    from briefing.pipeline import load, summarize_articles
    from briefing.render.summary import summaries_markdown

    loaded = load([source], stdin=sys.stdin)
    if not loaded.articles:
        raise InputError(f"No article found in {source}.")
    llm, prompts = _setup(**opts)
    run_settings.pace(llm)
    progress = _Progress(len(loaded.articles), "summarizing")
    store = run_settings.open_cache()
    with _keep_on_interrupt(progress, store, llm):
        summaries = summarize_articles(
            loaded.articles,
            llm,
            prompts=prompts,
            on_summary=progress,
            unsupported=unsupported,
            concurrency=run_settings.concurrency,
            cache=store,
            max_cost=run_settings.max_cost,
            deadline=run_settings.deadline,
        )
    if as_json:
        click.echo(json.dumps([s.model_dump(mode="json") for s in summaries], indent=2))
    else:
        click.echo(summaries_markdown(summaries))
    if any(s.content is None or s.error for s in summaries):
        sys.exit(int(ExitCode.PARTIAL))


_FORMATS = ("md", "html", "pdf", "json")


def _parse_formats(value: str | None) -> list[str]:
    """``--format md,pdf`` -> ``["md", "pdf"]``; an unknown format is a usage error."""
    if not value:
        return []
    wanted = [f.strip().lower().lstrip(".") for f in value.split(",") if f.strip()]
    wanted = ["md" if f == "markdown" else f for f in wanted]
    unknown = [f for f in wanted if f not in _FORMATS]
    if unknown:
        raise click.BadParameter(
            f"unknown format {', '.join(unknown)}; choose from {','.join(_FORMATS)}",
            param_hint="--format",
        )
    return list(dict.fromkeys(wanted))


def _parse_regions(value: str | None) -> list[Region] | None:
    """``--regions middle_east,europe`` -> those regions in that order."""
    if not value:
        return None
    from briefing.regions import parse_region

    regions: list[Region] = []
    for name in (n.strip() for n in value.split(",") if n.strip()):
        region = parse_region(name)
        if region is None:
            known = "middle_east, europe, africa, asia_pacific, americas, global"
            raise click.BadParameter(
                f"unknown region {name!r}; use {known}", param_hint="--regions"
            )
        regions.append(region)
    return regions


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("inputs", nargs=-1, metavar="PATH...")
@click.option(
    "--profile",
    "profile_name",
    metavar="NAME",
    help="Take sources, regions, formats and output_dir from this config profile.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The config file for --profile (default: $BRIEFING_CONFIG, else "
    "$XDG_CONFIG_HOME/briefing/config.toml).",
)
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
@click.option(
    "--format",
    "formats",
    metavar="md,html,pdf,json",
    help="Write out/brief.<ext> for each listed format into --out-dir.",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Directory for --format outputs.",
)
@click.option(
    "--template-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Your own brief.md.j2 / brief.html.j2 / brief.css, searched before the built-in ones.",
)
@click.option(
    "--regions",
    "regions_",
    metavar="NAMES",
    help="Sections to show, in order, comma-separated (e.g. middle_east,europe,global).",
)
@click.option("--tz", "tz", default="UTC", show_default=True, help="IANA time zone of dates.")
@click.option(
    "--language",
    default="English",
    show_default=True,
    help="The language the brief is written in, whatever the sources' languages.",
)
@click.option(
    "--synthesis/--no-synthesis",
    default=True,
    show_default=True,
    help="Add a grounded 'what it means' paragraph per region (one more model call each).",
)
@click.option("--include", multiple=True, help="Glob of files to take from directories.")
@click.option("--exclude", multiple=True, help="Glob of files to skip in directories.")
@unsupported_option
@model_options
@run_options
@handle_errors
def brief(
    inputs: tuple[str, ...],
    out_md: Path | None,
    out_pdf: Path | None,
    out_html: Path | None,
    out_json: Path | None,
    date_: dt.datetime | None,
    formats: str | None,
    out_dir: Path,
    template_dir: Path | None,
    regions_: str | None,
    tz: str,
    language: str,
    synthesis: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    profile_name: str | None,
    config_file: Path | None,
    unsupported: str,
    run_settings: RunSettings,
    **opts: Any,
) -> None:
    """Build the brief from files, directories, URLs or - (stdin).

    Articles are summarized, grouped by region and written as Markdown (and PDF,
    HTML, JSON on request). Articles that could not be summarized are listed in the
    brief with the reason, and the exit code is 10. With --profile NAME, PATHs,
    globs and outputs not given come from that profile of the config file.
    """
    from briefing.pipeline import load, make_brief
    from briefing.render import render_html, render_json, render_markdown, render_pdf, write_atomic

    profile = None
    if profile_name:
        from briefing.config import load_config

        profile = load_config(config_file).profile(profile_name)
        inputs = inputs or tuple(profile.sources)
        include, exclude = include or tuple(profile.include), exclude or tuple(profile.exclude)
        date_ = date_ or dt.datetime.combine(profile.today(), dt.time())
    if not inputs:
        raise click.UsageError("Give PATH... to read, or --profile NAME with sources.")
    regions = _parse_regions(regions_)
    wanted = _parse_formats(formats)
    from briefing.compose import zone

    zone(tz)  # a bad --tz fails before any model call
    loaded = load(inputs, include=include, exclude=exclude, stdin=sys.stdin)
    for problem in loaded.problems:
        click.echo(f"briefing: skipped: {problem}", err=True)
    llm, prompts = _setup(**opts)
    run_settings.pace(llm)
    progress = _Progress(len(loaded.articles), "summarizing")
    store = run_settings.open_cache()
    with _keep_on_interrupt(progress, store, llm):
        run = make_brief(
            loaded,
            llm,
            prompts=prompts,
            date=date_.date() if date_ else None,
            on_summary=progress,
            unsupported=unsupported,
            concurrency=run_settings.concurrency,
            cache=store,
            max_cost=run_settings.max_cost,
            deadline=run_settings.deadline,
            regions=regions,
            timezone=tz,
            language=language,
            synthesize=synthesis,
        )
    to_profile_dir = False
    if profile is not None:
        run.briefing = profile.select(run.briefing)
        paths = profile.output_paths(run.briefing.date)
        if paths and not any((out_md, out_pdf, out_html, out_json)):
            to_profile_dir = True
            out_md, out_pdf, out_html = paths.get("md"), paths.get("pdf"), paths.get("html")
            out_json = paths.get("json")
    if wanted:
        out_dir.mkdir(parents=True, exist_ok=True)
        targets = {fmt: out_dir / f"brief.{fmt}" for fmt in wanted}
        out_md, out_html = out_md or targets.get("md"), out_html or targets.get("html")
        out_pdf, out_json = out_pdf or targets.get("pdf"), out_json or targets.get("json")
        to_profile_dir = True  # the formats were asked for: no Markdown on stdout
    markdown = render_markdown(run.briefing, template_dir=template_dir)
    if out_md is None:
        if not to_profile_dir:
            click.echo(markdown)
    else:
        write_atomic(out_md, markdown)
    if out_html:
        write_atomic(out_html, render_html(run.briefing, template_dir=template_dir))
    if out_json:
        write_atomic(out_json, render_json(run.briefing))
    if out_pdf:
        write_atomic(out_pdf, render_pdf(run.briefing, template_dir=template_dir))
    written = [str(p) for p in (out_md, out_pdf, out_html, out_json) if p]
    b = run.briefing
    if written:
        click.echo(
            f"briefing: wrote {', '.join(written)}: {b.story_count} stories in "
            f"{len(b.sections)} regions, {len(b.failed)} failed ({b.provider}: {b.model}; "
            f"{b.usage.calls} calls, {b.usage.prompt_tokens}+{b.usage.completion_tokens} tokens)",
            err=True,
        )
    _report_model_failures(run.model_failures)
    if run.report is not None:
        from briefing.usage import format_report

        click.echo(f"briefing: run: {format_report(run.report)}", err=True)
    if run.partial:
        sys.exit(int(ExitCode.PARTIAL))


def _report_model_failures(failures: list[ArticleSummary]) -> None:
    """One line per article the model did not summarize (at most 10, then a count)."""
    for summary in failures[:10]:
        shown = "extractive summary" if summary.content is not None else "listed as failed"
        click.echo(
            f"briefing: not summarized: {summary.title[:60]!r} ({shown}): {summary.error}",
            err=True,
        )
    if len(failures) > 10:
        click.echo(f"briefing: ... and {len(failures) - 10} more (see the brief)", err=True)


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
        click.echo(f"briefing: skipped: {problem}", err=True)
    if as_json:
        rows = [a.model_dump(mode="json", exclude={"sentences"}) for a in loaded.articles]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for article in loaded.articles:
            when = article.published.isoformat() if article.published else None
            meta = " · ".join(
                x
                for x in (article.outlet, when, article.byline, article.url or article.source)
                if x
            )
            click.echo(f"# {article.title}\n{meta}\n\n{article.text}\n")
    # exit 0 whenever something was usable; load() raised if nothing was
    click.echo(f"briefing: {loaded.report()}", err=True)


@cli.command("eval", epilog=EXIT_CODES_HELP)
@click.argument("inputs", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--references",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Reference summaries: <article id>.txt, <file stem>.txt or <file stem>-<n>.txt.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@unsupported_option
@model_options
@handle_errors
def eval_(
    inputs: tuple[str, ...], references: Path | None, as_json: bool, unsupported: str, **opts: Any
) -> None:
    """Summarize PATH... and print faithfulness metrics per article and overall."""
    from briefing.evaluate import evaluate, format_report, load_references
    from briefing.pipeline import load, summarize_articles

    loaded = load(inputs, stdin=sys.stdin)
    llm, prompts = _setup(**opts)
    progress = _Progress(len(loaded.articles), "summarizing")
    summaries = summarize_articles(
        loaded.articles, llm, prompts=prompts, on_summary=progress, unsupported=unsupported
    )
    refs = load_references(references, loaded.articles) if references else None
    report = evaluate(loaded.articles, summaries, refs)
    if as_json:
        click.echo(json.dumps({**report.model_dump(mode="json"), "overall": report.overall()}))
    else:
        click.echo(format_report(report), nl=False)


@cli.group()
def cache() -> None:
    """The run cache of summaries (reruns of unchanged articles make no model calls)."""


@cache.command("stats")
@cache_dir_option
@handle_errors
def cache_stats(cache_dir: Path | None) -> None:
    """Print where the cache is, its entries and size."""
    from briefing.cache import SummaryCache

    with SummaryCache(cache_dir) as store:
        stats = store.stats()
    click.echo(f"path: {stats.path}")
    click.echo(f"entries: {stats.entries}")
    click.echo(f"size: {stats.size_bytes / 1024:.1f} KiB")
    for name, count in stats.by_model.items():
        click.echo(f"  {name}: {count}")


@cache.command("clear")
@cache_dir_option
@handle_errors
def cache_clear(cache_dir: Path | None) -> None:
    """Delete every cached summary."""
    from briefing.cache import SummaryCache

    with SummaryCache(cache_dir) as store:
        removed = store.clear()
    click.echo(f"briefing: removed {removed} cached summaries from {store.path}", err=True)


@cli.command()
def schema() -> None:
    """Print the JSON schema of one summary (what `summarize --json` items follow)."""
    from briefing.models import ArticleSummary

    click.echo(json.dumps(ArticleSummary.model_json_schema(), indent=2))


from briefing import cli_deliver  # noqa: E402, F401  (registers `send` and `schedule`)


def _terminate(signum: int, frame: Any) -> None:  # noqa: ARG001 - signal handler
    """SIGTERM (systemd stop, kill) stops a run like Ctrl-C: whatever handles SIGINT
    now (asyncio's, which cancels the running tasks cleanly, or Python's default, which
    raises KeyboardInterrupt) handles it."""
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="briefing")


if __name__ == "__main__":  # pragma: no cover
    main()
