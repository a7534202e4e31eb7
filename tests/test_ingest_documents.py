"""Documents as inputs: PDF (text layer, page markers, scans refused), Word, EPUB,
OpenDocument, RTF, saved e-mails and web pages, each made here by the format's own
tools or by hand; metadata (title, author, date) reaches the Article."""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import briefing.llm
from briefing.cli import cli
from briefing.errors import ExitCode, InputError
from briefing.ingest import load_articles
from briefing.llm.base import Message
from briefing.llm.fake import FakeLLM, faithful_reply

BODY = [
    "Heavy rain flooded large parts of Lagos on Monday, and officials said 12 people died.",
    "The state government opened 40 shelters for families forced from their homes.",
    "Forecasters expect more storms across the coast before the end of the week.",
]
TITLE = "Floods hit Lagos after days of rain"
AUTHOR = "Jane Doe"
CREATED = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- makers


def hand_pdf(pages: Sequence[Sequence[str]], info: dict[str, str] | None = None) -> bytes:
    """A minimal PDF written by hand (another producer than WeasyPrint): one text line
    per string, Helvetica, an /Info dictionary with ``info``."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled below
    pages_id = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    for lines in pages:
        ops = (
            b"BT /F1 11 Tf 14 TL 50 780 Td "
            + b"".join(
                b"(" + line.replace("(", r"\(").replace(")", r"\)").encode("latin-1") + b") Tj T* "
                for line in lines
            )
            + b"ET"
        )
        content = add(b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 842] " % pages_id
            + b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, content)
        ))  # fmt: skip
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))  # fmt: skip
    info_id = None
    if info:
        entries = b" ".join(
            b"/%s (%s)" % (k.encode(), v.encode("latin-1")) for k, v in info.items()
        )
        info_id = add(b"<< " + entries + b" >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info_id:
        trailer += b" /Info %d 0 R" % info_id
    out.write(b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def weasy_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title, props.author, props.created = TITLE, AUTHOR, CREATED.replace(tzinfo=None)
    document.add_paragraph(BODY[0])
    document.add_heading("Shelters open", level=2)
    document.add_paragraph(" ".join(BODY[1:]))
    document.save(str(path))
    return path


def make_epub(path: Path) -> Path:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("floods-2026")
    book.set_title(TITLE)
    book.set_language("en")
    book.add_author(AUTHOR)
    book.add_metadata("DC", "date", "2026-11-30")
    chapters = []
    for n, text in enumerate(BODY, 1):
        chapter = epub.EpubHtml(title=f"Part {n}", file_name=f"part{n}.xhtml", lang="en")
        chapter.content = f"<html><body><h1>Part {n}</h1><p>{text}</p></body></html>"
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    epub.write_epub(str(path), book, {"raise_exceptions": True})
    return path


def make_odt(path: Path) -> Path:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        f"<office:text><text:h>{TITLE}</text:h><text:p>{BODY[0]}</text:p>"
        f"<text:p>{BODY[1]}<text:s/>{BODY[2]}</text:p></office:text></office:body>"
        "</office:document-content>"
    )
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-meta '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"><office:meta>'
        f"<dc:title>{TITLE}</dc:title><dc:creator>{AUTHOR}</dc:creator>"
        "<meta:creation-date>2026-11-30T09:15:00</meta:creation-date></office:meta>"
        "</office:document-meta>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
        z.writestr("meta.xml", meta)
    return path


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (400, 200), (200, 200, 200)).save(out, format="PNG")
    return out.getvalue()


# --------------------------------------------------------------------------- fixtures


def reply(messages: Sequence[Message]) -> str:
    return faithful_reply(messages[-1].content)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeLLM:
    llm = FakeLLM().enqueue(*[reply] * 20)
    monkeypatch.setattr(briefing.llm, "open_llm", lambda *a, **k: llm)
    return llm


def summarize(path: Path) -> Any:
    return CliRunner().invoke(cli, ["summarize", str(path), "--no-cache"])


# --------------------------------------------------------------------------- summarize


def test_summarize_a_weasyprint_pdf(fake: FakeLLM, tmp_path: Path) -> None:
    html = (
        f"<html><head><title>{TITLE}</title><meta name=author content='{AUTHOR}'></head>"
        f"<body><p>{BODY[0]} {BODY[1]}</p>"
        f"<p style='page-break-before: always'>{BODY[2]}</p></body></html>"
    )
    path = tmp_path / "report.pdf"
    path.write_bytes(weasy_pdf(html))
    result = summarize(path)
    assert result.exit_code == 0, result.output
    assert TITLE in result.stdout
    [article] = load_articles([path])
    assert article.byline == AUTHOR and article.language == "en"
    assert "## Page 1" in article.text and "## Page 2" in article.text
    assert article.text.index("## Page 2") > article.text.index("12 people died")
    assert [s.text for s in article.sentences] == BODY  # page markers are no sentences


def test_summarize_a_hand_made_pdf_with_metadata(fake: FakeLLM, tmp_path: Path) -> None:
    info = {"Title": TITLE, "Author": AUTHOR, "CreationDate": "D:20261130091500Z"}
    path = tmp_path / "ruling.pdf"
    path.write_bytes(hand_pdf([BODY[:2], BODY[2:]], info))
    result = summarize(path)
    assert result.exit_code == 0, result.output
    assert TITLE in result.stdout
    [article] = load_articles([path])
    assert (article.title, article.byline, article.published) == (TITLE, AUTHOR, CREATED)
    assert article.text.count("## Page ") == 2


def test_summarize_a_docx(fake: FakeLLM, tmp_path: Path) -> None:
    path = make_docx(tmp_path / "story.docx")
    result = summarize(path)
    assert result.exit_code == 0, result.output
    assert TITLE in result.stdout
    [article] = load_articles([path])
    assert (article.title, article.byline, article.published) == (TITLE, AUTHOR, CREATED)
    assert "## Shelters open" in article.text


def test_summarize_an_epub(fake: FakeLLM, tmp_path: Path) -> None:
    path = make_epub(tmp_path / "book.epub")
    result = summarize(path)
    assert result.exit_code == 0, result.output
    assert TITLE in result.stdout
    [article] = load_articles([path])
    assert (article.title, article.byline) == (TITLE, AUTHOR)
    assert article.published == dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    assert [s.text for s in article.sentences] == BODY  # chapters in spine order
    assert "## Part 2" in article.text


def test_scanned_pdf_exits_4_and_says_why(fake: FakeLLM, tmp_path: Path) -> None:
    image = base64.b64encode(png_bytes()).decode()
    path = tmp_path / "scan.pdf"
    path.write_bytes(weasy_pdf(f"<img src='data:image/png;base64,{image}'>"))
    result = summarize(path)
    assert result.exit_code == ExitCode.INPUT == 4
    assert "no text layer" in result.stderr and "OCR" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert fake.calls == []


# --------------------------------------------------------------------------- more formats


def test_odt_rtf_eml_and_mhtml_give_articles(tmp_path: Path) -> None:
    odt = make_odt(tmp_path / "a.odt")
    rtf = tmp_path / "b.rtf"
    rtf.write_text(
        "{\\rtf1\\ansi{\\info{\\title " + TITLE + "}{\\author " + AUTHOR + "}"
        "{\\creatim\\yr2026\\mo11\\dy30\\hr9\\min15}}"
        + "".join(f"\\pard {s}\\par\n" for s in BODY).replace("Lagos", "Lag\\'f4s")
        + "}"
    )
    eml = tmp_path / "c.eml"
    eml.write_text(
        f"From: {AUTHOR} <jane@example.org>\nTo: desk@example.org\nSubject: {TITLE}\n"
        "Date: Mon, 30 Nov 2026 09:15:00 +0000\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n" + "\n".join(BODY) + "\n"
    )
    page = (
        f"<html><head><title>{TITLE}</title></head><body><article><h1>{TITLE}</h1>"
        + "".join(f"<p>{s}</p>" for s in BODY)
        + "</article></body></html>"
    )
    mhtml = tmp_path / "d.mhtml"
    mhtml.write_text(
        "From: <Saved by Blink>\nSnapshot-Content-Location: https://news.example.org/floods\n"
        f"Subject: {TITLE}\nDate: Mon, 30 Nov 2026 09:15:00 +0000\nMIME-Version: 1.0\n"
        'Content-Type: multipart/related; type="text/html"; boundary="XX"\n\n'
        "--XX\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n"
        "Content-Location: https://news.example.org/floods\n\n" + page + "\n--XX--\n"
    )
    articles = load_articles([odt, rtf, eml, mhtml])
    assert [a.title for a in articles] == [TITLE] * 4
    assert [a.byline for a in articles[:3]] == [AUTHOR] * 3
    assert all(a.published == CREATED for a in articles)
    assert all(len(a.sentences) == 3 for a in articles)
    assert "Lagôs" in articles[1].text
    assert articles[3].url == "https://news.example.org/floods"


def test_documents_are_sniffed_from_stdin_and_wrong_names(fake: FakeLLM, tmp_path: Path) -> None:
    data = hand_pdf([BODY], {"Title": TITLE})
    result = CliRunner().invoke(cli, ["summarize", "-", "--no-cache"], input=data)
    assert result.exit_code == 0, result.output
    assert TITLE in result.stdout
    misnamed = tmp_path / "story.txt"
    misnamed.write_bytes(make_docx(tmp_path / "x.docx").read_bytes())
    [article] = load_articles([misnamed])
    assert article.title == TITLE


def test_directories_read_documents_and_include_globs_pick_them(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    make_docx(tmp_path / "in" / "a.docx")
    (tmp_path / "in" / "b.pdf").write_bytes(hand_pdf([BODY], {"Title": "Port strike ends"}))
    assert {a.title for a in load_articles([tmp_path / "in"])} == {TITLE, "Port strike ends"}
    only = load_articles([tmp_path / "in"], include=["*.pdf"])
    assert [a.title for a in only] == ["Port strike ends"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "PDF"),
        ("broken.docx", b"PK\x03\x04" + b"\x00" * 40, "ZIP"),
        ("empty.pdf", None, "no text layer"),
    ],
)
def test_unreadable_documents_are_one_line_input_errors(
    tmp_path: Path, name: str, data: bytes | None, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data if data is not None else hand_pdf([[]]))
    with pytest.raises(InputError, match=message) as info:
        load_articles([path])
    assert "\n" not in str(info.value)


def test_size_cap_applies_to_documents(tmp_path: Path) -> None:
    path = tmp_path / "big.pdf"
    path.write_bytes(hand_pdf([BODY] * 50))
    with pytest.raises(InputError, match="over the"):
        load_articles([path], max_bytes=1000)
