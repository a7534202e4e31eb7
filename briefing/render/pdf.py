"""Render a Briefing as an A4 PDF: the HTML brief printed by WeasyPrint (imported lazily)."""

from __future__ import annotations

import warnings
from pathlib import Path

from briefing.errors import DeliveryError
from briefing.models import Briefing
from briefing.render.html import render_html


def render_pdf(briefing: Briefing, *, template_dir: Path | None = None) -> bytes:
    """The brief as PDF bytes: page numbers, a contents page, clickable links, bookmarks."""
    html = render_html(briefing, template_dir=template_dir)
    # WeasyPrint takes a second to import (cairo, pango, fontTools): only when a PDF is asked
    # for. Without libharfbuzz-subset0 it warns at import that it will need it one day; that
    # is advice for packagers, not for the reader of the brief.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="HarfBuzz-Subset will be required", category=DeprecationWarning
        )
        import weasyprint

    base_url = str(Path(template_dir).resolve()) + "/" if template_dir is not None else None
    try:
        document = weasyprint.HTML(string=html, base_url=base_url)
        pdf = document.write_pdf()
    except Exception as e:  # WeasyPrint raises assorted internal errors on broken input
        raise DeliveryError(
            f"Could not print the brief as PDF ({type(e).__name__}: {e}). "
            "Write Markdown or HTML instead, or report this with the brief's JSON."
        ) from e
    if not isinstance(pdf, bytes):  # write_pdf() returns bytes when given no target
        raise DeliveryError("WeasyPrint returned no PDF data; report this with the brief's JSON.")
    return pdf
