"""The ``briefing`` command: parses arguments, calls the library, prints. Nothing else.

Each command reads: parse -> request (``briefing.request``) -> run
(``briefing.runner``) -> write. Errors the user can cause are printed on one line and
mapped to exit codes (see ``briefing.errors.ExitCode``); set BRIEFING_RAISE_ERRORS=1
for a traceback. ``send`` and ``schedule`` live in ``briefing.cli_deliver``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from briefing.cli_options import (
    EXIT_CODES_HELP,
    Progress,
    cache_dir_option,
    handle_errors,
    model_options,
    report_batch,
    report_model_failures,
    report_run,
    report_skipped,
    run_options,
    unsupported_option,
)
from briefing.errors import ConfigError, ExitCode, InputError

if TYPE_CHECKING:
    from briefing.request import BriefRequest, Outputs
    from briefing.settings import ModelSettings, RunSettings

T = TypeVar("T")


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(package_name="briefing")
def cli() -> None:
    """Turn raw news articles into a grounded daily regional briefing.

    \b
    briefing summarize FILE          summary of one file (or - for stdin)
    briefing brief DIR --out b.md    the morning brief (Markdown, PDF)
    briefing extract PATH            the clean articles found in the inputs
    briefing eval PATH               faithfulness metrics of the summaries
    briefing send --profile NAME     build a profile's brief and mail it
    briefing editions                the briefs kept, and what each had new

    With no OPENAI_API_KEY it runs the bundled SmolLM2 model in process (no network).
    """


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("source", metavar="FILE|-")
@click.option("--json", "as_json", is_flag=True, help="Print the structured summaries as JSON.")
@unsupported_option
@handle_errors
@model_options
@run_options
def summarize(
    source: str, as_json: bool, model: ModelSettings, run: RunSettings, verbose: int
) -> None:
    """Summarize the article(s) in FILE (text, Markdown, HTML, .gz; - reads stdin).

    Prints Markdown, or with --json a JSON array of summaries (see `briefing schema`).
    """
    from briefing.request import BriefRequest
    from briefing.runner import Runner

    del verbose
    request = BriefRequest(inputs=(source,), model=model, run=run)
    with Runner(request, stdin=sys.stdin) as runner:
        runner.on_batch_progress = report_batch
        loaded = runner.load()
        if not loaded.articles:
            raise InputError(f"No article found in {source}.")
        with Progress(len(loaded.articles)) as progress:
            summaries = runner.with_progress(progress, lambda: runner.summaries(loaded))
        judged = runner.judge_report
    if judged is not None:
        from briefing.models import RunReport
        from briefing.usage import format_report

        line = format_report(RunReport(judge=judged)).split("; ", 1)[1]
        click.echo(f"briefing: {line}", err=True)
    if as_json:
        click.echo(json.dumps([s.model_dump(mode="json") for s in summaries], indent=2))
    else:
        from briefing.render.summary import summaries_markdown

        click.echo(summaries_markdown(summaries))
    failures = [s for s in summaries if s.content is None or s.error]
    report_model_failures(failures)
    if failures:
        sys.exit(int(ExitCode.PARTIAL))


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("inputs", nargs=-1, metavar="PATH...")
@click.option(
    "--profile",
    "profile_name",
    metavar="NAME",
    help="Take sources, regions, time zone, language, title and output_dir from this "
    "config profile (flags given win).",
)
@click.option(
    "--all-profiles",
    is_flag=True,
    help="Build every profile's brief of the config file into its output_dir, with one "
    "ingest, one cache and one summarizing pass (one batch with --batch): an article in "
    "three profiles is summarized once.",
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
    help="Write brief.<ext> for each listed format into --out-dir.",
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
    help="Sections to show, in order, comma-separated (e.g. middle_east,europe,global); "
    "no model call is made for the others.",
)
@click.option("--tz", "tz", help="IANA time zone of dates (default UTC, or the profile's).")
@click.option(
    "--language",
    help="The language the brief is written in, whatever the sources' languages "
    "(default English, or the profile's).",
)
@click.option(
    "--synthesis/--no-synthesis",
    default=True,
    show_default=True,
    help="Add a grounded 'what it means' paragraph per region (one more model call each).",
)
@click.option("--include", multiple=True, help="Glob of files to take from directories.")
@click.option("--exclude", multiple=True, help="Glob of files to skip in directories.")
@click.option(
    "--repeats",
    type=click.Choice(["omit", "list", "full"]),
    help="Stories an earlier edition (last 7 days) had, with nothing new: leave them out, "
    "list them in one line each under 'Still developing' (default), or keep them in full.",
)
@click.option(
    "--editions/--no-editions",
    default=None,
    help="Keep the brief as the day's edition and mark its stories new / update / "
    "repeat against the last 7 days' editions (default: on).",
)
@click.option(
    "--editions-db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The edition store (default: editions.sqlite3 beside the run cache).",
)
@unsupported_option
@handle_errors
@model_options
@run_options
def brief(
    inputs: tuple[str, ...],
    profile_name: str | None,
    config_file: Path | None,
    model: ModelSettings,
    run: RunSettings,
    verbose: int,
    **flags: Any,
) -> None:
    """Build the brief from files, directories, URLs or - (stdin).

    Articles are summarized, grouped by region and written as Markdown (and PDF,
    HTML, JSON on request). Articles that could not be summarized are listed in the
    brief with the reason, and the exit code is 10. With --profile NAME, what is not
    given on the command line comes from that profile of the config file.
    """
    from briefing.runner import Runner, write_outputs

    del verbose
    if flags.pop("all_profiles"):
        _brief_all_profiles(inputs, profile_name, config_file, model, run, **flags)
        return
    request = _brief_request(inputs, profile_name, config_file, model, run, **flags)
    with Runner(request, stdin=sys.stdin) as runner:
        runner.on_batch_progress = report_batch
        loaded = runner.load()
        report_skipped(loaded)
        with Progress(len(loaded.articles)) as progress:
            result = runner.with_progress(progress, lambda: runner.brief(loaded))
    printed, written = write_outputs(result.briefing, request.outputs)
    if printed is not None:
        click.echo(printed)
    report_run(result, written)
    if result.partial:
        sys.exit(int(ExitCode.PARTIAL))


def _brief_all_profiles(
    inputs: tuple[str, ...],
    profile_name: str | None,
    config_file: Path | None,
    model: ModelSettings,
    run: RunSettings,
    **flags: Any,
) -> None:
    """``brief --all-profiles``: each profile's brief into its output_dir."""
    from briefing.config import load_config
    from briefing.profiles_run import brief_all
    from briefing.runner import write_outputs

    if inputs or profile_name:
        raise click.UsageError("--all-profiles takes no PATH and no --profile.")
    if any(flags.get(k) for k in ("out_md", "out_pdf", "out_html", "out_json", "formats")):
        raise click.UsageError(
            "--all-profiles writes each profile's brief to its output_dir: drop --out, "
            "--pdf, --html, --json and --format."
        )
    config = load_config(config_file)
    requests = []
    for name in config.profiles:
        profile = config.profile(name)
        if profile.output_dir is None:
            raise ConfigError(
                f"profiles.{name} has no output_dir: --all-profiles writes each profile's "
                "brief there. Add output_dir, or build it alone with --profile."
            )
        requests.append(_brief_request((), name, config_file, model, run, **dict(flags)))
    partial = False
    for done in brief_all(
        requests,
        on_batch_progress=report_batch,
        on_loaded=lambda _name, loaded: report_skipped(loaded),
    ):
        _, written = write_outputs(done.run.briefing, done.request.outputs)
        click.echo(f"briefing: profile {done.request.profile}:", err=True)
        report_run(done.run, written)
        partial = partial or done.run.partial
    if partial:
        sys.exit(int(ExitCode.PARTIAL))


