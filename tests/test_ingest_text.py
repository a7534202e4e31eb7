"""Tests of splitting scraped text pages into articles (the seed page and other shapes)."""

# ruff: noqa: RUF001  (dates and pages in other scripts)
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from briefing.ingest.text import infer_outlet, parse_date, parse_text_page
from briefing.models import Article

ROOT = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).parent / "data" / "pages"
SEED = ROOT / "seeds" / "000_69d1e78211fb2cff.txt"
REF = dt.datetime(2025, 6, 17, 12, 0, tzinfo=dt.UTC)


def _page(name: str) -> list[Article]:
    path = PAGES / name
    return parse_text_page(path.read_text(encoding="utf-8"), source=str(path), reference_time=REF)


def _assert_clean(article: Article) -> None:
    assert article.sentences, article.title
    assert article.text.strip() == article.text
    assert [s.id for s in article.sentences] == list(range(1, len(article.sentences) + 1))
    for junk in (
        "Advertisement",
        "Hashtags",
        "No comments yet",
        "Share this",
        "\u00a9",
        "Read more",
    ):
        assert junk not in article.text, (article.title, junk)
    for sentence in article.sentences:
        assert not sentence.text.startswith("#")


@pytest.fixture(scope="module")
def seed() -> list[Article]:
    return parse_text_page(SEED.read_text(encoding="utf-8"), source=str(SEED), reference_time=REF)


def test_seed_splits_into_four_articles(seed: list[Article]) -> None:
    assert [(a.title, a.outlet, a.published) for a in seed] == [
        ("Iraq treads a tightrope to avoid spillover from Israel-Iran conflict", "AFP", None),
        ("What Israel really wants in Iran", "France 24", REF - dt.timedelta(minutes=30)),
        ("Iranian pilgrims in Iraq long to return home", "France 24", REF - dt.timedelta(hours=2)),
        (
            "Male victim breaks 'suffocating' silence on Kosovo war rapes",
            "France 24",
            REF - dt.timedelta(hours=2),
        ),
    ]
    for article in seed:
        _assert_clean(article)
        assert article.source == str(SEED)
        assert "France 24" not in article.text.split("\n\n")[0]


def test_seed_main_article_body(seed: list[Article]) -> None:
    main = seed[0]
    assert main.text.startswith("But with Baghdad both an ally of Iran")
    assert main.text.endswith("a commander of an armed faction told AFP.")
    assert "## 'On standby'" in main.text.split("\n\n")
    assert "## Not alone" in main.text.split("\n\n")
    for chrome in ("Try Our AI Features", "Daily8", "Comments", "Related Articles"):
        assert chrome not in main.text
    assert all("On standby" not in s.text for s in main.sentences)


def test_seed_inline_chrome_and_run_in_headings(seed: list[Article]) -> None:
    israel, pilgrims, kosovo = seed[1:]
    assert "01:33" not in israel.text and "09:40" not in israel.text
    assert any(s.text.startswith("Most tellingly, Netanyahu") for s in israel.sentences)
    assert pilgrims.text.endswith('"God knows" what will happen after that, he said.')
    assert "## 'They brought war on us'" in pilgrims.text.split("\n\n")
    assert any(s.text.startswith("Iraq is expected to receive 76,000") for s in pilgrims.sentences)
    assert "## 'Weapon of war'" in kosovo.text.split("\n\n")
    assert any(s.text.startswith("But he knows that the war") for s in kosovo.sentences)


def test_single_article_with_site_chrome_byline_and_absolute_date() -> None:
    [article] = _page("guardian_style_single.txt")
    assert article.title == "Dutch farmers block motorways as nitrogen rules tighten"
    assert article.byline == "Jane Doe"
    assert article.published == dt.datetime(2026, 11, 24, 8, 15, tzinfo=dt.UTC)
    _assert_clean(article)
    for chrome in ("cookie", "Facebook", "newsletter", "inbox", "Photo:", "Most read", "Ajax"):
        assert chrome not in article.text
    assert article.text.startswith("Thousands of Dutch farmers")
    assert article.text.endswith("a motion to suspend the measures.")


def test_plain_single_article_outlet_from_dateline_and_attribution() -> None:
    [article] = _page("wire_dateline_plain.txt")
    assert article.title == "Ukraine says drone strike hits Russian oil depot"
    assert article.outlet == "Reuters"
    assert article.published is None
    _assert_clean(article)
    assert "The U.S. State Department said Washington did not support attacks inside Russia." in [
        s.text for s in article.sentences
    ]


