"""Split scraped plain-text pages (one or many articles, with site chrome) into clean Articles.

A scraped page is a main article, often followed by teasers or full copies of other
stories, all wrapped in site furniture. :func:`parse_text_page` works line by line:

1. **Classify every line**: blank; *chrome* (share/hashtag widgets, "Advertisement",
   newsletter and cookie prompts, "Try Our AI Features", copyright lines like
   ``© 2025 AFP``, bare video timestamps like ``01:33``, "Read more: ..." links, credit
   lines) which is dropped; an *end marker* ("Hashtags", "Comments", "Related
   Articles", "More from ...", "You may also like"...) which closes the current article;
   *meta* (a relative time "2 hours ago", a date "Published 24 November 2026 08:15
   GMT", a byline "By Jane Doe", an outlet label "- France 24" or "Source: Reuters",
   possibly several joined by ``|``; dates and relative times also as Chinese,
   Japanese, Korean, Russian and Thai sites write them: "2026年12月1日 15時05分",
   "입력 2026.12.01 10:30", "1 декабря 2026 г.", "3時間前", "2 часа назад"); a
   dash-wrapped sub-heading ``- 'On standby' -``;
   a *short* line (at most 25 words, no closing period: a title, sub-heading or outlet
   name); or body *text*.
2. **Cut the page into articles.** A new article starts at the top of the page, and
   wherever a meta line follows body text *and* a title sits next to it (the short lines
   just before it, or those after it before the next body text). Meta lines with no
   title next to them stay with the current article. After an end marker everything is
   furniture until a meta line, or a short title followed by a long (40+ word)
   paragraph, starts a new article; teaser lists (titles without bodies) are dropped.
3. **Read each article's header** (the lines before its first body paragraph): the
   title is the page's first line when that is a short line of 3+ words and no name (a
   saved article starts with its headline; short lines after it are the body's lead),
   else the longest short line that is not an outlet name; the outlet is the label
   (``- France 24``), else a short (1-4 word) line beside a time or label, else it is
   inferred from the body (below); the publication time is the first date the page
   gives (a date without a time zone is taken as UTC, so every ``published`` is
   timezone-aware); the byline is the ``By ...`` line. A relative time ("2 hours ago")
   is resolved only against a ``reference_time`` the caller passes, the moment the page
   was captured: without one (a saved page, read at some later time) "2 hours ago"
   names no time at all, and ``published`` stays ``None`` rather than a time the source
   never gave. The line is still read as a meta line (it still separates articles).
4. **Clean the body**: chrome lines and inline video timestamps go, a trailing
   ``© 2025 AFP`` goes, a paragraph repeating the title goes.

**Outlet inference.** Copyright lines are *not* used (France 24 republishes AFP copy
with ``© 2025 AFP`` at the end). Instead an outlet names itself in attributions only
its own reporters can make: "told AFP", "speaking to Reuters", "seen by AFP", "an AFP
correspondent", or a dateline "BAGHDAD (AFP) -". Known outlets (agencies and large
newsrooms) are recognized by name; any other all-capitals acronym counts only after
"told" and when it is not a common organization (UN, NATO...). The most frequent wins.

**Sub-headings** are kept in ``Article.text`` as their own paragraph written
``## Heading`` (dashes removed, so ``- 'On standby' -`` becomes ``## 'On standby'``);
:func:`briefing.ingest.sentences.split_sentences` skips such lines, so a sub-heading is
never a sentence and never glued to one. Short body lines without a final period
("Not alone") are sub-headings too. Run-in sub-headings that a scraper glued to the
next sentence are separated when they are a short quoted phrase right after a sentence
end and right before a capitalized word (``... news. 'God knows' On Friday, ...``);
unquoted ones (``... programme. Priorities Israel on Saturday ...``) cannot be told
from a sentence start without a language model and are left as they are.

``Article.text`` is the clean body: paragraphs separated by a blank line.
"""

# ruff: noqa: RUF001, RUF002, RUF003  (dates as Chinese, Japanese and Russian sites write them)
from __future__ import annotations

import contextvars
import datetime as dt
import enum
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from briefing.lazyre import LazyPattern
from briefing.models import Article
from briefing.scripts import dominant_script, more_words, word_count
from briefing.sentences import split_sentences
from briefing.textsim import wordset

__all__ = ["clean_body", "make_article", "parse_date", "parse_text_page"]

#: Articles found after an end marker ("Related Articles") need this many body words.
MIN_TRAILING_WORDS = 40
_MAX_SHORT_WORDS = 25  # longest title
_MAX_HEADING_WORDS = 12  # longest sub-heading inside a body
_MAX_OUTLET_WORDS = 4
_MAX_THAI_SHORT_WORDS = 12  # a Thai title (no end punctuation to tell it from text)
_THAI_LETTER = re.compile("[\u0e01-\u0e4e]")


# --------------------------------------------------------------------------- chrome


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"^(?:" + "|".join(alternatives) + r")$", re.IGNORECASE)


