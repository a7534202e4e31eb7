"""Token-aware splitting of an article's sentences into chunks that fit the model.

The budget for article text is the model's context window minus the prompt's fixed
overhead (system prompt, instructions) and the reserve for the model's answer. Chunks
break only between sentences; a single sentence longer than the budget is cut by
words so nothing is lost. Sentence ids are kept, so citations stay valid.

Chinese, Japanese and Thai write no spaces between words: there a "word" is a whole
clause or sentence. An over-long sentence in such a script is cut after its clause
punctuation (、，；： and the like) instead, a clause longer than the budget into
pieces of characters, and the pieces are joined back without the spaces the text never
had. Each clause's tokens are counted once: linear in the sentence's length.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from briefing.errors import ConfigError
from briefing.models import Sentence
from briefing.words import has_unspaced

# ruff: noqa: RUF001, RUF002, RUF003  (CJK punctuation on purpose)

#: Tokens kept free for the numbering "[12] " and line breaks around each sentence.
PER_SENTENCE_OVERHEAD = 4


def text_budget(context_window: int, prompt_overhead: int, output_reserve: int) -> int:
    """Tokens of article text one call can carry."""
    budget = context_window - prompt_overhead - output_reserve
    if budget < 64:
        raise ConfigError(
            f"The model's context window ({context_window} tokens) leaves no room for article "
            f"text after the prompt ({prompt_overhead}) and answer ({output_reserve}). Use a model "
            "with a larger context window (--context-window if the server's is larger)."
        )
    return budget


def chunk_sentences(
    sentences: Sequence[Sentence],
    budget: int,
    count_tokens: Callable[[str], int],
) -> list[list[Sentence]]:
    """Greedy packing of consecutive sentences into chunks of at most ``budget`` tokens."""
    chunks: list[list[Sentence]] = []
    current: list[Sentence] = []
    used = 0
    for sentence in sentences:
        cost = count_tokens(sentence.text) + PER_SENTENCE_OVERHEAD
        if cost > budget:
            if current:
                chunks.append(current)
                current, used = [], 0
            chunks.extend([piece] for piece in _split_long(sentence, budget, count_tokens))
            continue
        if used + cost > budget and current:
            chunks.append(current)
            current, used = [], 0
        current.append(sentence)
        used += cost
    if current:
        chunks.append(current)
    return chunks


def _split_long(
    sentence: Sentence, budget: int, count_tokens: Callable[[str], int]
) -> list[Sentence]:
    """Cut one over-long sentence into word runs that fit (same id on every piece)."""
    pieces: list[Sentence] = []
    parts: list[tuple[str, str]] = []
    used = PER_SENTENCE_OVERHEAD
    for sep, part in _short_parts(sentence.text, max(1, budget - PER_SENTENCE_OVERHEAD)):
        cost = count_tokens(sep + part)  # summed per part: a slight over-estimate, linear time
        if parts and used + cost > budget:
            pieces.append(Sentence(id=sentence.id, text=_joined(parts)))
            parts, used = [], PER_SENTENCE_OVERHEAD
        parts.append((sep, part))
        used += cost
    if parts:
        pieces.append(Sentence(id=sentence.id, text=_joined(parts)))
    return pieces


def _joined(parts: Sequence[tuple[str, str]]) -> str:
    """The text of ``(separator, part)`` pairs, without the first one's separator."""
    return parts[0][1] + "".join(sep + part for sep, part in parts[1:])


def _short_parts(text: str, longest: int) -> Iterator[tuple[str, str]]:
    """``(separator, part)``: the words of ``text`` (:func:`_short_words`), each after a
    space; a word with letters of a script written without spaces is cut after its
    clause punctuation, its parts (but the first) after nothing."""
    if not has_unspaced(text):
        for word in _short_words(text, longest):
            yield " ", word
        return
    for word in text.split():
        if not has_unspaced(word):
            for piece in _cut(word, longest):
                yield " ", piece
            continue
        sep = " "
        for clause in _CLAUSE.findall(word):
            for piece in _cut(clause, longest):
                yield sep, piece
                sep = ""


#: A clause of unspaced script: up to and including its clause or sentence punctuation.
_CLAUSE = re.compile("[^、，；：。！？｡､]+[、，；：。！？｡､]*|[、，；：。！？｡､]+")  # no ．: ０．５


def _cut(word: str, longest: int) -> Iterator[str]:
    """``word``, or its pieces of ``longest`` characters when it is longer."""
    if len(word) <= longest:
        yield word
    else:
        yield from (word[i : i + longest] for i in range(0, len(word), longest))


def _short_words(text: str, longest: int) -> Iterator[str]:
    """The words of ``text``, a word longer than ``longest`` characters cut into pieces
    of that length (a token covers at least one character, so each piece fits a budget
    of ``longest`` tokens; a 10 MB string without spaces is not one "word")."""
    for word in text.split():
        yield from _cut(word, longest)
