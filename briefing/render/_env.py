"""The Jinja2 environments of the renderers and the view of a Briefing that templates see.

Templates ship inside the package (``briefing/render/templates/``) and are loaded with a
``PackageLoader`` so an installed wheel finds them; a user's ``template_dir`` is searched
first (``ChoiceLoader``), so copying one template there and editing it overrides just that
one. Rendering is strict: an undefined variable is an error, never an empty string.

Templates get plain, precomputed values (story numbers, anchors, formatted dates, safe
link targets, each quote's language mark, each key point's page or section) through
:func:`build_context`, so they stay free of logic; the ``bidi`` filter gives an HTML
element the ``dir`` (and ``lang``) its text needs (``briefing.render._language``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup

from briefing.citations import cite
from briefing.errors import ConfigError
from briefing.jinja_cache import CompiledTemplates
from briefing.languages import language_code
from briefing.models import (
    ArticleSummary,
    Briefing,
    ClaimCheck,
    Figure,
    KeyPoint,
    Quote,
    Region,
    Story,
)
from briefing.render._language import quote_language, text_dir, text_lang
from briefing.zones import zone

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_LINK_SCHEMES = frozenset({"http", "https"})


# --------------------------------------------------------------------------- formatting


def long_date(day: dt.date) -> str:
    """``Tuesday 24 November 2026`` (English, whatever the process locale)."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def published_label(when: dt.datetime | None, edition: dt.date, tz: dt.tzinfo | None = None) -> str:
    """A short publication time: ``Mon 23 Nov, 18:05 UTC``; the year only if it differs.

    With ``tz``, an aware time is shown in that zone (``Mon 23 Nov, 19:05 CET``)."""
    if when is None:
        return ""
    if tz is not None and when.tzinfo is not None:
        when = when.astimezone(tz)
    day = f"{_DAYS[when.weekday()][:3]} {when.day} {_MONTHS[when.month - 1][:3]}"
    if when.year != edition.year:
        day += f" {when.year}"
    if when.tzinfo is None and (when.hour, when.minute, when.second) == (0, 0, 0):
        return day  # a bare date parsed as midnight: no time to show
    zone = when.tzname() if when.tzinfo is not None else None
    return f"{day}, {when:%H:%M}" + (f" {zone}" if zone else "")


#: C0/C1 control characters (ESC starts terminal escape sequences; none belongs in a brief)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(text: str | None) -> str:
    """Collapse whitespace (titles scraped from pages can hold newlines and tabs) and
    blank out control characters (an ESC from an article or a model must not reach a
    terminal showing the brief)."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


def safe_url(url: str | None) -> str | None:
    """``url`` if it is a web link fit for an ``href``, else ``None`` (no ``javascript:``)."""
    url = (url or "").strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in _LINK_SCHEMES or not parts.netloc:
        return None
    return url


def thousands(value: int) -> str:
    """``12345`` -> ``12,345``."""
    return f"{value:,}"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 story``, ``2 stories``."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def slugify(text: str) -> str:
    """An ASCII anchor id: ``Middle East & North Africa`` -> ``middle-east-north-africa``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "section"


def github_slug(text: str) -> str:
    """The anchor GitHub/GitLab give a Markdown heading (``middle-east--north-africa``)."""
    kept = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return kept.replace(" ", "-")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~|])")


def md_escape(text: str | None) -> str:
    """Inline Markdown text: whitespace collapsed, markup characters backslash-escaped.

    Escaping ``<`` and ``>`` also keeps raw HTML in an article title from reaching a
    Markdown renderer that passes HTML through.
    """
    escaped = _MD_SPECIAL.sub(r"\\\1", clean(text))
    # a leading "#", "+", "-" or "1. " would start a heading or list in some positions
    escaped = re.sub(r"^([#+\-])", r"\\\1", escaped)
    return re.sub(r"^(\d+)\.(?=\s)", r"\1\\.", escaped)


def md_url(url: str) -> str:
    """A URL safe inside a Markdown autolink ``<...>``."""
    return url.replace("<", "%3C").replace(">", "%3E")


# --------------------------------------------------------------------------- view model


@dataclass(frozen=True)
class SourceView:
    """The article a story rests on: the target of its footnote-style references."""

    number: int
    anchor: str
    outlet: str
    title: str
    url: str | None  #: a safe http(s) link, or None
    raw_url: str  #: the URL as given (shown as text when it is not a safe link)
    origin: str  #: the input path or URL the article came from


