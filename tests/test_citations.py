"""Page and section citations: a key point from a PDF ends with its page ("(p. 2)"), one
from a Word document with its section ("(§ Findings)"), in ``briefing summarize`` and in
the brief; news articles cite nothing. Summaries come from the scripted fake model."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

import briefing.llm
from briefing.citations import cite, locations
from briefing.cli import cli
from briefing.ingest.text import make_article
from briefing.llm.base import Message
from briefing.llm.fake import FakeLLM, faithful_reply
from briefing.models import ArticleSummary, Briefing, Location, Section
from briefing.render import render_html, render_markdown

# ruff: noqa: RUF001  (the en dash of page ranges on purpose)

PAGES = [
    [
        "Heavy rain flooded large parts of Lagos on Monday, and officials said 12 people died.",
        "The state government opened 40 shelters for families forced from their homes.",
    ],
    ["Forecasters expect more storms across the coast before the end of the week."],
    ["The federal government promised 5 billion naira for repairs to roads and bridges."],
]
SENTENCES = [s for page in PAGES for s in page]


def test_locations_follow_the_page_markers() -> None:
    body = "\n\n".join(f"## Page {n}\n\n" + "\n\n".join(page) for n, page in enumerate(PAGES, 1))
    article = make_article(title="Floods", body=body, source="report.pdf")
    assert [s.text for s in article.sentences] == SENTENCES
    where = locations(article)
    assert where == [
        Location(first=1, heading="Page 1"),
        Location(first=3, heading="Page 2"),
        Location(first=4, heading="Page 3"),
    ]
    assert cite(where, [2]) == "p. 1"
    assert cite(where, [3, 4]) == "pp. 2–3"
    assert cite(where, [1, 4]) == "pp. 1, 3"
    assert cite(where, [1, 3, 4]) == "pp. 1–3"
    assert cite(where, []) == cite([], [1]) == ""


def test_sections_of_a_document_but_not_the_sub_headings_of_a_news_page() -> None:
    body = "Intro sentence here.\n\n## Findings\n\nOne finding. Two findings.\n\n## Methods\n\nHow."
    document = make_article(title="Report", body=body, source="/tmp/report.docx")
    where = locations(document)
    assert [(w.first, w.heading) for w in where] == [(2, "Findings"), (4, "Methods")]
    assert cite(where, [1]) == ""  # before the first heading
    assert cite(where, [3]) == "§ Findings"
    assert cite(where, [2, 4]) == "§ Findings; § Methods"
    news = make_article(title="Report", body=body, source="https://news.example.com/story")
    assert locations(news) == []
    plain = make_article(title="Report", body="One. Two.", source="story.txt")
    assert locations(plain) == []
    web_pdf = make_article(
        title="Report", body="## Page 1\n\nOne.\n\n## Page 2\n\nTwo.", source="-"
    )
    assert cite(locations(web_pdf), [2]) == "p. 2"  # pages, from any source


def test_sentences_split_otherwise_are_found_in_the_text() -> None:
    body = "## Page 1\n\nFirst one.\n\n## Page 2\n\nSecond one. Third one."
    article = make_article(title="Report", body=body, source="report.pdf")
    older = article.model_copy(update={"sentences": article.sentences[:1] + article.sentences[2:]})
    assert [(w.first, w.heading) for w in locations(older)] == [(1, "Page 1"), (3, "Page 2")]


# --------------------------------------------------------------------------- end to end


def _pdf(path: Path) -> Path:
    from weasyprint import HTML

    pages = "".join(
        f"<p style='break-before: page'>{' '.join(page)}</p>" if n else f"<p>{' '.join(page)}</p>"
        for n, page in enumerate(PAGES)
    )
    html = f"<html><head><title>Floods hit Lagos</title></head><body>{pages}</body></html>"
    path.write_bytes(bytes(HTML(string=html).write_pdf()))
    return path


def _docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Floods hit Lagos"
    document.add_paragraph(SENTENCES[0])
    document.add_heading("Shelters", level=2)
    document.add_paragraph(SENTENCES[1])
    document.add_heading("Outlook", level=2)
    document.add_paragraph(" ".join(SENTENCES[2:]))
    document.save(str(path))
    return path


def _reply(messages: Sequence[Message]) -> str:
    """The faithful answer, plus a key point resting on the last two sentences."""
    answer = json.loads(faithful_reply(messages[-1].content))
    answer["key_points"].append({"text": SENTENCES[3], "sentence_ids": [3, 4]})
    return json.dumps(answer)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeLLM:
    llm = FakeLLM().enqueue(*[_reply] * 10)
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    return llm


def _summarize(path: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["summarize", str(path), "--no-cache", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _brief(summary: ArticleSummary) -> Briefing:
    assert summary.content is not None
    return Briefing(
        date=dt.date(2026, 11, 30),
        generated_at=dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC),
        provider="fake",
        model="fake-model",
        prompt_version="v",
        sections=[Section(region=summary.content.region, summaries=[summary])],
    )


@pytest.mark.usefixtures("fake")
def test_a_pdf_summary_cites_pages(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "report.pdf")
    out = _summarize(path)
    assert f"- {SENTENCES[0]} (p. 1)" in out
    assert f"- {SENTENCES[2]} (p. 2)" in out
    assert f"- {SENTENCES[3]} (pp. 2–3)" in out
    # the summary keeps where its sentences are: a brief made from its JSON cites them too
    [summary] = [ArticleSummary.model_validate(s) for s in json.loads(_summarize(path, "--json"))]
    md = render_markdown(_brief(summary))
    assert f"- {SENTENCES[2]} (p. 2) [^1]" in md
    html = render_html(_brief(summary))
    assert f'{SENTENCES[3]} <span class="cite">(pp. 2–3)</span>' in html


@pytest.mark.usefixtures("fake")
def test_a_docx_summary_cites_sections(tmp_path: Path) -> None:
    out = _summarize(_docx(tmp_path / "report.docx"))
    assert f"- {SENTENCES[0]}\n" in out  # before the first heading: no section
    assert f"- {SENTENCES[1]} (§ Shelters)" in out
    assert f"- {SENTENCES[2]} (§ Outlook)" in out


@pytest.mark.usefixtures("fake")
def test_a_news_article_cites_nothing(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text(
        "Floods hit Lagos\n\n" + "\n\n".join(SENTENCES[:2]) + "\n\n## Shelters\n\n"
        + "\n\n".join(SENTENCES[2:]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    out = _summarize(path)
    assert SENTENCES[0] in out
    assert "(p. " not in out and "(pp. " not in out and "§" not in out