_SOCIAL = (
    r"(?:facebook|twitter|x|whatsapp|linkedin|reddit|telegram|pinterest|messenger|email|"
    r"e-mail|bluesky|threads|flipboard|copy link|print|save|share|tweet|copy|link copied)"
)
_CHROME = _rx(
    rf"share(?: this| the)?(?: article| story| page| post| on {_SOCIAL})?:?",
    rf"{_SOCIAL}(?:\s*[|·•,/]?\s*{_SOCIAL})*",
    r"#[\w-]+(?:[\s,]+#[\w-]+)*",
    r"try our ai features",
    r"explore what .{1,60} can do for you:?",
    r"no comments yet\W*",
    r"be the first to comment.*",
    r"(?:leave|add|post|write) a comment.*",
    r"(?:view|show|read|load|see) (?:all )?(?:\d+ )?comments?.*",
    r"\d+ comments?",
    r"(?:log|sign) ?in to (?:comment|reply|continue).*",
    r"advertisement|advert|ads?|sponsored(?: content)?|paid content|promoted(?: content)?",
    r"(?:story|article) continues below(?: advertisement)?",
    r"scroll (?:down )?to continue.*|continue reading.*",
    r"skip (?:to (?:main )?content|advertisement|ad)",
    r"(?:sign up|subscribe|register)(?: now| today| here)?(?: (?:for|to) .{0,80})?",
    r"(?:get|receive) (?:our|the) .{0,60}newsletter.*",
    r".{0,80}\b(?:delivered|straight|direct|sent) to your inbox\b.{0,80}",
    r".{0,40}newsletter(?: sign[- ]?up)?:?",
    r"already (?:a subscriber|have an account)\?.*",
    r"enter your e-?mail(?: address)?.*|by (?:signing up|subscribing|clicking).*",
    r"(?:accept|reject|allow|decline)(?: all)?(?: cookies)?|i (?:agree|accept)|got it|ok(?:ay)?",
    r"(?:manage|customi[sz]e) (?:cookies|preferences|settings|consent|choices).*",
    r"cookie (?:settings|preferences|policy|notice|consent).*",
    r"©.{0,80}|\(c\) ?\d{4}.{0,80}|copyright (?:©|\(c\))? ?\d{4}.{0,80}|all rights reserved\.?",
    r"\d{1,2}:\d{2}(?::\d{2})?",
    r"read (?:more|also|next)\b.{0,200}|see also:.{0,200}|more on this story:?.{0,200}",
    r"(?:tags|topics|keywords|filed under|categories|category):\s.{0,200}",
    r"(?:reporting|writing|editing|additional reporting|compiled|edited|translated)"
    r" by .{1,200}",
    r"(?:image|photo|picture|video|graphic)(?: caption| credit| source)?\s*[:,].{0,300}",
    r"(?:listen|watch)(?: to)?(?: this| the)?(?: article| story| now| live| video)?"
    r"(?: \(\d+ min\))?",
    r"\d+[- ]min(?:ute)?s? read",
    r"(?:click|tap) here.*",
    r"follow (?:us|.{1,40} on (?:twitter|x|facebook|instagram|telegram|whatsapp)).*",
    r"download (?:the|our) .{0,30}app.*",
    r"menu|search|home|log ?in|sign ?in|log ?out|close|back to top|top stories|more|"
    r"loading\W*|open in app|most recent|newest|oldest|reply|like|report",
)
# long cookie banners: a line that talks about cookies and consent
_COOKIE = re.compile(
    r"\bcookies?\b.*\b(?:consent|accept|preferences|settings|policy|experience|partners)\b"
    r"|\b(?:we|our partners) use cookies\b",
    re.IGNORECASE,
)
_END = _rx(
    r"hashtags?|tags?:?|topics?:?|keywords?:?",
    r"related(?: articles| stories| content| news| coverage| topics| posts| reading)?:?",
    r"more (?:stories|news|articles|from .{1,40}|on (?:this|these) (?:story|stories|topics?))\W*",
    r"you (?:may|might) (?:also )?(?:like|enjoy|be interested in)\W*",
    r"recommended(?: for you| stories| articles| reading)?\W*",
    r"most (?:read|popular|viewed|shared|watched)\W*|trending(?: now| stories| news)?\W*",
    r"read next\W*|what to read next\W*|further reading\W*|latest (?:news|stories)\W*",
    r"comments?(?: \(\d+\))?\W*|discussion\W*|editor'?s picks\W*|in other news\W*",
    r"around the web\W*|popular(?: now)?\W*|top stories\W*",
)
_COPYRIGHT_SUFFIX = re.compile(r"\s*(?:©|\(c\)|copyright)\s*\d{4}\s+[\w .&'\u2019-]{1,40}$", re.I)
_INLINE_TIMESTAMP = re.compile(
    r"(?<=[.!?\u2026\"'\u201d\u2019)])\s+\d{1,2}:\d{2}(?::\d{2})?\s+(?=\S)"
)
_RUN_IN_HEADING = re.compile(
    r"(?P<pre>[.!?\u2026][\"'\u201d\u2019)]*\s+|^)"
    r"(?P<q1>[\u2018'\"\u201c])(?P<head>[A-Z](?:[^'\u2019\"\u201d.,;:!?\n]|['\u2019](?=\w)){1,80}?)(?P<q2>[\u2019'\"\u201d])"
    r"\s+(?=[A-Z])"
)
_DASH_HEADING = re.compile(r"^[-\u2013\u2014]\s+(?P<head>\S.{0,120}?)\s+[-\u2013\u2014]$")

