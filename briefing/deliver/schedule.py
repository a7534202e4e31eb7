"""Run a profile's job every day at its send time: in process (APScheduler), cron or systemd.

In process, :func:`make_scheduler` builds an APScheduler 3 scheduler with one job on a
:class:`~apscheduler.triggers.cron.CronTrigger` in the profile's time zone (so 06:30 stays
06:30 across daylight-saving changes). Runs never overlap (``max_instances=1``); runs
missed while the machine slept are started late if within ``misfire_grace`` seconds, and
several missed runs collapse into one (``coalesce``). The delivery ledger makes a late or
repeated run harmless: nobody gets the same day's brief twice.

For the system's own scheduler, :func:`print_cron` and :func:`print_systemd` print a
crontab entry or a systemd user service + timer that run ``briefing send``.
"""

from __future__ import annotations

import datetime as dt
import logging
import shlex
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

# APScheduler 3 ships no type information
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from briefing.config import DAYS, Profile

__all__ = [
    "SystemdUnits",
    "briefing_command",
    "cron_trigger",
    "make_scheduler",
    "print_cron",
    "print_systemd",
]

log = logging.getLogger("briefing.schedule")

_CRON_DOW = {d: str((i + 1) % 7) for i, d in enumerate(DAYS)}  # mon=1 ... sun=0
_SYSTEMD_DOW = {d: d.capitalize() for d in DAYS}
JOB_ID = "briefing"


def cron_trigger(profile: Profile) -> CronTrigger:
    """Daily at ``profile.send_time`` on ``profile.days``, in ``profile.timezone``."""
    t = profile.send_time
    days = "*" if set(profile.days) == set(DAYS) else ",".join(profile.days)
    return CronTrigger(
        day_of_week=days, hour=t.hour, minute=t.minute, second=t.second, timezone=profile.zone
    )


def make_scheduler(
    profile: Profile,
    job: Callable[[], object],
    *,
    blocking: bool = True,
    max_runs: int | None = None,
) -> BaseScheduler:
    """A scheduler (not started) that runs ``job`` at the profile's send time.

    Each run is logged on ``briefing.schedule`` (start, end or error, next run time).
    ``max_runs`` shuts the scheduler down after that many runs (for tests and one-offs).
    """
    scheduler: BaseScheduler
    if blocking:
        scheduler = BlockingScheduler(timezone=profile.zone)
    else:
        scheduler = BackgroundScheduler(timezone=profile.zone)
    runs = 0
    lock = threading.Lock()

    def run() -> object:
        log.info("profile %r: run started", profile.name)
        return job()

    def listener(event: JobEvent) -> None:
        nonlocal runs
        if event.code == EVENT_JOB_MISSED:
            log.warning(
                "profile %r: missed the run of %s (more than %d s late)",
                profile.name,
                getattr(event, "scheduled_run_time", "?"),
                profile.misfire_grace,
            )
            return
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("profile %r: previous run still going; this one skipped", profile.name)
            return
        assert isinstance(event, JobExecutionEvent)
        if event.exception is not None:
            log.error("profile %r: run failed: %s", profile.name, event.exception)
        else:
            log.info("profile %r: run finished: %s", profile.name, event.retval)
        job_ = scheduler.get_job(JOB_ID)
        if job_ is not None and job_.next_run_time is not None:
            log.info("profile %r: next run at %s", profile.name, job_.next_run_time.isoformat())
        with lock:
            runs += 1
            done = max_runs is not None and runs >= max_runs
        if done:
            # Not inline: this listener may run inside the scheduler's own loop (a job that
            # finishes at once), which still holds the job store; a thread waits for it.
            threading.Thread(target=scheduler.shutdown, kwargs={"wait": False}).start()

    scheduler.add_listener(
        listener,
        EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES,
    )
    scheduler.add_job(
        run,
        cron_trigger(profile),
        id=JOB_ID,
        name=f"briefing {profile.name}",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=profile.misfire_grace,
        replace_existing=True,
    )
    return scheduler


