"""The TOML config: profiles, validation errors that name the key, SMTP settings from env."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from briefing_samples import sample_briefing

from briefing.config import (
    config_path,
    default_ledger_path,
    ledger_path,
    load_config,
    sender_address,
    smtp_settings,
)
from briefing.errors import ConfigError
from briefing.models import Region

GOOD = """
ledger = "state/deliveries.sqlite3"

[smtp]
host = "smtp.example.com"
user = "brief@example.com"
from = "Morning Brief <brief@example.com>"

[profiles.morning]
sources = ["news", "~/inbox", "https://example.com/world.rss"]
regions = ["Europe", "middle_east", "asia-pacific"]
language = "en"
recipients = ["Alice <alice@Example.com>"]
bcc = ["bob@example.com"]
send_time = "06:30"
timezone = "Europe/Berlin"
days = ["mon", "tue", "wed", "thu", "fri"]
formats = ["html", "pdf", "json"]
output_dir = "out"
title = "Europe desk"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_profile_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    profile = config.profile("morning")
    assert profile.name == "morning"
    assert profile.sources == [
        str(tmp_path / "news"),
        str(Path("~/inbox").expanduser()),
        "https://example.com/world.rss",
    ]
    assert profile.regions == [Region.EUROPE, Region.MIDDLE_EAST, Region.ASIA_PACIFIC]
    assert profile.recipients == ["Alice <alice@example.com>"]
    assert profile.send_time == dt.time(6, 30)
    assert profile.output_dir == tmp_path / "out"
    assert config.ledger == tmp_path / "state" / "deliveries.sqlite3"
    assert config.smtp.from_ == "Morning Brief <brief@example.com>"


def test_defaults(tmp_path: Path) -> None:
    profile = load_config(write(tmp_path, "[profiles.p]\n")).profile("p")
    assert profile.timezone == "UTC" and profile.formats == ["html", "pdf"]
    assert len(profile.days) == 7 and profile.regions == []


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        (
            '[profiles.morning]\nsend_time = "25:00"',
            "config.toml: profiles.morning.send_time: expected HH:MM, got '25:00'",
        ),
        (
            "[profiles.morning]\nsend_time = 630",
            "config.toml: profiles.morning.send_time: expected HH:MM, got '630'",
        ),
        ('[profiles.morning]\nsned_time = "06:30"', "profiles.morning.sned_time: unknown key"),
        (
            '[profiles.morning]\ntimezone = "Mars/Olympus"',
            "profiles.morning.timezone: unknown time zone",
        ),
        (
            '[profiles.morning]\nregions = ["Atlantis"]',
            "profiles.morning.regions: unknown region 'Atlantis'",
        ),
        (
            '[profiles.morning]\nrecipients = ["ok@example.com", "not an address"]',
            "profiles.morning.recipients[1]: not an email address",
        ),
        (
            '[profiles.morning]\nformats = ["docx"]',
            "profiles.morning.formats[0]: input should be 'md', 'html', 'pdf' or 'json', got 'docx'",
        ),
        (
            "[smtp]\nport = 99999",
            "smtp.port: input should be less than or equal to 65535, got 99999",
        ),
        ('[smtp]\nsecurity = "ssl"', "smtp.security:"),
        ('[smtp]\nfrom = "a@b.c, d@e.f"', "smtp.from: expected one address"),
        ('colour = "blue"', "config.toml: colour: unknown key"),
        ('[profiles.morning]\ndays = ["monday"]', "profiles.morning.days[0]:"),
    ],
)
def test_bad_config_gives_one_error_naming_the_key(
    tmp_path: Path, snippet: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, snippet))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_several_problems_are_counted(tmp_path: Path) -> None:
    text = '[profiles.a]\nsend_time = "99:99"\ntimezone = "Nowhere/Else"\nfoo = 1'
    with pytest.raises(ConfigError, match=r"send_time: .* \(and 2 more problems\)"):
        load_config(write(tmp_path, text))


def test_a_password_in_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BRIEFING_SMTP_PASSWORD") as info:
        load_config(write(tmp_path, '[smtp]\npassword = "hunter2"'))
    assert "hunter2" not in str(info.value)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config.toml: not valid TOML"):
        load_config(write(tmp_path, "[profiles.x\n"))
    with pytest.raises(ConfigError, match="No config file at .*BRIEFING_CONFIG"):
        load_config(None, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})


def test_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"No profile 'evening' .*profiles: morning"):
        config.profile("evening")


