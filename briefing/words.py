"""Word units: the pieces of a text that two texts are compared by, in any script.

Ranking, de-duplication, story grouping, grounding and chunking all compare texts word
by word. Words are what a regex finds between spaces and punctuation, which works for
Latin, Cyrillic, Greek, Arabic, Hebrew and Korean (Hangul words are spaced too); but
Chinese, Japanese, Thai, Lao, Khmer and Burmese write no spaces between words, so
there a whole clause is one "word" (and Python's ``\\w`` leaves out the Thai vowel and
tone marks, so a Thai word broke at each of them) and two sentences saying the same
thing in other clauses share nothing.

:func:`units` gives each stage comparable units: in spaced scripts the words the
stage's own pattern finds (exactly as before: same tokens, same order), and in a run of
letters of an unspaced script its **overlapping character bigrams** ("日本銀行" ->
"日本", "本銀", "銀行"; a one-letter run is itself): the standard approach of CJK
search (Lucene's ``CJKBigramFilter``), which needs no dictionary. A true word of two
characters is a bigram, a longer one a chain of bigrams, so two sentences sharing a
word share its bigrams, and a changed name or figure ("植田" -> "黒田") brings bigrams
the source lacks. In Thai, Lao, Khmer and Burmese a "character" is a letter with its
combining vowel and tone marks ("รั", "ฐ": the bigram "รัฐ"), so marks never stand
alone. Digits and Latin words inside such text ("日銀は1日", "Toyota の新型 EV") stay
words, so numbers are compared as numbers.

Why no word segmenter: jieba, MeCab dictionaries or pythainlp bring tens of MB of data
for one language each, and their words must then be matched anyway; bigrams cost one
regex, work for every unspaced script at once and are what the other stages need
(units that overlap when the texts do). Speed: text without unspaced letters goes
through the caller's pattern alone (an ASCII text is known at no cost, any other is
scanned once by a character class in C: 1.3 ms for 150,000 characters, where finding
their words takes 11), so English is as fast as before. The classes of unspaced letters
are compiled only when a text may hold such letters (``briefing.lazyre``: compiling
them costs 20 ms, and most runs read none).
"""

from __future__ import annotations

import re

from briefing.lazyre import LazyPattern
from briefing.scripts import may_have_unspaced

__all__ = [
    "UNSPACED_LETTERS",
    "UNSPACED_MARKS",
    "WORD",
    "bigrams",
    "has_unspaced",
    "is_unspaced_unit",
    "letters",
    "units",
    "unspaced_runs",
]

#: A word as ranking and grounding see it: letters and digits, hyphens split, inner
#: apostrophes kept ("O'Neill's", "don't").
WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")

_BEYOND_BMP = "\U00020000-\U0003134f"  # CJK ideographs, extensions B to H
#: Letters of the scripts written without spaces (Unicode categories L*): kana and the
#: iteration marks 々〆〇, CJK ideographs (with the extensions beyond the BMP), Thai,
#: Lao, Khmer, Myanmar. Their digits and punctuation are not letters.
UNSPACED_LETTERS = (
    "\u3005-\u3007\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9\uff66-\uff9f"
    f"{_BEYOND_BMP}"
    "\u0e01-\u0e30\u0e32-\u0e33\u0e40-\u0e46"
    "\u0e81-\u0e82\u0e84\u0e86-\u0e8a\u0e8c-\u0ea3\u0ea5\u0ea7-\u0eb0\u0eb2-\u0eb3\u0ebd"
    "\u0ec0-\u0ec4\u0ec6\u0edc-\u0edf"
    "\u1780-\u17b3\u17d7\u17dc"
    "\u1000-\u102a\u103f\u1050-\u1055\u105a-\u105d\u1061\u1065-\u1066\u106e-\u1070"
    "\u1075-\u1081\u108e"
)
#: Their combining marks (categories M*): Thai, Lao, Khmer and Myanmar vowel signs and
#: tone marks, the kana voicing marks. Never ``\\w`` in Python's ``re``.
UNSPACED_MARKS = (
    "\u3099-\u309a\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd"
    "\u17b4-\u17d3\u17dd\u102b-\u103e\u1056-\u1059\u105e-\u1060\u1062-\u1064\u1067-\u106d"
    "\u1071-\u1074\u1082-\u108d\u108f\u109a-\u109d"
)
_CHAR = f"[{UNSPACED_LETTERS}][{UNSPACED_MARKS}]*"  # a letter with its marks
_RUN = LazyPattern(f"(?:{_CHAR})+")
#: Overlapping bigrams: a match at every letter (never at a mark), read by the lookahead.
_BIGRAM = LazyPattern(f"(?=({_CHAR}{_CHAR}))")
_LETTER = LazyPattern(_CHAR)
_UNSPACED_START = LazyPattern(f"[{UNSPACED_LETTERS}]")
#: The same letters in the Basic Multilingual Plane: a class ``re`` tests with one table
#: lookup per character (a text whose only such letters are rare ideographs beyond it
#: is read as words).
_ANY_UNSPACED = LazyPattern(f"[{UNSPACED_LETTERS.replace(_BEYOND_BMP, '')}]")


def units(text: str, word: re.Pattern[str] = WORD) -> list[str]:
    """The comparable units of ``text`` in order: what ``word`` finds (by default
    :data:`WORD`), except in runs of unspaced-script letters, which give their
    overlapping bigrams (see the module docstring). Without such letters this is
    ``word.findall(text)``."""
    if not may_have_unspaced(text) or _ANY_UNSPACED.search(text) is None:
        return word.findall(text)
    run = _RUN.search(text)
    out: list[str] = []
    pos = 0
    while run is not None:
        start, end = run.span()
        if start > pos:
            out.extend(word.findall(text, pos, start))
        out.extend(bigrams(run.group()))
        pos = end
        run = _RUN.search(text, pos)
    out.extend(word.findall(text, pos))
    return out


def has_unspaced(text: str) -> bool:
    """Whether ``text`` has a letter of a script written without spaces."""
    return may_have_unspaced(text) and _ANY_UNSPACED.search(text) is not None


def is_unspaced_unit(token: str) -> bool:
    """Whether ``token`` (one of :func:`units`) is a bigram (or single letter) of an
    unspaced script, not a word: it has no case, suffix or stem."""
    return may_have_unspaced(token[:1]) and _UNSPACED_START.match(token) is not None


def unspaced_runs(text: str) -> list[str]:
    """The runs of unspaced-script letters in ``text`` (what :func:`units` cuts into
    bigrams)."""
    return _RUN.findall(text) if has_unspaced(text) else []


def bigrams(run: str) -> list[str]:
    """The overlapping bigrams of one run of :func:`unspaced_runs` (a one-letter run is
    itself)."""
    return _BIGRAM.findall(run) or [run]


def letters(unit: str) -> list[str]:
    """The letters of an unspaced unit, each with its combining marks ("รัฐ" -> "รั",
    "ฐ")."""
    return _LETTER.findall(unit)
