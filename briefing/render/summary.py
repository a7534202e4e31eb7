"""Plain Markdown for a few summaries at the terminal (``briefing summarize``)."""

from __future__ import annotations

from collections.abc import Sequence

from briefing.models import ArticleSummary
from briefing.render._env import EXTRACTIVE_NOTE, grounding_totals


def summary_markdown(summary: ArticleSummary) -> str:
    """One summary as Markdown: headline, source line, summary, key points, quotes."""
    source = " · ".join(x for x in (summary.outlet, summary.title, summary.url) if x)
    content = summary.content
    if content is None:
        return f"## {summary.title}\n\n*Could not be summarized: {summary.error}*\n\n_{source}_\n"
    lines = [f"## {content.headline}", "", f"_{source}_", ""]
    if summary.status == "extractive":
        lines += [f"*{EXTRACTIVE_NOTE}*", ""]
    if content.summary:
        lines += [content.summary, ""]
    lines += [f"- {point.text}" for point in content.key_points]
    if content.quotes:
        lines += ["", *(f"> “{q.text}” — {q.speaker}" for q in content.quotes)]
    if content.figures:
        lines += ["", *(f"- **{f.value}** — {f.what}" for f in content.figures)]
    flagged = [c for c in summary.flagged if c.action == "flagged"]
    if flagged:
        lines += ["", *(f"- ⚠ *unverified {c.kind.replace('_', ' ')}:* {c.text}" for c in flagged)]
    footer = f"{content.region.value} · {content.topic} · importance {content.importance}/5"
    if summary.status == "repaired":
        footer += " · repaired output"
    if summary.grounding is not None:
        line = grounding_totals([summary]).line
        footer += f" · {line.replace('; 0 extractive fallbacks', '')}"
    lines += ["", f"<sub>{footer} · {summary.provenance.model}</sub>", ""]
    return "\n".join(lines)


def summaries_markdown(summaries: Sequence[ArticleSummary]) -> str:
    """Several summaries separated by blank lines."""
    return "\n".join(summary_markdown(s) for s in summaries).rstrip() + "\n"