# --------------------------------------------------------------------------- meta lines

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_TZ_HOURS = {
    "z": 0.0, "utc": 0.0, "gmt": 0.0, "bst": 1.0, "ist": 1.0, "cet": 1.0, "cest": 2.0,
    "wat": 1.0, "eet": 2.0, "eest": 3.0, "cat": 2.0, "sast": 2.0, "msk": 3.0, "eat": 3.0,
    "ast": 3.0, "gst": 4.0, "pkt": 5.0, "wib": 7.0, "hkt": 8.0, "sgt": 8.0, "jst": 9.0,
    "kst": 9.0, "aest": 10.0, "aedt": 11.0, "nzst": 12.0, "nzdt": 13.0, "est": -5.0,
    "edt": -4.0, "cst": -6.0, "cdt": -5.0, "mst": -7.0, "mdt": -6.0, "pst": -8.0,
    "pdt": -7.0,
}  # fmt: skip
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+"
_TZ = (
    r"(?P<tz>(?:utc|gmt)[+-]\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2}|"
    + "|".join(sorted(_TZ_HOURS, key=len, reverse=True))
    + r")\b"
)
_CLOCK = r"(?P<h>\d{1,2})[:.h](?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?"
_DATE = re.compile(
    rf"^(?:{_WEEKDAY})?(?:"
    rf"(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{_MONTH}),?\s+(?P<y1>\d{{4}})"
    rf"|(?P<m2>{_MONTH})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{{4}})"
    rf"|(?P<y3>\d{{4}})-(?P<m3>\d{{2}})-(?P<d3>\d{{2}})"
    rf")(?:(?:,|\s+at|\s+-|\s*[Tt]|\s)\s*{_CLOCK})?(?:\s*\(?{_TZ}\)?)?$",
    re.IGNORECASE,
)
_CLOCK_FIRST = re.compile(rf"^{_CLOCK}(?:\s*{_TZ})?,?\s+(?:on\s+)?(?P<rest>.+)$", re.I)
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_NUMBERS |= {"seven": 7, "eight": 8, "nine": 9, "ten": 10, "few": 3, "several": 3}
_RELATIVE = re.compile(
    r"^(?:about |around |over |nearly |almost )?(?P<n>\d+|an?|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|a few|few|several)\s*(?P<unit>s|secs?|seconds?|m|mins?|minutes?|h|"
    r"hrs?|hours?|d|days?|w|wks?|weeks?|mos?|months?|y|yrs?|years?)\s+ago$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {
    "s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600,
    "hr": 3600, "hour": 3600, "d": 86400, "day": 86400, "w": 604800, "wk": 604800,
    "week": 604800, "mo": 2592000, "month": 2592000, "y": 31536000, "yr": 31536000,
    "year": 31536000,
}  # fmt: skip
_DATE_PREFIX = re.compile(
    r"^(?:(?:first |last )?(?:published|updated|posted|modified|issued|date)"
    r"(?:\s+(?:on|at))?\s*:?\s*"
    # Chinese, Japanese, Korean and Russian sites' "published"/"updated" labels
    r"|(?:发布时间|發布時間|发布于|發佈於|发表时间|更新时间|更新時間|公開日時?|更新日時?|投稿日時?"
    r"|配信日時?|掲載日|기사입력|최종수정|입력|수정|등록|опубликовано|обновлено|дата)\s*:?\s*)",
    re.IGNORECASE,
)
#: East Asian dates: "2026年12月1日（火）10時30分", "2026년 12월 1일 오후 3:05"
_EAST_ASIAN_DATE = LazyPattern(
    r"^(?P<y>\d{4})\s*[年년]\s*(?P<m>\d{1,2})\s*[月월]\s*(?P<d>\d{1,2})\s*[日일]?"
    r"(?:\s*\([^)]{1,3}\))?"
    r"(?:\s*(?P<half>午前|午後|上午|下午|오전|오후)?\s*(?P<h>\d{1,2})\s*[:時时시]\s*"
    r"(?P<mi>\d{1,2})\s*[分분]?(?:\s*(?P<s>\d{1,2})\s*[秒초])?)?"
    rf"(?:\s*\(?{_TZ}\)?)?$",
    re.IGNORECASE,
)
#: year first with slashes or dots, as East Asian and many European sites write it:
#: "2026/12/01 10:30", "2026.12.01. 10:30"
_YMD_DATE = LazyPattern(
    r"^(?P<y>\d{4})[./](?P<m>\d{1,2})[./](?P<d>\d{1,2})\.?"
    rf"(?:\s*\([^)]{{1,3}}\))?(?:\s+{_CLOCK})?(?:\s*\(?{_TZ}\)?)?$",
    re.IGNORECASE,
)
_RU_MONTHS = {
    m: i
    for i, m in enumerate(
        ("январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр",
         "октябр", "ноябр", "декабр"),
        1,
    )
}  # fmt: skip
#: Russian dates: "1 декабря 2026", "1 декабря 2026 г., 10:30"
_RU_DATE = LazyPattern(
    r"^(?P<d>\d{1,2})\s+(?P<month>январ[яь]|феврал[яь]|марта?|апрел[яь]|ма[яй]|июн[яь]|июл[яь]"
    r"|августа?|сентябр[яь]|октябр[яь]|ноябр[яь]|декабр[яь])\s+(?P<y>\d{4})(?:\s*(?:г\.?|года))?"
    rf"(?:,?\s*(?:в\s+)?{_CLOCK})?(?:\s*\(?{_TZ}\)?)?$",
    re.IGNORECASE,
)
#: "2時間前", "3小时前", "2시간 전", "2 часа назад", "2 ชั่วโมงที่แล้ว"
_RELATIVE_OTHER = LazyPattern(
    r"^(?P<n>\d+)\s*(?P<unit>秒|分|分钟|分鐘|時間|小时|小時|日|天|週間|周|週|か月|ヶ月|个月|個月|年"
    r"|초|분|시간|일|주|개월|달|년"
    r"|секунд[уы]?|минут[уы]?|час(?:а|ов)?|дн(?:я|ей)|день|недел(?:ю|и|ь|я)|месяц(?:а|ев)?|год(?:а)?|лет"
    r"|วินาที|นาที|ชั่วโมง|วัน|สัปดาห์|เดือน|ปี)"
    r"\s*(?:前|以前|전|назад|ที่แล้ว|ก่อน)$",
    re.IGNORECASE,
)
_OTHER_UNIT_SECONDS = {
    **dict.fromkeys(("秒", "초", "секунд", "секунду", "секунды", "วินาที"), 1),
    **dict.fromkeys(("分", "分钟", "分鐘", "분", "минут", "минуту", "минуты", "นาที"), 60),
    **dict.fromkeys(("時間", "小时", "小時", "시간", "час", "часа", "часов", "ชั่วโมง"), 3600),
    **dict.fromkeys(("日", "天", "일", "дня", "дней", "день", "วัน"), 86400),
    **dict.fromkeys(("週間", "周", "週", "주", "неделю", "недели", "недель", "สัปดาห์"), 604800),
    **dict.fromkeys(("か月", "ヶ月", "个月", "個月", "개월", "달", "месяц", "месяца"), 2592000),
    **dict.fromkeys(("месяцев", "เดือน"), 2592000),
    **dict.fromkeys(("年", "년", "год", "года", "лет", "ปี"), 31536000),
}
_META_SEPARATOR = re.compile(r"\s+[|•·]\s+|\s*\|\s*")
_BYLINE = re.compile(
    r"^(?:(?:written |reported )?by|author:|words by)\s+(?P<name>[^\W\d_][^\n]{1,150})$",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^(?:[-\u2013\u2014•|]|source:|via)\s*(?P<name>[^\W_][^\n]{0,60})$", re.I)
_MINOR_WORDS = wordset("of the and de la le du des al el for on in at news & - 's")


@dataclass
class _Meta:
    published: dt.datetime | None = None
    #: a relative time ("2 hours ago") with no capture time to resolve it against
    undated_time: bool = False
    byline: str | None = None
    outlet: str | None = None


class _Kind(enum.Enum):
    BLANK = "blank"
    CHROME = "chrome"
    END = "end"
    META = "meta"
    HEADING = "heading"  # dash-wrapped sub-heading
    SHORT = "short"
    TEXT = "text"


@dataclass
class _Line:
    kind: _Kind
    text: str
    meta: _Meta | None = None


@dataclass
class _Segment:
    header: list[_Line] = field(default_factory=list)
    body: list[_Line] = field(default_factory=list)
    after_end: bool = False  #: started after an end marker ("Related Articles")
    started: bool = False  #: has body text


# --------------------------------------------------------------------------- public API


def parse_text_page(
    text: str,
    *,
    source: str,
    reference_time: dt.datetime | None = None,
    url: str | None = None,
) -> list[Article]:
    """Split a scraped text page into its articles, in page order.

    ``reference_time`` is when the page was captured: relative times ("2 hours ago") are
    resolved against it, and without it they give no ``published`` time (a naive value
    is taken as UTC). Returns ``[]`` when the page holds no article text. Every article
    has ``text`` (the clean body) and ``sentences``.
    """
    ref = _aware(reference_time) if reference_time is not None else None
    lines = [_classify(line, ref) for line in _unwrap(_normalize(text).split("\n"))]
    lead = _lead_title(lines)
    articles = []
    for segment in _segments(lines):
        article = _to_article(segment, source=source, url=url, lead=lead)
        if article is not None:
            articles.append(article)
    return articles


def make_article(
    *,
    title: str,
    body: str,
    source: str,
    outlet: str | None = None,
    url: str | None = None,
    published: dt.datetime | None = None,
    byline: str | None = None,
    language: str | None = None,
) -> Article:
    """Build an Article from a title and an already clean body, filling ``sentences``."""
    return Article(
        title=" ".join(title.split()),
        text=body,
        outlet=outlet,
        url=url,
        published=_aware(published) if published else None,
        byline=byline,
        language=language,
        source=source,
        sentences=split_sentences(body, language),
    )


def clean_body(paragraphs: Iterable[str]) -> str:
    """Join body paragraphs into ``Article.text``, dropping chrome and splitting headings.

    Lines that are furniture (see the module docstring) are removed, inline video
    timestamps and trailing copyright notices are cut, quoted run-in sub-headings are
    separated, and sub-headings become ``## Heading`` paragraphs.
    """
    out: list[str] = []
    for raw in paragraphs:
        for part in _clean_paragraph(raw):
            out.append(part)
    return "\n\n".join(_trim_headings(out))


#: set when a relative date ("2 hours ago") was resolved against the reference time: a
#: parse that did so depends on when it ran (see ``briefing.ingest.files``' parse cache)
RELATIVE_DATES: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "relative_dates", default=False
)


