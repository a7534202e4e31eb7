"""Compose summaries into a ``Briefing``: stories by region, top stories, region syntheses.

1. **Stories**: summaries of the same event from different outlets become one
   :class:`~briefing.models.Story` (``briefing.stories``: TF-IDF text cosine plus shared
   entities, threshold documented there).
2. **Region** of a story (taxonomy in ``briefing.regions``): where its countries are,
   each mention weighted by where it occurs (headline 3, summary 2, key points and the
   verified country list 1; :func:`briefing.regions.focus_region`). A story naming no
   country keeps the model's region if grounding verified it, else goes to Global.
3. **Ranking** inside a section: importance, then number of sources, then most recent,
   then headline. ``regions`` picks which sections appear and in what order.
4. **Top stories**: the best-ranked stories of the whole brief, at most ``top`` (3) and
   at most half the day's stories (a one-story day has no lead section); they also
   stay in their sections.
5. **Synthesis** (only with an ``llm``): one grounded paragraph per section
   (``briefing.synthesis``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from briefing.models import ArticleSummary, Briefing, Region, Section, Story, Usage
from briefing.regions import canonical_country, focus_region
from briefing.stories import STORY_THRESHOLD, group_stories, story_id
from briefing.zones import zone

if TYPE_CHECKING:
    from briefing.llm.base import LLM
    from briefing.memo import TextStore
    from briefing.prompts import Prompts

__all__ = ["DEFAULT_TOP", "compose", "make_story", "rank_key", "story_region", "zone"]

log = logging.getLogger(__name__)

#: How many top stories a brief leads with (fewer on a small day).
DEFAULT_TOP = 3
#: Weight of a country mention by where it occurs in a summary.
HEADLINE_WEIGHT, SUMMARY_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.0


def region_verified(summary: ArticleSummary) -> bool:
    """True when grounding checked the model's region (kept or corrected it)."""
    report = summary.grounding
    return report is not None and any(
        c.kind == "region" and (c.supported or c.action == "corrected") for c in report.claims
    )


def story_region(summaries: Sequence[ArticleSummary]) -> Region:
    """Where a story goes: its countries' focus, else the lead's verified region, else Global."""
    texts: list[tuple[str, float]] = []
    for summary in summaries:
        content = summary.content
        if content is None:
            continue
        texts.append((content.headline, HEADLINE_WEIGHT))
        texts.append((content.summary, SUMMARY_WEIGHT))
        texts.extend((k.text, BODY_WEIGHT) for k in content.key_points)
        texts.extend((c, BODY_WEIGHT) for c in content.countries)
    region = focus_region(texts)
    if region is not None:
        return region
    lead = summaries[0] if summaries else None
    if lead is not None and lead.content is not None and region_verified(lead):
        return lead.content.region
    return Region.GLOBAL


def make_story(summaries: Sequence[ArticleSummary]) -> Story:
    """A story from its sources (lead first)."""
    lead = summaries[0]
    content = lead.content
    countries: dict[str, None] = {}
    for summary in summaries:
        for name in summary.content.countries if summary.content else []:
            countries.setdefault(canonical_country(name) or name, None)
    published = [s.published for s in summaries if s.published is not None]
    return Story(
        id=story_id(summaries),
        headline=content.headline if content else lead.title,
        region=story_region(summaries),
        importance=max((s.content.importance for s in summaries if s.content), default=0),
        summaries=list(summaries),
        countries=list(countries),
        topic=content.topic if content else "",
        published=max(published, key=lambda d: d.timestamp()) if published else None,
    )


def rank_key(story: Story) -> tuple[int, int, float, str]:
    """Most important first, then most sources, then most recent, then by headline."""
    published = story.published.timestamp() if story.published else 0.0
    return (-story.importance, -story.n_sources, -published, story.headline.lower())


def top_count(n_stories: int, top: int = DEFAULT_TOP) -> int:
    """How many top stories a day of ``n_stories`` gets: at most ``top`` and half."""
    return max(0, min(top, n_stories // 2))


def compose(
    summaries: Sequence[ArticleSummary],
    *,
    date: dt.date | None = None,
    regions: Sequence[Region] | None = None,
    title: str = "Morning brief",
    generated_at: dt.datetime | None = None,
    llm: LLM | None = None,
    prompts: Prompts | None = None,
    language: str = "English",
    timezone: str = "UTC",
    top: int = DEFAULT_TOP,
    threshold: float = STORY_THRESHOLD,
    store: TextStore | None = None,
) -> Briefing:
    """Group summaries into stories and stories into sections (in ``regions`` order,
    default the taxonomy order); with ``llm``, add a grounded synthesis per section.
    ``store`` (the run's cache) keeps the story grouping for a rerun."""
    tz = zone(timezone)
    now = generated_at or dt.datetime.now(dt.UTC)
    order = list(dict.fromkeys(regions)) if regions else list(Region)
    failed = [s for s in summaries if s.content is None]
    stories = [
        make_story(group) for group in group_stories(summaries, threshold=threshold, store=store)
    ]
    grouped: dict[Region, list[Story]] = {region: [] for region in order}
    for story in stories:
        if story.region in grouped:
            grouped[story.region].append(story)
    sections = [
        Section(region=region, stories=sorted(items, key=rank_key))
        for region, items in grouped.items()
        if items
    ]
    shown = sorted((s for section in sections for s in section.stories), key=rank_key)
    provenance = next((s.provenance for s in summaries), None)
    usage = sum((s.usage for s in summaries), Usage())
    briefing = Briefing(
        title=title,
        date=date or now.astimezone(tz).date(),
        generated_at=now,
        provider=provenance.provider if provenance else "none",
        model=provenance.model if provenance else "none",
        prompt_version=provenance.prompt_version if provenance else "",
        sections=sections,
        failed=failed,
        usage=usage,
        top_stories=shown[: top_count(len(shown), top)],
        timezone=timezone,
        language=language,
    )
    if llm is not None:
        from briefing.synthesis import synthesize_sections

        synthesize_sections(briefing, llm, prompts=prompts)
    return briefing