def test_roundup_without_related_block_splits_on_headers() -> None:
    articles = _page("roundup_no_related.txt")
    assert [(a.title, a.outlet, a.byline, a.published) for a in articles] == [
        (
            "Chile's central bank holds rates steady at 5%",
            "Reuters",
            None,
            REF - dt.timedelta(hours=2),
        ),
        (
            "Kenya's parliament approves new tax bill after heated debate",
            None,
            "Samuel Otieno",
            dt.datetime(2025, 6, 16, 21, 30, tzinfo=dt.timezone(dt.timedelta(hours=3))),
        ),
        (
            "Japan's exports fall for second month as U.S. tariffs bite",
            "Kyodo",
            None,
            dt.datetime(2025, 6, 17, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))),
        ),
    ]
    for article in articles:
        _assert_clean(article)
    assert "Morning Wire Digest" not in " ".join(a.text for a in articles)


def test_hard_wrapped_text_is_unwrapped() -> None:
    [article] = _page("hard_wrapped_email.txt")
    assert article.title == "Sudan talks stall as fighting spreads to Kordofan"
    assert article.byline == "Amira Hassan"
    assert article.published == dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    assert len(article.text.split("\n\n")) == 4
    assert article.sentences[0].text.startswith(
        "Peace talks between Sudan's army and the paramilitary"
    )
    assert article.sentences[0].text.endswith("further into the Kordofan region.")


def test_teasers_are_dropped_full_related_articles_kept() -> None:
    main, port = _page("related_teasers_and_full.txt")
    assert main.title.startswith("Philippines and China trade blame")
    assert "Vietnam" not in main.text and "Copy link" not in main.text
    assert port.title == "Indonesia picks site for new deep-sea port in Papua"
    assert port.outlet == "Pacific Daily"
    assert port.published == REF - dt.timedelta(days=3)
    assert port.text.endswith("Construction is expected to begin next year.")
    _assert_clean(main)
    _assert_clean(port)


def test_page_without_title_uses_first_sentence() -> None:
    text = (
        "Heavy rain flooded parts of Lagos on Sunday, officials said, cutting roads and "
        "power to thousands of homes across the city and its suburbs. More rain is forecast."
    )
    [article] = parse_text_page(text, source="x", reference_time=REF)
    assert article.title.startswith("Heavy rain flooded parts of Lagos on Sunday")
    assert article.title.endswith("\u2026")
    assert len(article.sentences) == 2


def test_nothing_to_read() -> None:
    assert parse_text_page("", source="x") == []
    assert parse_text_page("Share\nAdvertisement\n\nComments\n", source="x") == []


def test_relative_time_without_a_capture_time_gives_no_time() -> None:
    """A saved page read later: "5 minutes ago" names no time, so none is made up."""
    page = "Title here\n5 minutes ago\nBody text is here."
    [article] = parse_text_page(page, source="x")
    assert article.published is None
    assert article.title == "Title here" and article.text == "Body text is here."
    # told when the page was captured, the same line gives the time it says
    [captured] = parse_text_page(page, source="x", reference_time=REF)
    assert captured.published == REF - dt.timedelta(minutes=5)


def test_relative_time_line_still_separates_articles() -> None:
    page = (
        "First headline of the page\n2 hours ago\n"
        + "The first story has a body. " * 8
        + "\n\nSecond headline of the page\n3 hours ago\n"
        + "Another story body here. " * 8
    )
    articles = parse_text_page(page, source="x")
    assert [a.title for a in articles] == [
        "First headline of the page",
        "Second headline of the page",
    ]
    assert all(a.published is None for a in articles)
    assert all("ago" not in a.text for a in articles)