_RELATIVE_WORDS = {
    "just now": 0, "moments ago": 0, "a moment ago": 0, "now": 0, "yesterday": 86400,
}  # fmt: skip


def _date_text(value: str) -> str:
    """A date line without its "Published"/"Updated" prefix and surrounding dots
    (NFKC-folded: full-width digits and colons are read as ASCII ones)."""
    folded = unicodedata.normalize("NFKC", " ".join(value.split()))
    return _DATE_PREFIX.sub("", folded).strip(" .")


def is_relative_date(value: str) -> bool:
    """Whether ``value`` is a relative time ("2 hours ago", "yesterday", "just now")."""
    text = _date_text(value)
    return bool(text) and _relative_age(text) is not None


def _relative_age(text: str) -> dt.timedelta | None:
    """How long ago a relative time (prefix already stripped) says, else ``None``."""
    seconds = _RELATIVE_WORDS.get(text.lower())
    if seconds is not None:
        return dt.timedelta(seconds=seconds)
    rel = _RELATIVE.match(text)
    if rel is None:
        other = None if text.isascii() else _RELATIVE_OTHER.match(text)
        if other is None:
            return None
        unit_seconds = _OTHER_UNIT_SECONDS.get(other["unit"].lower())
        return dt.timedelta(seconds=int(other["n"]) * unit_seconds) if unit_seconds else None
    n_text = rel["n"].lower()
    n = int(n_text) if n_text.isdigit() else _NUMBERS.get(n_text.removeprefix("a "), 1)
    unit = rel["unit"].lower()
    unit = unit if unit in _UNIT_SECONDS else unit.rstrip("s")
    unit_seconds = _UNIT_SECONDS.get(unit)
    return dt.timedelta(seconds=n * unit_seconds) if unit_seconds else None