@dataclass(frozen=True)
class StoryView:
    """One summarized article as the templates show it."""

    number: int
    anchor: str
    headline: str
    topic: str
    outlet: str
    published: str
    published_iso: str
    summary: str
    key_points: list[KeyPointView]
    quotes: list[QuoteView]
    figures: list[Figure]
    countries: list[str]
    status: str
    source: SourceView
    #: claims that failed verification, shown marked (``--unsupported flag``)
    flagged: list[FlaggedView]
    #: the headline, summary and key points are sentences of the article itself
    extractive: bool
    #: why the summary is extractive (the model's failure, when it failed)
    extractive_note: str
    #: what part of a long article the summary is missing, or ""
    partial_note: str
    #: every article the story rests on, lead (``source``) first
    sources: list[SourceView]
    region: str
    #: the summary's first sentence (what the top stories show)
    lede: str
    #: against earlier editions (``briefing.continuity``): "new", "update", "repeat", ""
    continuity: str = ""
    #: the latest earlier edition that had it (``Mon 30 Nov``), or ""
    previous: str = ""
    #: what an update leads with: its verified points no earlier edition had
    new_points: list[PointView] = field(default_factory=list)
    #: earlier editions' tellings, oldest first (a developing story)
    timeline: list[TimelineView] = field(default_factory=list)


@dataclass(frozen=True)
class PointView:
    """A key point and the number of the source it rests on."""

    text: str
    source_number: int
    #: where in the source document it is ("p. 4", "§ Findings"), or ""
    cite: str = ""


@dataclass(frozen=True)
class KeyPointView:
    """A key point with where in its document it is (``briefing.citations``)."""

    text: str
    sentence_ids: list[int]
    #: "p. 4", "pp. 4\u20135", "§ Findings", or "" (a news article has no pages)
    cite: str


@dataclass(frozen=True)
class QuoteView:
    """A quote, verbatim, with its language: ``mark`` is ``(in Japanese)`` when that is
    not the brief's language (see ``briefing.render._language``)."""

    speaker: str
    text: str
    lang: str  #: BCP 47 tag, "" when unknown
    dir: str  #: "rtl" or "auto"
    mark: str


def key_point_views(points: Iterable[KeyPoint], summary: ArticleSummary) -> list[KeyPointView]:
    """``points`` (blank ones left out) with their page or section citations."""
    return [
        KeyPointView(
            text=clean(k.text),
            sentence_ids=list(k.sentence_ids),
            cite=cite(summary.locations, k.sentence_ids),
        )
        for k in points
        if clean(k.text)
    ]


def quote_views(quotes: Iterable[Quote], summary: ArticleSummary, lang: str) -> list[QuoteView]:
    """``quotes`` (blank ones left out) with their language, in a brief in ``lang``."""
    out: list[QuoteView] = []
    for quote in quotes:
        text = clean(quote.text)
        if not text:
            continue
        found = quote_language(text, summary.language, lang)
        out.append(QuoteView(clean(quote.speaker), text, found.lang, found.dir, found.mark))
    return out


@dataclass(frozen=True)
class TimelineView:
    """One earlier edition's telling: its date, headline and the sources' own time."""

    date: str
    headline: str
    #: the latest publication time its sources gave, or "" (never a time made up)
    published: str


@dataclass(frozen=True)
class DevelopingView:
    """A repeat, listed in one line under "Still developing"."""

    headline: str
    region: str
    n_sources: int
    #: the first and the latest earlier editions that had it (``Mon 30 Nov``)
    since: str
    previous: str


#: How a flagged claim is introduced ("unverified quote: ...").
_CLAIM_LABELS = {"key_point": "claim", "summary": "statement", "figure": "figure"}
EXTRACTIVE_NOTE = (
    "Extractive summary: the model's output could not be verified, so these are the "
    "article's own sentences."
)


@dataclass(frozen=True)
class FlaggedView:
    """A claim the source does not support, shown only behind an "unverified" marker."""

    label: str
    text: str
    reason: str


def _flagged(claims: Iterable[ClaimCheck]) -> list[FlaggedView]:
    return [
        FlaggedView(
            label=_CLAIM_LABELS.get(c.kind, c.kind), text=clean(c.text), reason=clean(c.reason)
        )
        for c in claims
        if c.action == "flagged" and clean(c.text)
    ]


