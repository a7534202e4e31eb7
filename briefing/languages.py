"""Language names and tags: "German" <-> "de" (the brief is written in a language
*name*, which prompts read; HTML, mail headers and config files use BCP 47 tags)."""

from __future__ import annotations

import re

__all__ = ["language_code", "language_name"]

#: BCP 47 primary tag -> the English name prompts use
NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ar": "Arabic", "ru": "Russian", "zh": "Chinese",
    "ja": "Japanese", "ko": "Korean", "tr": "Turkish", "fa": "Persian", "uk": "Ukrainian",
    "pl": "Polish", "cs": "Czech", "sk": "Slovak", "hu": "Hungarian", "ro": "Romanian",
    "bg": "Bulgarian", "el": "Greek", "he": "Hebrew", "hi": "Hindi", "ur": "Urdu",
    "bn": "Bengali", "th": "Thai", "vi": "Vietnamese", "id": "Indonesian", "ms": "Malay",
    "sv": "Swedish", "da": "Danish", "nb": "Norwegian", "no": "Norwegian", "fi": "Finnish",
    "et": "Estonian", "lv": "Latvian", "lt": "Lithuanian", "hr": "Croatian", "sr": "Serbian",
    "sl": "Slovenian", "ca": "Catalan", "sw": "Swahili", "am": "Amharic", "ha": "Hausa",
}  # fmt: skip
_CODES = {name.casefold(): code for code, name in NAMES.items() if code != "no"}
_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def language_name(value: str) -> str:
    """The language name for a tag ("de" -> "German", "pt-BR" -> "Portuguese (BR)");
    a name, or a tag we do not know, passes through unchanged."""
    value = " ".join(value.split())
    if not _TAG.fullmatch(value):
        return value or "English"
    primary, _, rest = value.partition("-")
    name = NAMES.get(primary.lower())
    if name is None:
        return value
    return f"{name} ({rest.upper()})" if rest else name


def language_code(language: str) -> str:
    """The BCP 47 tag of a language name ("French" -> "fr"); a tag passes through, an
    unknown name gives "en"."""
    key = " ".join(language.split()).casefold()
    name, _, region = key.partition(" (")
    if name in _CODES:
        code = _CODES[name]
        region = region.rstrip(")")
        return f"{code}-{region.upper()}" if region else code
    return key if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", key) else "en"
