"""The ``editions`` commands (``briefing.cli`` adds them to its group): list the kept
editions, print one. A few lines over ``briefing.editions.EditionStore``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from briefing.cli_options import EXIT_CODES_HELP, handle_errors
from briefing.errors import InputError

_db_option = click.option(
    "--editions-db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The edition store (default: editions.sqlite3 beside the run cache, "
    "$BRIEFING_CACHE_DIR or $XDG_CACHE_HOME/briefing).",
)


def _store_path(editions_db: Path | None) -> Path:
    from briefing.editions import default_editions_path
    from briefing.settings import run_settings

    return editions_db or default_editions_path(run_settings().cache_dir)


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


@click.group(invoke_without_command=True, epilog=EXIT_CODES_HELP)
@click.option(
    "--profile", metavar="NAME", help="Only this profile's editions ('default': no profile)."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (newest first).")
@_db_option
@click.pass_context
@handle_errors
def editions(
    ctx: click.Context, profile: str | None, limit: int | None, editions_db: Path | None
) -> None:
    """The briefs kept as editions, newest first: date, profile, stories shown, and
    new / updates / repeats against the editions before them.

    \b
    briefing editions [--profile NAME] [--limit N]
    briefing editions show DATE [--profile NAME] [--json]
    """
    if ctx.invoked_subcommand is not None:
        return
    from briefing.editions import EditionStore

    with EditionStore(_store_path(editions_db)) as store:
        rows = store.rows(profile, limit=limit)
        path = store.path
    if not rows:
        click.echo(f"briefing: no editions kept in {path}", err=True)
        return
    click.echo("date        profile          stories  new  updates  repeats  title")
    for row in rows:
        click.echo(
            f"{row.date.isoformat()}  {row.profile:<15}  {row.stories:>7}  {_count(row.new):>3}"
            f"  {_count(row.updates):>7}  {_count(row.repeats):>7}  {row.title}"
        )


@editions.command("show", epilog=EXIT_CODES_HELP)
@click.argument("date", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--profile", default="default", show_default=True, metavar="NAME")
@click.option("--json", "as_json", is_flag=True, help="Print the stored edition as JSON.")
@_db_option
@handle_errors
def show(date: dt.datetime, profile: str, as_json: bool, editions_db: Path | None) -> None:
    """Print the edition of DATE (YYYY-MM-DD): the brief as delivered, in Markdown, or
    with --json the stored edition (stories, sources, fingerprints, continuity)."""
    from briefing.editions import EditionStore

    day = date.date()
    with EditionStore(_store_path(editions_db)) as store:
        edition = store.get(day, profile)
        briefing = store.briefing(day, profile) if not as_json else None
        path = store.path
    if edition is None:
        raise InputError(
            f"No edition of {day.isoformat()} for profile {profile!r} in {path}; "
            "`briefing editions` lists the ones kept."
        )
    if as_json:
        click.echo(edition.model_dump_json(indent=2))
        return
    if briefing is None:
        raise InputError(f"The brief of the {day.isoformat()} edition in {path} is unreadable.")
    from briefing.render import render_markdown

    click.echo(render_markdown(briefing), nl=False)