def test_config_location_precedence(tmp_path: Path) -> None:
    env = {"BRIEFING_CONFIG": "/etc/b.toml", "XDG_CONFIG_HOME": "/xdg"}
    assert config_path(Path("/flag.toml"), env) == Path("/flag.toml")
    assert config_path(None, env) == Path("/etc/b.toml")
    assert config_path(None, {"XDG_CONFIG_HOME": "/xdg"}) == Path("/xdg/briefing/config.toml")
    assert default_ledger_path({"XDG_STATE_HOME": "/st"}) == Path("/st/briefing/deliveries.sqlite3")
    config = load_config(write(tmp_path, GOOD))
    assert ledger_path(config, {"BRIEFING_LEDGER": "/l.db"}) == Path("/l.db")
    assert ledger_path(config, {}) == tmp_path / "state" / "deliveries.sqlite3"


def test_environment_overrides_the_file_and_holds_the_password(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    env = {
        "BRIEFING_SMTP_HOST": "relay.internal",
        "BRIEFING_SMTP_PORT": "2525",
        "BRIEFING_SMTP_SECURITY": "tls",
        "BRIEFING_SMTP_USER": "robot",
        "BRIEFING_SMTP_FROM": "robot@example.org",
        "BRIEFING_SMTP_PASSWORD": "s3cret-canary",
    }
    settings = smtp_settings(config, env)
    assert (settings.host, settings.port, settings.security, settings.user) == (
        "relay.internal",
        2525,
        "tls",
        "robot",
    )
    assert settings.password == "s3cret-canary"
    assert "s3cret-canary" not in repr(settings)
    assert sender_address(config, env) == "robot@example.org"
    defaults = smtp_settings(config, {"BRIEFING_SMTP_PASSWORD": "x"})
    assert (defaults.host, defaults.port, defaults.security) == (
        "smtp.example.com",
        587,
        "starttls",
    )


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("", {}, "No SMTP server: set smtp.host"),
        ('[smtp]\nhost = "h"\nuser = "u"', {}, "BRIEFING_SMTP_PASSWORD is not"),
        (
            '[smtp]\nhost = "h"',
            {"BRIEFING_SMTP_PORT": "smtp"},
            "BRIEFING_SMTP_PORT: expected a port",
        ),
        ('[smtp]\nhost = "h"', {"BRIEFING_SMTP_SECURITY": "ssl"}, "BRIEFING_SMTP_SECURITY"),
        (
            '[smtp]\nhost = "mail.example.com"\nsecurity = "none"\nuser = "u"',
            {"BRIEFING_SMTP_PASSWORD": "p"},
            "unencrypted",
        ),
    ],
)
def test_smtp_settings_problems(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    config = load_config(write(tmp_path, text))
    with pytest.raises(ConfigError, match=message):
        smtp_settings(config, env)


def test_plaintext_auth_is_allowed_to_loopback_only(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[smtp]\nhost = "127.0.0.1"\nsecurity = "none"\nuser = "u"')
    )
    assert smtp_settings(config, {"BRIEFING_SMTP_PASSWORD": "p"}).security == "none"


def test_no_sender_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BRIEFING_SMTP_FROM"):
        sender_address(load_config(write(tmp_path, "")), {})


def test_profile_selects_regions_and_title(tmp_path: Path) -> None:
    profile = load_config(write(tmp_path, GOOD)).profile("morning")
    brief = profile.select(sample_briefing())
    assert [s.region for s in brief.sections] == [
        Region.MIDDLE_EAST,
        Region.EUROPE,
        Region.ASIA_PACIFIC,
    ]
    assert brief.title == "Europe desk"
    paths = profile.output_paths(dt.date(2026, 11, 24))
    assert paths["pdf"] == tmp_path / "out" / "brief-2026-11-24.pdf" and set(paths) == {
        "html",
        "pdf",
        "json",
    }
    assert (tmp_path / "out").is_dir()


def test_today_is_in_the_profile_time_zone(tmp_path: Path) -> None:
    text = (
        '[profiles.tokyo]\ntimezone = "Asia/Tokyo"\n[profiles.la]\ntimezone = "America/Los_Angeles"'
    )
    config = load_config(write(tmp_path, text))
    now = dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC)
    assert config.profile("tokyo").today(now) == dt.date(2026, 11, 25)
    assert config.profile("la").today(now) == dt.date(2026, 11, 24)
