"""The compact chat version of a brief, and its splitting into parts that fit a service.

Chat services get the day's headlines, not the whole brief::

    **7 stories** in 4 regions · 9 sources · 1 article could not be summarized
    [Full brief](https://news.example.com/brief-2026-11-24.pdf)

    **Middle East & North Africa**

    - [Iraq and Turkey open talks on Tigris flows](https://example.com/a) — Reuters
    - Kenya keeps its benchmark rate at 10.75% — Daily Nation (+1 source)

It is CommonMark; Apprise converts it to each service's dialect (Slack ``mrkdwn``,
Telegram's Markdown, Discord's, Matrix HTML...). :func:`split_message` packs the lines
into parts no longer than the service allows, measured *after* that conversion (a link
grows when it becomes ``<url|label>``), never cutting a headline in two; a region cut
by a part boundary is headed again ("(continued)") at the top of the next part.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from briefing.models import Briefing

__all__ = ["Line", "MessagePart", "compact_lines", "render_lines", "split_message"]

#: room kept in every part's budget for the " (12/12)" a split message's titles get
COUNTER_ROOM = 8
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


@dataclass(frozen=True)
class Line:
    """One line of the compact message, under a heading (``None``: the opening lines)."""

    heading: str | None
    text: str


@dataclass(frozen=True)
class MessagePart:
    """One message as a service receives it (``title`` may be empty)."""

    title: str
    body: str


def escape_markdown(text: str) -> str:
    """``text`` with CommonMark's special characters backslash-escaped, on one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _link_target(url: str | None) -> str | None:
    if not url or not re.match(r"^https?://", url, re.IGNORECASE):
        return None
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def compact_lines(briefing: Briefing, *, brief_url: str | None = None) -> list[Line]:
    """The compact message as lines: the counts, a link to the full brief, then each
    region's headlines (linked to their lead source), in the brief's order."""
    stories = briefing.story_count
    sources = sum(len(section.summaries) for section in briefing.sections)
    regions = sum(1 for section in briefing.sections if section.stories)
    counts = f"**{_plural(stories, 'story', 'stories')}** in {_plural(regions, 'region')}"
    counts += f" · {_plural(sources, 'source')}"
    if briefing.failed:
        n = len(briefing.failed)
        counts += f" · {_plural(n, 'article')} could not be summarized"
    lines = [Line(None, counts)]
    target = _link_target(brief_url)
    if target:
        lines.append(Line(None, f"[Full brief]({target})"))
    for section in briefing.sections:
        heading = escape_markdown(section.region.value)
        for story in section.stories:
            lead = story.lead
            headline = escape_markdown(story.headline) or "(untitled)"
            url = _link_target(lead.url)
            text = f"- [{headline}]({url})" if url else f"- {headline}"
            if lead.outlet:
                text += f" — {escape_markdown(lead.outlet)}"
            if story.n_sources > 1:
                text += f" (+{_plural(story.n_sources - 1, 'source')})"
            lines.append(Line(heading, text))
    return lines


def render_lines(lines: Sequence[Line], *, continued: bool = False) -> str:
    """The Markdown of ``lines``: a bold heading above each region's list.

    ``continued``: the first region began in the previous part ("(continued)")."""
    blocks: list[list[str]] = []
    current: str | None = None
    for i, line in enumerate(lines):
        if i == 0 or line.heading != current:
            current = line.heading
            block: list[str] = []
            if line.heading is not None:
                more = " (continued)" if continued and i == 0 else ""
                blocks.append([f"**{line.heading}**{more}"])
            blocks.append(block)
        blocks[-1].append(line.text)
    return "\n\n".join("\n".join(b) for b in blocks if b)


def _fit(line: Line, fits: Callable[[Sequence[Line]], bool]) -> Line:
    """``line`` cut short (with "…") until it fits a part on its own."""
    text = line.text
    lo, hi = 1, len(text)
    best = Line(line.heading, "…")
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = Line(line.heading, text[:mid].rstrip() + "…")
        if fits([candidate]):
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best


def split_message(
    title: str,
    lines: Sequence[Line],
    *,
    limit: int,
    measure: Callable[[str, str], int],
) -> list[MessagePart]:
    """``lines`` packed into as few parts as fit, in order, each ``measure(title, body)``
    at most ``limit`` (room is kept for the " (i/n)" added to the titles of a split
    message). A line too long for a part on its own is cut short, never dropped."""
    room = " " * COUNTER_ROOM

    def fits(chunk: Sequence[Line], continued: bool = False) -> bool:
        return measure(title + room, render_lines(chunk, continued=continued)) <= limit

    chunks: list[tuple[list[Line], bool]] = []
    current: list[Line] = []
    continued = False
    for line in lines:
        if fits([*current, line], continued):
            current.append(line)
            continue
        if current:
            chunks.append((current, continued))
            continued = current[-1].heading is not None and current[-1].heading == line.heading
        current = [line if fits([line], continued) else _fit(line, fits)]
    if current or not chunks:
        chunks.append((current, continued))
    n = len(chunks)
    return [
        MessagePart(
            title=f"{title} ({i}/{n})" if n > 1 else title,
            body=render_lines(chunk, continued=cont),
        )
        for i, (chunk, cont) in enumerate(chunks, start=1)
    ]
