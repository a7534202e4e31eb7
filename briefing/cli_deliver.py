"""The ``send`` and ``schedule`` commands (``briefing.cli`` adds them to its group).

Each builds the profile's ``BriefRequest`` (``Profile.to_request``) and runs it with
``briefing.runner`` like ``brief`` does, then delivers the result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from briefing.cli_options import (
    EXIT_CODES_HELP,
    handle_errors,
    model_options,
    report_batch,
    report_model_failures,
    report_skipped,
    run_options,
)
from briefing.errors import ConfigError, ExitCode, InputError

if TYPE_CHECKING:
    from briefing.config import Config, Profile
    from briefing.deliver.email import DeliveryReport
    from briefing.llm.base import LLM
    from briefing.models import Briefing
    from briefing.settings import ModelSettings, RunSettings

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
    help="Write the mail as DIR/brief-DATE-PROFILE.eml and what each channel would "
    "receive beside it; send nothing.",
)


def read_brief(path: Path) -> Briefing:
    """A Briefing from the JSON ``brief --json`` wrote."""
    from pydantic import ValidationError

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
    """Builds a profile's brief through the runner, keeping the model loaded between the
    runs of a schedule."""

    def __init__(
        self,
        profile: Profile,
        brief_file: Path | None,
        model: ModelSettings,
        run: RunSettings,
        *,
        keep_edition: bool = True,
    ) -> None:
        self.profile = profile
        self.brief_file = brief_file
        self.model = model
        self.run = run
        #: False for a dry run: compared with the editions, not kept as one
        self.keep_edition = keep_edition
        self._llm: LLM | None = None

    def __call__(self, date: dt.date | None) -> Briefing:
        from briefing.request import Outputs
        from briefing.runner import Runner

        if self.brief_file is not None:
            return self.profile.select(read_brief(self.brief_file))
        request = self.profile.to_request(
            model=self.model, run=self.run, date=date, outputs=Outputs(print_markdown=False)
        )
        with Runner(request, llm=self._llm) as runner:
            runner.keep_edition = self.keep_edition
            loaded = runner.load()
            report_skipped(loaded)
            result = runner.brief(loaded)
            if self._llm is None:  # keep it for the next scheduled run
                self._llm = runner.detach_llm()
        report_model_failures(result.model_failures)
        return result.briefing

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None


def _echo_report(report: DeliveryReport) -> None:
    for result in report.results:
        click.echo(f"briefing: {result.line}", err=True)


def _load(config_file: Path | None, profile_name: str) -> tuple[Config, Profile]:
    from briefing.config import load_config

    config = load_config(config_file)
    return config, config.profile(profile_name)


@click.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--profile", "profile_name", metavar="NAME", help="A [profiles.NAME] table (or --all-profiles)."
)
@click.option(
    "--all-profiles",
    is_flag=True,
    help="Every profile that has recipients or channels, their briefs built in one run "
    "(an article several profiles read is summarized once; one batch with --batch).",
)
@_config_option
@click.option(
    "--date", "date_", type=click.DateTime(["%Y-%m-%d"]), help="The brief's date (default today)."
)
@_brief_option
@_dry_run_option
@click.option(
    "--force", is_flag=True, help="Send again to recipients and channels that already have it."
)
@click.option(
    "--retry-unknown",
    is_flag=True,
    help="Resend where an earlier delivery was cut off (may duplicate).",
)
@handle_errors
@model_options
@run_options
def send(
    profile_name: str | None,
    all_profiles: bool,
    config_file: Path | None,
    date_: dt.datetime | None,
    brief_file: Path | None,
    dry_run: Path | None,
    force: bool,
    retry_unknown: bool,
    model: ModelSettings,
    run: RunSettings,
    verbose: int,
) -> None:
    """Build the profile's brief (or take --brief FILE.json), mail it and post it to
    the profile's channels (Slack, Telegram, ntfy, webhooks...).

    \b
    Each recipient and each channel gets it at most once per date: a delivery
    ledger remembers who has it, so a rerun (after a crash, or by a second timer)
    sends only to the others. Per-recipient and per-channel results go to stderr.
    Exit code 0: everyone has it; 10: some failed; 7: nobody got it.

    SMTP settings come from the config file's [smtp] table and BRIEFING_SMTP_HOST,
    _PORT, _SECURITY, _USER, _FROM; the password only from BRIEFING_SMTP_PASSWORD.
    Channel URLs holding tokens only from the environment (channels = ["env:NAME"]).
    """
    from briefing.deliver.email import deliver_profile

    if date_ is not None and brief_file is not None:
        raise click.UsageError("--date and --brief exclude each other (the brief has a date).")
    del verbose
    if all_profiles:
        if profile_name or brief_file:
            raise click.UsageError("--all-profiles takes no --profile and no --brief.")
        when = date_.date() if date_ else None
        _send_all(config_file, when, dry_run, force, retry_unknown, model, run)
        return
    if not profile_name:
        raise click.UsageError("Give --profile NAME (or --all-profiles).")
    config, profile = _load(config_file, profile_name)
    make = _BriefMaker(profile, brief_file, model, run, keep_edition=dry_run is None)
    try:
        briefing = make(date_.date() if date_ else None)
    finally:
        make.close()
    report = deliver_profile(
        briefing, config, profile, dry_run=dry_run, force=force, retry_unknown=retry_unknown
    )
    if report.held_back:
        click.echo(f"briefing: {report.held_back}", err=True)
        return
    _echo_report(report)
    for path in [report.eml, *report.files] if dry_run is not None else []:
        if path is not None:
            click.echo(f"briefing: wrote {path} (dry run: nothing sent)", err=True)
    if report.exit_code != ExitCode.OK:
        sys.exit(int(report.exit_code))


def _send_all(
    config_file: Path | None,
    date: dt.date | None,
    dry_run: Path | None,
    force: bool,
    retry_unknown: bool,
    model: ModelSettings,
    run: RunSettings,
) -> None:
    """``send --all-profiles``: every profile with someone to send to, built in one run."""
    from briefing.config import load_config
    from briefing.deliver.email import deliver_profile
    from briefing.profiles_run import brief_all
    from briefing.request import Outputs

    config = load_config(config_file)
    profiles = [p for p in config.profiles.values() if p.recipients or p.channels]
    if not profiles:
        raise ConfigError("No profile has recipients or channels to send to.")
    requests = [
        p.to_request(model=model, run=run, date=date, outputs=Outputs(print_markdown=False))
        for p in profiles
    ]
    codes: list[ExitCode] = []
    done = brief_all(
        requests,
        on_batch_progress=report_batch,
        on_loaded=lambda _name, loaded: report_skipped(loaded),
        keep_editions=dry_run is None,
    )
    for profile, built in zip(profiles, done, strict=True):
        report_model_failures(built.run.model_failures)
        report = deliver_profile(
            built.run.briefing, config, profile, dry_run=dry_run, force=force,
            retry_unknown=retry_unknown,
        )  # fmt: skip
        click.echo(f"briefing: profile {profile.name}:", err=True)
        if report.held_back:
            click.echo(f"briefing: {report.held_back}", err=True)
            codes.append(ExitCode.OK)
            continue
        _echo_report(report)
        for path in [report.eml, *report.files] if dry_run is not None else []:
            if path is not None:
                click.echo(f"briefing: wrote {path} (dry run: nothing sent)", err=True)
        codes.append(report.exit_code)
    if all(c == ExitCode.OK for c in codes):
        return
    worst = ExitCode.DELIVERY if all(c == ExitCode.DELIVERY for c in codes) else ExitCode.PARTIAL
    sys.exit(int(worst))


@click.command(epilog=EXIT_CODES_HELP)
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
@handle_errors
@model_options
@run_options
def schedule(
    profile_name: str,
    config_file: Path | None,
    print_cron: bool,
    print_systemd: bool,
    brief_file: Path | None,
    dry_run: Path | None,
    max_runs: int | None,
    model: ModelSettings,
    run: RunSettings,
    verbose: int,
) -> None:
    """Stay running and mail the profile's brief every day at its send_time.

    \b
    The time is in the profile's timezone; a run missed (machine asleep) starts
    late within misfire_grace seconds; runs never overlap. Each run is logged on
    stderr. Prefer the system's scheduler? --print-cron or --print-systemd print
    the entries to install (see docs/email.md).
    """
    from briefing.deliver.schedule import make_scheduler

    config, profile = _load(config_file, profile_name)
    if print_cron or print_systemd:
        _print_entries(config, profile, print_cron, print_systemd, explicit=config_file)
        return
    make = _BriefMaker(profile, brief_file, model, run, keep_edition=dry_run is None)
    job = _delivery_job(make, config, profile, dry_run)
    with _log_to_stderr(verbose):
        try:
            scheduler = make_scheduler(profile, job, blocking=True, max_runs=max_runs)
            t, zone = profile.send_time.isoformat(), profile.zone
            log.info("profile %r: sending at %s %s; Ctrl-C stops", profile.name, t, zone)
            scheduler.start()
        finally:
            make.close()


def _print_entries(
    config: Config, profile: Profile, cron: bool, systemd: bool, *, explicit: Path | None
) -> None:
    from briefing.deliver.schedule import print_cron, print_systemd

    where = config.path if explicit is not None else None
    click.echo(print_cron(profile, config=where) if cron else "", nl=False)
    if systemd:
        click.echo(str(print_systemd(profile, config=where)), nl=False)


def _delivery_job(
    make: _BriefMaker, config: Config, profile: Profile, dry_run: Path | None
) -> Callable[[], str]:
    """One scheduled run: build and deliver; errors are logged and the scheduler lives on."""
    from briefing.deliver.email import deliver_profile
    from briefing.errors import BriefingError

    def job() -> str:
        try:
            report = deliver_profile(make(None), config, profile, dry_run=dry_run)
        except BriefingError as e:  # keep the scheduler alive; the next run may work
            log.error("profile %r: %s", profile.name, e)
            return f"error: {e}"
        if report.held_back:
            log.info("%s", report.held_back)
            return report.held_back
        for result in report.results:
            log.info("%s", result.line)
        counts = {s: len(report.of(s)) for s in ("sent", "skipped", "failed", "unknown")}
        if dry_run is not None:
            written = [str(p) for p in (report.eml, *report.files) if p is not None]
            return "wrote " + ", ".join(written)
        return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to do"

    return job


@contextlib.contextmanager
def _log_to_stderr(verbose: int) -> Iterator[None]:
    """One timestamped line per event on stderr, whatever the root logger does."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("briefing: %(asctime)s %(levelname)s: %(message)s"))
    logger = logging.getLogger("briefing")
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