def parse_date(value: str, reference_time: dt.datetime | None = None) -> dt.datetime | None:
    """Parse a date line ("Published 24 Nov 2026 08:15 GMT", "2 hours ago"), or ``None``.

    Relative times are resolved against ``reference_time`` (default now, UTC); results
    are always timezone-aware (UTC when the text names no zone).
    """
    ref = _aware(reference_time or dt.datetime.now(dt.UTC))
    text = _date_text(value)
    if not text:
        return None
    age = _relative_age(text)
    if age is not None:
        RELATIVE_DATES.set(True)
        return ref - age
    clock_first = _CLOCK_FIRST.match(text)
    if clock_first:
        day = _absolute(clock_first["rest"])
        if day is None:
            return None
        return _with_clock(day, clock_first)
    return _absolute(text) or _year_first(text)


# --------------------------------------------------------------------------- lines


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\u200b\u200c\u200d\u2060\ufeff]", "", text)
    text = re.sub(r"[\u00a0\u2007\u202f\t\f\v]", " ", text)
    return "\n".join(line.strip() for line in text.split("\n"))


def _unwrap(lines: list[str]) -> list[str]:
    """Re-join hard-wrapped paragraphs (e-mail style text wrapped at ~72 columns)."""
    lengths = sorted(len(line) for line in lines if line)
    if len(lengths) < 6:
        return lines
    width = lengths[int(len(lengths) * 0.9)]
    full = sum(1 for n in lengths if width - 20 <= n <= width)
    if width > 100 or full < len(lengths) * 0.5:
        return lines
    groups: list[list[str]] = []  # joined once at the end: linear in the page's length
    length = 0  # of the last group, joined
    for line in lines:
        if line and length and length >= width - 20 and not _BYLINE.match(line):
            groups[-1].append(line)
            length += 1 + len(line)
        else:
            groups.append([line])
            length = len(line)
    return [" ".join(group) for group in groups]


def _words(text: str) -> int:
    """Words, counted by characters where the script has no spaces (see briefing.scripts)."""
    return word_count(text)


def _more_words(text: str, n: int) -> bool:
    """``_words(text) > n`` without splitting a 10 MB line into millions of words."""
    return more_words(text, n)


def _is_chrome(line: str) -> bool:
    if _CHROME.match(line):
        return True
    return not _more_words(line, 80) and _COOKIE.search(line) is not None


def _classify(line: str, ref: dt.datetime | None) -> _Line:
    if not line:
        return _Line(_Kind.BLANK, line)
    if _END.match(line):
        return _Line(_Kind.END, line)
    meta = _parse_meta(line, ref)
    if meta is not None:
        return _Line(_Kind.META, line, meta)
    if _is_chrome(line):
        return _Line(_Kind.CHROME, line)
    heading = _DASH_HEADING.match(line)
    if heading:
        return _Line(_Kind.HEADING, heading["head"])
    if _is_short(line):
        return _Line(_Kind.SHORT, line)
    return _Line(_Kind.TEXT, line)


def _is_short(line: str) -> bool:
    if len(line) > 200 or _more_words(line, _MAX_SHORT_WORDS):
        return False
    if _THAI_LETTER.search(line) and dominant_script(line) == "thai":
        # Thai ends no sentence with punctuation: only length tells a title from text
        return not _more_words(line, _MAX_THAI_SHORT_WORDS)
    stripped = line.rstrip("\"'\u201d\u2019\u00bb)]\u300d\u300f\uff09")
    if not stripped or stripped[-1] in ".:;,\u2026\u3002\uff0e\uff1a\uff1b\u3001\uff0c\u06d4":
        return False
    return not (stripped[-1] in "?!\uff1f\uff01\u061f" and line[0] in _QUOTES_OPEN)


_QUOTES_OPEN = "\"'\u201c\u2018\u00ab\u300c\u300e"


def _is_name(text: str) -> bool:
    """Looks like an outlet name: 1-4 words, each capitalized (or a minor word)."""
    words = text.split()
    if not 1 <= len(words) <= _MAX_OUTLET_WORDS or text[-1] in ".!?,;:":
        return False
    return all(w[0].isupper() or w[0].isdigit() or w.lower() in _MINOR_WORDS for w in words)


def _parse_meta(line: str, ref: dt.datetime | None) -> _Meta | None:
    if _more_words(line, 20):
        return None
    meta = _Meta()
    parts = [p.strip() for p in _META_SEPARATOR.split(line) if p.strip()]
    for part in parts:
        byline = _BYLINE.match(part)
        if byline and _is_byline_name(byline["name"]):
            meta.byline = meta.byline or byline["name"].strip()
            continue
        if ref is None and is_relative_date(part):  # no capture time: no time to give
            meta.undated_time = True
            continue
        when = parse_date(part, ref)
        if when is not None:
            meta.published = meta.published or when
            continue
        label = _LABEL.match(part)
        if label and _is_name(label["name"].strip()) and not _DASH_HEADING.match(part):
            meta.outlet = meta.outlet or label["name"].strip()
            continue
        if len(parts) > 1 and _is_name(part):  # "Reuters | 2 hours ago"
            meta.outlet = meta.outlet or part
            continue
        return None
    return meta if (meta.byline or meta.published or meta.outlet or meta.undated_time) else None


