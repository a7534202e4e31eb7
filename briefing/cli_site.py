"""The ``site`` command (``briefing.cli`` adds it to its group): the archive site and
Atom feed of a profile's editions. A few lines over ``briefing.site.build_site``."""

from __future__ import annotations

from pathlib import Path

import click

from briefing.cli_editions import _db_option, _store_path
from briefing.cli_options import EXIT_CODES_HELP, handle_errors


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--profile",
    default="default",
    show_default=True,
    metavar="NAME",
    help="Whose editions ('default': briefs built without --profile).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="Where OUT_DIR will be published (https://example.org/brief/): the feed's links "
    "become absolute, as feed readers need. Without it they are relative to feed.xml.",
)
@click.option("--title", help="The site's and the feed's title (default: the latest brief's).")
@_db_option
@handle_errors
def site(
    out_dir: Path,
    profile: str,
    base_url: str | None,
    title: str | None,
    editions_db: Path | None,
) -> None:
    """Write a static archive of the kept editions into OUT_DIR: index.html (editions,
    newest first, with their new / updates / still-developing counts), one page per
    edition (the brief as mailed), a page per developing story following it across
    editions, and an Atom feed, feed.xml (one entry per edition).

    \b
    Links between pages are relative and nothing needs JavaScript: open
    OUT_DIR/index.html from disk or copy OUT_DIR to any static host. Feed readers
    need absolute links: pass --base-url with the address OUT_DIR is served from
    (without it, the feed's links are relative to feed.xml, which readers that
    fetch the feed by URL resolve, but a feed file read from disk cannot link out).

    Rerunning rewrites only what changed; pages of editions no longer kept are
    removed, and only files this command wrote there (.briefing-site.json lists
    them) are ever removed or replaced.
    """
    from briefing.editions import EditionStore
    from briefing.site import build_site

    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise click.BadParameter("expected an http(s) URL", param_hint="--base-url")
    with EditionStore(_store_path(editions_db)) as store:
        report = build_site(store, out_dir, profile=profile, base_url=base_url, title=title)
        path = store.path
    if not report.editions:
        click.echo(f"briefing: no editions of profile {profile!r} kept in {path}", err=True)
    click.echo(
        f"briefing: {report.out_dir}: {report.editions} edition(s), "
        f"{report.stories} developing story page(s); {len(report.written)} file(s) written, "
        f"{len(report.removed)} removed",
        err=True,
    )
    click.echo(str(report.out_dir / "index.html"))
