"""The ``send`` and ``schedule`` commands (registered on the main group by ``briefing.cli``)."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from briefing.cli import (
    EXIT_CODES_HELP,
    RunSettings,
    _report_model_failures,
    _setup,
    cli,
    handle_errors,
    model_options,
    run_options,
)
from briefing.errors import ConfigError, ExitCode, InputError

if TYPE_CHECKING:
    from briefing.config import Config, Profile
    from briefing.deliver.email import DeliveryReport
    from briefing.llm.base import LLM
    from briefing.models import Briefing
    from briefing.prompts import Prompts

log = logging.getLogger("briefing.deliver")

_config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The config file (default: $BRIEFING_CONFIG, else $XDG_CONFIG_HOME/briefing/config.toml).",
)
_profile_option = click.option(
    "--profile", "profile_name", required=True, metavar="NAME", help="A [profiles.NAME] table."
)
_brief_option = click.option(
    "--brief",
    "brief_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Mail this brief (the JSON of `briefing brief --json`) instead of building one.",
)
_dry_run_option = click.option(
    "--dry-run",
    "dry_run",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write the message as DIR/brief-DATE-PROFILE.eml; send nothing.",
)


def read_brief(path: Path) -> Briefing:
    """A Briefing from the JSON ``brief --json`` wrote."""
    from briefing.models import Briefing

    try:
        return Briefing.model_validate_json(path.read_bytes())
    except OSError as e:
        raise InputError(f"Cannot read {path}: {e.strerror or e}.") from e
    except ValidationError as e:
        raise InputError(
            f"{path} is not a brief written by `briefing brief --json` "
            f"({e.error_count()} problem(s); first: {e.errors()[0]['msg']})."
        ) from None


class _BriefMaker:
    """Builds a profile's brief (loading the model once, for every scheduled run)."""

    def __init__(
        self,
        profile: Profile,
        brief_file: Path | None,
        opts: dict[str, Any],
        run_settings: RunSettings | None = None,
    ) -> None:
        self.profile = profile
        self.brief_file = brief_file
        self.opts = opts
        self.run_settings = run_settings or RunSettings()
        self._model: tuple[LLM, Prompts] | None = None

    def __call__(self, date: dt.date | None) -> Briefing:
        profile = self.profile
        if self.brief_file is not None:
            return profile.select(read_brief(self.brief_file))
        if not profile.sources:
            raise ConfigError(
                f"profiles.{profile.name}.sources is empty: list files, directories, feeds "
                "or URLs there, or pass --brief FILE.json."
            )
        from briefing.pipeline import load, make_brief

        loaded = load(profile.sources, include=profile.include, exclude=profile.exclude)
        for problem in loaded.problems:
            click.echo(f"briefing: skipped: {problem}", err=True)
        settings = self.run_settings
        if self._model is None:
            self._model = _setup(**self.opts)
            settings.pace(self._model[0])
        llm, prompts = self._model
        cache = settings.open_cache()
        try:
            run = make_brief(
                loaded,
                llm,
                prompts=prompts,
                date=date or profile.today(),
                concurrency=settings.concurrency,
                cache=cache,
                max_cost=settings.max_cost,
                deadline=settings.deadline,
            )
        finally:
            if cache is not None:
                cache.close()
        _report_model_failures(run.model_failures)
        return profile.select(run.briefing)


def _echo_report(report: DeliveryReport) -> None:
    for result in report.results:
        click.echo(f"briefing: {result.line}", err=True)


def _load(config_file: Path | None, profile_name: str) -> tuple[Config, Profile]:
    from briefing.config import load_config

    config = load_config(config_file)
    return config, config.profile(profile_name)