def _is_byline_name(name: str) -> bool:
    words = name.split()
    if len(words) > 12 or (name.rstrip()[-1:] in ".!?:;" and not re.search(r"\b[A-Z]\.$", name)):
        return False
    caps = [w for w in words if w[0].isupper()]
    return bool(words) and words[0][0].isupper() and len(caps) >= min(2, len(words))


# --------------------------------------------------------------------------- dates


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _absolute(text: str) -> dt.datetime | None:
    m = _DATE.match(text)
    if not m:
        return None
    try:
        if m["y1"]:
            day = dt.datetime(int(m["y1"]), _month(m["m1"]), int(m["d1"]))
        elif m["y2"]:
            day = dt.datetime(int(m["y2"]), _month(m["m2"]), int(m["d2"]))
        else:
            day = dt.datetime(int(m["y3"]), int(m["m3"]), int(m["d3"]))
    except ValueError:
        return None
    return _with_clock(day, m)


def _year_first(text: str) -> dt.datetime | None:
    """An East Asian ("2026年12月1日 10時30分"), year-first ("2026/12/01 10:30") or
    Russian ("1 декабря 2026 г., 10:30") date."""
    # each pattern tried only where it can match (they are compiled on first use)
    m = None
    if text[:4].isdigit():
        m = _YMD_DATE.match(text) or (_EAST_ASIAN_DATE.match(text) if not text.isascii() else None)
    elif text[:1].isdigit() and not text.isascii():
        m = _RU_DATE.match(text)
    if m is None:
        return None
    fields = m.groupdict()
    month = int(fields["m"]) if fields.get("m") else _ru_month(fields.get("month") or "")
    try:
        day = dt.datetime(int(m["y"]), month, int(m["d"]))
    except ValueError:
        return None
    return _with_clock(day, m)


def _ru_month(name: str) -> int:
    """The number of a Russian month name in any case form ("декабря" -> 12), else 0."""
    low = name.lower()
    for stem, number in _RU_MONTHS.items():
        if low.startswith(stem) and (stem != "ма" or low in ("мая", "май")):
            return number
    return 0


def _month(name: str) -> int:
    return _MONTHS.get(name.lower()[:3], 0)


#: the East Asian words for a.m. and p.m.
_HALF_DAY = {"午前": "am", "上午": "am", "오전": "am", "午後": "pm", "下午": "pm", "오후": "pm"}


def _with_clock(day: dt.datetime, m: re.Match[str]) -> dt.datetime | None:
    fields = m.groupdict()
    hour = int(m["h"]) if m["h"] else 0
    minute = int(m["mi"]) if m["mi"] else 0
    second = int(m["s"]) if m["s"] else 0
    ampm = (fields.get("ampm") or _HALF_DAY.get(fields.get("half") or "", "")).lower()
    ampm = ampm.replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    tz = _zone(m["tz"])
    try:
        return day.replace(hour=hour, minute=minute, second=second, tzinfo=tz or dt.UTC)
    except ValueError:
        return None


def _zone(name: str | None) -> dt.tzinfo | None:
    """The zone named by ``name`` (an abbreviation from ``_TZ_HOURS`` or an offset)."""
    if not name:
        return None
    low = name.lower()
    offset = re.fullmatch(r"(?:utc|gmt)?([+-])(\d{1,2}):?(\d{2})?", low)
    if offset:
        sign = 1 if offset[1] == "+" else -1
        delta = dt.timedelta(hours=int(offset[2]), minutes=int(offset[3] or 0))
        return dt.timezone(sign * delta)
    return dt.timezone(dt.timedelta(hours=_TZ_HOURS.get(low, 0.0)))


# --------------------------------------------------------------------------- segments


def _segments(lines: list[_Line]) -> list[_Segment]:
    segments: list[_Segment] = []
    current: _Segment | None = _Segment()
    pending: list[_Line] = []  # short/meta lines seen after an end marker
    for line in lines:
        kind = line.kind
        if kind is _Kind.CHROME:
            continue
        if kind is _Kind.END:
            if current is not None:
                segments.append(current)
            current, pending = None, []
            continue
        if current is None:  # after an end marker: furniture until an article starts
            if kind is _Kind.BLANK:
                pending = []
            elif kind is _Kind.META:
                current = _Segment(header=[*pending, line], after_end=True)
                pending = []
            elif kind in (_Kind.SHORT, _Kind.HEADING):
                pending.append(line)
            elif any(p.kind is _Kind.SHORT for p in pending) and (
                _more_words(line.text, MIN_TRAILING_WORDS - 1)
            ):
                current = _Segment(header=pending, body=[line], after_end=True, started=True)
                pending = []
            else:
                pending = []
            continue
        if kind is _Kind.BLANK:
            if current.started:
                current.body.append(line)
            continue
        if not current.started:
            if kind is _Kind.TEXT:
                current.body.append(line)
                current.started = True
            elif kind is _Kind.HEADING and any(s.kind is _Kind.SHORT for s in current.header):
                current.body.append(line)
            else:
                current.header.append(line)
            continue
        if kind is _Kind.META:
            # a new article may start here: take the short lines just before as its header
            moved = _trailing_shorts(current.body)
            segments.append(current)
            current = _Segment(header=[*moved, line])
            continue
        current.body.append(line)
    if current is not None:
        segments.append(current)
    return _merge_untitled(segments)


