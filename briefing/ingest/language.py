"""Which language an article is written in: a BCP 47 primary tag ("en", "ja", "ar").

The script decides alone where one language owns it (kana: Japanese, Hangul: Korean,
Thai, Hebrew, Greek; Han without kana: Chinese), and English news is recognised by its
function words; the rest (other Latin-script languages, Cyrillic, Arabic-script...) goes
to ``py3langid``, a maintained fork of langid.py whose model (97 languages) ships inside
the package: nothing is downloaded. Its model takes ~1.5 s to load, so it is imported and
loaded only when an article needs it (an English file never pays for it).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from briefing.scripts import dominant_script

__all__ = ["detect_language"]

#: Scripts that name their language (most news in them is in that language).
_SCRIPT_LANGUAGES = {
    "kana": "ja", "han": "zh", "hangul": "ko", "thai": "th", "hebrew": "he", "greek": "el",
}  # fmt: skip
#: Function words that make up a fifth or more of any English prose.
_ENGLISH = frozenset(
    re.findall(
        r"\w+",
        "the of and to in a is that for on was with as by at from it he she said his her "
        "has have had be were are this an not but will which who their they its after "
        "been would over about",
    )
)
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f']+")
#: Shortest text worth a guess (characters); the first this many are looked at.
_MIN_CHARS = 10
_SAMPLE_CHARS = 3000


def detect_language(text: str) -> str | None:
    """The language of ``text`` as a primary tag, or ``None`` when too little text."""
    sample = text[:_SAMPLE_CHARS]
    if len(sample.strip()) < _MIN_CHARS:
        return None
    script = dominant_script(sample)
    if script is None:
        return None
    if script in _SCRIPT_LANGUAGES:
        return _SCRIPT_LANGUAGES[script]
    if script == "latin":
        words = [w.lower() for w in _WORD.findall(sample)]
        if len(words) >= 8 and sum(w in _ENGLISH for w in words) >= 0.2 * len(words):
            return "en"
    language, _score = _identifier().classify(sample)
    return str(language)


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
