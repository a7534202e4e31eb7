"""Scheduling: the cron trigger, crontab and systemd output, and a real scheduler firing."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest

from briefing.config import Profile
from briefing.deliver.schedule import (
    JOB_ID,
    cron_trigger,
    make_scheduler,
    next_run,
    print_cron,
    print_systemd,
)

BERLIN = "Europe/Berlin"


def profile(**kw: object) -> Profile:
    base: dict[str, object] = {"name": "morning", "send_time": "06:30", "timezone": BERLIN}
    base.update(kw)
    return Profile.model_validate(base)


def test_trigger_is_daily_at_send_time_in_the_profile_zone() -> None:
    p = profile(days=["mon", "tue", "wed", "thu", "fri"])
    fri = dt.datetime(2026, 11, 27, 7, 0, tzinfo=dt.UTC)  # 08:00 in Berlin, Friday
    nxt = next_run(p, fri)
    assert nxt is not None
    assert nxt.isoformat() == "2026-11-30T06:30:00+01:00"  # Monday, weekend skipped
    # across the spring DST change 06:30 stays 06:30 local time
    summer = next_run(p, dt.datetime(2027, 3, 29, 0, 0, tzinfo=dt.UTC))
    assert summer is not None and summer.isoformat() == "2027-03-29T06:30:00+02:00"
    assert str(cron_trigger(p).timezone) == BERLIN


def test_job_never_overlaps_and_tolerates_misfires() -> None:
    scheduler = make_scheduler(profile(misfire_grace=900), lambda: None, blocking=False)
    job = scheduler.get_job(JOB_ID)
    assert job.max_instances == 1 and job.coalesce is True and job.misfire_grace_time == 900


def test_print_cron() -> None:
    text = print_cron(profile(days=["mon", "fri", "sun"]), command=["/opt/briefing/bin/briefing"])
    lines = text.splitlines()
    assert "CRON_TZ=Europe/Berlin" in lines
    entry = lines[-1]
    assert entry.startswith("30 6 * * 1,5,0 /bin/sh -c ")
    assert "/opt/briefing/bin/briefing send --profile morning" in entry
    assert '. "$HOME/.config/briefing/smtp.env"' in entry  # the password stays out of crontab
    assert "PASSWORD" not in text


def test_print_systemd() -> None:
    units = print_systemd(profile(send_time="07:05:30"), command=["/usr/bin/briefing"])
    assert units.name == "briefing-morning"
    assert "ExecStart=/usr/bin/briefing send --profile morning\n" in units.service
    assert "EnvironmentFile=%h/.config/briefing/smtp.env" in units.service
    assert "Type=oneshot" in units.service
    assert "OnCalendar=*-*-* 07:05:30 Europe/Berlin\n" in units.timer
    assert "Persistent=true" in units.timer and "WantedBy=timers.target" in units.timer
    text = str(units)
    assert "# ~/.config/systemd/user/briefing-morning.timer" in text


def test_a_real_scheduler_fires_at_the_send_time(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="briefing")
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.5)
    soon = soon.replace(microsecond=0) + dt.timedelta(seconds=1)  # a whole second, 0.5-1.5 s away
    p = profile(send_time=soon.strftime("%H:%M:%S"), timezone="UTC")
    fired = threading.Event()
    ran_at: list[float] = []

    def job() -> str:
        ran_at.append(time.time())
        fired.set()
        return "done"

    scheduler = make_scheduler(p, job, blocking=False, max_runs=1)
    scheduler.start()
    try:
        assert fired.wait(4), "the job did not fire"
    finally:
        deadline = time.time() + 2
        while scheduler.running and time.time() < deadline:
            time.sleep(0.02)
        if scheduler.running:
            scheduler.shutdown(wait=False)
    assert abs(ran_at[0] - soon.timestamp()) < 1
    assert "run started" in caplog.text and "run finished: done" in caplog.text