@cli.command(epilog=EXIT_CODES_HELP)
@_profile_option
@_config_option
@click.option(
    "--date", "date_", type=click.DateTime(["%Y-%m-%d"]), help="The brief's date (default today)."
)
@_brief_option
@_dry_run_option
@click.option("--force", is_flag=True, help="Send again to recipients who already have it.")
@click.option(
    "--retry-unknown",
    is_flag=True,
    help="Resend to recipients whose earlier delivery was cut off (may duplicate).",
)
@model_options
@run_options
@handle_errors
def send(
    profile_name: str,
    config_file: Path | None,
    date_: dt.datetime | None,
    brief_file: Path | None,
    dry_run: Path | None,
    force: bool,
    retry_unknown: bool,
    run_settings: RunSettings,
    **opts: Any,
) -> None:
    """Build the profile's brief (or take --brief FILE.json) and mail it.

    \b
    Each recipient gets it at most once per date: a delivery ledger remembers who
    has it, so a rerun (after a crash, or by a second timer) sends only to the
    others. Per-recipient results go to stderr. Exit code 0: everyone has it;
    10: some recipients failed; 7: nobody got it.

    SMTP settings come from the config file's [smtp] table and BRIEFING_SMTP_HOST,
    _PORT, _SECURITY, _USER, _FROM; the password only from BRIEFING_SMTP_PASSWORD.
    """
    from briefing.deliver.email import deliver_profile

    if date_ is not None and brief_file is not None:
        raise click.UsageError("--date and --brief exclude each other (the brief has a date).")
    config, profile = _load(config_file, profile_name)
    briefing = _BriefMaker(profile, brief_file, opts, run_settings)(date_.date() if date_ else None)
    report = deliver_profile(
        briefing, config, profile, dry_run=dry_run, force=force, retry_unknown=retry_unknown
    )
    _echo_report(report)
    if report.eml is not None:
        click.echo(f"briefing: wrote {report.eml} (dry run: nothing sent)", err=True)
    if report.exit_code != ExitCode.OK:
        sys.exit(int(report.exit_code))


@cli.command(epilog=EXIT_CODES_HELP)
@_profile_option
@_config_option
@click.option("--print-cron", is_flag=True, help="Print a crontab entry instead, and exit.")
@click.option(
    "--print-systemd", is_flag=True, help="Print a systemd service + timer instead, and exit."
)
@_brief_option
@_dry_run_option
@click.option(
    "--max-runs", type=click.IntRange(min=1), help="Stop after this many runs (default: never)."
)
@model_options
@run_options
@handle_errors
def schedule(
    profile_name: str,
    config_file: Path | None,
    print_cron: bool,
    print_systemd: bool,
    brief_file: Path | None,
    dry_run: Path | None,
    max_runs: int | None,
    run_settings: RunSettings,
    **opts: Any,
) -> None:
    """Stay running and mail the profile's brief every day at its send_time.

    \b
    The time is in the profile's timezone; a run missed (machine asleep) starts
    late within misfire_grace seconds; runs never overlap. Each run is logged on
    stderr. Prefer the system's scheduler? --print-cron or --print-systemd print
    the entries to install (see docs/email.md).
    """
    from briefing.deliver.schedule import make_scheduler
    from briefing.deliver.schedule import print_cron as cron_text
    from briefing.deliver.schedule import print_systemd as systemd_text

    config, profile = _load(config_file, profile_name)
    if print_cron or print_systemd:
        where = config.path if config_file is not None else None
        click.echo(cron_text(profile, config=where) if print_cron else "", nl=False)
        if print_systemd:
            click.echo(str(systemd_text(profile, config=where)), nl=False)
        return

    from briefing.deliver.email import deliver_profile
    from briefing.errors import BriefingError

    make = _BriefMaker(profile, brief_file, opts, run_settings)

    def job() -> str:
        try:
            report = deliver_profile(make(None), config, profile, dry_run=dry_run)
        except BriefingError as e:  # keep the scheduler alive; the next run may work
            log.error("profile %r: %s", profile.name, e)
            return f"error: {e}"
        for result in report.results:
            log.info("%s", result.line)
        counts = {s: len(report.of(s)) for s in ("sent", "skipped", "failed", "unknown")}
        if report.eml is not None:
            return f"wrote {report.eml}"
        return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to do"

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("briefing: %(asctime)s %(levelname)s: %(message)s"))
    logger = logging.getLogger("briefing")
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if opts.get("verbose") else logging.INFO)
    logger.propagate = False  # one line per event, whatever the root logger does
    try:
        scheduler = make_scheduler(profile, job, blocking=True, max_runs=max_runs)
        t = profile.send_time
        log.info(
            "profile %r: sending at %s %s; Ctrl-C stops", profile.name, t.isoformat(), profile.zone
        )
        scheduler.start()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