def next_run(profile: Profile, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the profile's job fires next after ``now``."""
    now = now or dt.datetime.now(profile.zone)
    fire: dt.datetime | None = cron_trigger(profile).get_next_fire_time(None, now)
    return fire


# --------------------------------------------------------------------------- cron / systemd


def briefing_command() -> list[str]:
    """How to run this installation's ``briefing`` (the console script beside Python)."""
    script = Path(sys.executable).with_name("briefing")
    if script.exists():
        return [str(script)]
    found = shutil.which("briefing")
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-c", "from briefing.cli import main; main()"]


def _send_args(profile: Profile, config: Path | None, command: list[str] | None) -> list[str]:
    args = [*(command or briefing_command()), "send", "--profile", profile.name]
    if config is not None:
        args += ["--config", str(Path(config).expanduser().resolve())]
    return args


def print_cron(
    profile: Profile,
    *,
    config: Path | None = None,
    env_file: str = "$HOME/.config/briefing/smtp.env",
    command: list[str] | None = None,
) -> str:
    """A crontab entry (with a ``CRON_TZ`` line) that runs ``briefing send`` for ``profile``.

    The SMTP password is read from ``env_file`` (``KEY=value`` lines, mode 0600) at run
    time, so it never appears in the crontab. Cron has no seconds: ``send_time``'s
    seconds are dropped.
    """
    t = profile.send_time
    every_day = set(profile.days) == set(DAYS)
    dow = "*" if every_day else ",".join(_CRON_DOW[d] for d in profile.days)
    send = shlex.join(_send_args(profile, config, command))
    shell = f'set -a; . "{env_file}"; set +a; exec {send}'
    line = f"{t.minute} {t.hour} * * {dow} /bin/sh -c {shlex.quote(shell)}".replace("%", r"\%")
    return (
        f"# briefing: profile {profile.name!r} at {t:%H:%M} {profile.timezone}"
        f" ({'every day' if every_day else ', '.join(profile.days)})\n"
        "# CRON_TZ is honoured by cronie and systemd-cron; with Debian's cron, convert the\n"
        "# time to the system time zone yourself.\n"
        f"CRON_TZ={profile.timezone}\n"
        f"{line}\n"
    )


class SystemdUnits(NamedTuple):
    """A systemd user service and the timer that starts it."""

    name: str  #: unit name without suffix, e.g. ``briefing-morning``
    service: str
    timer: str

    def __str__(self) -> str:
        return (
            f"# ~/.config/systemd/user/{self.name}.service\n{self.service}\n"
            f"# ~/.config/systemd/user/{self.name}.timer\n{self.timer}"
        )


def _systemd_quote(arg: str) -> str:
    escaped = arg.replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"' if any(c.isspace() for c in arg) or not arg else escaped


def print_systemd(
    profile: Profile,
    *,
    config: Path | None = None,
    env_file: str = "%h/.config/briefing/smtp.env",
    command: list[str] | None = None,
) -> SystemdUnits:
    """A ``briefing-PROFILE.service`` + ``.timer`` pair (systemd user units).

    ``OnCalendar`` carries the profile's time zone; ``Persistent=true`` runs a missed
    send when the machine wakes up (the ledger makes that safe).
    """
    name = "briefing-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in profile.name)
    t = profile.send_time
    every_day = set(profile.days) == set(DAYS)
    dow = "" if every_day else ",".join(_SYSTEMD_DOW[d] for d in profile.days) + " "
    exec_start = " ".join(_systemd_quote(a) for a in _send_args(profile, config, command))
    service = (
        "[Unit]\n"
        f"Description=briefing: mail the {profile.name!r} brief\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"EnvironmentFile={env_file}\n"
        f"ExecStart={exec_start}\n"
    )
    timer = (
        "[Unit]\n"
        f"Description=briefing: {profile.name!r} at {t:%H:%M:%S} {profile.timezone}\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar={dow}*-*-* {t:%H:%M:%S} {profile.timezone}\n"
        "Persistent=true\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return SystemdUnits(name, service, timer)
