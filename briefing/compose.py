"""Compose summaries into a ``Briefing``: sections by region, most important first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from briefing.models import ArticleSummary, Briefing, Region, Section, Usage


def _rank_key(summary: ArticleSummary) -> tuple[int, int, float, str]:
    content = summary.content
    importance = content.importance if content else 0
    n_sources = 1  # grows when stories gather several outlets
    published = summary.published.timestamp() if summary.published else 0.0
    return (-importance, -n_sources, -published, summary.title.lower())


def compose(
    summaries: Sequence[ArticleSummary],
    *,
    date: dt.date | None = None,
    regions: Sequence[Region] | None = None,
    title: str = "Morning brief",
    generated_at: dt.datetime | None = None,
) -> Briefing:
    """Group summaries by region (in ``regions`` order, default the taxonomy order)."""
    now = generated_at or dt.datetime.now(dt.UTC)
    order = list(regions) if regions else list(Region)
    grouped: dict[Region, list[ArticleSummary]] = {region: [] for region in order}
    failed: list[ArticleSummary] = []
    for summary in summaries:
        if summary.content is None:
            failed.append(summary)
        elif summary.content.region in grouped:
            grouped[summary.content.region].append(summary)
    sections = [
        Section(region=region, summaries=sorted(items, key=_rank_key))
        for region, items in grouped.items()
        if items
    ]
    provenance = next((s.provenance for s in summaries), None)
    usage = sum((s.usage for s in summaries), Usage())
    return Briefing(
        title=title,
        date=date or now.date(),
        generated_at=now,
        provider=provenance.provider if provenance else "none",
        model=provenance.model if provenance else "none",
        prompt_version=provenance.prompt_version if provenance else "",
        sections=sections,
        failed=failed,
        usage=usage,
    )
