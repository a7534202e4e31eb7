"""The instruction filter: source or claim text that reads like an instruction to a model.

Article text is data. Source sentences that look like instructions to a model ("ignore
previous instructions", role markers such as ``<|im_start|>system``, "system prompt",
JSON with our schema's keys) are quarantined by :class:`~briefing.grounding.source.Source`:
they are evidence for nothing, so a claim repeating them is unsupported though it is "in
the source", and the extractive fallback never picks them. A claim whose own text looks
like an instruction is unsupported too.

"respond with" / "reply with" / "answer with" / "output with" count only as a command:
at the start of the text, a line or a clause (after ``.!?:;`` or an opening quote), or
after "please" / "now" / "just". A news sentence quoting officials who chose to "talk
rather than respond with 'fear'", or urging a government "to respond with sanctions",
is not an instruction.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_instruction_like"]

_INSTRUCTION = re.compile(
    r"""
    \b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,40}?
        \b(?:previous|prior|above|earlier|all|any|your|the)\b[^.!?\n]{0,20}?
        \b(?:instructions?|prompts?|rules|directions|context)\b
    | <\|[a-z_]+\|>                                  # <|im_start|>, <|system|>, <|eot_id|>
    | \[/?INST\] | <</?SYS>>                         # llama chat markers
    | </?(?:system|assistant|user)>
    | (?:^|\n)\s*\#{0,3}\s*(?:system|assistant)\s*:  # "System: ..." at a line start
    | \bsystem\s+prompt\b
    | \byou\s+are\s+now\b
    | \bnew\s+instructions?\b
    | (?:^|[.!?:;\n"'\u201c]\s*|\b(?:please|now|just)\s+)   # a command, not a clause
        (?:respond|reply|answer|output)\s+(?:only\s+)?with\b
    | "(?:headline|summary|key_points|sentence_ids|importance)"\s*:   # our schema's keys
    """,
    re.IGNORECASE | re.VERBOSE,
)


#: Every match of ``_INSTRUCTION`` contains one of these (in any case): an ASCII text
#: holding none of them cannot match, and most sentences are ruled out this way.
_INSTRUCTION_WORDS = [
    *["ignore", "disregard", "forget", "override", "<|", "inst]", "sys>>", "system"],
    *["assistant", "user>", "you", "new", "respond", "reply", "answer", "output", '"'],
]


def is_instruction_like(text: str) -> bool:
    """True when ``text`` reads like an instruction to a model (see the module docstring)."""
    if text.isascii():
        lowered = text.lower()
        if not any(word in lowered for word in _INSTRUCTION_WORDS):
            return False
    return bool(_INSTRUCTION.search(unicodedata.normalize("NFKC", text)))
