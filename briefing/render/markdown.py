"""Render a Briefing as GitHub-flavoured Markdown (footnotes point at source articles)."""

from __future__ import annotations

from pathlib import Path

from briefing.models import Briefing
from briefing.render._env import build_context, render_template

TEMPLATE = "brief.md.j2"


def render_markdown(briefing: Briefing, *, template_dir: Path | None = None) -> str:
    """The brief as Markdown; ``template_dir`` holds the user's own ``brief.md.j2``, if any."""
    return render_template(TEMPLATE, build_context(briefing), template_dir=template_dir)