@dataclass(frozen=True)
class GroundingTotals:
    """What grounding did across the brief (the one-line footer)."""

    checked: int = 0
    supported: int = 0
    dropped: int = 0
    flagged: int = 0
    replaced: int = 0
    extractive: int = 0
    grounded: int = 0  #: summaries that went through grounding

    @property
    def line(self) -> str:
        """``142 claims checked: 120 supported, 18 dropped, 4 flagged; 1 extractive fallback``."""
        if not self.grounded:
            return ""
        parts = [f"{self.supported} supported", f"{self.dropped} dropped"]
        parts.append(f"{self.flagged} flagged")
        if self.replaced:
            parts.append(f"{self.replaced} replaced from the source")
        return (
            f"{plural(self.checked, 'claim')} checked against the sources: {', '.join(parts)}; "
            f"{plural(self.extractive, 'extractive fallback')}"
        )


def grounding_totals(summaries: Iterable[ArticleSummary]) -> GroundingTotals:
    """Totals of the grounding reports of ``summaries``."""
    reports = [s.grounding for s in summaries if s.grounding is not None]
    return GroundingTotals(
        checked=sum(r.checked for r in reports),
        supported=sum(r.supported for r in reports),
        dropped=sum(r.dropped for r in reports),
        flagged=sum(r.flagged for r in reports),
        replaced=sum(r.replaced for r in reports),
        extractive=sum(r.extractive for r in reports),
        grounded=len(reports),
    )


@dataclass(frozen=True)
class SectionView:
    """One region with its stories, in briefing order."""

    region: Region
    name: str
    anchor: str
    md_anchor: str
    stories: list[StoryView]
    #: the grounded "what it means" paragraph, or ""
    synthesis: str
    #: why the paragraph asked for is missing, or ""
    synthesis_note: str = ""


@dataclass(frozen=True)
class FailedView:
    """An article that could not be summarized, and why."""

    title: str
    outlet: str
    origin: str
    url: str | None
    error: str


def _source(summary: ArticleSummary, number: int) -> SourceView:
    return SourceView(
        number=number,
        anchor=f"source-{number}",
        outlet=clean(summary.outlet) or "Unknown outlet",
        title=clean(summary.title),
        url=safe_url(summary.url),
        raw_url=clean(summary.url),
        origin=clean(summary.source),
    )


def _failed(summary: ArticleSummary) -> FailedView:
    return FailedView(
        title=clean(summary.title) or "(untitled)",
        outlet=clean(summary.outlet),
        origin=clean(summary.source) if summary.source != "-" else "",
        url=safe_url(summary.url),
        error=clean(summary.error) or "no reason recorded",
    )


def _unique(anchor: str, taken: set[str]) -> str:
    candidate, n = anchor, 1
    while candidate in taken:
        n += 1
        candidate = f"{anchor}-{n}"
    taken.add(candidate)
    return candidate


def _zone(name: str) -> dt.tzinfo:
    try:
        return zone(name)
    except ConfigError:
        return dt.UTC


def extractive_note(summary: ArticleSummary) -> str:
    """The note above an extractive summary: why the model's summary is missing."""
    if summary.status != "extractive" or not summary.error:
        return EXTRACTIVE_NOTE
    reason = clean(summary.error)
    if len(reason) > 200:
        reason = reason[:199].rstrip() + "…"
    return (
        f"Extractive summary: the model did not deliver one ({reason}), so these are the "
        "article's own sentences."
    )


def partial_note(summary: ArticleSummary) -> str:
    """The note above a summary that covers only part of a long article ("")."""
    if summary.status != "partial":
        return ""
    return f"Partial summary: {_short(clean(summary.error) or 'part of the article is missing')}."


def synthesis_note(error: str | None) -> str:
    """The line shown where a region's synthesis is missing ("" when none is)."""
    if not error:
        return ""
    return f"No “what it means” paragraph: {_short(clean(error))}."


def _short(text: str, limit: int = 200) -> str:
    text = text.rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _lede(summary: str) -> str:
    from briefing.sentences import sentence_texts

    sentences = sentence_texts(summary) if summary else []
    return sentences[0] if sentences else ""


