"""Render a Briefing as one standalone HTML file (inline CSS, every value escaped)."""

from __future__ import annotations

from pathlib import Path

from briefing.models import Briefing
from briefing.render._env import build_context, render_template

TEMPLATE = "brief.html.j2"


def render_html(briefing: Briefing, *, template_dir: Path | None = None) -> str:
    """The brief as a standalone HTML document; ``template_dir`` overrides templates/CSS."""
    return render_template(TEMPLATE, build_context(briefing), template_dir=template_dir)