def test_parse_date_resolves_relative_times_against_now_by_default() -> None:
    when = parse_date("5 minutes ago")
    assert when is not None and when.tzinfo is not None
    assert dt.datetime.now(dt.UTC) - when < dt.timedelta(minutes=6)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30 minutes ago", REF - dt.timedelta(minutes=30)),
        ("an hour ago", REF - dt.timedelta(hours=1)),
        ("3 days ago", REF - dt.timedelta(days=3)),
        ("Yesterday", REF - dt.timedelta(days=1)),
        ("Published 24 November 2026 08:15 GMT", dt.datetime(2026, 11, 24, 8, 15, tzinfo=dt.UTC)),
        ("Updated: Tue 17 Jun 2025 09.30 BST", dt.datetime(2025, 6, 17, 8, 30, tzinfo=dt.UTC)),
        ("June 17, 2025 at 8:15 a.m. EDT", dt.datetime(2025, 6, 17, 12, 15, tzinfo=dt.UTC)),
        ("2025-06-17T06:00:00Z", dt.datetime(2025, 6, 17, 6, 0, tzinfo=dt.UTC)),
        ("17 June 2025", dt.datetime(2025, 6, 17, tzinfo=dt.UTC)),
        ("10:05 GMT, 3 March 2026", dt.datetime(2026, 3, 3, 10, 5, tzinfo=dt.UTC)),
        ("The Octopus Doctrine", None),
        ("31 February 2025", None),
        # East Asian, year-first and Russian dates; full-width digits
        ("2026年12月1日（火）10時30分", dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC)),
        ("\uff12\uff10\uff12\uff16年\uff11\uff12月\uff11日 10:30 JST",
         dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)),
        ("发布时间：2026-12-01 10:30", dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC)),
        ("2026년 12월 1일 오후 3:05", dt.datetime(2026, 12, 1, 15, 5, tzinfo=dt.UTC)),
        ("입력 2026.12.01. 09:00 (KST)", dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)),
        ("2026/12/01", dt.datetime(2026, 12, 1, tzinfo=dt.UTC)),
        ("Опубликовано: 3 мая 2026 г., 10:30", dt.datetime(2026, 5, 3, 10, 30, tzinfo=dt.UTC)),
        ("1 декабря 2026", dt.datetime(2026, 12, 1, tzinfo=dt.UTC)),
        ("2026年2月30日", None),
        ("2時間前", REF - dt.timedelta(hours=2)),
        ("3小时前", REF - dt.timedelta(hours=3)),
        ("2시간 전", REF - dt.timedelta(hours=2)),
        ("5 минут назад", REF - dt.timedelta(minutes=5)),
        ("3 ชั่วโมงที่แล้ว", REF - dt.timedelta(hours=3)),
    ],
)  # fmt: skip
def test_parse_date(value: str, expected: dt.datetime | None) -> None:
    assert parse_date(value, REF) == expected


def test_dates_in_other_scripts_are_meta_lines() -> None:
    """A Japanese page's date line gives the time; a "3時間前" line gives none (no capture
    time) but still separates the articles and stays out of the body."""
    page = (
        "日銀、政策金利を0.75%に引き上げ\n2026年12月1日 15時05分\n"
        "日本銀行は１日、金融政策決定会合を開き、政策金利を０．５％から０．７５％に引き上げる"
        "ことを決めた。利上げは今年３月以来となる。植田和男総裁は記者会見で「物価目標の実現が"
        "見通せる状況になった」と述べた。\n\n"
        "韓国政府、21兆ウォンの経済対策\n3時間前\n"
        "政府は5日、国務会議を開き、総額21兆ウォン規模の経済対策を確定した。今回の対策には"
        "小規模事業者への支援と電気料金の引き下げが含まれた。野党は財政の健全性を損なうと反発"
        "した。\n"
    )
    first, second = parse_text_page(page, source="x")
    assert first.title == "日銀、政策金利を0.75%に引き上げ"
    assert first.published == dt.datetime(2026, 12, 1, 15, 5, tzinfo=dt.UTC)
    assert second.title == "韓国政府、21兆ウォンの経済対策" and second.published is None
    assert "前" not in second.text.split("。")[0][:5] and "2026年" not in first.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("A senior official told AFP on condition of anonymity that talks had stalled.", "AFP"),
        ("BEIRUT (Reuters) - Strikes hit the south.", "Reuters"),
        ("Documents seen by the Associated Press show the plan.", "AP"),
        ("An AFP correspondent saw smoke over the city.", "AFP"),
        ("The minister told NATO allies the plan was final. He told Jane it was over.", None),
        ("He told the National Assembly that taxes would rise, according to Reuters.", None),
        ("The mayor told KTVU that the bridge would reopen.", "KTVU"),
    ],
)
def test_infer_outlet(body: str, expected: str | None) -> None:
    assert infer_outlet(body) == expected


