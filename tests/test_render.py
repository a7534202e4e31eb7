"""Tests of briefing.render: Markdown, HTML, PDF and JSON output and atomic writes."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from briefing_samples import (
    ACCENTED,
    ARABIC_NAME,
    HOSTILE_TITLE,
    edition_briefing,
    empty_briefing,
    hostile_briefing,
    large_briefing,
    sample_briefing,
)

from briefing.errors import ConfigError, DeliveryError
from briefing.models import Briefing
from briefing.render import (
    render_html,
    render_json,
    render_markdown,
    render_pdf,
    write_atomic,
)

HEADLINES = [
    "Iraq and Turkey open talks on Tigris flows",
    "Border incident strains Kosovo–Serbia talks",  # noqa: RUF001
    "France presents a tighter budget for 2027",
    "Kenya keeps its benchmark rate at 10.75%",
    "Typhoon forces mass evacuations in Luzon",
    "São Paulo metro line 6 approved",
    "COP31 agrees on adaptation finance",
]
ARABIC = "سعيد الصحاف"
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
    reason="pdftotext/pdfinfo not installed (Debian package: poppler-utils)",
)


# --------------------------------------------------------------------------- helpers


class _Tree(HTMLParser):
    """Checks nesting while collecting tags, ids, links and text."""

    VOID = frozenset({"meta", "link", "br", "img", "hr", "input", "col", "wbr", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] not in {"style", "title"}:
            self.text.append(data)


def parse_html(document: str) -> _Tree:
    tree = _Tree()
    tree.feed(document)
    tree.close()
    assert document.startswith("<!DOCTYPE html>")
    assert not tree.errors, tree.errors
    assert not tree.stack, f"unclosed: {tree.stack}"
    assert len(tree.ids) == len(set(tree.ids)), "duplicate ids"
    for href in tree.hrefs:
        if href.startswith("#"):
            assert href[1:] in tree.ids, f"dangling link {href}"
        else:
            assert href.startswith(("https://", "http://")), href
    return tree


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "brief.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return BIDI_CONTROLS.sub("", out.stdout.decode("utf-8"))


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True)
    match = re.search(r"^Pages:\s+(\d+)$", out.stdout, re.M)
    assert match, out.stdout
    return int(match.group(1))


def pdf_destinations(pdf: bytes, tmp_path: Path) -> dict[str, int]:
    """Named destinations (the HTML ids) and the page each one lands on."""
    path = tmp_path / "dests.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdfinfo", "-dests", str(path)], capture_output=True, check=True, text=True
    )
    return {m[1]: int(m[0]) for m in re.findall(r'^\s*(\d+) \[.*\] "(.+)"$', out.stdout, re.M)}


def toc_page_numbers(text: str) -> list[int]:
    """The page numbers at the end of the contents' dotted leaders, in order."""
    return [int(n) for n in re.findall(r"(?:\. ){3,}\.?\s*(\d+)$", text, re.M)]


def expected_toc_targets(briefing: Briefing) -> list[str]:
    targets: list[str] = ["top-stories"] if briefing.top_stories else []
    number = 0
    for section in briefing.sections:
        targets.append(
            "region-" + re.sub(r"[^a-z0-9]+", "-", section.region.value.lower()).strip("-")
        )
        for _ in section.stories:
            number += 1
            targets.append(f"story-{number}")
    if briefing.failed:
        targets.append("failed")
    return targets


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    return render_pdf(sample_briefing())


# --------------------------------------------------------------------------- markdown


def test_markdown_has_title_block_sections_and_stories() -> None:
    briefing = sample_briefing()
    md = render_markdown(briefing)
    assert md.startswith("# Morning brief\n")
    assert "**Tuesday 24 November 2026**" in md
    assert "6 regions · 7 stories · 2 could not be summarized" in md
    assert "gpt-4o-mini (openai)" in md
    positions = [md.index(f"\n## {section.region.value}\n") for section in briefing.sections]
    assert positions == sorted(positions), "sections keep the briefing's order"
    for headline in HEADLINES:
        assert f"\n### {headline}\n" in md
    assert "Reuters, Mon 23 Nov, 06:00 UTC" in md
    assert "- Turkey agreed to release more water from its dams during the summer. [^1]" in md
    assert "[^1]: Reuters, “Sa'īd al-Ṣaḥḥāf — سعيد الصحاف returns" in md
    assert "<https://news.example.com/1/water?ref=brief&utm_source=x>" in md
    assert "- Novak Đoković — “Sport unites us.”" in md
    assert "- **€40bn** — planned spending cuts" in md
    # the repaired summary is an ordinary story
    assert "### France presents a tighter budget for 2027" in md
    assert "## Could not be summarized" in md
    assert "missing 'headline'" in md
    assert "7 model calls, 6,328 prompt + 1,750 completion tokens" in md
    assert md.endswith("\n") and "\n\n\n" not in md


