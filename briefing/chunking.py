"""Token-aware splitting of an article's sentences into chunks that fit the model.

The budget for article text is the model's context window minus the prompt's fixed
overhead (system prompt, instructions) and the reserve for the model's answer. Chunks
break only between sentences; a single sentence longer than the budget is cut by
words so nothing is lost. Sentence ids are kept, so citations stay valid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from briefing.errors import ConfigError
from briefing.models import Sentence

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
    words: list[str] = []
    used = PER_SENTENCE_OVERHEAD
    for word in _short_words(sentence.text, max(1, budget - PER_SENTENCE_OVERHEAD)):
        cost = count_tokens(" " + word)  # summed per word: a slight over-estimate, linear time
        if words and used + cost > budget:
            pieces.append(Sentence(id=sentence.id, text=" ".join(words)))
            words, used = [], PER_SENTENCE_OVERHEAD
        words.append(word)
        used += cost
    if words:
        pieces.append(Sentence(id=sentence.id, text=" ".join(words)))
    return pieces


def _short_words(text: str, longest: int) -> Iterator[str]:
    """The words of ``text``, a word longer than ``longest`` characters cut into pieces
    of that length (a token covers at least one character, so each piece fits a budget
    of ``longest`` tokens; a 10 MB string without spaces is not one "word")."""
    for word in text.split():
        if len(word) <= longest:
            yield word
        else:
            yield from (word[i : i + longest] for i in range(0, len(word), longest))