def _story_view(
    story: Story, number: int, first_source: int, briefing: Briefing, tz: dt.tzinfo
) -> StoryView | None:
    """The view of ``story`` (``None`` when none of its summaries has content)."""
    sources = [s for s in story.summaries if s.content is not None]
    if not sources:
        return None
    lead = sources[0]
    content = lead.content
    assert content is not None
    views = [_source(s, first_source + i) for i, s in enumerate(sources)]
    summary = clean(content.summary)
    fresh = _new_points(story, sources, views)
    told = {p.text for p in fresh}
    lang = language_code(briefing.language)
    return StoryView(
        number=number,
        anchor=f"story-{number}",
        headline=clean(content.headline) or clean(lead.title),
        topic=clean(content.topic),
        outlet=clean(lead.outlet),
        published=published_label(lead.published, briefing.date, tz),
        published_iso=lead.published.isoformat() if lead.published else "",
        summary=summary,
        key_points=[k for k in key_point_views(content.key_points, lead) if k.text not in told],
        quotes=quote_views(content.quotes, lead, lang),
        figures=[f for f in content.figures if clean(f.value)],
        countries=[clean(c) for c in content.countries if clean(c)],
        status=lead.status,
        source=views[0],
        flagged=_flagged(lead.flagged),
        extractive=lead.status == "extractive",
        extractive_note=extractive_note(lead),
        partial_note=partial_note(lead),
        sources=views,
        region=str(story.region.value),
        lede=_lede(summary),
        continuity=story.continuity or "",
        previous=day_label(story.previous_date),
        new_points=fresh,
        timeline=[
            TimelineView(
                date=day_label(t.date),
                headline=clean(t.headline),
                published=published_label(t.published, briefing.date, tz),
            )
            for t in story.timeline
        ],
    )


def day_label(day: dt.date | None) -> str:
    """``Mon 30 Nov`` ("" for none)."""
    if day is None:
        return ""
    return f"{_DAYS[day.weekday()][:3]} {day.day} {_MONTHS[day.month - 1][:3]}"


def _new_points(
    story: Story, sources: list[ArticleSummary], views: list[SourceView]
) -> list[PointView]:
    """An update's new points, each with the number of the source that tells it."""
    out: list[PointView] = []
    for point in story.new_points:
        text = clean(point.text)
        if not text:
            continue
        number = views[0].number
        where = ""  # a point no source's key points hold: its sentence ids are unplaced
        for summary, view in zip(sources, views, strict=True):
            assert summary.content is not None
            told = next((k for k in summary.content.key_points if clean(k.text) == text), None)
            if told is not None:
                number = view.number
                where = cite(summary.locations, told.sentence_ids)
                break
        out.append(PointView(text=text, source_number=number, cite=where))
    return out


def _developing(story: Story) -> DevelopingView:
    since = story.timeline[0].date if story.timeline else story.previous_date
    return DevelopingView(
        headline=clean(story.headline),
        region=str(story.region.value),
        n_sources=len(story.summaries),
        since=day_label(since),
        previous=day_label(story.previous_date),
    )


def build_context(briefing: Briefing) -> dict[str, Any]:
    """Everything a brief template may use, computed once.

    Stories none of whose summaries has content (a composer bug, or a failed one that
    slipped through) are listed with the failures instead of breaking the render.
    """
    tz = _zone(briefing.timezone)
    sections: list[SectionView] = []
    failed = [_failed(s) for s in briefing.failed]
    anchors: set[str] = {"contents", "top-stories", "failed", "sources", "colophon"}
    by_id: dict[str, StoryView] = {}
    number = 0
    n_sources = 0
    for section in briefing.sections:
        stories: list[StoryView] = []
        for story in section.stories:
            view = _story_view(story, number + 1, n_sources + 1, briefing, tz)
            if view is None:
                failed.extend(_failed(s) for s in story.summaries)
                continue
            failed.extend(_failed(s) for s in story.summaries if s.content is None)
            number += 1
            n_sources += len(view.sources)
            stories.append(view)
            by_id.setdefault(story.id, view)
        if stories:
            name = str(section.region.value)
            sections.append(
                SectionView(
                    region=section.region,
                    name=name,
                    anchor=_unique("region-" + slugify(name), anchors),
                    md_anchor=github_slug(name),
                    stories=stories,
                    synthesis=clean(section.synthesis),
                    synthesis_note=synthesis_note(section.synthesis_error),
                )
            )
    top_stories = [by_id[s.id] for s in briefing.top_stories if s.id in by_id]
    story_count = sum(len(s.stories) for s in sections)
    usage = briefing.usage
    generated = briefing.generated_at
    if generated.tzinfo is not None:
        generated = generated.astimezone(tz)
    return {
        "briefing": briefing,
        "title": clean(briefing.title) or "Morning brief",
        "date_long": long_date(briefing.date),
        "date_iso": briefing.date.isoformat(),
        "generated_iso": briefing.generated_at.isoformat(),
        "generated_label": f"{generated:%Y-%m-%d %H:%M}"
        + (f" {generated.tzname()}" if generated.tzinfo else ""),
        "provider": clean(briefing.provider),
        "model": clean(briefing.model),
        "prompt_version": clean(briefing.prompt_version),
        "synthesis_prompt_version": clean(briefing.synthesis_prompt_version),
        "language": clean(briefing.language) or "English",
        "lang": language_code(briefing.language),
        "timezone": clean(briefing.timezone),
        "sections": sections,
        "top_stories": top_stories,
        "stories": [story for section in sections for story in section.stories],
        "story_count": story_count,
        "source_count": n_sources,
        "region_count": len(sections),
        "failed": failed,
        "usage": usage,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "continuity_line": briefing.continuity.line if briefing.continuity else "",
        "developing": [_developing(s) for s in briefing.developing],
        "grounding_line": grounding_totals(
            [s for section in briefing.sections for s in section.summaries] + briefing.failed
        ).line,
        "extractive_note": EXTRACTIVE_NOTE,
    }