def _trailing_shorts(body: list[_Line]) -> list[_Line]:
    moved: list[_Line] = []
    while body and body[-1].kind in (_Kind.SHORT, _Kind.BLANK) and len(moved) < 3:
        line = body.pop()
        if line.kind is _Kind.SHORT:
            moved.insert(0, line)
    return moved


def _merge_untitled(segments: list[_Segment]) -> list[_Segment]:
    """A segment started by a meta line but without a title belongs to the previous one."""
    merged: list[_Segment] = []
    for segment in segments:
        has_title = any(line.kind is _Kind.SHORT for line in segment.header)
        if merged and not has_title and not segment.after_end:
            previous = merged[-1]
            previous.body.extend(segment.header)
            previous.body.extend(segment.body)
            previous.started = previous.started or segment.started
            continue
        merged.append(segment)
    return merged


# --------------------------------------------------------------------------- articles


def _lead_title(lines: list[_Line]) -> _Line | None:
    """The page's first line when it reads as a headline: the title of a saved article.

    A file that starts with a short line of 3+ words that is no name (not "The Northern
    Ledger", "Morning Wire Digest") starts with its title; short lines after it (a
    kicker, "CLICK FOR FULL RESULTS", a disclosure) are the body's lead, however long.
    """
    first = next((line for line in lines if line.kind is not _Kind.BLANK), None)
    if first is None or first.kind is not _Kind.SHORT:
        return None
    if _words(first.text) < 3 or _is_name(first.text):
        return None
    return first


def _to_article(
    segment: _Segment, *, source: str, url: str | None, lead: _Line | None = None
) -> Article | None:
    meta = _Meta()
    label_names: set[str] = set()
    shorts: list[tuple[int, _Line]] = []
    for i, line in enumerate(segment.header):
        if line.meta is not None:
            meta.published = meta.published or line.meta.published
            meta.byline = meta.byline or line.meta.byline
            if line.meta.outlet:
                meta.outlet = meta.outlet or line.meta.outlet
                label_names.add(line.meta.outlet.lower())
        elif line.kind is _Kind.SHORT:
            shorts.append((i, line))
    candidates = [(i, s) for i, s in shorts if s.text.lower() not in label_names]
    leading = [c for c in candidates if c[1] is lead]  # the file's first line
    title_line = max(leading or candidates, key=lambda c: _words(c[1].text), default=None)
    if meta.outlet is None:
        meta.outlet = _outlet_line(segment.header, shorts, title_line)

    paragraphs: list[str] = []
    for line in [*(h for h in segment.header if h.kind is _Kind.HEADING), *segment.body]:
        if line.kind is _Kind.META and line.meta is not None:  # merged-in meta lines
            if not (line.meta.published or line.meta.undated_time or line.meta.byline):
                # "- Iran": a list item
                paragraphs.append(line.text)
            meta.published = meta.published or line.meta.published
            meta.byline = meta.byline or line.meta.byline
        elif line.kind is _Kind.HEADING or (
            line.kind is _Kind.SHORT and _words(line.text) <= _MAX_HEADING_WORDS
        ):
            paragraphs.append(f"## {line.text}")
        elif line.kind in (_Kind.TEXT, _Kind.SHORT):
            paragraphs.append(line.text)
    title = title_line[1].text if title_line else ""
    if title:
        paragraphs = [p for p in paragraphs if p.lower() != title.lower()]
    body = clean_body(paragraphs)
    if segment.after_end and not _more_words(body, MIN_TRAILING_WORDS - 1):
        return None
    article = make_article(
        title=title or "untitled",
        body=body,
        source=source,
        outlet=meta.outlet or infer_outlet(body),
        url=url,
        published=meta.published,
        byline=meta.byline,
    )
    if not article.sentences:
        return None
    if not title:  # no headline on the page: the first sentence stands in
        return make_article(
            title=_fallback_title(article.sentences[0].text),
            body=body,
            source=source,
            outlet=article.outlet,
            url=url,
            published=article.published,
            byline=article.byline,
        )
    return article


def _outlet_line(
    header: list[_Line], shorts: list[tuple[int, _Line]], title: tuple[int, _Line] | None
) -> str | None:
    """A short outlet-name line next to a time or label line ("Reuters" / "2 hours ago")."""
    for i, line in shorts:
        if title is not None and i == title[0]:
            continue
        near = [header[j] for j in (i - 1, i + 1) if 0 <= j < len(header)]
        if _is_name(line.text) and any(n.kind is _Kind.META for n in near):
            return line.text
    return None


def _fallback_title(sentence: str, max_words: int = 14) -> str:
    if _words(sentence) <= max_words:
        return sentence.rstrip(".\u3002")
    words = sentence.split()
    if len(words) <= max_words:  # a script without spaces: cut by characters
        return sentence[: max_words * 2] + "\u2026"
    return " ".join(words[:max_words]) + "\u2026"


def _clean_paragraph(raw: str) -> list[str]:
    text = " ".join(raw.split())
    if not text:
        return []
    if text.startswith("## "):
        return [text]
    heading = _DASH_HEADING.match(text)
    if heading:
        return [f"## {heading['head']}"]
    if _END.match(text) or _is_chrome(text):
        return []
    text = _INLINE_TIMESTAMP.sub("\n", text)
    text = _COPYRIGHT_SUFFIX.sub("", text)
    text = _RUN_IN_HEADING.sub(_run_in, text)
    return [part.strip() for part in text.split("\n") if part.strip()]


