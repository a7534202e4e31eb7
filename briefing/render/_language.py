"""Text in other languages and scripts inside a brief: which way it runs, which language a
quote is in, and how a quote in another language than the brief's is marked.

The brief is written in one language (``Briefing.language``, English by default), but
quotes stay verbatim in the original (grounding keeps only quotes found word for word
in the source), and an extractive story's headline and key points are the article's own
sentences. So:

* every text-bearing HTML element gets ``dir``: ``rtl`` where most of its letters are
  Arabic or Hebrew script, else ``auto`` (browsers then follow the first strong letter;
  WeasyPrint ignores ``auto`` but honours ``rtl``, which is why we decide it here), and
  ``lang`` where the script or the function words tell a language other than the page's;
* a quote's language (:func:`quote_language`) is decided the cheap way first: a script
  that names its language (kana, Hangul, Thai, Hebrew...), then function words; a short
  Latin-script quote takes the article's own language when that is a Latin-script one,
  and is otherwise left unmarked rather than guessed (so an English quote in an English
  brief is never marked); Cyrillic or Arabic-script quotes, whose script several
  languages share, take the article's language when it is in that script, else
  ``py3langid``'s answer (its model loads once, only for them);
* a quote in another language is shown verbatim with ``(in Japanese)`` after it (``(in
  the original)`` for a few letters of Cyrillic or Arabic script no one can place);
* a right-to-left speaker or quote sits between Unicode isolates in the HTML
  (``_env.isolate``), so an Arabic name and an Arabic quote on one line of an English
  page keep their order in the PDF too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from briefing.ingest.language import detect_language
from briefing.languages import NAMES
from briefing.scripts import dominant_script

__all__ = ["QuoteLanguage", "quote_language", "text_dir", "text_lang"]

#: Languages written right to left (primary tags).
RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"})
_RTL_SCRIPTS = frozenset({"arabic", "hebrew"})
#: The script each non-Latin language we name is written in (the rest: Latin).
_LANGUAGE_SCRIPTS = {
    "ar": "arabic", "fa": "arabic", "ur": "arabic", "ps": "arabic", "ckb": "arabic",
    "he": "hebrew", "yi": "hebrew", "ru": "cyrillic", "uk": "cyrillic", "bg": "cyrillic",
    "sr": "cyrillic", "mk": "cyrillic", "be": "cyrillic", "kk": "cyrillic", "mn": "cyrillic",
    "el": "greek", "hi": "devanagari", "mr": "devanagari", "ne": "devanagari",
    "ja": "kana", "zh": "han", "ko": "hangul", "th": "thai",
}  # fmt: skip
#: Scripts that name their language, however short the quote (as in ``detect_language``).
_SCRIPT_NAMES = {
    "kana": "ja", "han": "zh", "hangul": "ko", "thai": "th", "hebrew": "he", "greek": "el",
}  # fmt: skip
#: Scripts several languages share: the article's language or the model decides.
_SHARED_SCRIPTS = frozenset({"arabic", "cyrillic", "devanagari"})


@dataclass(frozen=True)
class QuoteLanguage:
    """How to show a quote: its ``lang`` tag ("" when unknown), ``dir`` ("rtl" or
    "auto") and the mark after it (``(in Japanese)``; "" in the brief's own language)."""

    lang: str
    dir: str
    mark: str


def primary(tag: str | None) -> str:
    """The primary subtag, lower case ("pt-BR" -> "pt"); "" for none."""
    return (tag or "").split("-")[0].strip().lower()


def language_label(code: str) -> str:
    """The English name of a language tag ("ja" -> "Japanese"), or the tag itself."""
    return NAMES.get(primary(code), code)


def text_dir(text: str, lang: str | None = None) -> str:
    """``rtl`` for text mostly in Arabic or Hebrew script (or, without letters to go by,
    in a right-to-left language), else ``auto``."""
    script = dominant_script(text)
    if script is None:
        return "rtl" if primary(lang) in RTL_LANGUAGES else "auto"
    return "rtl" if script in _RTL_SCRIPTS else "auto"


@functools.lru_cache(maxsize=4096)
def text_lang(text: str, page_lang: str = "en") -> str:
    """The language tag of ``text`` where its script or function words tell one other
    than ``page_lang`` (the ``lang`` an element needs), else ""."""
    found = detect_language(text, model=False) or ""
    return "" if not found or primary(found) == primary(page_lang) else found


@functools.lru_cache(maxsize=4096)
def quote_language(text: str, article_language: str | None, brief_lang: str) -> QuoteLanguage:
    """The language of the quote ``text`` (see the module docstring) and how to mark it
    in a brief whose language tag is ``brief_lang``."""
    script = dominant_script(text)
    code = _quote_code(text, script, primary(article_language))
    direction = text_dir(text, code)
    if code == primary(brief_lang) or (not code and script in (None, "latin")):
        return QuoteLanguage(code, direction, "")
    if not code:  # a few letters of a script several languages share
        return QuoteLanguage("", direction, "(in the original)")
    return QuoteLanguage(code, direction, f"(in {language_label(code)})")


def _quote_code(text: str, script: str | None, article: str) -> str:
    if script is None:
        return ""
    if script == "han" and article == "ja":
        return "ja"  # kanji without kana, from a Japanese article
    if script in _SCRIPT_NAMES:
        return _SCRIPT_NAMES[script]
    cheap = detect_language(text, model=False)
    if cheap is not None:
        return primary(cheap)
    article_script = _LANGUAGE_SCRIPTS.get(article, "latin") if article else None
    if article_script == script:
        return article  # a short quote in the article's own script: its language
    if script in _SHARED_SCRIPTS:
        found = detect_language(text)  # the model: these scripts do not name a language
        return primary(found)
    return ""  # a short Latin-script quote in an article of unknown language: no guess
