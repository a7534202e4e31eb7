"""Quotes: a quote must occur verbatim in the source and be attributed to someone named there.

Compared as word sequences after Unicode NFKC, case folding and curly -> straight
quotes, so whitespace, punctuation and quote style do not matter but every word and its
order do; a quote with an ellipsis ("..." or "…") matches when its pieces occur in order.
Quotes need 2+ words. The speaker's names must occur in the source, one of them within
the three sentences before the quote, its sentence or the next. Words are those of
``briefing.extractive.words``: in Chinese, Japanese or Thai, overlapping character
bigrams, so a quote matches where its characters occur in a row (punctuation aside) and
a speaker is named near it when a bigram of the name is.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from briefing.extractive import STOPWORDS, words
from briefing.grounding.entities import capitalised_spans, entity_ok, fold
from briefing.grounding.instructions import is_instruction_like
from briefing.models import Quote
from briefing.scripts import word_count
from briefing.words import has_unspaced

if TYPE_CHECKING:
    from briefing.grounding.source import Source

__all__ = ["check_quote", "find_quote", "quote_words"]

_QUOTE_CHARS = str.maketrans(
    {
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "`": "'",
    }
)  # fmt: skip
_ELLIPSIS = re.compile(r"\.\s*\.\s*\.|\u2026|\[\s*\.\.\.\s*\]")


def quote_words(text: str) -> list[str]:
    """Words for verbatim comparison: NFKC, straight quotes, case-folded."""
    if text.isascii() and "`" not in text:  # NFKC and the quote mapping change nothing
        found = words(text.lower())
        return [w.replace("'", "") for w in found] if "'" in text else found
    normal = unicodedata.normalize("NFKC", text).translate(_QUOTE_CHARS).casefold()
    return [w.replace("'", "") for w in words(normal)]


def find_quote(pieces: list[list[str]], source: Source) -> int | None:
    """The sentence id where the quote starts, if all pieces occur in order."""
    haystack = source.quote_words
    start = 0
    first: int | None = None
    for piece in pieces:
        n = len(piece)
        i = start
        while True:  # the first i >= start where the piece occurs
            try:  # jump to the next occurrence of its first word (a scan in C)
                i = haystack.index(piece[0], i, len(haystack) - n + 1)
            except ValueError:
                return None
            if haystack[i : i + n] == piece:
                break
            i += 1
        if first is None:
            first = source.quote_sentence[i]
        start = i + n
    return first


def _too_long(speaker: str) -> bool:
    """More than 8 words: a sentence, not a name (bigrams of Chinese or Japanese, two a
    word, counted as words: ``briefing.scripts.word_count``)."""
    if has_unspaced(speaker):
        return word_count(speaker) > _SPEAKER_WORDS
    return len(words(speaker)) > _SPEAKER_WORDS


_SPEAKER_WORDS = 8
_GENERIC_SPEAKER = frozenset(
    ["official", "officials", "spokesman", "spokeswoman", "spokesperson", "source"]
)


def check_quote(quote: Quote, source: Source) -> tuple[bool, str, list[int]]:
    """(verbatim and attributed?, reason, sentence ids)."""
    pieces = [p for p in (quote_words(part) for part in _ELLIPSIS.split(quote.text)) if p]
    if sum(len(p) for p in pieces) < 2:
        return False, "too short to verify", []
    if is_instruction_like(quote.text):
        return False, "instruction-like text", []
    sid = find_quote(pieces, source)
    if sid is None:
        return False, "not found verbatim in the source", []
    if _too_long(quote.speaker) or any(c in quote.speaker for c in ',.;:!?"\u201c\u201d'):
        return False, "speaker is not a name or a short description", [sid]
    missing = [
        " ".join(span)
        for span in capitalised_spans(words(quote.speaker), skip_first=False)
        if not entity_ok(span, source)
    ]
    if missing:
        return False, f"speaker not in the source: {', '.join(dict.fromkeys(missing))}", [sid]
    speaker = {fold(t) for t in words(quote.speaker) if t.casefold() not in STOPWORDS}
    window = {
        fold(t)
        for i in range(sid - 3, sid + 2)
        if i in source.evidence
        for t in words(source.evidence[i].text)
    }
    if speaker and not speaker & window and not speaker <= _GENERIC_SPEAKER:
        return False, "speaker not named near the quote", [sid]
    return True, "", [sid]
