"""Model providers behind one small protocol, and the choice between them.

``open_llm()`` builds the provider a ``ModelSettings`` asks for: ``--provider`` if
given, else ``openai`` when ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set, else the
embedded ``local`` model. ``get_llm()`` is the same with keyword arguments.

Tests forbid loading a real model (``briefing.llm.base.ALLOW_MODEL_REQUESTS = False``,
like pydantic-ai's switch): the in-process provider then refuses to load, so a test
that forgot its fake model cannot quietly run the bundled one (HTTP to servers is
blocked by the test runner itself, but for loopback and replayed cassettes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from briefing.errors import ConfigError
from briefing.llm.base import LLM, Completion, JsonSchema, Message, ModelRequestsBlocked
from briefing.llm.fake import FakeLLM
from briefing.llm.retry import RetryPolicy
from briefing.settings import ModelSettings, api_key_for, model_settings
from briefing.settings import choose_provider as _choose

__all__ = [
    "LLM",
    "PROVIDERS",
    "Completion",
    "FakeLLM",
    "JsonSchema",
    "Message",
    "ModelRequestsBlocked",
    "RetryPolicy",
    "choose_provider",
    "get_llm",
    "open_llm",
]

PROVIDERS = ("openai", "local")


def open_llm(settings: ModelSettings, env: Mapping[str, str] | None = None) -> LLM:
    """Build the model a run uses from ``settings`` (secrets come from ``env`` only)."""
    chosen = _choose(settings, env)
    if chosen == "local":
        model_path = settings.model_path
        if settings.model and not model_path and settings.model.endswith(".gguf"):
            model_path = Path(settings.model)
        from briefing.llm.local import LocalLLM

        return LocalLLM(model_path, n_ctx=settings.n_ctx, n_threads=settings.threads)

    from briefing.llm.openai import OpenAILLM

    return OpenAILLM(
        settings.model,
        api_key=api_key_for(settings, env),
        base_url=settings.server_url,
        context_window=settings.context_window,
        read_timeout=settings.timeout,
        retry=RetryPolicy(max_attempts=settings.max_attempts),
        structured=settings.structured,
    )


def get_llm(
    provider: str | None = None,
    *,
    model: str | None = None,
    model_path: str | Path | None = None,
    base_url: str | None = None,
    context_window: int | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> LLM:
    """``open_llm`` with keyword arguments laid over the environment's settings."""
    settings = model_settings(env)
    if provider not in (None, "", "auto") and provider not in PROVIDERS:
        raise ConfigError(f"Unknown provider {provider!r}; choose one of: {', '.join(PROVIDERS)}.")
    updates: dict[str, object] = {}
    if provider:
        updates["provider"] = provider
    if model:
        updates["model"] = model
    if model_path:
        updates["model_path"] = Path(model_path)
    if base_url:
        updates["base_url"] = base_url
    if context_window:
        updates["context_window"] = context_window
    if timeout:
        updates["timeout"] = timeout
    return open_llm(replace(settings, **updates), env)  # type: ignore[arg-type]


def choose_provider(
    provider: str | None, env: Mapping[str, str] | None = None, *, base_url: str | None = None
) -> str:
    """The provider ``get_llm`` would build for these arguments (see ``open_llm``)."""
    if provider not in (None, "", "auto") and provider not in PROVIDERS:
        raise ConfigError(f"Unknown provider {provider!r}; choose one of: {', '.join(PROVIDERS)}.")
    settings = replace(model_settings(env), provider=provider or "auto", base_url=base_url)
    return _choose(settings, env)