def _brief_request(
    inputs: tuple[str, ...],
    profile_name: str | None,
    config_file: Path | None,
    model: ModelSettings,
    run: RunSettings,
    **flags: Any,
) -> BriefRequest:
    """The request of ``brief``: the profile's (if any) with the flags given over it."""
    from briefing.request import BriefRequest, parse_regions

    outputs = _outputs(**{k: flags.pop(k) for k in _OUTPUT_FLAGS})
    date = flags.pop("date_")
    fields: dict[str, Any] = {
        "inputs": inputs or None,
        "include": flags.pop("include") or None,
        "exclude": flags.pop("exclude") or None,
        "timezone": flags.pop("tz"),
        "regions": _usage_error(parse_regions, flags.pop("regions_")),
        "language": flags.pop("language"),
        "synthesize": flags.pop("synthesis"),
        "repeats": flags.pop("repeats"),
        "editions": flags.pop("editions"),
        "editions_db": flags.pop("editions_db"),
        "model": model,
        "run": run,
    }
    if profile_name:
        from briefing.config import load_config

        profile = load_config(config_file).profile(profile_name)
        day = date.date() if date else profile.today()
        chosen = outputs if outputs.paths else profile.outputs(day)
        chosen = replace(chosen, template_dir=outputs.template_dir)
        return profile.to_request(date=day, outputs=chosen, **fields)
    if not inputs:
        raise click.UsageError("Give PATH... to read, or --profile NAME with sources.")
    given = {k: v for k, v in fields.items() if v is not None}
    given.setdefault("editions", True)  # the CLI keeps its briefs (library: off by default)
    return BriefRequest(date=date.date() if date else None, outputs=outputs, **given)


_OUTPUT_FLAGS = ("out_md", "out_pdf", "out_html", "out_json", "formats", "out_dir", "template_dir")