# --------------------------------------------------------------------------- environment


def _loader(template_dir: Path | None) -> BaseLoader:
    package = PackageLoader("briefing.render", "templates")
    if template_dir is None:
        return package
    return ChoiceLoader([FileSystemLoader(str(template_dir)), package])


#: compiled brief templates, kept between runs (0.1 s of every brief)
_COMPILED = CompiledTemplates("briefing_render")


@lru_cache(maxsize=8)
def _environment(template_dir: Path | None) -> Environment:
    env = Environment(
        loader=_loader(template_dir),
        bytecode_cache=_COMPILED,
        undefined=StrictUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2"),
            default_for_string=True,
            default=False,
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=md_escape,
        md_url=md_url,
        thousands=thousands,
        clean=clean,
        names=names,
        bidi=bidi,
        isolate=isolate,
    )
    env.globals.update(plural=plural)
    return env


def environment(template_dir: Path | None = None) -> Environment:
    """The shared environment; ``template_dir`` (searched first) must be a directory."""
    if template_dir is not None:
        template_dir = Path(template_dir).expanduser().resolve()
        if not template_dir.is_dir():
            raise ConfigError(
                f"Template directory {template_dir} does not exist: create it with your "
                "copies of brief.md.j2 / brief.html.j2, or drop the template option."
            )
    return _environment(template_dir)


def render_template(name: str, context: dict[str, Any], *, template_dir: Path | None = None) -> str:
    """Render ``name``; errors in a user's own templates become a :class:`ConfigError`."""
    env = environment(template_dir)
    if template_dir is None:
        return env.get_template(name).render(context)
    try:
        return env.get_template(name).render(context)
    except TemplateError as e:
        raise ConfigError(
            f"Template {name} (searched in {template_dir}, then the built-in templates) "
            f"failed: {e}. Fix the template or remove your copy to use the default."
        ) from e


@pass_context
def bidi(context: Context, text: object) -> Markup:
    """`` dir="rtl" lang="ar"``: the attributes an HTML element holding ``text`` needs
    (``dir="auto"`` for text that is not mostly right-to-left; ``lang`` only where it
    is known and differs from the page's ``lang``)."""
    value = clean(str(text or ""))
    page = str(context.get("lang") or "en")
    attrs = Markup(' dir="{}"').format(text_dir(value))
    tag = text_lang(value, page) if value else ""
    return attrs + Markup(' lang="{}"').format(tag) if tag else attrs


def isolate(text: object) -> str:
    """Right-to-left ``text`` between Unicode isolates (FSI ... PDI), else unchanged.

    An Arabic speaker and an Arabic quote on one line of an English page would otherwise
    join into one right-to-left run and swap places ("quote — speaker"); browsers isolate
    ``dir`` spans themselves, WeasyPrint does not, but Pango honours the isolates."""
    value = clean(str(text or ""))
    return f"\u2068{value}\u2069" if value and text_dir(value) == "rtl" else value


def names(items: Iterable[str], limit: int = 8) -> str:
    """``a, b and c``: each name once, in order; past ``limit``, ``a, b ... and 7 more``."""
    listed = list(dict.fromkeys(i for i in items if i))
    if len(listed) > limit:
        return ", ".join(listed[:limit]) + f" and {len(listed) - limit} more"
    if len(listed) <= 1:
        return "".join(listed)
    return ", ".join(listed[:-1]) + " and " + listed[-1]
