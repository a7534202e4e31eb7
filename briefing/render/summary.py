"""Plain Markdown for a few summaries at the terminal (``briefing summarize``).

Every piece of article or model text is escaped like in the brief (``md_escape``: no
raw HTML, links or emphasis from a title or a model's answer, no terminal control
characters); URLs are shown only when they are web links. A quote not in the summary's
language is shown verbatim and marked (``“…” — Speaker (in Japanese)``); a key point from
a document ends with its page or section (``(p. 4)``, ``(§ Findings)``).
"""

from __future__ import annotations

from collections.abc import Sequence

from briefing.languages import language_code
from briefing.models import ArticleSummary
from briefing.render._env import (
    extractive_note,
    grounding_totals,
    key_point_views,
    md_escape,
    md_url,
    partial_note,
    quote_views,
    safe_url,
)


def summary_markdown(summary: ArticleSummary, *, language: str = "English") -> str:
    """One summary as Markdown: headline, source line, summary, key points, quotes;
    ``language`` is the one the summary is written in (quotes in others are marked)."""
    url = safe_url(summary.url)
    source = " · ".join(md_escape(x) for x in (summary.outlet, summary.title) if x)
    if url:
        source = f"{source} · <{md_url(url)}>" if source else f"<{md_url(url)}>"
    elif summary.url:
        source = " · ".join(x for x in (source, md_escape(summary.url)) if x)
    content = summary.content
    if content is None:
        error = md_escape(summary.error)
        return (
            f"## {md_escape(summary.title)}\n\n*Could not be summarized: {error}*\n\n_{source}_\n"
        )
    lines = [f"## {md_escape(content.headline)}", "", f"_{source}_", ""]
    if summary.status == "extractive":
        lines += [f"*{md_escape(extractive_note(summary))}*", ""]
    elif summary.status == "partial":
        lines += [f"*{md_escape(partial_note(summary))}*", ""]
    if content.summary:
        lines += [md_escape(content.summary), ""]
    lines += [
        f"- {md_escape(point.text)}" + (f" ({md_escape(point.cite)})" if point.cite else "")
        for point in key_point_views(content.key_points, summary)
    ]
    quotes = quote_views(content.quotes, summary, language_code(language))
    if quotes:
        lines += [
            "",
            *(
                f"> “{md_escape(q.text)}” — {md_escape(q.speaker)}"
                + (f" {md_escape(q.mark)}" if q.mark else "")
                for q in quotes
            ),
        ]
    if content.figures:
        lines += [
            "",
            *(f"- **{md_escape(f.value)}** — {md_escape(f.what)}" for f in content.figures),
        ]
    flagged = [c for c in summary.flagged if c.action == "flagged"]
    if flagged:
        lines += [
            "",
            *(f"- ⚠ *unverified {c.kind.replace('_', ' ')}:* {md_escape(c.text)}" for c in flagged),
        ]
    footer = (
        f"{content.region.value} · {md_escape(content.topic)} · importance {content.importance}/5"
    )
    if summary.status == "repaired":
        footer += " · repaired output"
    if summary.grounding is not None:
        line = grounding_totals([summary]).line
        footer += f" · {line.replace('; 0 extractive fallbacks', '')}"
    lines += ["", f"<sub>{footer} · {md_escape(summary.provenance.model)}</sub>", ""]
    return "\n".join(lines)


def summaries_markdown(summaries: Sequence[ArticleSummary], *, language: str = "English") -> str:
    """Several summaries separated by blank lines."""
    return "\n".join(summary_markdown(s, language=language) for s in summaries).rstrip() + "\n"
