"""``briefing.grounding.numbers``: numbers compared by value, in any case."""

from __future__ import annotations

from briefing.grounding import Source
from briefing.grounding.numbers import numbers_in, unsupported_numbers


def test_values_of_digits_words_and_scales() -> None:
    values = dict(numbers_in("76k people, twenty-four dead, 3bn dollars", claim=True))
    assert values == {"76k": {76.0, 76000.0}, "twenty-four": {24.0}, "3bn": {3.0, 3e9}}


def test_unsupported_numbers_in_lower_cased_text() -> None:
    source = Source.from_text("the u.s. says 12 people died . about 1,500 fled the town .")
    assert unsupported_numbers("twelve people died and 1500 fled", source) == []
    assert unsupported_numbers("13 people died", source) == ["13"]
    # a figure's value must be in the sentence it cites
    assert unsupported_numbers("1,500", source, source.sentence_numbers[1]) == ["1,500"]