def test_markdown_every_footnote_is_defined_and_used() -> None:
    md = render_markdown(sample_briefing())
    defined = set(re.findall(r"^\[\^(\d+)\]:", md, re.M))
    used = set(re.findall(r"\[\^(\d+)\](?!:)", md))
    assert defined == used == {str(n) for n in range(1, 8)}


def test_markdown_escapes_markup_from_articles() -> None:
    md = render_markdown(hostile_briefing())
    # every "<" is escaped or opens an http(s) autolink: no raw HTML reaches a renderer
    assert re.findall(r"(?<!\\)<(?!https?://)", md) == []
    assert r"\<script\>alert(" in md
    assert r"\*star\* & \[link\](x)" in md
    assert "<javascript:" not in md and "](javascript:" not in md  # never a link


def test_markdown_empty_briefing() -> None:
    md = render_markdown(empty_briefing())
    assert "Nothing new today." in md
    assert "## Contents" not in md and "###" not in md
    assert "0 stories" not in md


def test_story_without_key_points_cites_its_source_from_the_summary() -> None:
    briefing = sample_briefing()
    content = briefing.sections[2].summaries[0].content  # Kenya
    assert content is not None
    content.key_points = []
    briefing.sections[2].summaries[0].url = None
    md = render_markdown(briefing)
    assert "Officials said more details would follow this week. [^4]" in md
    assert (
        "[^4]: Daily Nation, “Kenya's central bank holds rates as shilling steadies”,"
        " seeds/004.html\n" in md
    )
    document = render_html(briefing)
    parse_html(document)
    assert 'week.<a class="ref" href="#source-4">[4]</a>' in document


def test_summary_without_content_in_a_section_is_listed_as_failed() -> None:
    briefing = sample_briefing()
    broken = briefing.sections[1].summaries[0]
    broken.content = None
    broken.status = "failed"
    broken.error = "grounding dropped every claim"
    md = render_markdown(briefing)
    assert "6 stories · 3 could not be summarized" in md
    assert "grounding dropped every claim" in md.split("## Could not be summarized")[1]
    parse_html(render_html(briefing))


def test_dates_and_times_are_written_for_readers() -> None:
    import datetime as dt

    from briefing.render._env import long_date, published_label

    assert long_date(dt.date(2026, 11, 24)) == "Tuesday 24 November 2026"
    edition = dt.date(2026, 11, 24)
    assert published_label(dt.datetime(2026, 11, 23, 18, 5, tzinfo=dt.UTC), edition) == (
        "Mon 23 Nov, 18:05 UTC"
    )
    assert published_label(dt.datetime(2025, 12, 31), edition) == "Wed 31 Dec 2025"
    assert published_label(None, edition) == ""


# --------------------------------------------------------------------------- html


def test_html_is_well_formed_and_standalone() -> None:
    document = render_html(sample_briefing())
    tree = parse_html(document)
    assert "style" in tree.tags and "link" not in tree.tags and "script" not in tree.tags
    assert "src=" not in document  # nothing to fetch
    text = " ".join(" ".join(tree.text).split())
    for headline in HEADLINES:
        assert headline in text
    assert ARABIC_NAME in text and ACCENTED in text
    assert "Tuesday 24 November 2026" in text
    assert 'href="#story-7"' in document and 'href="#region-europe"' in document
    assert 'href="#failed"' in document
    assert "Could not be summarized" in text
    assert "6,328 prompt + 1,750 completion tokens" in text


def test_html_escapes_hostile_titles_quotes_and_urls() -> None:
    document = render_html(hostile_briefing())
    tree = parse_html(document)
    assert "script" not in tree.tags and "img" not in tree.tags and "b" not in tree.tags
    text = "".join(tree.text)
    assert HOSTILE_TITLE in text  # shown literally, as text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Tom &amp; Jerry&#39;s" in document
    assert "</p><script>1</script>" in text
    assert not any("javascript" in href for href in tree.hrefs)
    # the attribute holding the hostile title stays one attribute
    assert 'title="Reuters: &lt;script&gt;alert(&#34;x&#34;)' in document


def test_html_empty_briefing() -> None:
    document = render_html(empty_briefing())
    tree = parse_html(document)
    assert "Nothing new today." in " ".join(tree.text)
    assert "nav" not in tree.tags and "article" not in tree.tags


def test_html_large_briefing_links_every_story() -> None:
    briefing = large_briefing(200)
    tree = parse_html(render_html(briefing))
    assert {f"story-{n}" for n in range(1, 201)} <= set(tree.ids)
    # once from the contents, and again from the top stories for three of them
    assert sum(href.startswith("#story-") for href in tree.hrefs) == 200 + 3
    assert len(briefing.top_stories) == 3 and "top-stories" in tree.ids