def _run_in(m: re.Match[str]) -> str:
    head = m["head"].strip()
    if not 1 <= _words(head) <= 10:
        return m.group(0)
    return f"{m['pre'].rstrip()}\n## {m['q1']}{head}{m['q2']}\n"


def _trim_headings(paragraphs: list[str]) -> list[str]:
    """Drop sub-headings that head nothing (at the end or before another heading)."""
    out: list[str] = []
    for para in paragraphs:
        if out and out[-1].startswith("## ") and para.startswith("## "):
            out.pop()
        out.append(para)
    while out and out[-1].startswith("## "):
        out.pop()
    return out


# --------------------------------------------------------------------------- outlets

#: Outlets recognized by name in attributions (as written after "told [the]"), canonical
#: name on the right. Matching is case-sensitive: "told the National Assembly" is no outlet.
KNOWN_OUTLETS: dict[str, str] = {
    "AFP": "AFP", "Agence France-Presse": "AFP", "Agence France Presse": "AFP",
    "Reuters": "Reuters", "AP": "AP", "Associated Press": "AP", "Bloomberg": "Bloomberg",
    "dpa": "dpa", "DPA": "dpa", "EFE": "EFE", "ANSA": "ANSA", "Kyodo": "Kyodo",
    "Xinhua": "Xinhua", "Yonhap": "Yonhap", "TASS": "TASS", "Interfax": "Interfax",
    "PTI": "PTI", "ANI": "ANI", "Anadolu": "Anadolu", "BBC": "BBC", "BBC News": "BBC",
    "CNN": "CNN", "NPR": "NPR", "Al Jazeera": "Al Jazeera", "France 24": "France 24",
    "FRANCE 24": "France 24", "RFI": "RFI", "DW": "DW", "Sky News": "Sky News",
    "Guardian": "The Guardian", "Euronews": "Euronews", "New York Times": "The New York Times",
    "Washington Post": "The Washington Post", "Wall Street Journal": "The Wall Street Journal",
    "Financial Times": "Financial Times", "Politico": "Politico", "POLITICO": "Politico",
    "Axios": "Axios", "CNBC": "CNBC", "Fox News": "Fox News", "NBC News": "NBC News",
    "CBS News": "CBS News", "ABC News": "ABC News", "Telegraph": "The Telegraph",
    "Economist": "The Economist", "Le Monde": "Le Monde", "Der Spiegel": "Der Spiegel",
    "Haaretz": "Haaretz", "Times of Israel": "The Times of Israel", "Rudaw": "Rudaw",
    "Al-Monitor": "Al-Monitor", "Arab News": "Arab News",
}  # fmt: skip
#: All-capitals words that are organizations or places, not outlets ("told NATO").
_NOT_OUTLETS = wordset(
    "US USA UK EU UN UAE NATO IAEA WHO ICC ICJ IMF OPEC CIA FBI NSA MP MPS PM CEO TV AI "
    "IDF IRGC ISIS IS G7 G20 ASEAN AU OSCE UNHCR UNICEF UNRWA WFP NGO NGOS HRW OK"
)
_OUTLET_NAME = "|".join(sorted((re.escape(k) for k in KNOWN_OUTLETS), key=len, reverse=True))
_SELF_ATTRIBUTION = re.compile(
    # every alternative starts with one of these letters, or at a line start: the
    # lookahead rules out most positions at once (a third of ingest time before)
    r"(?:(?=[tsiocrwAaT])|^)(?:"
    r"\b(?:told|telling|speaking to|spoke to|said to|in an interview with|interviewed by|"
    r"seen by|obtained by|reviewed by|confirmed to|contacted by|wrote to)\s+(?:the\s+)?"
    rf"(?P<known>{_OUTLET_NAME})\b(?![-\w])"
    rf"|\b(?:[Aa]n?|[Tt]he)\s+(?P<reporter>{_OUTLET_NAME})\s+(?:correspondent|journalist|"
    r"reporter|photographer|team|tally|count|videographer|crew)s?\b"
    rf"|^[A-Z][A-Z .,'\u2019-]{{1,40}}\((?P<dateline>{_OUTLET_NAME})\)\s*[-\u2014\u2013:])",
    re.MULTILINE,
)
_TOLD_ACRONYM = re.compile(r"\btold\s+(?:the\s+)?(?P<acr>[A-Z][A-Z0-9]{1,5})\b(?P<after>\W*\w*)")
#: Words that may follow "told XYZ" when XYZ is an outlet ("told AFP on Monday").
_AFTER_OUTLET = wordset(
    "on that in last this by at after before when while during from over via and earlier "
    "late recently"
)


def infer_outlet(body: str) -> str | None:
    """The outlet an article's own attributions name ("told AFP"), or ``None``."""
    votes: Counter[str] = Counter()
    for m in _SELF_ATTRIBUTION.finditer(body):
        name = m["known"] or m["reporter"] or m["dateline"]
        votes[KNOWN_OUTLETS[name]] += 1
    for m in _TOLD_ACRONYM.finditer(body):
        acr, after = m["acr"], m["after"]
        next_word = after.strip(" ")
        if acr in KNOWN_OUTLETS or acr in _NOT_OUTLETS:
            continue
        if next_word and next_word[0].isalpha() and next_word.lower() not in _AFTER_OUTLET:
            continue  # "told UNESCO officials": an organization, not an outlet
        votes[acr] += 1
    if not votes:
        return None
    return votes.most_common(1)[0][0]
