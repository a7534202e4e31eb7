"""Word units (``briefing.words``): words in spaced scripts, character bigrams where
scripts write no spaces."""

# ruff: noqa: RUF001  (the scripts under test)
from __future__ import annotations

import re
import unicodedata

import pytest

from briefing.extractive import content_words, stem, words
from briefing.words import (
    UNSPACED_LETTERS,
    UNSPACED_MARKS,
    WORD,
    bigrams,
    has_unspaced,
    is_unspaced_unit,
    letters,
    units,
    unspaced_runs,
)


def test_chinese_and_japanese_runs_give_overlapping_bigrams() -> None:
    assert units("日本銀行") == ["日本", "本銀", "銀行"]
    assert units("国务院总理") == ["国务", "务院", "院总", "总理"]
    assert units("円") == ["円"]  # a one-letter run is itself


def test_digits_and_latin_words_inside_unspaced_text_stay_words() -> None:
    assert units("日銀は1日、Toyota の新型EV") == [
        "日銀", "銀は", "1", "日", "Toyota", "の新", "新型", "EV",
    ]  # fmt: skip
    assert words("政策金利を０．７５％に") == ["政策", "策金", "金利", "利を", "0", "75", "に"]


def test_thai_letters_keep_their_vowel_and_tone_marks() -> None:
    # \w leaves the marks out: the old words broke นายกรัฐมนตรี at each of them
    assert WORD.findall("นายกรัฐมนตรี") == ["นายกร", "ฐมนตร"]
    assert units("รัฐบาล") == ["รัฐ", "ฐบ", "บา", "าล"]
    assert letters("รัฐ") == ["รั", "ฐ"]
    assert all(not unicodedata.category(u[0]).startswith("M") for u in units("ที่ผ่านมา"))


def test_iteration_mark_and_long_vowel_belong_to_the_run() -> None:
    assert units("人々") == ["人々"]
    assert units("ニュース") == ["ニュ", "ュー", "ース"]


def test_spaced_scripts_give_the_patterns_words_unchanged() -> None:
    texts = [
        "O'Neill's U.S.-based firm don’t stop; 3.5bn",
        "Президент России заявил в понедельник",
        "أعلنت الحكومة العراقية يوم الاثنين",
        "정부는 5일 국무회의를 열고",  # Hangul words are spaced: words, as before
        "Η κυβέρνηση ανακοίνωσε νέα μέτρα",
    ]
    for text in texts:
        assert units(text) == WORD.findall(text)
        assert units(text.lower(), re.compile(r"\w+")) == re.findall(r"\w+", text.lower())
        assert not has_unspaced(text) and unspaced_runs(text) == []


def test_a_bigram_is_its_own_stem_and_content_word() -> None:
    assert stem("銀行") == "銀行" and is_unspaced_unit("銀行") and not is_unspaced_unit("bank")
    assert content_words("日本銀行は3日") == ["日本", "本銀", "銀行", "行は", "日"]
    assert stem("Banks") == "bank"  # unchanged


def test_runs_and_bigrams() -> None:
    assert unspaced_runs("Toyota の新型 EV、発売へ") == ["の新型", "発売へ"]
    assert bigrams("の新型") == ["の新", "新型"] and bigrams("の") == ["の"]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (0x3040, 0x30FF),  # kana
        (0x31F0, 0x31FF),  # katakana extension
        (0x3400, 0x4DBF),  # CJK extension A
        (0x4E00, 0x9FFF),  # CJK unified ideographs
        (0xF900, 0xFAFF),  # compatibility ideographs
        (0xFF66, 0xFF9F),  # half-width katakana
        (0x0E00, 0x0E7F),  # Thai
        (0x0E80, 0x0EFF),  # Lao
        (0x1780, 0x17FF),  # Khmer
        (0x1000, 0x109F),  # Myanmar
    ],
)
def test_letter_and_mark_classes_match_unicode_categories(first: int, last: int) -> None:
    letter = re.compile(f"[{UNSPACED_LETTERS}]")
    mark = re.compile(f"[{UNSPACED_MARKS}]")
    for code in range(first, last + 1):
        char = chr(code)
        category = unicodedata.category(char)
        assert bool(letter.match(char)) == category.startswith("L"), hex(code)
        assert bool(mark.match(char)) == category.startswith("M"), hex(code)
