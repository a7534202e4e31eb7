"""Writing systems: which script a text is in, and how many words it holds when its
script does not put spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Burmese).

Word-based rules (a title has at most 25 words, a paragraph 40+) count space-separated
tokens; a Japanese paragraph is one such "token". :func:`word_count` counts characters
there instead, at a typical word length (two characters for CJK, four for Thai-like
scripts), so the same thresholds work in every script.
"""

from __future__ import annotations

import re

from briefing.lazyre import LazyPattern

__all__ = [
    "NO_SPACE_CHARS",
    "dominant_script",
    "may_have_unspaced",
    "more_words",
    "script_counts",
    "word_count",
]

#: Letters of scripts written without spaces between words (a regex character class):
#: CJK ideographs, kana, Thai, Lao, Khmer, Myanmar.
NO_SPACE_CHARS = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\u0e00-\u0e7f\u0e80-\u0eff\u1780-\u17ff\u1000-\u109f"
)
#: Every letter of Chinese, Japanese, Korean, Thai, Lao, Khmer and Burmese is at U+0E00 or
#: above and outside U+1E00-U+2BFF (Latin and Greek extended, the punctuation, currency
#: signs and symbols English text uses): a negated class of those two ranges is cheap to
#: compile, unlike the classes of the letters themselves (see ``briefing.lazyre``).
_MAYBE_UNSPACED = re.compile("[^\x00-\u0dff\u1e00-\u2bff]")
_CJK = LazyPattern(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]"
)
_SOUTHEAST = LazyPattern("[\u0e00-\u0e7f\u0e80-\u0eff\u1780-\u17ff\u1000-\u109f]")
_NO_SPACE = LazyPattern(f"[{NO_SPACE_CHARS}]")
_TOKEN = re.compile(r"\S+")
_WORDISH = re.compile(r"[^\W_]")  # a token with a letter or digit (not a lone "。")
#: characters per word where no spaces separate them
_CJK_WORD = 2
_SOUTHEAST_WORD = 4

#: the scripts told apart, with whether :func:`may_have_unspaced` can rule them out
_SCRIPTS: list[tuple[str, LazyPattern, bool]] = [
    ("kana", LazyPattern("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]"), True),
    ("han", LazyPattern("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"), True),
    ("hangul", LazyPattern("[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"), True),
    ("thai", LazyPattern("[\u0e00-\u0e7f]"), True),
    ("arabic", LazyPattern("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff"
                           "\ufb50-\ufdff\ufe70-\ufeff]"), False),
    ("hebrew", LazyPattern("[\u0590-\u05ff\ufb1d-\ufb4f]"), False),
    ("cyrillic", LazyPattern("[\u0400-\u04ff\u0500-\u052f]"), False),
    ("greek", LazyPattern("[\u0370-\u03ff\u1f00-\u1fff]"), False),
    ("devanagari", LazyPattern("[\u0900-\u097f]"), False),
    ("latin", LazyPattern("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]"), False),
]  # fmt: skip


def may_have_unspaced(text: str) -> bool:
    """Whether ``text`` may hold letters of Chinese, Japanese, Korean, Thai, Lao, Khmer
    or Burmese (``False``: it holds none; ``True``: look closer). Cheap: no big character
    class to compile, and an ASCII text is known at once."""
    return not text.isascii() and _MAYBE_UNSPACED.search(text) is not None


def word_count(text: str) -> int:
    """Words in ``text``: space-separated tokens, where a run of CJK characters counts
    one word per two characters and a run of Thai (Lao, Khmer, Burmese) one per four."""
    if not may_have_unspaced(text) or not _NO_SPACE.search(text):
        return len(text.split())
    cjk = len(_CJK.findall(text))
    southeast = len(_SOUTHEAST.findall(text))
    spaced = sum(1 for m in _TOKEN.finditer(_NO_SPACE.sub(" ", text)) if _WORDISH.search(m[0]))
    return spaced + -(-cjk // _CJK_WORD) + -(-southeast // _SOUTHEAST_WORD)


def more_words(text: str, n: int) -> bool:
    """``word_count(text) > n``, looking at no more of a 10 MB line than it needs."""
    if not may_have_unspaced(text[:4000]) or not _NO_SPACE.search(text, 0, 4000):
        return len(text.split(maxsplit=n)) > n
    head = text[: (n + 1) * 64]
    return word_count(head) > n or (len(head) < len(text) and word_count(text) > n)


def script_counts(text: str, limit: int = 4000) -> dict[str, int]:
    """Letters per script in the first ``limit`` characters of ``text`` (scripts with none
    left out)."""
    head = text[:limit]
    maybe = may_have_unspaced(head)
    counts = {name: len(rx.findall(head)) for name, rx, east in _SCRIPTS if maybe or not east}
    return {name: n for name, n in counts.items() if n}


def dominant_script(text: str, limit: int = 4000) -> str | None:
    """The script most letters of ``text`` are in ("latin", "han", "kana", "thai", ...);
    Japanese text (kanji with any kana) is "kana". ``None`` without letters."""
    counts = script_counts(text, limit)
    if not counts:
        return None
    if counts.get("kana", 0) * 20 >= counts.get("han", 0) > 0:
        counts["kana"] += counts.pop("han")
    return max(counts, key=lambda name: counts[name])
