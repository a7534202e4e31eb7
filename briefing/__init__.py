"""briefing: turn raw news articles into a grounded daily regional briefing with an LLM.

The library API (the CLI is a thin layer over these)::

    from briefing import load, get_llm, make_brief, render_markdown
    loaded = load(["seeds/"])
    run = make_brief(loaded, get_llm())
    print(render_markdown(run.briefing))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from briefing.errors import (
    BriefingError,
    ConfigError,
    DeliveryError,
    ExitCode,
    InputError,
    ModelNotFoundError,
    ProviderError,
    SummaryValidationError,
)
from briefing.models import (
    Article,
    ArticleSummary,
    Briefing,
    Region,
    Section,
    Sentence,
    SummaryOutput,
    Usage,
)

if TYPE_CHECKING:
    from briefing.compose import compose
    from briefing.llm import LLM, FakeLLM, get_llm
    from briefing.pipeline import BriefRun, Loaded, load, make_brief, summarize_articles
    from briefing.prompts import Prompts
    from briefing.render import render_html, render_json, render_markdown, render_pdf
    from briefing.summarize import Summarizer

__all__ = [
    "LLM",
    "Article",
    "ArticleSummary",
    "BriefRun",
    "Briefing",
    "BriefingError",
    "ConfigError",
    "DeliveryError",
    "ExitCode",
    "FakeLLM",
    "InputError",
    "Loaded",
    "ModelNotFoundError",
    "Prompts",
    "ProviderError",
    "Region",
    "Section",
    "Sentence",
    "Summarizer",
    "SummaryOutput",
    "SummaryValidationError",
    "Usage",
    "compose",
    "get_llm",
    "load",
    "make_brief",
    "render_html",
    "render_json",
    "render_markdown",
    "render_pdf",
    "summarize_articles",
]

# Heavy modules load on first use, so `import briefing` (and the CLI) start fast.
_LAZY = {
    "compose": "briefing.compose",
    "LLM": "briefing.llm",
    "FakeLLM": "briefing.llm",
    "get_llm": "briefing.llm",
    "BriefRun": "briefing.pipeline",
    "Loaded": "briefing.pipeline",
    "load": "briefing.pipeline",
    "make_brief": "briefing.pipeline",
    "summarize_articles": "briefing.pipeline",
    "Prompts": "briefing.prompts",
    "render_html": "briefing.render",
    "render_json": "briefing.render",
    "render_markdown": "briefing.render",
    "render_pdf": "briefing.render",
    "Summarizer": "briefing.summarize",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'briefing' has no attribute {name!r}")