@pytest.mark.parametrize(
    ("page", "byline", "published", "text"),
    [
        (
            "Quake hits Peru coast\nA quake struck off Peru.\n"
            "No damage was reported.\nBy Maria Lopez\n",
            "Maria Lopez",
            None,
            "A quake struck off Peru.\n\nNo damage was reported.",
        ),
        (
            "Quake hits Peru coast\nA quake struck off Peru.\n"
            "Updated 10:30 GMT, 17 June 2025\nNo damage.\n",
            None,
            dt.datetime(2025, 6, 17, 10, 30, tzinfo=dt.UTC),
            "A quake struck off Peru.\n\nNo damage.",
        ),
        (
            "Five things to know\nVoters go to the polls.\n"
            "- Iran\n- Turkey\nResults come Monday.\n",
            None,
            None,
            "Voters go to the polls.\n\n- Iran\n\n- Turkey\n\nResults come Monday.",
        ),
    ],
)
def test_meta_lines_without_a_title_stay_in_the_article(
    page: str, byline: str | None, published: dt.datetime | None, text: str
) -> None:
    [article] = parse_text_page(page, source="x", reference_time=REF)
    assert (article.byline, article.published, article.text) == (byline, published, text)


# A saved article: its headline, then the body. The body opens with short lines (a
# results link, a disclosure, a kicker) that are longer than the headline.
_SAVED_TITLE = "Council approves new bus lanes"
_SAVED_LEAD = [
    "CLICK HERE FOR THE FULL LIST OF STREETS AFFECTED BY THE NEW BUS LANES",
    "This post was sponsored by Metro Transit Partners, Inc. All opinions are my own #ad",
]
_SAVED_BODY = (
    "The city council on Tuesday approved bus lanes on six of the busiest streets in the "
    "centre, after a debate that ran for more than four hours and drew dozens of speakers.\n\n"
    "Work is expected to start in the spring and to take about a year, officials said."
)


def _saved(variant: str) -> str:
    lead = "\n\n".join(_SAVED_LEAD)
    return {
        "blank line": f"{_SAVED_TITLE}\n\n{lead}\n\n{_SAVED_BODY}\n",
        "no blank line": f"{_SAVED_TITLE}\n{lead}\n\n{_SAVED_BODY}\n",
        "byline and date": (
            f"{_SAVED_TITLE}\nBy Jane Doe | 24 November 2026\n\n{lead}\n\n{_SAVED_BODY}\n"
        ),
        "windows line endings": f"{_SAVED_TITLE}\n\n{lead}\n\n{_SAVED_BODY}\n".replace(
            "\n", "\r\n"
        ),
        "leading blank lines": f"\n\n  {_SAVED_TITLE}  \n\n{lead}\n\n{_SAVED_BODY}\n",
    }[variant]


@pytest.mark.parametrize(
    "variant",
    [
        "blank line",
        "no blank line",
        "byline and date",
        "windows line endings",
        "leading blank lines",
    ],
)
def test_saved_article_title_is_its_first_line(variant: str) -> None:
    [article] = parse_text_page(_saved(variant), source="x", reference_time=REF)
    assert article.title == _SAVED_TITLE
    assert article.text.endswith("officials said.")
    if variant == "byline and date":
        assert article.byline == "Jane Doe"
        assert article.published == dt.datetime(2026, 11, 24, tzinfo=dt.UTC)


def test_saved_article_file_title_is_its_first_line(tmp_path: Path) -> None:
    from briefing.ingest.files import load_path

    path = tmp_path / "saved.txt"
    path.write_bytes(b"\xef\xbb\xbf" + _saved("windows line endings").encode("utf-8"))
    [article] = load_path(path, reference_time=REF)
    assert article.title == _SAVED_TITLE


@pytest.mark.parametrize(
    ("first", "title"),
    [
        # a site or digest name (1-4 capitalized words) is no headline: the longest wins
        ("Morning Wire Digest", "Chile's central bank holds rates steady at 5%"),
        # nor is a one- or two-word logo line
        ("metro daily", "Chile's central bank holds rates steady at 5%"),
    ],
)
def test_page_starting_with_a_name_keeps_the_longest_title(first: str, title: str) -> None:
    page = f"{first}\n{title}\nReuters | 2 hours ago\n{_SAVED_BODY}\n"
    [article] = parse_text_page(page, source="x", reference_time=REF)
    assert article.title == title
    assert article.outlet == "Reuters"


def test_first_line_title_applies_to_the_first_article_only() -> None:
    page = (
        f"{_SAVED_TITLE}\n\n{_SAVED_BODY}\n\nRelated Articles\n\n"
        "Short teaser line\nFloods close schools across the northern province\n"
        "3 hours ago\n"
        "Schools across the northern province were closed on Monday after days of heavy rain "
        "flooded roads and cut power to thousands of homes, the provincial government said, "
        "adding that classes would resume once the water had receded and the buildings had "
        "been checked for damage by engineers.\n"
    )
    first, second = parse_text_page(page, source="x", reference_time=REF)
    assert first.title == _SAVED_TITLE
    assert second.title == "Floods close schools across the northern province"
