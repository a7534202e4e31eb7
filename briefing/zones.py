"""IANA time zones by name, with one error that says what to give instead."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from briefing.errors import ConfigError

__all__ = ["zone"]


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; a ConfigError says what to give instead."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(
            f"Unknown time zone {name!r}: give an IANA name such as Europe/London or UTC."
        ) from e
