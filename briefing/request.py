"""What one run is asked to do: a :class:`BriefRequest`, built the same way from flags,
the environment and a config profile (``Profile.to_request``), and run by
``briefing.runner``.

A request holds no secrets and no open resources: it can be printed, compared and
made again. The runner opens the model, the cache and the limits from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefing.errors import ConfigError
from briefing.models import Region
from briefing.settings import UNSUPPORTED_POLICIES, ModelSettings, RunSettings
from briefing.zones import zone

__all__ = ["FORMATS", "BriefRequest", "Outputs", "parse_formats", "parse_regions"]

FORMATS = ("md", "html", "pdf", "json")
#: What a brief can do with its repeats (``briefing.continuity``).
REPEATS = ("omit", "list", "full")


@dataclass(frozen=True)
class Outputs:
    """Where the brief is written. Nothing set and ``print_markdown``: Markdown on stdout."""

    markdown: Path | None = None
    html: Path | None = None
    pdf: Path | None = None
    json: Path | None = None
    #: print the Markdown when no ``markdown`` path is given
    print_markdown: bool = True
    #: the user's own brief.md.j2 / brief.html.j2 / brief.css, searched first
    template_dir: Path | None = None

    @property
    def paths(self) -> list[Path]:
        """The files to write, Markdown first."""
        return [p for p in (self.markdown, self.pdf, self.html, self.json) if p is not None]

    @classmethod
    def in_directory(
        cls, directory: Path, formats: Sequence[str], stem: str = "brief", **options: object
    ) -> Outputs:
        """``directory/STEM.EXT`` for each of ``formats`` (nothing printed)."""
        return cls.of({fmt: directory / f"{stem}.{fmt}" for fmt in formats}, **options)

    @classmethod
    def of(cls, paths: Mapping[Any, Path], **options: object) -> Outputs:
        """The files ``{format: path}`` (nothing printed)."""
        return cls(
            markdown=paths.get("md"),
            html=paths.get("html"),
            pdf=paths.get("pdf"),
            json=paths.get("json"),
            print_markdown=False,
            **options,  # type: ignore[arg-type]
        )

    def over(self, other: Outputs) -> Outputs:
        """These outputs, with ``other``'s filling what these leave unset."""
        return Outputs(
            markdown=self.markdown or other.markdown,
            html=self.html or other.html,
            pdf=self.pdf or other.pdf,
            json=self.json or other.json,
            print_markdown=self.print_markdown and other.print_markdown,
            template_dir=self.template_dir or other.template_dir,
        )


@dataclass(frozen=True)
class BriefRequest:
    """Everything one brief (or one ``summarize``) needs to be made and written."""

    #: files, directories, feeds, URLs, or "-" for stdin
    inputs: tuple[str, ...]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: the brief's date (default: today in ``timezone``)
    date: dt.date | None = None
    #: IANA zone of the brief's date and times
    timezone: str = "UTC"
    #: the sections to show, in order (None: every region); no model call is made for
    #: a region left out
    regions: tuple[Region, ...] | None = None
    #: the language the brief is written in (a name: "English", "German")
    language: str = "English"
    title: str | None = None
    #: one grounded "what it means" paragraph per region
    synthesize: bool = True
    outputs: Outputs = field(default_factory=Outputs)
    model: ModelSettings = field(default_factory=ModelSettings)
    run: RunSettings = field(default_factory=RunSettings)
    #: the config profile the request came from (for messages, and the editions' profile)
    profile: str | None = None
    #: keep the brief as an edition and mark its stories new / update / repeat against
    #: the last days' editions (``briefing.editions``, ``briefing.continuity``); the CLI
    #: and profiles turn it on, the library leaves it off unless asked
    editions: bool = False
    #: the edition store (default: ``editions.sqlite3`` beside the run cache)
    editions_db: Path | None = None
    #: stories seen before with nothing new: "omit", "list" (one line each under "Still
    #: developing"), "full" (kept, marked)
    repeats: str = "list"

    def __post_init__(self) -> None:
        zone(self.timezone)  # a bad zone fails before any model call
        if self.repeats not in REPEATS:
            raise ConfigError(f"repeats must be omit, list or full, not {self.repeats!r}")
        if self.run.unsupported not in UNSUPPORTED_POLICIES:
            raise ConfigError(
                f"unsupported claims policy must be drop or flag, not {self.run.unsupported!r}"
            )


def parse_formats(value: str | Sequence[str] | None) -> list[str]:
    """``"md,pdf"`` -> ``["md", "pdf"]``; an unknown format is a ConfigError."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = [f.strip().lower().lstrip(".") for f in items if f.strip()]
    wanted = ["md" if f == "markdown" else f for f in wanted]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ConfigError(f"unknown format {', '.join(unknown)}; choose from {','.join(FORMATS)}")
    return list(dict.fromkeys(wanted))


def parse_regions(value: str | Sequence[str] | None) -> tuple[Region, ...] | None:
    """``"middle_east,europe"`` -> those regions in that order (None: every region)."""
    if not value:
        return None
    from briefing.regions import parse_region

    items = value.split(",") if isinstance(value, str) else list(value)
    regions: list[Region] = []
    for name in (str(n).strip() for n in items if str(n).strip()):
        region = parse_region(name)
        if region is None:
            known = "middle_east, europe, africa, asia_pacific, americas, global"
            raise ConfigError(f"unknown region {name!r}; use {known}")
        regions.append(region)
    return tuple(dict.fromkeys(regions))
