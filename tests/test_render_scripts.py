"""Quotes in the original language and right-to-left, CJK and Thai text in every output:
a quote not in the brief's language is shown verbatim and marked "(in Japanese)"; HTML
elements carry ``dir``/``lang``; the PDF embeds a CJK-capable and a Thai-capable font
and keeps the Japanese and Arabic text extractable."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from briefing.models import (
    ArticleSummary,
    Briefing,
    KeyPoint,
    Provenance,
    Quote,
    Region,
    Section,
    SummaryOutput,
)
from briefing.render import render_html, render_markdown, render_pdf
from briefing.render._language import quote_language, text_dir
from briefing.render.summary import summary_markdown

# ruff: noqa: RUF001  (Cyrillic, Arabic and Hebrew text on purpose)

PROVENANCE = Provenance(provider="fake", model="fake-model", prompt_version="summarize-v3")

AR_HEADLINE = "العراق وتركيا تفتحان محادثات حول مياه دجلة"
#: (no lam-alef ligature: pdftotext gives its letters back in the wrong order)
AR_POINT = "وصل الوفد التركي إلى بغداد صباح أمس."
AR_QUOTE = "جئنا لنتحاور وليس لنهدد"
HE_QUOTE = "אנחנו כאן כדי לדבר, לא כדי לאיים"
JA_QUOTE = "誰一人取り残さないことが大切です。"
TH_QUOTE = "เราจะไม่ทิ้งใครไว้ข้างหลัง"
EN_QUOTE = "We will not leave anyone behind."

BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
needs_poppler = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("pdftotext", "pdffonts", "pdftoppm")),
    reason="pdftotext/pdffonts/pdftoppm not installed (Debian package: poppler-utils)",
)


def _families(lang: str) -> set[str]:
    """Installed font families that cover ``lang`` (fontconfig), as PDF font names
    spell them (no spaces or hyphens)."""
    if shutil.which("fc-list") is None:
        return set()
    out = subprocess.run(
        ["fc-list", f":lang={lang}", "family"], capture_output=True, text=True, check=False
    ).stdout
    return {_bare(name) for line in out.splitlines() for name in line.split(",")}


def _bare(name: str) -> str:
    return re.sub(r"[\s-]", "", name)


def _summary(
    n: int,
    *,
    headline: str,
    points: list[str],
    quotes: list[tuple[str, str]],
    region: Region,
    language: str | None,
    title: str | None = None,
) -> ArticleSummary:
    content = SummaryOutput(
        headline=headline,
        summary="Talks opened on Monday. Both sides said they wanted a deal this year.",
        key_points=[KeyPoint(text=p, sentence_ids=[i + 1]) for i, p in enumerate(points)],
        region=region,
        countries=[],
        people=[s for s, _ in quotes],
        organizations=[],
        quotes=[Quote(speaker=s, text=t) for s, t in quotes],
        figures=[],
        topic="Diplomacy",
        importance=3,
    )
    return ArticleSummary(
        article_id=f"a{n:010d}",
        title=title or headline,
        outlet=f"Outlet {n}",
        url=f"https://news.example.com/{n}",
        source=f"seeds/{n}.html",
        published=dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC),
        status="ok",
        content=content,
        provenance=PROVENANCE,
        language=language,
    )


def scripts_briefing() -> Briefing:
    summaries = [
        _summary(
            1,
            headline=AR_HEADLINE,
            points=[AR_POINT, "Turkey agreed to release more water."],
            quotes=[("وزير الموارد المائية", AR_QUOTE)],
            region=Region.MIDDLE_EAST,
            language="ar",
            title=AR_HEADLINE,
        ),
        _summary(
            2,
            headline="Israel and Lebanon hold indirect talks",
            points=["The talks were held in Naqoura."],
            quotes=[("Gideon Saar", HE_QUOTE)],
            region=Region.MIDDLE_EAST,
            language="en",
        ),
        _summary(
            3,
            headline="Japan pledges aid after the typhoon",
            points=["Tokyo pledged emergency aid."],
            quotes=[("Shigeru Ishiba", JA_QUOTE), ("UN envoy", EN_QUOTE)],
            region=Region.ASIA_PACIFIC,
            language="ja",
        ),
        _summary(
            4,
            headline="Thailand extends flood relief",
            points=["The cabinet extended relief payments."],
            quotes=[("Paetongtarn Shinawatra", TH_QUOTE)],
            region=Region.ASIA_PACIFIC,
            language="th",
        ),
    ]
    regions = dict.fromkeys(s.content.region for s in summaries if s.content)
    return Briefing(
        date=dt.date(2026, 11, 24),
        generated_at=dt.datetime(2026, 11, 24, 5, 30, tzinfo=dt.UTC),
        provider=PROVENANCE.provider,
        model=PROVENANCE.model,
        prompt_version=PROVENANCE.prompt_version,
        sections=[
            Section(
                region=r, summaries=[s for s in summaries if s.content and s.content.region == r]
            )
            for r in regions
        ],
    )


class _Elements(HTMLParser):
    """Each element's tag, attributes and the text directly inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self._open: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, []))
        if tag not in {"meta", "br", "link"}:
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.elements[self._open[-1]][2].append(data)

    def holding(self, text: str) -> tuple[str, dict[str, str]]:
        """The innermost element whose own text holds ``text``."""
        for tag, attrs, parts in reversed(self.elements):
            if text in "".join(parts):
                return tag, attrs
        raise AssertionError(f"no element holds {text!r}")


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(scripts_briefing())


