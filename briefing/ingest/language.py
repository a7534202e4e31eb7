"""Which language an article is written in: a BCP 47 primary tag ("en", "ja", "ar").

The script decides alone where one language owns it (kana: Japanese, Hangul: Korean,
Thai, Hebrew, Greek; Han without kana: Chinese), English, French, German, Spanish,
Italian, Portuguese and Dutch news by its function words; the rest (other Latin-script
languages, Cyrillic, Arabic-script...) goes to ``py3langid``, a maintained fork of
langid.py whose model (97 languages) ships inside the package: nothing is downloaded.
Its model takes ~1.5 s to load, so it is imported and loaded only when an article needs
it (on the 81 real dev pages: 4 of them, 2 Indonesian, 1 Russian and an English one too
short on function words; the function words agree with the model on the other 77).
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
#: Function words that make up a fifth or more of prose in the Latin-script languages
#: most news is written in: a text whose words are mostly one list's (and clearly more
#: that list's than any other's) needs no model.
_FUNCTION_WORDS = {
    "en": "the of and to in a is that for on was with as by at from it he she said his her "
    "has have had be were are this an not but will which who their they its after been "
    "would over about",
    "fr": "le la les de des du et en un une est que qui dans pour sur au aux par pas il elle "
    "ont a été avec se sont ce cette plus ne son sa ses leur",
    "de": "der die das und in den von zu mit sich des auf für ist im dem nicht ein eine als "
    "auch es an werden aus er hat dass sie nach wird bei einer um",
    "es": "el la de que y en los del se las por un para con no una su al es lo como más pero "
    "sus le ha este fue entre",
    "it": "il di che e la per un in non una sono del della le da si dei alla ha anche nel "
    "gli ma con come più delle",
    "pt": "o a de que e do da em um para é com não uma os no se na por mais as dos como mas "
    "foi ao ele das tem à seu sua",
    "nl": "de het een en van in is dat op te zijn met voor niet aan er die door als ook bij "
    "maar om hij was werd",
}
_WORDS_OF = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f']+")
#: Shortest text worth a guess (characters); the first this many are looked at.
_MIN_CHARS = 10
_SAMPLE_CHARS = 3000


def detect_language(text: str, *, model: bool = True) -> str | None:
    """The language of ``text`` as a primary tag, or ``None`` when too little text (or,
    with ``model=False``, when neither its script nor its function words tell: the run
    that only needs a language where it is cheap to know, e.g. a brief, which does not
    use it yet, skips the model's 1-1.5 s load)."""
    sample = text[:_SAMPLE_CHARS]
    if len(sample.strip()) < _MIN_CHARS:
        return None
    script = dominant_script(sample)
    if script is None:
        return None
    if script in _SCRIPT_LANGUAGES:
        return _SCRIPT_LANGUAGES[script]
    if script == "latin":
        known = _by_function_words([w.lower() for w in _WORD.findall(sample)])
        if known is not None:
            return known
    if not model:
        return None
    language, _score = _identifier().classify(sample)
    return str(language)


def _by_function_words(words: list[str]) -> str | None:
    """The language whose function words make up a fifth or more of ``words`` and at
    least twice as many as any other's; None when no language is that clear."""
    if len(words) < 8:
        return None
    counts = sorted(
        ((sum(w in vocabulary for w in words), lang) for lang, vocabulary in _WORDS_OF.items()),
        reverse=True,
    )
    (best, lang), (second, _) = counts[0], counts[1]
    if best >= 0.2 * len(words) and best >= 2 * second:
        return lang
    return None


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
