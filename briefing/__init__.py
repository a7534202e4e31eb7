"""briefing: turn raw news articles into a grounded daily regional briefing with an LLM.

The library API (the CLI is a thin layer over these)::

    from briefing import BriefRequest, Runner, write_outputs
    request = BriefRequest(inputs=("seeds/",))
    with Runner(request) as runner:
        run = runner.brief()
    markdown, _ = write_outputs(run.briefing, request.outputs)

or, holding a model already::

    from briefing import load, get_llm, make_brief, render_markdown
    run = make_brief(load(["seeds/"]), get_llm())
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

if TYPE_CHECKING:
    from briefing.compose import compose
    from briefing.llm import LLM, FakeLLM, get_llm, open_llm
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
    from briefing.pipeline import make_brief, summarize_articles
    from briefing.prompts import Prompts
    from briefing.render import render_html, render_json, render_markdown, render_pdf
    from briefing.request import BriefRequest, Outputs
    from briefing.runner import BriefRun, Loaded, Runner, load, write_outputs
    from briefing.settings import ModelSettings, RunSettings
    from briefing.summarize import Summarizer

__all__ = [
    "LLM",
    "Article",
    "ArticleSummary",
    "BriefRequest",
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
    "ModelSettings",
    "Outputs",
    "Prompts",
    "ProviderError",
    "Region",
    "RunSettings",
    "Runner",
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
    "open_llm",
    "render_html",
    "render_json",
    "render_markdown",
    "render_pdf",
    "summarize_articles",
    "write_outputs",
]

# Heavy modules load on first use, so `import briefing` (and the CLI) start fast.
_LAZY = {
    "compose": "briefing.compose",
    "LLM": "briefing.llm",
    "FakeLLM": "briefing.llm",
    "get_llm": "briefing.llm",
    "open_llm": "briefing.llm",
    "Article": "briefing.models",
    "ArticleSummary": "briefing.models",
    "Briefing": "briefing.models",
    "Region": "briefing.models",
    "Section": "briefing.models",
    "Sentence": "briefing.models",
    "SummaryOutput": "briefing.models",
    "Usage": "briefing.models",
    "BriefRequest": "briefing.request",
    "Outputs": "briefing.request",
    "BriefRun": "briefing.runner",
    "Loaded": "briefing.runner",
    "Runner": "briefing.runner",
    "load": "briefing.runner",
    "write_outputs": "briefing.runner",
    "ModelSettings": "briefing.settings",
    "RunSettings": "briefing.settings",
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
