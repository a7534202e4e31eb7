"""Patterns compiled on first use (``briefing.lazyre``): every one compiles, an English
article never compiles the classes of Chinese, Japanese or Thai letters, and a Japanese
one does, with the answers the eager patterns gave."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import briefing
from briefing import scripts, words
from briefing.grounding import numbers
from briefing.lazyre import LazyPattern


def _import_everything() -> None:
    for module in pkgutil.walk_packages(briefing.__path__, "briefing."):
        if module.name.startswith("briefing.__main__"):
            continue
        importlib.import_module(module.name)


def test_every_lazy_pattern_compiles() -> None:
    _import_everything()
    assert len(LazyPattern.made) >= 10
    for lazy in LazyPattern.made:
        assert isinstance(lazy.compiled, re.Pattern), lazy


def test_lazy_pattern_answers_like_the_compiled_one() -> None:
    lazy = LazyPattern(r"(?P<n>\d+)\s*(?:km|miles)", re.IGNORECASE)
    eager = re.compile(lazy.pattern, re.IGNORECASE)
    text = "12 km, 5 Miles and 3km; nothing else"
    assert lazy.search(text, 1).group() == eager.search(text, 1).group()  # type: ignore[union-attr]
    assert lazy.match(text) is not None and lazy.match(text, 3) is None
    assert lazy.findall(text) == eager.findall(text)
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert lazy.sub("#", text) == eager.sub("#", text)
    assert "compiled" in repr(lazy)


EAST_ASIAN = [
    scripts._CJK,
    scripts._SOUTHEAST,
    scripts._NO_SPACE,
    *(rx for _, rx, east in scripts._SCRIPTS if east),
    words._RUN,
    words._BIGRAM,
    words._ANY_UNSPACED,
    words._UNSPACED_START,
    numbers._NUMBER_SCAN,
]


def _forget(monkeypatch: pytest.MonkeyPatch) -> None:
    for lazy in EAST_ASIAN:
        monkeypatch.setattr(lazy, "_compiled", None)


ENGLISH = (
    "Iraq\u2019s parliament delayed the vote \u2014 for the third time \u2014 on "
    "Sunday; 12 of 329 members were absent. \u201cWe will vote next week,\u201d the "
    "speaker said. Prices rose 3.5% to \u20ac1,200."
)


def test_english_text_never_compiles_the_east_asian_classes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _forget(monkeypatch)
    assert not scripts.may_have_unspaced(ENGLISH)
    assert scripts.word_count(ENGLISH) == len(ENGLISH.split())
    assert scripts.more_words(ENGLISH, 5)
    assert scripts.dominant_script(ENGLISH) == "latin"
    assert words.units(ENGLISH) == words.WORD.findall(ENGLISH)
    assert not words.has_unspaced(ENGLISH)
    assert [n for n, _ in numbers.numbers_in(ENGLISH)][:3] == ["12", "329", "3.5"]
    assert [lazy for lazy in EAST_ASIAN if lazy._compiled is not None] == []


@pytest.mark.parametrize(
    "text",
    [
        "日本銀行は１日、政策金利を0.75%に引き上げた。",
        "국회는 5일 예산안을 통과시켰다.",
        "รัฐบาลอนุมัติงบประมาณ 5,000 ล้านบาท",
        "Trận đấu diễn ra ở Hà Nội",  # Vietnamese: Latin extended, never unspaced
    ],
)
def test_other_scripts_give_what_the_eager_patterns_gave(text: str) -> None:
    eager_no_space = re.compile(scripts._NO_SPACE.pattern)
    assert scripts.may_have_unspaced(text) or not eager_no_space.search(text)
    assert bool(scripts._NO_SPACE.search(text)) == bool(eager_no_space.search(text))
    eager_scan = re.compile(numbers._NUMBER_SCAN.pattern, numbers._NUMBER_SCAN.flags)
    import unicodedata

    normal = unicodedata.normalize("NFKC", text)
    assert [n for n, _ in numbers.numbers_in(text)] == [
        m.group() for m in eager_scan.finditer(normal)
    ]
