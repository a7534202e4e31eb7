"""A corpus of bad inputs: each must become one typed, one-line InputError naming the
input (or, for odd but readable text, an article), never a crash, a hang or a blow-up
in memory, and never harm the good inputs read with it.

Every input is generated in ``tmp_path``. Sizes are chosen so that a quadratic
algorithm or an unbounded read would hang or exhaust memory rather than pass.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import random
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefing.cli import cli
from briefing.errors import ConfigError, ExitCode, InputError
from briefing.ingest import files, load_articles, load_path
from briefing.llm.fake import FakeLLM
from briefing.pipeline import load, make_brief
from briefing.render import render_html, render_markdown

GOOD_A = (
    "Floods hit Lagos\n\nHeavy rain flooded parts of Lagos in Nigeria on Sunday. "
    "More rain is forecast for Monday, the weather service said.\n"
)
GOOD_B = (
    "Port of Mombasa reopens\n\nThe port of Mombasa in Kenya reopened on Tuesday after a "
    "two-day strike. Ships that had waited offshore began to unload.\n"
)
MB = 1024 * 1024


# --------------------------------------------------------------------------- makers
# Each maker creates one bad input under a directory and returns its path.


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def make_empty(d: Path) -> Path:
    return _write(d / "empty.txt", b"")


def make_blank(d: Path) -> Path:
    return _write(d / "blank.md", b" \r\n\t\n  \n")


def make_random(d: Path) -> Path:
    return _write(d / "random.txt", random.Random(8).randbytes(64 * 1024))


def make_random_no_nul(d: Path) -> Path:  # binary without a NUL byte: control bytes give it away
    rnd = random.Random(4)
    return _write(d / "noise.txt", bytes(rnd.randrange(1, 256) for _ in range(16 * 1024)))


def make_png(d: Path) -> Path:
    return _write(d / "photo.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))


def make_elf(d: Path) -> Path:
    return _write(d / "tool.txt", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)


def make_huge(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    path = d / "huge.txt"
    with path.open("wb") as fh:  # sparse: 25 MB on paper, nothing on disk
        fh.truncate(25 * MB)
    return path


def make_bad_gzip(d: Path) -> Path:
    return _write(d / "broken.txt.gz", b"\x1f\x8b\x08\x00" + b"this is not deflate data" * 4)


def make_truncated_gzip(d: Path) -> Path:
    return _write(d / "cut.txt.gz", gzip.compress(GOOD_A.encode() * 50, mtime=0)[:-30])


def make_bad_crc_gzip(d: Path) -> Path:
    data = bytearray(gzip.compress(GOOD_A.encode(), mtime=0))
    data[-8] ^= 0xFF  # the CRC-32 of the trailer
    return _write(d / "crc.txt.gz", bytes(data))


def make_gzip_bomb(d: Path, total: int = 1024 * MB) -> Path:
    """~1 MB on disk, ``total`` bytes inflated: many copies of one highly compressed
    member (a valid multi-member gzip file)."""
    member = gzip.compress(b"A" * (8 * MB), compresslevel=9, mtime=0)
    return _write(d / "bomb.txt.gz", member * (total // (8 * MB)))


def make_double_gzip(d: Path) -> Path:
    return _write(d / "twice.txt.gz", gzip.compress(gzip.compress(GOOD_A.encode())))


def make_nested_html(d: Path, depth: int = 100_000) -> Path:
    body = "<p>The only text of this page sits below every one of these divs in Lagos.</p>"
    page = f"<html><body>{'<div>' * depth}{body}{'</div>' * depth}</body></html>"
    return _write(d / "nested.html", page)


def make_file_loop(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "loop.txt").symlink_to("loop.txt")
    return d / "loop.txt"


def make_dangling(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "dangling.txt").symlink_to(d / "gone" / "story.txt")
    return d / "dangling.txt"


def make_fifo(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    os.mkfifo(d / "pipe.txt")  # reading it would block forever: no writer
    return d / "pipe.txt"


def make_device_link(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "zero.txt").symlink_to("/dev/zero")  # size 0, endless content
    return d / "zero.txt"


Maker = Callable[[Path], Path]
#: (maker, what the one-line message must say)
BAD: dict[str, tuple[Maker, str]] = {
    "empty": (make_empty, "is empty"),
    "blank": (make_blank, "is empty"),
    "random bytes": (make_random, "binary"),
    "random bytes without NUL": (make_random_no_nul, "binary"),
    "PNG named .html": (make_png, "is an image"),
    "ELF named .txt": (make_elf, "is a program"),
    "over the size limit": (make_huge, "is 25 MB, over the 20 MB limit; split it"),
    "malformed gzip": (make_bad_gzip, "not a valid gzip file"),
    "truncated gzip": (make_truncated_gzip, "not a valid gzip file"),
    "gzip with a bad CRC": (make_bad_crc_gzip, "not a valid gzip file"),
    "gzip bomb": (make_gzip_bomb, "decompresses to more than the 20 MB limit"),
    "gzip inside gzip": (make_double_gzip, "compressed twice"),
    "100,000 nested divs": (make_nested_html, "more than 255 levels deep"),
}
if hasattr(os, "symlink"):
    BAD["symbolic link loop"] = (make_file_loop, "symbolic link loop")
    BAD["dangling symbolic link"] = (make_dangling, "broken symbolic link")
if hasattr(os, "mkfifo"):
    BAD["named pipe"] = (make_fifo, "not a regular file (a named pipe)")
if hasattr(os, "symlink") and Path("/dev/zero").exists():
    BAD["link to /dev/zero"] = (make_device_link, "not a regular file (a device)")


def _assert_one_line_naming(message: str, path: Path) -> None:
    assert "\n" not in message and "\r" not in message, message
    assert str(path) in message, message


# --------------------------------------------------------------------------- one at a time


@pytest.mark.parametrize("case", list(BAD))
def test_each_bad_input_alone_is_one_line_input_error(tmp_path: Path, case: str) -> None:
    maker, expected = BAD[case]
    path = maker(tmp_path)
    with pytest.raises(InputError) as info:
        load_articles([path])
    assert expected in str(info.value)
    _assert_one_line_naming(str(info.value), path)
    with pytest.raises(InputError) as info:
        load_path(path)
    assert expected in str(info.value)
    _assert_one_line_naming(str(info.value), path)


@pytest.mark.parametrize("case", list(BAD))
def test_each_bad_input_alone_exits_4_with_one_line(tmp_path: Path, case: str) -> None:
    maker, expected = BAD[case]
    path = maker(tmp_path)
    result = CliRunner().invoke(cli, ["extract", str(path)])
    assert result.exit_code == ExitCode.INPUT, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("briefing: error: ") and result.stderr.count("\n") == 1
    assert expected in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a" * 300 + ".txt", "the path is too long"),
        ("bad\x00name.txt", "not a valid path"),
        ("missing.txt", "no such file or directory"),
        ("missing\nsecond line.txt", "no such file or directory"),
    ],
)
def test_impossible_paths_are_input_errors(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        load_articles([tmp_path / name])
    assert "\n" not in str(info.value)  # a newline in a file name is shown escaped


# --------------------------------------------------------------------------- size and memory


def test_size_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    story = _write(tmp_path / "story.txt", GOOD_A + "Another sentence is here. " * 100)
    assert story.stat().st_size > 2048
    monkeypatch.setenv("BRIEFING_MAX_INPUT_MB", "0.002")  # 2 KB
    with pytest.raises(InputError, match=r"story\.txt is 2\.\d KB, over the 2 KB limit; split"):
        load_articles([story])
    with pytest.raises(InputError, match="or raise BRIEFING_MAX_INPUT_MB"):
        load_path(story)
    assert load_articles([story], max_bytes=MB)  # the argument wins
    monkeypatch.setenv("BRIEFING_MAX_INPUT_MB", "1")
    assert load_articles([story])[0].title == "Floods hit Lagos"


@pytest.mark.parametrize("value", ["abc", "0", "-3", "nan", "inf"])
def test_bad_size_limit_setting_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    story = _write(tmp_path / "story.txt", GOOD_A)
    monkeypatch.setenv("BRIEFING_MAX_INPUT_MB", value)
    with pytest.raises(ConfigError, match="BRIEFING_MAX_INPUT_MB: expected a positive number"):
        load_articles([story])


def _peak_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
    except InputError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_gzip_bomb_is_stopped_while_streaming(tmp_path: Path) -> None:
    bomb = make_gzip_bomb(tmp_path, total=1024 * MB)
    assert bomb.stat().st_size < 2 * MB  # 1 GiB inflated
    with pytest.raises(InputError, match="decompresses to more than the 20 MB limit"):
        load_articles([bomb])
    # never inflated whole: about the limit (twice, with the read buffer), not 1 GiB
    assert _peak_bytes(lambda: load_articles([bomb])) < 64 * MB


def test_single_stream_gzip_bomb_under_a_small_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # one gzip member, one stream
    chunk = b"B" * MB
    data = b"".join(compressor.compress(chunk) for _ in range(64)) + compressor.flush()
    bomb = _write(tmp_path / "deep.md.gz", data)
    monkeypatch.setenv("BRIEFING_MAX_INPUT_MB", "1")
    with pytest.raises(InputError, match="deep.md.gz decompresses to more than the 1 MB"):
        load_articles([bomb])
    assert _peak_bytes(lambda: load_articles([bomb])) < 8 * MB  # of 64 MB inflated


def test_gzip_just_under_the_limit_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_BYTES", len(GOOD_A.encode()))
    exact = _write(tmp_path / "exact.txt.gz", gzip.compress(GOOD_A.encode()))
    assert load_articles([exact])[0].title == "Floods hit Lagos"
    over = _write(tmp_path / "over.txt.gz", gzip.compress(GOOD_A.encode() + b"x"))
    with pytest.raises(InputError, match="limit"):
        load_articles([over])


# --------------------------------------------------------------------------- encodings


CAFE = "Caf\u00e9 owners in Z\u00fcrich protest\n\nThe caf\u00e9 owners marched.\n"


@pytest.mark.parametrize(
    ("encoded", "warning"),
    [
        (CAFE.encode("latin-1"), "cp1252"),
        (CAFE.encode("utf-16"), None),
        (b"\xfe\xff" + CAFE.encode("utf-16-be"), None),
        (CAFE.encode("utf-32"), None),
        (CAFE.encode("utf-16-le"), "utf-16-le"),
    ],
    ids=["latin-1", "utf-16 BOM", "utf-16-be BOM", "utf-32 BOM", "utf-16 no BOM"],
)
def test_non_utf8_text_is_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, encoded: bytes, warning: str | None
) -> None:
    path = _write(tmp_path / "cafe.txt", encoded)
    with caplog.at_level(logging.WARNING, logger="briefing.ingest.files"):
        [article] = load_articles([path])
    assert article.title == "Caf\u00e9 owners in Z\u00fcrich protest"
    assert article.text == "The caf\u00e9 owners marched."
    if warning:
        assert warning in caplog.text and str(path) in caplog.text
    else:
        assert caplog.text == ""


def test_utf8_with_a_few_invalid_bytes_stays_utf8(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = (
        "Caf\u00e9 owners in Z\u00fcrich protest\n\nThe caf\u00e9 owners marched \u2014 "
        "peacefully.\n"
    ).encode()
    path = _write(tmp_path / "mixed.txt", data.replace(b"marched", b"mar\xffched\x80"))
    with caplog.at_level(logging.WARNING, logger="briefing.ingest.files"):
        [article] = load_articles([path])
    assert article.title == "Caf\u00e9 owners in Z\u00fcrich protest"  # not "CafÃ©"
    assert article.text == "The caf\u00e9 owners mar\ufffdched\ufffd \u2014 peacefully."
    assert "2 invalid UTF-8 byte(s)" in caplog.text


def test_stray_control_characters_are_dropped(tmp_path: Path) -> None:
    text = (
        "Floods\x07 hit Lagos\x1b\n\nHeavy rain flooded Lagos on Sunday.\x7f More rain. "
        + "It rained again. " * 600
        + "It\x00 stopped.\n"  # a NUL after the first 8 KB; under 1% control bytes
    )
    [article] = load_articles([_write(tmp_path / "bell.txt", text)])
    assert article.title == "Floods hit Lagos"
    assert article.text.startswith("Heavy rain flooded Lagos on Sunday. More rain. It rained")
    assert article.text.endswith("again. It stopped.")


# --------------------------------------------------------------------------- deep HTML


def test_deep_html_below_the_parser_limit_is_read(tmp_path: Path) -> None:
    path = make_nested_html(tmp_path, depth=200)
    [article] = load_articles([path])
    assert "below every one of these divs" in article.text


def test_deep_html_with_text_above_the_nesting_is_read(tmp_path: Path) -> None:
    story = (
        "<article><h1>Floods hit Lagos</h1><p>Heavy rain flooded parts of Lagos in Nigeria on "
        "Sunday, and more is forecast for Monday.</p><p>Officials opened three shelters in the "
        "city and asked people near the lagoon to leave.</p></article>"
    )
    nested = "<div>" * 100_000 + "deep" + "</div>" * 100_000
    path = _write(tmp_path / "page.html", f"<html><body>{story}{nested}</body></html>")
    [article] = load_articles([path])
    assert article.title == "Floods hit Lagos"
    assert "three shelters" in article.text


def test_json_ld_nested_too_deep_is_ignored(tmp_path: Path) -> None:
    ld = "[" * 100_000 + "]" * 100_000
    page = (
        f'<html><head><script type="application/ld+json">{ld}</script>'
        '<script type="application/ld+json">'
        + '{"@graph": [' * 5000
        + "{}"
        + "]}" * 5000
        + "</script>"
        "</head><body><article><h1>Floods hit Lagos</h1><p>Heavy rain flooded parts of Lagos "
        "in Nigeria on Sunday, and more is forecast for Monday.</p></article></body></html>"
    )
    [article] = load_articles([_write(tmp_path / "ld.html", page)])
    assert article.title == "Floods hit Lagos"


# --------------------------------------------------------------------------- long lines


@pytest.mark.parametrize(
    ("unit", "sentences"),
    [
        ("word ", 1),  # one 512 KB sentence
        (".", 1),  # a run of dots: once quadratic in the sentence splitter
        ("!?", 1),
        ("word\n", 1),  # hard-wrapped lines joined: once quadratic (string concatenation)
        ("A. ", 1),  # initials never end a sentence
        ("It rained. ", 512 * 1024 // len("It rained. ")),  # 47,662 sentences
    ],
    ids=["words", "dots", "bangs", "wrapped lines", "initials", "short sentences"],
)
def test_half_megabyte_line_is_split_in_linear_time(
    tmp_path: Path, unit: str, sentences: int
) -> None:
    """A quadratic step would take hours on these (not asserted as a time: it hangs)."""
    body = unit * (512 * 1024 // len(unit))
    path = _write(tmp_path / "line.txt", "One long line\n\n" + body)
    [article] = load_articles([path])
    assert article.title == "One long line"
    assert len(article.sentences) == sentences
    assert len(article.text) == len(" ".join(body.split()))


def test_title_of_a_huge_html_title_is_capped(tmp_path: Path) -> None:
    title = "Floods " * 20_000
    page = (
        f"<html><head><title>{title}</title></head><body><article><p>Heavy rain flooded parts "
        "of Lagos in Nigeria on Sunday, and more is forecast for Monday.</p></article></body>"
        "</html>"
    )
    [article] = load_articles([_write(tmp_path / "t.html", page)])
    assert len(article.title) <= files.MAX_TITLE_CHARS
    assert article.title.endswith("Floods\u2026")


# --------------------------------------------------------------------------- hostile titles

HOSTILE = '<script>alert("x")</script> Floods "hit" Lagos & \'Accra\''


def _hostile_inputs(d: Path) -> None:
    _write(d / "a.txt", f"{HOSTILE}\n\n{GOOD_A.split(chr(10), 2)[2]}")
    _write(
        d / "b.html",
        b'<html><head><meta property="og:title" content="Storm&#13;&#10; hits &lt;script&gt;'
        b'alert(1)&lt;/script&gt; &quot;Dakar&quot;&#13;"><title>x</title></head><body><article>'
        b"<h1>Storm hits</h1><p>A storm hit Dakar in Senegal on Monday and tore roofs off "
        b"dozens of homes near the port.</p><p>Officials said the clean-up would take a week "
        b"and schools would stay closed.</p></article></body></html>",
    )
    _write(
        d / "c.rss",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><item><title>'
        '<![CDATA[Quake <script>alert(2)</script> "shakes"\r\n Lima\r]]></title><description>'
        "An earthquake shook Lima in Peru on Tuesday. No damage was reported by the "
        "authorities.</description></item></channel></rss>",
    )


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_hostile_titles_are_plain_text_in_articles_and_output(tmp_path: Path) -> None:
    from seed_brief import faithful_reply

    _hostile_inputs(tmp_path)
    loaded = load([tmp_path])
    titles = [a.title for a in loaded.articles]
    storm = 'Storm hits <script>alert(1)</script> "Dakar"'
    assert titles == [HOSTILE, storm, 'Quake "shakes" Lima']  # plain text, one line each
    assert not loaded.problems

    llm = FakeLLM().enqueue(*[faithful_reply(a, 3) for a in loaded.articles])
    run = make_brief(loaded, llm, synthesize=False, concurrency=1)
    markdown = render_markdown(run.briefing)
    assert "<script>" not in markdown  # escaped: \<script\>
    for title in (HOSTILE, storm):
        escaped = title.replace("<", r"\<").replace(">", r"\>")
        assert any(escaped in line for line in markdown.splitlines()), escaped
    assert markdown.count("\r") == 0

    document = render_html(run.briefing)
    parsed = _Tags()
    parsed.feed(document)
    parsed.close()
    assert "script" not in parsed.tags
    text = " ".join("".join(parsed.text).split())
    assert HOSTILE in text and storm in text and 'Quake "shakes" Lima' in text


# --------------------------------------------------------------------------- all together


@pytest.fixture
def mixed_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[Path]]]:
    """Two good articles, every bad input, a harmless directory loop, and a file that is
    deleted after the directory was listed and before it is read."""
    d = tmp_path / "inbox"
    _write(d / "good" / "a.txt", GOOD_A)
    _write(d / "good" / "b.txt", GOOD_B)
    bad = [maker(d / "bad") for maker, _ in BAD.values()]
    if hasattr(os, "symlink"):
        (d / "good" / "again").symlink_to(d, target_is_directory=True)  # walked once
    vanishing = _write(d / "bad" / "vanishing.txt", GOOD_A.replace("Lagos", "Accra"))
    bad.append(vanishing)
    walk = files._walk

    def walk_then_delete(*args: object, **kwargs: object) -> list[object]:
        found = walk(*args, **kwargs)  # type: ignore[arg-type]
        vanishing.unlink(missing_ok=True)
        return found  # type: ignore[return-value]

    monkeypatch.setattr(files, "_walk", walk_then_delete)
    yield d, bad


def test_mixed_directory_keeps_the_good_articles(mixed_dir: tuple[Path, list[Path]]) -> None:
    d, bad = mixed_dir
    loaded = load([d])
    assert sorted(a.title for a in loaded.articles) == [
        "Floods hit Lagos",
        "Port of Mombasa reopens",
    ]
    assert sorted(p.source for p in loaded.problems) == sorted(str(p) for p in bad)
    by_source = {p.source: p.message for p in loaded.problems}
    for path in bad:
        _assert_one_line_naming(by_source[str(path)], path)
    vanished = by_source[str(d / "bad" / "vanishing.txt")]
    assert "disappeared before it could be read" in vanished


def test_cli_extract_of_mixed_directory_lists_each_bad_file(
    mixed_dir: tuple[Path, list[Path]],
) -> None:
    d, bad = mixed_dir
    result = CliRunner().invoke(cli, ["extract", str(d)])
    assert result.exit_code == 0, result.output
    assert "# Floods hit Lagos" in result.stdout and "# Port of Mombasa reopens" in result.stdout
    skipped = [line for line in result.stderr.splitlines() if line.startswith("briefing: skipped")]
    assert len(skipped) == len(bad), result.stderr
    for path in bad:
        assert sum(str(path) in line for line in skipped) == 1, path
    assert "Traceback" not in result.output


@pytest.mark.skipif(os.open not in os.supports_dir_fd, reason="needs dir_fd")
def test_directory_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    depth = 1200  # nested directories "d/d/d/...": a recursive walk raises RecursionError
    fds = [os.open(tmp_path, os.O_RDONLY)]
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fds[-1])
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        story = os.open("a.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fds[-1])
        os.write(story, GOOD_A.encode())
        os.close(story)
        [article] = load_articles([tmp_path])
        assert article.title == "Floods hit Lagos"
        assert article.source == str(tmp_path) + "/d" * depth + "/a.txt"
    finally:  # bottom up, without recursion (pytest's own clean-up would recurse)
        with contextlib.suppress(FileNotFoundError):
            os.unlink("a.txt", dir_fd=fds[-1])
        for parent in reversed(fds[:-1]):
            os.rmdir("d", dir_fd=parent)
        for fd in fds:
            os.close(fd)


def test_file_deleted_by_an_earlier_error_handler(tmp_path: Path) -> None:
    _write(tmp_path / "a_empty.txt", "")
    later = _write(tmp_path / "b_story.txt", GOOD_A)
    seen: list[tuple[str, str]] = []

    def on_error(source: str, error: InputError) -> None:
        seen.append((source, str(error)))
        later.unlink(missing_ok=True)  # gone after the listing, before its read

    assert load_articles([tmp_path], on_error=on_error) == []
    assert [s for s, _ in seen] == [str(tmp_path / "a_empty.txt"), str(later)]
    assert "disappeared before it could be read" in seen[1][1]


def test_unlistable_subdirectory_is_reported_and_the_rest_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "ok" / "a.txt", GOOD_A)
    locked = tmp_path / "locked"
    _write(locked / "b.txt", GOOD_B)
    scandir = os.scandir

    def guarded(path: str | os.PathLike[str] = ".") -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", guarded)
    loaded = load([tmp_path])
    assert [a.title for a in loaded.articles] == ["Floods hit Lagos"]
    [problem] = loaded.problems
    assert problem.source == str(locked)
    assert problem.message == (
        f"{locked}: cannot list this directory (Permission denied); check its permissions"
    )


def test_a_parser_crash_is_confined_to_its_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import briefing.ingest.html as html

    def explode(*args: object, **kwargs: object) -> list[object]:
        raise RecursionError("maximum recursion depth exceeded\nin a parser")

    monkeypatch.setattr(html, "parse_html", explode)
    page = _write(tmp_path / "page.html", "<html><body><p>Hi</p></body></html>")
    _write(tmp_path / "story.txt", GOOD_A)
    loaded = load([tmp_path])
    assert [a.title for a in loaded.articles] == ["Floods hit Lagos"]
    [problem] = loaded.problems
    assert problem.message == (
        f"{page}: could not be read (RecursionError: maximum recursion depth exceeded); "
        "skipped it, please report this file"
    )
    monkeypatch.setenv("BRIEFING_RAISE_ERRORS", "1")
    with pytest.raises(RecursionError):
        load([tmp_path])


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_link_to_a_directory_outside_the_input_is_reported_not_followed(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "elsewhere"
    _write(outside / "far.txt", GOOD_B)
    inbox = tmp_path / "inbox"
    _write(inbox / "a.txt", GOOD_A)
    _write(inbox / "sub" / "c.txt", GOOD_B.replace("Lagos", "Kano"))
    (inbox / "root").symlink_to("/", target_is_directory=True)
    (inbox / "far").symlink_to(outside, target_is_directory=True)
    (inbox / "inner").symlink_to(inbox / "sub", target_is_directory=True)  # inside: read once
    loaded = load([str(inbox)])
    assert sorted(Path(a.source).name for a in loaded.articles) == ["a.txt", "c.txt"]
    messages = sorted(p.message for p in loaded.problems)
    assert len(messages) == 2
    assert all("a link to a directory outside" in m and "not followed" in m for m in messages)
    # the directory itself, passed explicitly, is read
    assert [Path(a.source).name for a in load([str(inbox / "far")]).articles] == ["far.txt"]