def _outputs(
    out_md: Path | None,
    out_pdf: Path | None,
    out_html: Path | None,
    out_json: Path | None,
    formats: str | None,
    out_dir: Path,
    template_dir: Path | None,
) -> Outputs:
    """Where ``brief`` writes: the files named, and ``--format``'s in ``--out-dir``."""
    from briefing.request import Outputs, parse_formats

    outputs = Outputs(
        markdown=out_md, html=out_html, pdf=out_pdf, json=out_json, template_dir=template_dir
    )
    wanted = _usage_error(parse_formats, formats)
    if wanted:
        out_dir.mkdir(parents=True, exist_ok=True)
        outputs = outputs.over(Outputs.in_directory(out_dir, wanted))
    return outputs


def _usage_error(parse: Callable[[Any], T], value: Any) -> T:
    """``parse(value)``, a bad value being a usage error (exit 2) that names it."""
    try:
        return parse(value)
    except ConfigError as e:
        raise click.UsageError(str(e)) from None


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
    from briefing.runner import load

    loaded = load(inputs, include=include, exclude=exclude, stdin=sys.stdin)
    report_skipped(loaded)
    if as_json:
        # with the sentences (id, text) the summaries cite: anyone can check the split
        rows = [a.model_dump(mode="json") for a in loaded.articles]
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
@handle_errors
@model_options
@run_options
def eval_(
    inputs: tuple[str, ...],
    references: Path | None,
    as_json: bool,
    model: ModelSettings,
    run: RunSettings,
    verbose: int,
) -> None:
    """Summarize PATH... and print faithfulness metrics per article and overall."""
    from briefing.evaluate import evaluate, format_report, load_references
    from briefing.request import BriefRequest
    from briefing.runner import Runner

    del verbose
    request = BriefRequest(inputs=inputs, model=model, run=run)
    with Runner(request, stdin=sys.stdin) as runner:
        loaded = runner.load()
        with Progress(len(loaded.articles)) as progress:
            summaries = runner.with_progress(progress, lambda: runner.summaries(loaded))
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
    from briefing.settings import run_settings

    with SummaryCache(cache_dir or run_settings().cache_dir) as store:
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
    from briefing.settings import run_settings

    with SummaryCache(cache_dir or run_settings().cache_dir) as store:
        removed = store.clear()
    click.echo(f"briefing: removed {removed} cached summaries from {store.path}", err=True)


@cli.group()
def resident() -> None:
    """The resident server that starts `summarize` in a tenth of a second.

    \b
    The first `briefing summarize` leaves a server behind that has already imported
    what the command needs; the next ones run in a child it forks (same arguments,
    environment, directory, terminal and exit status). It exits after
    BRIEFING_RESIDENT_IDLE seconds (default 900) without a command, and stops by itself
    when briefing is upgraded or edited. BRIEFING_RESIDENT=0 turns it off.
    """


@resident.command("status")
def resident_status() -> None:
    """List this user's resident servers (none: prints nothing, exit 0)."""
    import datetime as dt

    from briefing import resident as server

    for path, status in server.servers():
        started = dt.datetime.fromtimestamp(float(status.get("started", 0)))
        click.echo(
            f"pid {status.get('pid')}: since {started:%Y-%m-%d %H:%M:%S}, "
            f"{status.get('served', 0)} command(s) served, {status.get('running', 0)} "
            f"running, exits after {float(status.get('idle', 0)):g}s idle ({path})"
        )


@resident.command("stop")
def resident_stop() -> None:
    """Stop this user's resident servers (a command they are running finishes first)."""
    from briefing import resident as server

    stopped = server.stop_all()
    click.echo(f"briefing: stopped {len(stopped)} resident server(s)", err=True)


@cli.command()
def schema() -> None:
    """Print the JSON schema of one summary (what `summarize --json` items follow)."""
    from briefing.models import ArticleSummary

    click.echo(json.dumps(ArticleSummary.model_json_schema(), indent=2))


def _register() -> None:
    from briefing.cli_batch import batch
    from briefing.cli_deliver import schedule, send
    from briefing.cli_editions import editions
    from briefing.cli_site import site
    from briefing.cli_verify import verify

    cli.add_command(editions)
    cli.add_command(send)
    cli.add_command(schedule)
    cli.add_command(verify)
    cli.add_command(batch)
    cli.add_command(site)


_register()


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
    # no pydantic plugins in the CLI: pydantic looks for them in every installed
    # package's metadata when it builds the first model (50-150 ms of every start);
    # PYDANTIC_DISABLE_PLUGINS="" turns them back on
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli(prog_name="briefing")
    except SystemExit as e:
        _exit(e.code)
    _exit(0)


def _exit(code: object) -> None:
    """End the process once the command is done: exit handlers run (logging is flushed,
    worker threads joined), the output is flushed, then the process ends without
    tearing down every module and object one by one, which took 0.15-0.2 s of each
    ``briefing summarize`` (mostly pydantic's). Everything the commands open (cache,
    ledger, model, temporary files) is closed by then by its own ``with`` block."""
    import atexit
    import threading

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, status 1, as Python does
        print(code, file=sys.stderr)
        status = 1
    threading._shutdown()  # type: ignore[attr-defined]  # join non-daemon threads, as at exit
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader gone (| head), a closed stream
            status = status or 1
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
