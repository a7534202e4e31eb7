"""Token-aware chunking on sentence boundaries."""

from __future__ import annotations

import pytest

from briefing.chunking import chunk_sentences, text_budget
from briefing.errors import ConfigError
from briefing.models import Sentence


def words(text: str) -> int:
    return len(text.split())


def sentences(*lengths: int) -> list[Sentence]:
    return [Sentence(id=i, text=" ".join(["w"] * n)) for i, n in enumerate(lengths, 1)]


def test_budget_is_window_minus_prompt_and_answer() -> None:
    assert text_budget(8192, 600, 1536) == 8192 - 600 - 1536


def test_budget_too_small_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match="larger context window"):
        text_budget(2048, 1500, 600)


def test_short_article_is_one_chunk() -> None:
    chunks = chunk_sentences(sentences(5, 5, 5), budget=100, count_tokens=words)
    assert [[s.id for s in c] for c in chunks] == [[1, 2, 3]]


def test_chunks_break_between_sentences_and_respect_the_budget() -> None:
    chunks = chunk_sentences(sentences(10, 10, 10, 10, 10), budget=30, count_tokens=words)
    assert [[s.id for s in c] for c in chunks] == [[1, 2], [3, 4], [5]]
    for chunk in chunks:
        assert sum(words(s.text) + 4 for s in chunk) <= 30


def test_over_long_sentence_is_cut_by_words_and_keeps_its_id() -> None:
    chunks = chunk_sentences(sentences(3, 100, 3), budget=30, count_tokens=words)
    ids = [[s.id for s in c] for c in chunks]
    assert ids[0] == [1] and ids[-1] == [3]
    middle = [s for c in chunks[1:-1] for s in c]
    assert {s.id for s in middle} == {2}
    assert sum(words(s.text) for s in middle) == 100  # nothing lost
    assert all(words(s.text) + 4 <= 30 for s in middle)


def test_no_sentences_no_chunks() -> None:
    assert chunk_sentences([], budget=50, count_tokens=words) == []


def test_a_word_longer_than_the_budget_is_cut_into_pieces_that_fit() -> None:
    from briefing.chunking import chunk_sentences
    from briefing.models import Sentence

    def count(text: str) -> int:  # worst case: one token per character
        return len(text)

    word = "x" * 1000
    chunks = chunk_sentences([Sentence(id=1, text=f"a {word} b")], 100, count)
    assert "".join(s.text.replace(" ", "") for chunk in chunks for s in chunk) == f"a{word}b"
    assert all(sum(count(s.text) for s in chunk) <= 100 for chunk in chunks)
    assert {s.id for chunk in chunks for s in chunk} == {1}
