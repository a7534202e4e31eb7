"""Figures: a figure's value must occur in the very sentence it cites, its description fit it.

The value's numbers must be among the cited sentence's numbers (by value, see
``briefing.grounding.numbers``); a value without digits must be words of that sentence.
The description ("what") may hold no number or name the source lacks, and at least
``FIGURE_WHAT_THRESHOLD`` of its content words must be in the cited sentence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from briefing.extractive import content_words
from briefing.grounding.entities import unsupported_entities
from briefing.grounding.instructions import is_instruction_like
from briefing.grounding.lexical import support_score
from briefing.grounding.numbers import numbers_in, unsupported_numbers
from briefing.models import Figure

if TYPE_CHECKING:
    from briefing.grounding.source import Source

__all__ = ["FIGURE_WHAT_THRESHOLD", "check_figure"]

#: Minimum unigram recall of a figure's description against its cited sentence.
FIGURE_WHAT_THRESHOLD = 0.5


def check_figure(figure: Figure, source: Source) -> tuple[bool, str]:
    """(supported?, reason)."""
    sid = figure.sentence_id
    if sid not in source.sentences:
        return False, f"cites sentence {sid}, which does not exist"
    if sid not in source.evidence:
        return False, f"cites sentence {sid}, which is instruction-like text"
    text = f"{figure.value} {figure.what}"
    if is_instruction_like(text):
        return False, "instruction-like text"
    value_numbers = numbers_in(figure.value, claim=True)
    if value_numbers:
        bad = unsupported_numbers(figure.value, source, source.sentence_numbers[sid])
        if bad:
            return False, f"{', '.join(bad)} not in sentence {sid}"
    elif support_score(figure.value, source, [sid]) < 1.0:
        return False, f"value not in sentence {sid}"
    bad = unsupported_numbers(figure.what, source)
    if bad:
        return False, f"number not in the source: {', '.join(bad)}"
    missing = unsupported_entities(figure.what, source)
    if missing:
        return False, f"not in the source: {', '.join(missing)}"
    what = set(content_words(figure.what))
    if what:
        recall = len(what & set(source.stems[sid])) / len(what)
        if recall < FIGURE_WHAT_THRESHOLD:
            return False, f"description not supported by sentence {sid} ({recall:.2f})"
    return True, ""