@pytest.fixture(scope="module")
def tree(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


# --------------------------------------------------------------------------- languages


def test_quote_languages_are_told_the_cheap_way_and_english_is_never_marked() -> None:
    assert quote_language(JA_QUOTE, None, "en").mark == "(in Japanese)"
    assert quote_language(HE_QUOTE, "en", "en").mark == "(in Hebrew)"
    assert quote_language(TH_QUOTE, None, "en").mark == "(in Thai)"
    assert quote_language(AR_QUOTE, "ar", "en") == quote_language(AR_QUOTE, "ar", "en")
    arabic = quote_language(AR_QUOTE, "ar", "en")
    assert (arabic.lang, arabic.dir, arabic.mark) == ("ar", "rtl", "(in Arabic)")
    assert quote_language(EN_QUOTE, None, "en").mark == ""
    assert quote_language(EN_QUOTE, "ja", "en").mark == ""  # function words tell English
    assert quote_language("No comment.", "en", "en").mark == ""
    assert quote_language("No comment.", None, "en").mark == ""  # too short to guess
    assert quote_language("Wir schaffen das.", "de", "en").mark == "(in German)"
    assert quote_language("Wir schaffen das.", "ja", "en").mark == ""  # not Japanese either
    assert quote_language(JA_QUOTE, "ja", "ja").mark == ""  # a brief in Japanese
    assert quote_language("日本経済新聞社長", "ja", "en").mark == "(in Japanese)"  # kanji only
    assert quote_language("中国将继续推动和平谈判。", None, "en").mark == "(in Chinese)"
    assert quote_language("ありがとう", None, "en").mark == "(in Japanese)"  # short: the script
    long_english = "We will not leave anyone behind, and we will rebuild every home that was lost."
    assert quote_language(long_english, None, "fr").mark == "(in English)"


def test_a_cyrillic_quote_of_unknown_language_asks_the_model() -> None:
    assert quote_language("Мы пришли говорить, а не угрожать.", None, "en").mark == "(in Russian)"
    assert quote_language("Ми прийшли говорити, а не погрожувати.", "uk", "en").lang == "uk"


def test_text_direction() -> None:
    assert text_dir(AR_HEADLINE) == text_dir(HE_QUOTE) == "rtl"
    assert text_dir(JA_QUOTE) == text_dir("Iraq and Turkey") == text_dir("") == "auto"
    assert text_dir("Sa'īd al-Ṣaḥḥāf — سعيد الصحاف returns to Baghdad") == "auto"


# --------------------------------------------------------------------------- HTML


def test_html_right_to_left_headline_and_key_point(tree: _Elements) -> None:
    holding = [(t, a) for t, a, parts in tree.elements if AR_HEADLINE in "".join(parts)]
    # the headline, its entry in the contents and the source note's title
    assert sorted(t for t, _ in holding) == ["h3", "span", "span"]
    assert all(a["dir"] == "rtl" for _, a in holding)
    tag, attrs = tree.holding(AR_POINT)
    assert tag == "li" and attrs["dir"] == "rtl"
    tag, attrs = tree.holding("Turkey agreed to release more water.")
    assert tag == "li" and attrs["dir"] == "auto" and "lang" not in attrs


def test_html_quotes_carry_lang_dir_and_mark(html: str, tree: _Elements) -> None:
    for text, lang, direction, name in [
        (AR_QUOTE, "ar", "rtl", "Arabic"),
        (HE_QUOTE, "he", "rtl", "Hebrew"),
        (JA_QUOTE, "ja", "auto", "Japanese"),
        (TH_QUOTE, "th", "auto", "Thai"),
    ]:
        tag, attrs = tree.holding(text)
        assert (tag, attrs.get("lang"), attrs["dir"]) == ("span", lang, direction), text
        shown = BIDI_CONTROLS.sub("", html)  # right-to-left quotes sit between isolates
        assert f'{text}</span>” <span class="original">(in {name})</span>' in shown
    # an Arabic speaker and quote on one line: each isolated, so they keep their order
    assert f"\u2068{AR_QUOTE}\u2069</span>" in html and "\u2068وزير الموارد المائية\u2069" in html
    tag, attrs = tree.holding(EN_QUOTE)
    assert attrs["dir"] == "auto" and attrs.get("lang", "en") == "en"
    assert "(in English)" not in html
    assert html.count('class="original"') == 4


def test_html_every_text_element_has_a_direction(tree: _Elements) -> None:
    classes = {"summary", "quote-text", "source-title"}
    for tag, attrs, _ in tree.elements:
        if tag == "h3" or attrs.get("class") in classes:
            assert attrs.get("dir") in {"rtl", "auto"}, (tag, attrs)
    points = [a for t, a, _ in tree.elements if t == "li" and "dir" in a]
    assert len(points) >= 5


# --------------------------------------------------------------------------- Markdown


def test_markdown_and_terminal_mark_quotes_in_other_languages() -> None:
    briefing = scripts_briefing()
    md = render_markdown(briefing)
    assert f"— “{JA_QUOTE}” (in Japanese)" in md
    assert f"— “{AR_QUOTE}” (in Arabic)" in md
    assert f"— “{HE_QUOTE}” (in Hebrew)" in md
    assert f"— “{TH_QUOTE}” (in Thai)" in md
    assert f"“{EN_QUOTE}”\n" in md
    japan = briefing.sections[1].stories[0].summaries[0]
    terminal = summary_markdown(japan)
    assert f"> “{JA_QUOTE}” — Shigeru Ishiba (in Japanese)" in terminal
    assert f"> “{EN_QUOTE}” — UN envoy\n" in terminal
    assert "(in Japanese)" not in summary_markdown(japan, language="Japanese")


# --------------------------------------------------------------------------- PDF


@pytest.fixture(scope="module")
def pdf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scripts") / "brief.pdf"
    path.write_bytes(render_pdf(scripts_briefing()))
    return path


@needs_poppler
def test_pdf_embeds_cjk_and_thai_fonts(pdf_path: Path) -> None:
    cjk, thai = _families("ja"), _families("th")
    if not cjk or not thai:
        pytest.skip(
            "no CJK or Thai font installed (Debian: fonts-wqy-microhei fonts-tlwg-loma-otf; "
            "`make sysdeps` installs them as root)"
        )
    out = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True, check=True)
    embedded = [_bare(line.split()[0].split("+")[-1]) for line in out.stdout.splitlines()[2:]]
    assert any(name.startswith(tuple(cjk)) for name in embedded), (embedded, cjk)
    assert any(name.startswith(tuple(thai)) for name in embedded), (embedded, thai)


@needs_poppler
def test_pdf_text_in_every_script_is_extractable(pdf_path: Path) -> None:
    if not _families("ja"):
        pytest.skip("no CJK font installed (Debian: fonts-wqy-microhei; `make sysdeps`)")
    out = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, check=True)
    flat = " ".join(BIDI_CONTROLS.sub("", out.stdout.decode()).split())
    assert JA_QUOTE in flat
    assert AR_QUOTE in flat and AR_HEADLINE in flat
    assert f"“{JA_QUOTE}” (in Japanese)" in flat
    # (pdftotext rebuilds a line that mixes both directions in an order of its own, so
    # the marks after the Hebrew and Arabic quotes are not looked for in its text)
