"""Numbers: every number in a claim must occur in the source, compared by value.

``briefing.grounding.check`` also asks it of the claim's passage (its evidence and the
three sentences sharing most of its words), with ``allowed``: a number copied from
another part of the text ("14 seconds" where the passage says 27) fails.

Digits, "76,000", "2.5", "3bn", "1.5 million", "twenty-four", "10%": "76,000" = "76000"
= "76k"; "twenty-four" = "24". A figure's value must occur in the very sentence it cites
(``allowed``). In a claim the word "one" is not a number: it is far more often a pronoun
("one of the...") than a count. Works the same on lower-cased text ("12 people died").
A number may follow a letter of a script written without spaces ("金利を0.75%に",
"5000亿元"; full-width digits are read after NFKC) where a letter of a spaced script
makes it part of a word ("A380", "G7"); numbers written in Chinese characters are not
read.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from briefing.lazyre import LazyPattern
from briefing.scripts import may_have_unspaced
from briefing.words import UNSPACED_LETTERS

if TYPE_CHECKING:
    from briefing.grounding.source import Source

__all__ = ["numbers_in", "unsupported_numbers"]

_UNIT_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_TEN_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety"
_UNITS = {w: i for i, w in enumerate(_UNIT_WORDS.split(" "))}
_TENS = {w: 10 * i for i, w in enumerate(_TEN_WORDS.split(" "), 2)}
_SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "k": 1_000,
    "million": 1_000_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "billion": 1_000_000_000,
    "bn": 1_000_000_000,
    "trillion": 1_000_000_000_000,
    "tn": 1_000_000_000_000,
}
_NUMBER_WORDS = "|".join(sorted([*_UNITS, *_TENS], key=len, reverse=True))
_NUMBER_TEMPLATE = rf"""
    (?:(?<![\w.,]){{after_letter}})(?P<digits>\d{{{{1,3}}}}(?:,\d{{{{3}}}})+(?:\.\d+)?|\d+(?:\.\d+)?)
    (?:\s?(?P<dscale>hundred|thousand|million|billion|trillion|k|m|mn|bn|tn)\b)?
    | \b(?P<words>(?:{_NUMBER_WORDS})
        (?:[\s-](?:{_NUMBER_WORDS}|hundred|thousand|million|billion))*)\b
    """
#: a number may also follow a letter of a script written without spaces ("金利を0.75%")
_AFTER_UNSPACED_LETTER = f"|(?<=[{UNSPACED_LETTERS}])"
_FLAGS = re.IGNORECASE | re.VERBOSE
_NUMBER = LazyPattern(_NUMBER_TEMPLATE.format(after_letter=_AFTER_UNSPACED_LETTER), _FLAGS)
#: ``_NUMBER`` tried only where a digit or a number word (after ``\b``) can start.
_SCAN_PREFIX = f"(?=\\d|\\b[{''.join(sorted({w[0] for w in [*_UNITS, *_TENS]}))}])"
_NUMBER_SCAN = LazyPattern(f"{_SCAN_PREFIX}(?:{_NUMBER.pattern}\n)", _FLAGS)
#: ``_NUMBER_SCAN`` for a text without letters of unspaced scripts, where the lookbehind
#: for them cannot match: the same matches, without the big character class (compiled
#: under ``IGNORECASE``, one character at a time: 20 ms; see ``briefing.lazyre``)
_NUMBER_SCAN_SPACED = re.compile(
    f"{_SCAN_PREFIX}(?:{_NUMBER_TEMPLATE.format(after_letter='')}\n)", _FLAGS
)


def _words_value(text: str) -> float:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", text.casefold()):
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
    return float(total + current)


def numbers_in(text: str, *, claim: bool = False) -> list[tuple[str, set[float]]]:
    """Each number in ``text`` with the values it may stand for ("3bn" -> {3, 3e9}).

    In a claim (``claim=True``) the word "one" is not read as a number.
    """
    found: list[tuple[str, set[float]]] = []
    normal = unicodedata.normalize("NFKC", text)
    scan = _NUMBER_SCAN if may_have_unspaced(normal) else _NUMBER_SCAN_SPACED
    for match in scan.finditer(normal):
        if match.group("digits"):
            value = float(match.group("digits").replace(",", ""))
            values = {value}
            scale = (match.group("dscale") or "").casefold()
            if scale in _SCALES:
                values.add(value * _SCALES[scale])
        else:
            spelled = match.group("words")
            if claim and spelled.casefold() == "one":
                continue
            values = {_words_value(spelled)}
        found.append((match.group(0), {round(v, 6) for v in values}))
    return found


def unsupported_numbers(text: str, source: Source, allowed: set[float] | None = None) -> list[str]:
    """The numbers of claim ``text`` found nowhere in the source (or, with ``allowed``,
    whose values are not among ``allowed``: the numbers of one cited sentence)."""
    found = numbers_in(text, claim=True)
    if allowed is not None:
        return [raw for raw, values in found if not values & allowed]
    return [raw for raw, values in found if not source.has_number(values)]