# --------------------------------------------------------------------------- templates


def test_user_templates_take_precedence(tmp_path: Path) -> None:
    (tmp_path / "brief.md.j2").write_text("{{ title }}: {{ story_count }} stories\n")
    (tmp_path / "brief.css").write_text("body { color: rebeccapurple; }\n")
    assert render_markdown(sample_briefing(), template_dir=tmp_path) == "Morning brief: 7 stories\n"
    document = render_html(sample_briefing(), template_dir=tmp_path)
    assert "rebeccapurple" in document and "--accent" not in document  # only the CSS replaced


def test_user_template_errors_are_config_errors(tmp_path: Path) -> None:
    (tmp_path / "brief.md.j2").write_text("{{ no_such_variable }}\n")
    with pytest.raises(ConfigError, match="no_such_variable"):
        render_markdown(sample_briefing(), template_dir=tmp_path)
    (tmp_path / "brief.md.j2").write_text("{% if %}\n")
    with pytest.raises(ConfigError, match=r"brief\.md\.j2"):
        render_markdown(sample_briefing(), template_dir=tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        render_markdown(sample_briefing(), template_dir=tmp_path / "missing")


def test_importing_render_does_not_import_weasyprint() -> None:
    code = "import sys, briefing.render; print('weasyprint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- json


def test_json_round_trips() -> None:
    briefing = sample_briefing()
    text = render_json(briefing)
    assert Briefing.model_validate_json(text) == briefing
    assert '\n  "sections": [' in text


# --------------------------------------------------------------------------- pdf


def test_pdf_is_a_pdf(sample_pdf: bytes) -> None:
    assert sample_pdf.startswith(b"%PDF-")
    assert sample_pdf.rstrip().endswith(b"%%EOF")


@needs_poppler
def test_pdf_text_pages_and_scripts(sample_pdf: bytes, tmp_path: Path) -> None:
    pages = pdf_pages(sample_pdf, tmp_path)
    assert 2 <= pages <= 6
    text = pdf_text(sample_pdf, tmp_path)
    flat = " ".join(text.split())
    for headline in HEADLINES:
        assert headline in flat
    assert ARABIC in flat  # shaped Arabic survives as text, not boxes
    assert "Sa'īd al-Ṣaḥḥāf" in flat
    assert "Nishori, Priština, Đoković" in flat
    assert f"page 1 of {pages}" in text and f"page {pages} of {pages}" in text
    assert "Tuesday 24 November 2026" in text


@needs_poppler
def test_pdf_contents_page_numbers_match_destinations(sample_pdf: bytes, tmp_path: Path) -> None:
    briefing = sample_briefing()
    destinations = pdf_destinations(sample_pdf, tmp_path)
    targets = expected_toc_targets(briefing)
    assert toc_page_numbers(pdf_text(sample_pdf, tmp_path)) == [destinations[t] for t in targets]


@needs_poppler
def test_pdf_links_are_clickable(sample_pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "links.pdf"
    path.write_bytes(sample_pdf)
    out = subprocess.run(["pdfinfo", "-url", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("this pdfinfo has no -url option")
    assert "https://news.example.com/1/water?ref=brief&utm_source=x" in out.stdout


@needs_poppler
def test_pdf_empty_briefing(tmp_path: Path) -> None:
    pdf = render_pdf(empty_briefing())
    assert pdf_pages(pdf, tmp_path) == 1
    text = pdf_text(pdf, tmp_path)
    assert "Nothing new today." in text and "page 1 of 1" in text


@needs_poppler
def test_pdf_hostile_briefing_prints_text(tmp_path: Path) -> None:
    text = " ".join(pdf_text(render_pdf(hostile_briefing()), tmp_path).split())
    assert HOSTILE_TITLE in text


@pytest.mark.slow
@needs_poppler
def test_pdf_200_stories(tmp_path: Path) -> None:
    briefing = large_briefing(200)
    started = time.perf_counter()
    pdf = render_pdf(briefing)
    elapsed = time.perf_counter() - started
    pages = pdf_pages(pdf, tmp_path)
    assert 30 <= pages <= 120
    destinations = pdf_destinations(pdf, tmp_path)
    expected = [destinations[t] for t in expected_toc_targets(briefing)]
    assert toc_page_numbers(pdf_text(pdf, tmp_path)) == expected
    assert expected == sorted(expected) and expected[-1] <= pages
    assert elapsed < 120, f"200 stories took {elapsed:.1f}s"


# --------------------------------------------------------------------------- editions


def test_edition_markdown_top_stories_synthesis_and_every_source() -> None:
    md = render_markdown(edition_briefing())
    assert md.index("## Top stories") < md.index("\n## Middle East & North Africa\n")
    assert "1. **Border incident strains Kosovo–Serbia talks** — " in md  # noqa: RUF001
    assert "*(Europe · 2 sources)*" in md
    assert "- [Top stories](#top-stories) — 3 stories" in md
    assert "**What it means:** What the Europe stories add up to, in brief." in md
    assert r"**What it means:** \<script\>alert(" in md and r"\*stars\*" in md
    assert "*Reported by Balkan Insight and Reuters* [^3]" in md
    assert (
        "[^3]: Reuters, “Kosovo and Serbia" in md and "<https://reuters.example.com/kosovo>" in md
    )
    defined = set(re.findall(r"^\[\^(\d+)\]:", md, re.M))
    used = set(re.findall(r"\[\^(\d+)\](?!:)", md))
    assert defined == used == {str(n) for n in range(1, 9)}  # 7 stories, 8 sources
    assert "\n\n\n" not in md


def test_edition_html_is_valid_escapes_synthesis_and_links_sources() -> None:
    document = render_html(edition_briefing())
    tree = parse_html(document)
    assert "<script>" not in document
    assert "&lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt; &amp; *stars*" in document
    assert {"top-stories", "source-2", "source-3"} <= set(tree.ids)
    assert tree.hrefs.count("#story-2") == 2  # contents, top stories
    assert "https://reuters.example.com/kosovo" in tree.hrefs
    assert 'class="synthesis"' in document and "Reported by Balkan Insight and Reuters" in document


@needs_poppler
def test_edition_pdf_pages_headlines_and_contents(tmp_path: Path) -> None:
    briefing = edition_briefing()
    pdf = render_pdf(briefing)
    text = pdf_text(pdf, tmp_path)
    flat = " ".join(text.split())
    for headline in HEADLINES:
        assert " ".join(headline.split()) in flat
    assert "TOP STORIES" in text and "WHAT IT MEANS" in text and "Reuters" in text
    pages = pdf_pages(pdf, tmp_path)
    assert 2 <= pages <= 6
    destinations = pdf_destinations(pdf, tmp_path)
    expected = [destinations[t] for t in expected_toc_targets(briefing)]
    assert toc_page_numbers(text) == expected


# --------------------------------------------------------------------------- write_atomic


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_write_atomic_text_and_bytes(tmp_path: Path) -> None:
    target = tmp_path / "brief.md"
    write_atomic(target, "é — سعيد\n")
    assert target.read_bytes() == "é — سعيد\n".encode()
    write_atomic(target, b"%PDF-1.7")
    assert target.read_bytes() == b"%PDF-1.7"
    assert _leftovers(tmp_path) == []


def test_write_atomic_keeps_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "brief.html"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() == "new"


def test_write_atomic_never_leaves_a_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "brief.pdf"
    target.write_bytes(b"yesterday")

    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    replace: Callable[..., None] = fail
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(DeliveryError, match="No space left on device"):
        write_atomic(target, b"today")
    assert target.read_bytes() == b"yesterday"
    assert _leftovers(tmp_path) == []


def test_write_atomic_creates_missing_directories(tmp_path: Path) -> None:
    write_atomic(tmp_path / "out" / "daily" / "brief.md", "x")
    assert (tmp_path / "out" / "daily" / "brief.md").read_text() == "x"


def test_write_atomic_where_a_directory_cannot_be(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(DeliveryError, match="directory exists"):
        write_atomic(tmp_path / "file" / "brief.md", "x")


def test_extractive_story_says_why_the_model_summary_is_missing() -> None:
    from briefing_samples import _briefing, _summary

    stopped = _summary(0, status="extractive").model_copy(
        update={"error": "not summarized: the run's --deadline of 60 s passed"}
    )
    unverified = _summary(1, status="extractive")
    briefing = _briefing([stopped, unverified], [])
    markdown = render_markdown(briefing)
    assert (
        "*Extractive summary: the model did not deliver one (not summarized: the run's "
        "--deadline of 60 s passed), so these are the article's own sentences.*"
    ) in markdown
    assert "the model's output could not be verified" in markdown  # the other one
    html = render_html(briefing)
    assert "the model did not deliver one (not summarized: the run&#39;s --deadline" in html


def test_reported_by_names_each_outlet_once_and_caps_the_list() -> None:
    from briefing.render._env import names

    assert names(["A", "B", "A", "", "C"]) == "A, B and C"
    assert names(["Unknown outlet"] * 45) == "Unknown outlet"
    many = [f"Outlet {i}" for i in range(12)]
    assert names(many) == ", ".join(many[:8]) + " and 4 more"
