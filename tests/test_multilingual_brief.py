"""A brief in English over news in seven scripts (issue 19): every article is read, kept
and summarized; the quotes stay verbatim in their language, marked as such, and the
right-to-left ones run right to left in the HTML.

The model is scripted (``FakeLLM``): each summary copies the article's own sentences and
quotes one of them with its speaker, as a faithful model would; grounding then checks
every claim against the source, in the article's script.
"""

# ruff: noqa: RUF001  (the scripts under test)
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from test_ingest_languages import CASES, article_text

from briefing.llm.base import Message
from briefing.llm.fake import FakeLLM, faithful_reply
from briefing.render import render_html, render_markdown
from briefing.request import BriefRequest
from briefing.runner import Runner
from briefing.settings import RunSettings

#: per language: a speaker named in the article and a passage it says, both verbatim
QUOTES = {
    "ja": ("植田和男総裁", "物価目標の実現が見通せる状況になった。"),
    "zh": ("国家发改委发言人", "我们有信心实现全年目标。"),
    "ko": ("전문가들은", "효과가 얼마나 지속될지 지켜봐야 한다고"),
    "th": ("นายกรัฐมนตรี", "รัฐบาลจะออกมาตรการใหม่"),
    "ar": ("وزير المالية", "الخطة ستشمل قروضا ميسرة للشركات الصغيرة"),
    "he": ("שר האוצר", "מדובר בתקציב אחראי שיסייע לצמיחה"),
    "ru": ("Президент России", "переговоры о поставках газа продолжатся"),
}
NAMES = {
    "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "th": "Thai", "ar": "Arabic",
    "he": "Hebrew", "ru": "Russian",
}  # fmt: skip


def _language_of(prompt: str) -> str:
    for language, (_, quote) in QUOTES.items():
        if quote in prompt:
            return language
    raise AssertionError(f"no known article in the prompt: {prompt[:200]!r}")


def reply(messages: Sequence[Message]) -> str:
    """A faithful summary quoting the article's speaker; no paragraph for a region."""
    prompt = messages[-1].content
    if "<stories>" in prompt:
        return json.dumps({"paragraph": ""})
    answer = json.loads(faithful_reply(prompt))
    speaker, quote = QUOTES[_language_of(prompt)]
    answer["quotes"] = [{"speaker": speaker, "text": quote}]
    return json.dumps(answer, ensure_ascii=False)


def test_an_english_brief_keeps_quotes_in_seven_languages_marked(tmp_path: Path) -> None:
    sources = tmp_path / "news"
    sources.mkdir()
    for language in CASES:
        (sources / f"{language}.txt").write_text(article_text(language), encoding="utf-8")
    request = BriefRequest(inputs=(str(sources),), run=RunSettings(no_cache=True))
    llm = FakeLLM().enqueue(*[reply] * 30)
    with Runner(request, llm=llm) as runner:
        brief = runner.brief().briefing
    assert brief.language == "English"
    stories = [story for section in brief.sections for story in section.stories]
    assert len(stories) == len(CASES)  # every article kept, none merged

    markdown = render_markdown(brief)
    html = render_html(brief)
    for language, (speaker, quote) in QUOTES.items():
        # the quote survived grounding, verbatim, marked with its language
        assert f"“{quote}” (in {NAMES[language]})" in markdown, language
        assert speaker in markdown
        assert re.search(rf'lang="{language}"[^>]*>[^<]*{re.escape(quote)}', html), language
    for language in ("ar", "he"):  # right to left inside the English page
        quote = QUOTES[language][1]
        assert re.search(rf'dir="rtl"[^>]*>[^<]*{re.escape(quote)}', html), language
    assert "(in English)" not in markdown
    # every footnote definition starts its own block (after a list it would be read as
    # the list item's continuation, and the source link would be lost)
    lines = markdown.split("\n")
    after = [lines[i - 1] for i, line in enumerate(lines) if line.startswith("[^")]
    assert all(not prev.startswith("- ") for prev in after), after
