"""Real news articles for benchmarks: the hand-checked bodies of the extraction dev corpus.

The corpus (``ground-truth.json``: ``{KEY: {"url": ..., "articleBody": ...}}`` and the
raw pages ``html/KEY.html.gz``, by default ``../shared/devcorpus/extraction`` beside
the repository) is read at run time, never copied into the project. Each page becomes
one plain-text article (title line, blank line, body): the title is the page's
``<title>`` without the site's name (else the URL's last segment).

The 81 pages are repeated to reach the size a benchmark needs. A repeat must stay a
separate article: the run cache keys articles by content, and ingest collapses
near-duplicates (word 5-shingles, Jaccard >= 0.5 or containment >= 0.8), so a marker
in the title alone would leave 81 articles. Each copy after the first is marked in its
title ("(copy 2)") and has one pair of lower-case words swapped in every five (copy
``k`` swaps words ``k - 1`` apart): the same words, sentences and length in tokens,
but almost no 5-shingle in common with the original or another copy.
"""

from __future__ import annotations

import gzip
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = (REPO / ".." / "shared" / "devcorpus" / "extraction").resolve()
#: swap one pair of words in this many words (5-shingles: every window of 5 is hit)
_SWAP_EVERY = 5
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SITE_SEPARATORS = (" | ", " - ", " \u2013 ", " \u2014 ", " : ", " :: ")  # en, em dash


class CorpusMissing(Exception):
    """The real-article corpus is not where it was looked for."""


@dataclass(frozen=True)
class RealArticle:
    key: str
    title: str
    body: str
    url: str

    @property
    def text(self) -> str:
        """The article file's content: title line, blank line, body."""
        return f"{self.title}\n\n{self.body}\n"


def load_real(corpus: Path | None = None) -> list[RealArticle]:
    """The corpus's pages as articles (sorted by key: the same order every run)."""
    directory = Path(corpus) if corpus is not None else DEFAULT_CORPUS
    truth = directory / "ground-truth.json"
    if not truth.is_file():
        raise CorpusMissing(
            f"no real-article corpus at {directory} (looked for {truth.name}): pass "
            "--corpus PATH (a directory holding ground-truth.json, as "
            "../shared/devcorpus/extraction), or make bench CORPUS=PATH"
        )
    pages: dict[str, dict[str, str]] = json.loads(truth.read_text(encoding="utf-8"))
    articles = []
    for key in sorted(pages):
        body = _clean_body(pages[key].get("articleBody") or "")
        if not body:
            continue
        url = pages[key].get("url") or ""
        title = _page_title(directory / "html" / f"{key}.html.gz") or _url_title(url) or key
        articles.append(RealArticle(key, title, body, url))
    if not articles:
        raise CorpusMissing(f"{truth} holds no article bodies")
    return articles


def repeat_to(articles: list[RealArticle], n: int) -> list[RealArticle]:
    """``n`` articles: the given ones, then marked and reshuffled copies (see above)."""
    out: list[RealArticle] = []
    copy = 0
    while len(out) < n:
        for article in articles:
            if len(out) == n:
                break
            if copy == 0:
                out.append(article)
            else:
                out.append(
                    RealArticle(
                        f"{article.key}-copy{copy + 1}",
                        f"{article.title} (copy {copy + 1})",
                        _reshuffle(article.body, copy),
                        article.url,
                    )
                )
        copy += 1
    return out


def write_real(articles: list[RealArticle], directory: Path) -> list[Path]:
    """One ``.txt`` file per article (``0000.txt``...)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, article in enumerate(articles):
        path = directory / f"{i:04d}.txt"
        path.write_text(article.text, encoding="utf-8")
        paths.append(path)
    return paths


def pick_by_length(articles: list[RealArticle], chars: int) -> RealArticle:
    """The article whose file is closest to ``chars`` characters long."""
    return min(articles, key=lambda a: (abs(len(a.text) - chars), a.key))


# -- helpers --------------------------------------------------------------------------------
def _clean_body(body: str) -> str:
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", body)]
    return "\n\n".join(p for p in paragraphs if p)


def _page_title(path: Path) -> str:
    try:
        raw = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    except OSError:
        return ""
    match = _TITLE_RE.search(raw)
    if not match:
        return ""
    title = " ".join(html.unescape(match.group(1)).split())
    for separator in _SITE_SEPARATORS:  # "Story - Site": drop the site's name
        head, found, _ = title.rpartition(separator)
        if found and len(head.split()) >= 3:
            title = head.strip()
            break
    return title


def _url_title(url: str) -> str:
    segment = url.rstrip("/").rsplit("/", 1)[-1]
    segment = re.sub(r"\.\w+$", "", segment)
    words = [w for w in re.split(r"[-_]+", segment) if w and not w.isdigit()]
    return " ".join(words).capitalize()


def _swappable(word: str) -> bool:
    # plain lower-case (or uncased, as Hangul) words: sentence starts, names, numbers and
    # punctuation stay where they are, so sentence splitting and figures do not change
    return word.isalpha() and not word[0].isupper()


def _reshuffle(body: str, copy: int) -> str:
    """``body`` with words swapped: one pair in every ``_SWAP_EVERY`` words; copy ``k``
    swaps words ``k`` apart (copy 2 neighbours, copy 3 every other word...), so no two
    copies agree where they differ from the original."""
    distance = 1 + (copy - 1) % 4
    out = []
    for paragraph in body.split("\n\n"):
        words = paragraph.split(" ")
        i = copy % _SWAP_EVERY
        while i < len(words) - distance:
            j = i + distance
            if _swappable(words[i]) and _swappable(words[j]) and words[i] != words[j]:
                words[i], words[j] = words[j], words[i]
                i += _SWAP_EVERY
                continue
            i += 1
        out.append(" ".join(words))
    return "\n\n".join(out)
