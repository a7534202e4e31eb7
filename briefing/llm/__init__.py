"""Model providers behind one small protocol, and the choice between them.

``get_llm()`` picks the provider: ``--provider`` if given, else ``openai`` when
``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set, else the embedded ``local`` model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from briefing.errors import ConfigError
from briefing.llm.base import LLM, Completion, JsonSchema, Message
from briefing.llm.fake import FakeLLM
from briefing.llm.retry import RetryPolicy

__all__ = [
    "LLM",
    "PROVIDERS",
    "Completion",
    "FakeLLM",
    "JsonSchema",
    "Message",
    "RetryPolicy",
    "choose_provider",
    "get_llm",
]

PROVIDERS = ("openai", "local")


def choose_provider(
    provider: str | None, env: Mapping[str, str] | None = None, *, base_url: str | None = None
) -> str:
    """The provider to use: explicit choice, else openai if configured (a key, a server
    URL in the environment, or ``--base-url``), else local."""
    env = os.environ if env is None else env
    if provider in (None, "", "auto"):
        configured = base_url or env.get("OPENAI_API_KEY") or env.get("OPENAI_BASE_URL")
        return "openai" if configured else "local"
    if provider not in PROVIDERS:
        raise ConfigError(f"Unknown provider {provider!r}; choose one of: {', '.join(PROVIDERS)}.")
    return provider


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
    """Build the model a run uses (flags first, then environment, then defaults).

    Secrets come only from the environment. A real ``OPENAI_API_KEY`` is sent to a
    custom server only when the user set both it and ``OPENAI_BASE_URL``; a server
    given with ``base_url`` gets ``BRIEFING_API_KEY`` (or no key).
    """
    env = os.environ if env is None else env
    chosen = choose_provider(provider, env, base_url=base_url)
    if chosen == "local":
        if model and not model_path and model.endswith(".gguf"):
            model_path = model
        from briefing.llm.local import LocalLLM

        return LocalLLM(model_path or env.get("BRIEFING_MODEL_PATH") or None)

    from briefing.llm.openai import OpenAILLM

    if base_url:
        api_key = env.get("BRIEFING_API_KEY")
    else:
        base_url = env.get("OPENAI_BASE_URL") or None
        api_key = env.get("BRIEFING_API_KEY") or env.get("OPENAI_API_KEY")
    window = context_window or _positive_env(env, "BRIEFING_CONTEXT_WINDOW", int)
    attempts = _positive_env(env, "BRIEFING_MAX_ATTEMPTS", int) or 5
    return OpenAILLM(
        model or env.get("BRIEFING_MODEL") or None,
        api_key=api_key,
        base_url=base_url,
        context_window=int(window) if window else None,
        read_timeout=timeout or _positive_env(env, "BRIEFING_TIMEOUT", float) or 120.0,
        retry=RetryPolicy(max_attempts=int(attempts)),
    )


def _positive_env(env: Mapping[str, str], name: str, kind: type[float] | type[int]) -> float | None:
    """A positive number from ``env[name]`` (None when unset); a ConfigError otherwise."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, not {raw!r}.") from None
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0, not {raw!r}.")
    return value
