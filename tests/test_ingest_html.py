"""Tests of briefing.ingest.html: main-content extraction and metadata on pages written for them."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import pytest

from briefing.errors import InputError
from briefing.ingest.html import decode_html, parse_html

PAGE = Path(__file__).parent / "data" / "html" / "harbour_article.html"


@pytest.fixture(scope="module")
def article_text() -> str:
    [article] = parse_html(PAGE.read_bytes(), source=str(PAGE))
    return article.text


def test_metadata_from_json_ld_and_meta_tags() -> None:
    [article] = parse_html(
        PAGE.read_bytes(), source="saved.html", url="https://courier.example/a?utm=1"
    )
    assert article.title == "Port city reopens flooded harbour after three weeks"
    assert article.outlet == "Coastal Courier"
    assert article.byline == "Mira Okonjo, Tomas Reyes"
    assert article.language == "en"
    assert article.url == "https://courier.example/news/2031/03/harbour-reopens"
    assert article.source == "saved.html"
    assert article.published == dt.datetime(
        2031, 3, 17, 7, 45, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )
    assert article.published.utcoffset() is not None


def test_body_is_kept_including_the_part_after_the_ad(article_text: str) -> None:
    assert article_text.startswith("Cargo ships returned to the harbour of Valmora")
    assert "The channel is deep enough again" in article_text
    # the body continues in a second container with the same class after an ad slot
    assert "300,000 cubic metres" in article_text
    assert article_text.rstrip().endswith("four years to complete.")


@pytest.mark.parametrize(
    "chrome",
    [
        "cookies",  # cookie banner
        "Home",  # navigation
        "Read more",  # inline promo
        "Fishing fleet stranded",  # related stories list
        "Morning Tide",  # newsletter box
        "inbox",
        "Share on",  # share tools
        "harbourwatcher",  # comments
        "waste of money",
        "All rights reserved",  # footer
        "Photograph:",  # figure caption
        "Advertisement",
        "Port city reopens",  # the headline is the title, not body text
    ],
)
def test_chrome_is_dropped(article_text: str, chrome: str) -> None:
    assert chrome not in article_text


def test_text_between_br_tags_is_kept() -> None:
    lead = "Rescue teams reached the mountain village of Orsk late on Thursday night"
    page = f"""<html><head><title>Rescuers reach cut-off village</title></head><body>
    <div class="nav"><a href="/">Home</a> <a href="/world">World</a></div>
    <div class="post"><h1>Rescuers reach cut-off village</h1>
    <div class="entry">{lead}, two days after a landslide blocked the only road, the regional
    emergency service said in a statement on Friday morning.<br><br>
    Helicopters had been unable to land because of low cloud and strong winds, and the teams
    walked the last eight kilometres carrying medical supplies and food.<br><br>
    <p>Officials said around 600 people lived in the village and that nobody had been
    reported missing, although several houses on the slope were badly damaged.</p></div>
    </div></body></html>"""
    [article] = parse_html(page, source="-")
    assert article.text.startswith(lead)
    assert "walked the last eight kilometres" in article.text
    assert "nobody had been reported missing" in " ".join(article.text.split())
    assert article.text.count("\n\n") == 2  # three paragraphs, separated by blank lines


def _body_paragraphs() -> str:
    return "".join(
        f"<p>Paragraph {i} of the report says the river rose by {i} metres overnight in the"
        " valley, forcing farmers to move their cattle to higher ground before dawn.</p>"
        for i in range(1, 6)
    )


@pytest.mark.parametrize(
    ("encoding", "declare"),
    [("utf-8", False), ("cp1252", True), ("utf-8-sig", False), ("utf-16", False)],
)
def test_encodings(encoding: str, declare: bool) -> None:
    meta = f'<meta charset="{encoding}">' if declare else ""
    page = (
        f"<html><head>{meta}<title>Crue \u00e0 Saint-R\u00e9my</title></head><body><article>"
        f"<p>La crue a atteint le caf\u00e9 du village \u00e0 l\u2019aube, "
        f"selon les pompiers.</p>{_body_paragraphs()}</article></body></html>"
    )
    data = page.encode(encoding)
    if encoding == "utf-16":
        assert data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE)
    [article] = parse_html(data, source="-")
    assert "caf\u00e9 du village \u00e0 l\u2019aube" in article.text
    assert article.title == "Crue \u00e0 Saint-R\u00e9my"


def test_undeclared_legacy_encoding_is_guessed() -> None:
    text = "Le caf\u00e9 a rouvert apr\u00e8s la crue, a d\u00e9clar\u00e9 le maire. " * 4
    assert (
        decode_html(f"<html><body><p>{text}</p></body></html>".encode("cp1252")).count("caf\u00e9")
        == 4
    )


def test_transport_charset_beats_wrong_meta() -> None:
    data = '<html><head><meta charset="utf-8"></head><body>\u00e9t\u00e9</body></html>'.encode(
        "cp1252"
    )
    assert "\u00e9t\u00e9" in decode_html(data, encoding="windows-1252")


def test_meta_and_time_dates_without_json_ld() -> None:
    page = f"""<html lang="de-AT"><head><title>Titel</title>
    <meta property="article:published_time" content="2031-01-05 10:00:00+0100">
    <meta property="og:site_name" content="Alpenblatt"><meta name="author" content="By Eva Berger">
    </head><body><article><h1>Titel</h1>{_body_paragraphs()}</article></body></html>"""
    [article] = parse_html(page, source="-")
    assert article.published == dt.datetime(2031, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert article.language == "de"
    assert article.outlet == "Alpenblatt"
    assert article.byline == "Eva Berger"


def test_date_without_zone_is_taken_as_utc() -> None:
    page = f"""<html><head><title>T</title></head><body><article>
    <time datetime="2031-02-03">3 February</time>{_body_paragraphs()}</article></body></html>"""
    [article] = parse_html(page, source="-")
    assert article.published == dt.datetime(2031, 2, 3, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "page",
    ["", "   ", "<html><body><nav><a href='/'>Home</a></nav></body></html>"],
)
def test_pages_without_text_are_input_errors(page: str) -> None:
    with pytest.raises(InputError, match=r"page\.html"):
        parse_html(page, source="page.html")


DATA = Path(__file__).parent / "data" / "html"


def _text(name: str) -> str:
    [article] = parse_html((DATA / name).read_bytes(), source=name)
    return " ".join(article.text.split())


def test_body_inside_an_unclosed_link_is_kept_over_pull_quote_tables() -> None:
    # an <a> left open before the body nests every paragraph inside it: they are not
    # "related story" teasers, and the pull quotes and captions in tables are no body
    text = _text("pullquote_tables_article.html")
    assert text.startswith("The regional water authority will spend 180 million euros")
    for sentence in (
        "roughly one litre in every four",
        "raising the standing charge on household bills",
        "Work on the last districts is not expected to finish before 2033.",
    ):
        assert sentence in text
    assert "What they said" not in text.split("before 2033.")[0]


def test_a_long_extraction_is_not_replaced_by_text_from_elsewhere() -> None:
    from briefing.ingest.html import _covers

    body = " ".join(f"Paragraph {i} says the river rose by {i} metres overnight." for i in range(9))
    captions = " ".join(f"Caption {i}: a photograph of flood number {i}." for i in range(40))
    assert _covers(f"{body} {captions}", body)
    assert not _covers(captions, body)
    assert _covers(captions, "")  # an empty extraction may be replaced


def test_lead_paragraph_before_a_repeated_headline_is_kept() -> None:
    text = _text("lead_before_headline.html")
    assert text.startswith("Harstad (Northern Ledger) The island ferry operator Nordlink")
    assert "Ferry operator cuts winter timetable" not in text
    assert text.endswith("if it could recruit enough crew by then.")


def test_a_phrase_of_the_headline_in_the_body_is_not_the_headline() -> None:
    page = f"""<html><head><title>Orchestra returns to the restored Marble Hall after a decade
    </title></head><body><article><h1>Orchestra returns to the restored Marble Hall after a
    decade</h1><p>The Marble Hall</p>{_body_paragraphs()}</article></body></html>"""
    [article] = parse_html(page, source="-")
    assert article.text.startswith("The Marble Hall")


@pytest.mark.parametrize(
    "end_matter",
    [
        "4 min read",  # reading time
        "09:15",  # date and byline line
        "contributed reporting",  # reporting credit
        "local government reporter",  # the author's bio
        "Valley Gazette Ltd",  # copyright line
    ],
)
def test_end_matter_around_the_body_is_dropped(end_matter: str) -> None:
    assert end_matter not in _text("article_end_matter.html")


def test_body_is_kept_whole_when_end_matter_is_dropped() -> None:
    text = _text("article_end_matter.html")
    assert text.startswith("The twelve branches of the valley's library network")
    assert text.endswith("when no staff are on duty.")


def test_a_signature_line_and_a_closing_sentence_naming_the_author_are_kept() -> None:
    page = f"""<html><head><title>Letter from the valley</title>
    <meta name="author" content="Lena Hartwig"></head><body><article><h1>Letter from the
    valley</h1>{_body_paragraphs()}<p>Lena Hartwig said she would return to the valley next
    spring to see whether the farmers had rebuilt their barns.</p><p>Lena Hartwig</p>
    </article></body></html>"""
    [article] = parse_html(page, source="-")
    assert "return to the valley next spring" in " ".join(article.text.split())
    assert article.text.rstrip().endswith("Lena Hartwig")
