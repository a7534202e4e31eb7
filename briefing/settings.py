"""Run settings from the environment, read in this one place.

Precedence everywhere: flags > environment > config file > defaults. The CLI builds a
:class:`ModelSettings` and a :class:`RunSettings` from the environment with
:func:`model_settings` / :func:`run_settings`, then lays its flags over them with
``dataclasses.replace``; the library takes the same objects. A bad value (``BRIEFING_
THREADS=abc``) is a one-line :class:`~briefing.errors.ConfigError` naming the variable.

Secrets (``OPENAI_API_KEY``, ``BRIEFING_API_KEY``) are read here too but never stored
in a settings object that could be printed: :func:`api_key_for` hands them to the
provider at the moment it is built.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from briefing.errors import ConfigError

__all__ = [
    "UNSUPPORTED_POLICIES",
    "ModelSettings",
    "RunSettings",
    "api_key_for",
    "environ",
    "model_settings",
    "raise_errors",
    "run_settings",
]

N = TypeVar("N", int, float)

UNSUPPORTED_POLICIES = ("drop", "flag")
PROVIDER_CHOICES = ("auto", "openai", "local")
STRUCTURED_MODES = ("json_schema", "json_object", "json_object_plain", "none")


def environ() -> Mapping[str, str]:
    """The process environment (the one place the package reads ``os.environ`` for run
    settings; tests pass their own mapping instead)."""
    return os.environ


@dataclass(frozen=True)
class ModelSettings:
    """Which model answers and how it is reached (no secrets in here)."""

    #: "auto" (openai when a key or server URL is set, else local), "openai", "local"
    provider: str = "auto"
    model: str | None = None
    model_path: Path | None = None
    #: an OpenAI-compatible server given on the command line (gets BRIEFING_API_KEY)
    base_url: str | None = None
    #: OPENAI_BASE_URL (gets OPENAI_API_KEY when both are set)
    env_base_url: str | None = None
    context_window: int | None = None
    #: read timeout of one attempt, seconds (None: 120 for remote servers, 300 for a
    #: server on this machine or network, which may write slowly on a CPU)
    timeout: float | None = None
    max_attempts: int = 5
    #: force a structured-output mode (remote servers); None: the best the server takes
    structured: str | None = None
    #: llama.cpp context size and generation threads (in-process model)
    n_ctx: int | None = None
    threads: int | None = None
    prompts_dir: Path | None = None

    @property
    def server_url(self) -> str | None:
        """The server the openai provider talks to (None: OpenAI itself)."""
        return self.base_url or self.env_base_url


@dataclass(frozen=True)
class RunSettings:
    """How a run paces, caches and budgets its model calls."""

    #: calls in flight; None: what the provider learns of the server
    concurrency: int | None = None
    rpm: float | None = None
    tpm: float | None = None
    no_cache: bool = False
    cache_dir: Path | None = None
    #: US dollars for the whole run (summaries and synthesis)
    max_cost: float | None = None
    #: seconds for the whole run
    deadline: float | None = None
    #: what to do with claims the source does not support: "drop" or "flag"
    unsupported: str = "drop"
    #: a second opinion on every claim from this model ("same": the run's own); None: off
    verify_with: str | None = None
    #: summaries through the provider's Batch API; wait for it (else exit 75 at once);
    #: what to do with requests the batch failed or let expire: "fail" or "live"
    batch: bool = False
    batch_wait: bool = True
    fallback: str = "fail"
    #: seconds before a batch's first status poll (doubling to a minute)
    batch_poll: float = 5.0


def _number(env: Mapping[str, str], name: str, kind: Callable[[str], N]) -> N | None:
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


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}.")
    return raw


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw).expanduser() if raw else None


def model_settings(env: Mapping[str, str] | None = None) -> ModelSettings:
    """The model settings the environment asks for (defaults where it is silent)."""
    env = environ() if env is None else env
    return ModelSettings(
        provider=_choice(env, "BRIEFING_PROVIDER", PROVIDER_CHOICES) or "auto",
        model=env.get("BRIEFING_MODEL", "").strip() or None,
        model_path=_path(env, "BRIEFING_MODEL_PATH"),
        env_base_url=env.get("OPENAI_BASE_URL", "").strip() or None,
        context_window=_number(env, "BRIEFING_CONTEXT_WINDOW", int),
        timeout=_number(env, "BRIEFING_TIMEOUT", float),
        max_attempts=_number(env, "BRIEFING_MAX_ATTEMPTS", int) or 5,
        structured=_choice(env, "BRIEFING_STRUCTURED", STRUCTURED_MODES),
        n_ctx=_number(env, "BRIEFING_N_CTX", int),
        threads=_number(env, "BRIEFING_THREADS", int),
        prompts_dir=_path(env, "BRIEFING_PROMPTS_DIR"),
    )


def run_settings(env: Mapping[str, str] | None = None) -> RunSettings:
    """The run settings the environment asks for (defaults where it is silent)."""
    env = environ() if env is None else env
    return RunSettings(
        concurrency=_number(env, "BRIEFING_CONCURRENCY", int),
        rpm=_number(env, "BRIEFING_RPM", float),
        tpm=_number(env, "BRIEFING_TPM", float),
        cache_dir=_path(env, "BRIEFING_CACHE_DIR"),
        max_cost=_cost(env),
        deadline=_number(env, "BRIEFING_DEADLINE", float),
        unsupported=_choice(env, "BRIEFING_UNSUPPORTED", UNSUPPORTED_POLICIES) or "drop",
        verify_with=env.get("BRIEFING_VERIFY_WITH", "").strip() or None,
        batch_poll=_number(env, "BRIEFING_BATCH_POLL", float) or 5.0,
    )


def _cost(env: Mapping[str, str]) -> float | None:
    raw = env.get("BRIEFING_MAX_COST", "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"BRIEFING_MAX_COST must be a number of dollars, not {raw!r}.") from None
    if value < 0:
        raise ConfigError(f"BRIEFING_MAX_COST must not be negative, not {raw!r}.")
    return value


def choose_provider(settings: ModelSettings, env: Mapping[str, str] | None = None) -> str:
    """The provider to use: the explicit choice, else openai when a key or a server URL
    is configured, else the in-process local model."""
    env = environ() if env is None else env
    if settings.provider in ("", "auto"):
        configured = settings.server_url or env.get("OPENAI_API_KEY", "").strip()
        return "openai" if configured else "local"
    if settings.provider not in PROVIDER_CHOICES:
        raise ConfigError(f"Unknown provider {settings.provider!r}; choose one of: openai, local.")
    return settings.provider


def api_key_for(settings: ModelSettings, env: Mapping[str, str] | None = None) -> str | None:
    """The key the openai provider sends. A real ``OPENAI_API_KEY`` goes to a custom
    server only when the user set both it and ``OPENAI_BASE_URL``; a server given on the
    command line gets ``BRIEFING_API_KEY`` (or no key)."""
    env = environ() if env is None else env
    if settings.base_url:
        return env.get("BRIEFING_API_KEY") or None
    return env.get("BRIEFING_API_KEY") or env.get("OPENAI_API_KEY") or None


def raise_errors(env: Mapping[str, str] | None = None) -> bool:
    """True when ``BRIEFING_RAISE_ERRORS`` asks for tracebacks instead of one line."""
    env = environ() if env is None else env
    return env.get("BRIEFING_RAISE_ERRORS", "").strip() not in ("", "0", "false", "no")


def max_input_mb(env: Mapping[str, str] | None = None) -> float | None:
    """``BRIEFING_MAX_INPUT_MB``: the largest input after decompression (None: default)."""
    env = environ() if env is None else env
    return _number(env, "BRIEFING_MAX_INPUT_MB", float)
