"""Render a Briefing as JSON: the whole model, loadable with ``Briefing.model_validate_json``."""

from __future__ import annotations

from briefing.models import Briefing


def render_json(briefing: Briefing) -> str:
    """The whole Briefing as indented JSON."""
    return briefing.model_dump_json(indent=2)
