"""Extract the main article (body text and metadata) from one HTML page.

``parse_html`` decodes the bytes (BOM, ``<meta charset>``, UTF-8, then a guess), reads
the metadata (JSON-LD, Open Graph, ``<meta>``/``<link>`` tags, trafilatura's own
reader) and extracts the body with trafilatura in precision mode, around which it fixes
the classes of pages where the library alone fails:

- boilerplate blocks trafilatura keeps: "Read more:"/"Related:" promo lines, newsletter
  and follow-us boxes, share prompts, comment counters, the headline repeated as the
  first line of the body and page chrome extracted before it (short lines, not prose);
- end matter: a reading-time or dated byline line first, reporting credits, copyright
  lines and the author's bio last (only short lines of these shapes, at the ends);
- bodies cut off by markup: an article body split over several sibling containers
  with the same class (ad slots between them), and text written straight into a
  ``<div>`` between ``<br>`` tags instead of paragraphs;
- over-eager precision: when the precision run returns much less than a plain run
  on the same page, and the plain run keeps what the precision run found, the plain
  run (with the same line filters) is used instead.

A fix-up that can discard much of what the extractor found needs strong evidence: a
replacement must contain the text it replaces (:func:`_covers`), and "related story"
links are dropped only when teaser-sized (:func:`_is_teaser`), so a body that a stray
``<a>`` wraps is kept.

trafilatura is imported lazily: importing this module stays cheap.
"""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from briefing.errors import InputError
from briefing.models import Article

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = ["decode_html", "parse_html"]

# --------------------------------------------------------------------------- decoding

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)


def _codec(name: str | None) -> str | None:
    """The Python codec for an encoding label, or ``None`` if unknown."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    # WHATWG: these labels mean windows-1252 in practice; utf-16 in a meta tag is a lie.
    label = {"iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252"}.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(data: bytes | str, encoding: str | None = None) -> str:
    """Decode HTML bytes: BOM, then ``encoding`` (e.g. from HTTP), meta charset, UTF-8, guess."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace")
    candidates = [_codec(encoding)]
    match = _META_CHARSET.search(data[:8192])
    if match:
        declared = _codec(match.group(1).decode("ascii", "replace"))
        candidates.append(None if declared and declared.startswith("utf-16") else declared)
    candidates.append("utf-8")
    for candidate in candidates:
        if candidate:
            try:
                return data.decode(candidate)
            except UnicodeDecodeError:
                continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None:
            return str(best)
    except ImportError:  # pragma: no cover - charset_normalizer ships with httpx's deps
        pass
    return data.decode("cp1252", errors="replace")


# --------------------------------------------------------------------------- metadata


@dataclass
class _Meta:
    title: str | None = None
    byline: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: dt.datetime | None = None
    language: str | None = None
    description: str | None = None


_ARTICLE_TYPES = re.compile(r"Article|BlogPosting|Report|WebPage|LiveBlogPosting", re.I)


def _json_ld(tree: HtmlElement) -> list[dict[str, Any]]:
    """All JSON-LD objects of the page, flattened (``@graph`` and lists opened).

    Iterative, and JSON nested too deep to decode is skipped: a hostile page's
    ``[[[[...]]]]`` cannot raise RecursionError."""
    found: list[dict[str, Any]] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            stack: list[Any] = [json.loads(raw, strict=False)]
        except (ValueError, RecursionError):
            continue
        while stack:  # depth first, in document order
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                found.append(node)
                if "@graph" in node:
                    stack.append(node["@graph"])
    return found


def _types(obj: dict[str, Any]) -> str:
    kind = obj.get("@type", "")
    return " ".join(kind) if isinstance(kind, list) else str(kind)


def _names(value: Any) -> list[str]:
    """Names from a schema.org person/organization value (string, object or list)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for item in value for n in _names(item)]
    return []


def _parse_datetime(value: str | None) -> dt.datetime | None:
    """An ISO-8601-ish date or date-time; naive values are taken as UTC."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    text = re.sub(r"^(\d{4}-\d\d-\d\d)\s+(\d)", r"\1T\2", text)
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)  # +0100 -> +01:00
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        match = re.match(r"\d{4}-\d\d-\d\d", text)
        if not match:
            return None
        try:
            parsed = dt.datetime.fromisoformat(match.group(0))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _first(values: Iterable[str | None]) -> str | None:
    for value in values:
        if value and value.strip():
            return " ".join(value.split())
    return None


def _meta_content(tree: HtmlElement, *keys: str) -> str | None:
    values = []
    for key in keys:
        values += tree.xpath(f'//meta[@property="{key}" or @name="{key}" or @itemprop="{key}"]')
    return _first(el.get("content") for el in values)


def _language(tree: HtmlElement, ld: dict[str, Any]) -> str | None:
    raw = _first(
        [
            tree.get("lang"),
            tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
            ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else None,
            _meta_content(tree, "og:locale", "content-language", "language"),
            _first(tree.xpath("//meta[@http-equiv]/@content[../@http-equiv='content-language']")),
        ]
    )
    if not raw:
        return None
    match = re.match(r"[A-Za-z]{2,3}", raw.strip())
    return match.group(0).lower() if match else None


def _metadata(tree: HtmlElement, url: str | None) -> _Meta:
    from trafilatura import extract_metadata

    objects = _json_ld(tree)
    articles = [o for o in objects if _ARTICLE_TYPES.search(_types(o))]
    articles.sort(key=lambda o: "Article" not in _types(o) and "Posting" not in _types(o))
    ld: dict[str, Any] = articles[0] if articles else {}
    try:
        doc = extract_metadata(tree, default_url=url, extensive=False)
    except Exception:  # trafilatura's metadata reader is best-effort
        doc = None
    publisher = ld.get("publisher")

    title = _first(
        [
            _meta_content(tree, "og:title", "twitter:title"),
            ld.get("headline") if isinstance(ld.get("headline"), str) else None,
            doc.title if doc else None,
            _first(tree.xpath("//title/text()")),
        ]
    )
    authors = _names(ld.get("author"))
    byline = ", ".join(dict.fromkeys(authors)) if authors else None
    byline = byline or _first([_meta_content(tree, "author", "article:author", "byl")])
    if byline and re.match(r"https?://", byline):
        byline = None
    byline = byline or (doc.author if doc else None)
    if byline:
        byline = re.sub(r"^by\s+", "", byline, flags=re.I)

    outlet = _first(
        [
            _meta_content(tree, "og:site_name", "application-name"),
            _first(_names(publisher)),
            doc.sitename if doc else None,
        ]
    )
    canonical = _first(tree.xpath('//link[@rel="canonical"]/@href')) or _meta_content(
        tree, "og:url"
    )
    if canonical:
        canonical = urljoin(url, canonical) if url else canonical
        if not re.match(r"https?://", canonical):
            canonical = None
    published = None
    for raw in (
        ld.get("datePublished"),
        _meta_content(
            tree,
            "article:published_time",
            "datePublished",
            "og:article:published_time",
            "pubdate",
            "publishdate",
            "date",
            "dc.date",
            "DC.date.issued",
            "sailthru.date",
        ),
        _first(tree.xpath("//time[@datetime][1]/@datetime")),
        ld.get("dateCreated"),
        doc.date if doc else None,
    ):
        published = _parse_datetime(raw)
        if published:
            break
    description = _first(
        [_meta_content(tree, "og:description", "description", "twitter:description")]
    )
    return _Meta(
        title=_strip_site_suffix(title, outlet),
        byline=byline,
        outlet=outlet,
        url=canonical or url,
        published=published,
        language=_language(tree, ld),
        description=description,
    )


def _strip_site_suffix(title: str | None, outlet: str | None) -> str | None:
    """'Headline - Site' -> 'Headline' when the suffix is the outlet."""
    if not title:
        return None
    parts = re.split(r"\s+[|\u2013\u2014-]\s+", title)
    if len(parts) > 1 and outlet and _norm(parts[-1]) and _norm(parts[-1]) in _norm(outlet):
        return " - ".join(parts[:-1])
    return title


# --------------------------------------------------------------------------- body

_WORD = re.compile(r"\w+")


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _words(text: str) -> int:
    return len(_WORD.findall(text))


#: short lines that are promotions, not article text (matched case-insensitively)
_PROMO_LINE = re.compile(
    r"""^\W*(
        (read|see|watch|listen)\s+(more|also|next)\b |
        related(\s+(articles?|stories|coverage|content|reading))?\s*[:|\]] |
        more\s*(on\s+this|from\s+\S+)?\s*: |
        also\s+(on|in|read|see)\b |
        recommended\b | trending\b | most\s+(read|popular)\b | top\s+stories\b |
        (click|tap)\s+here\b | .*\b(click|tap)\s+here\s+(to|for)\b |
        (how\s+to\s+)?listen\s+(to|on|live|now|again)\b |
        source\s*:\s*\S+(\s+\S+){0,3}\s*$ |
        .*\bcontributed\s+(reporting\s+)?to\s+this\s+(report|story|article)\.?\s*$ |
        (subscribe|sign\s+up|register)\b.*
            \b(newsletter|inbox|email\s+(updates|alerts)|updates|channel|youtube)\b |
        get\s+(the|our)\b.*\b(newsletter|inbox|app)\b |
        follow\s+(us|@?\S+(\s+\S+){0,6}?\s+on)\b.*
            \b(twitter|facebook|instagram|youtube|linkedin|telegram)\b |
        (like|enjoy(ed)?)\s+this\s+(story|article)\b |
        share\s+(this|on)\b |
        tell\s+us\s+what\s+you\s+think |
        (leave\s+a\s+)?\d*\s*comments?\s*$ |
        filed\s+under\s*:
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_MAX_PROMO_WORDS = 40
#: a line that is only contact details, a labelled link or an unrendered shortcode
_JUNK_LINE = re.compile(
    r"""^\W*(
        [\w.+-]+@[\w-]+(\.[\w-]+)+ |
        (https?://)?(www\.)?(twitter|x|facebook|instagram|linkedin)\.com/\S+ |
        @\w+ |
        [\w ]{1,20}:\s*https?://\S+ |
        \[(\w+)\b[^\]]*\].*\[/\w+\]
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)


def _is_promo(line: str) -> bool:
    if _JUNK_LINE.match(line):
        return True
    return _words(line) <= _MAX_PROMO_WORDS and bool(_PROMO_LINE.search(line))


def _same_title(line: str, titles: list[str]) -> bool:
    """Whether ``line`` is the headline: equal to one of ``titles``, or one holding the
    other ("Headline | Site") with the shorter at least 60% of the longer (a phrase of
    the headline quoted in the body is not the headline)."""
    a = _norm(line)
    for title in titles:
        b = _norm(title)
        if not a or not b:
            continue
        if a == b:
            return True
        short, long = sorted((a, b), key=len)
        if len(short) > 20 and short in long and len(short) >= 0.6 * len(long):
            return True
    return False


_SENTENCE_END = re.compile(r"[.!?\u3002][\"'\u201d\u2019)]*$")


def _is_paragraph(line: str) -> bool:
    """A line that reads as article prose: a dozen words or more, ending a sentence."""
    return _words(line) >= 12 and bool(_SENTENCE_END.search(line))


def _clean_lines(text: str, titles: list[str]) -> str:
    """Drop chrome before a repeated headline, the headline itself and promo lines.

    The lines before the headline go only if they are short and not prose: some pages
    put the lead paragraph before the ``<h1>`` in the markup."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    head = min(len(lines), 8)
    for i in range(head):
        if _same_title(lines[i], titles):
            before = lines[:i]
            if not any(_is_paragraph(line) for line in before) and sum(
                _words(line) for line in before
            ) < 0.5 * sum(_words(line) for line in lines):
                lines = lines[i + 1 :]
            else:
                del lines[i]
            break
    return "\n".join(line for line in lines if not _is_promo(line))


#: lines that close an article without being part of it: reporting credits, copyright
#: notices (checked on the last lines only)
_CREDIT_LINE = re.compile(
    r"""^\W*(
        .*\bcontributed\s+(reporting|research|writing|to\s+this\s+(report|story|article))\b |
        (additional\s+)?(reporting|writing|editing)\s+by\b |
        (copyright|\(c\)|\u00a9) |
        .*\ball\s+rights\s+reserved\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_MAX_CREDIT_WORDS = 30
#: "5 min read", "Reading time: 2 minutes" (first lines only)
_READING_TIME = re.compile(
    r"""^\W*(
        \d+\s*(min(ute)?s?|minutos?|minuten)\.?\s*(read|de\s+leitura|de\s+lectura|lesezeit)? |
        (reading\s+time|read\s+time|tempo\s+de\s+leitura|tiempo\s+de\s+lectura|lesezeit|
         temps\s+de\s+lecture)\s*:?\s*(\d+\s*\w*)?
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
_RULE_LINE = re.compile(r"^[\W_]*[-_=*~]{3,}[\W_]*$")
#: an author's bio: the name, then one of these words
_BIO_VERB = re.compile(r"^(is|was|has|writes|covers|reports|joined|lives)\b")
_MAX_BIO_WORDS = 60
_MAX_BYLINE_LINE_WORDS = 12


def _author_names(byline: str | None) -> list[str]:
    """The normalised names of the byline that have two words or more."""
    parts = re.split(r"[,;&]|\band\b", byline or "")
    return [n for n in (_norm(part) for part in parts) if len(n.split()) >= 2]


def _is_byline_line(line: str, names: list[str]) -> bool:
    """A short line naming the author with a date or "By": page furniture, not prose.

    A line that is the name alone is kept (a signature, which readers count as text)."""
    if _words(line) > _MAX_BYLINE_LINE_WORDS or _is_paragraph(line):
        return False
    text = f" {_norm(line)} "
    return any(f" {name} " in text and text.strip() != name for name in names)


def _is_bio(line: str, names: list[str]) -> bool:
    if _words(line) > _MAX_BIO_WORDS:
        return False
    text = _norm(line)
    return any(
        text.startswith(name + " ") and bool(_BIO_VERB.match(text[len(name) + 1 :]))
        for name in names
    )


def _trim_ends(lines: list[str], byline: str | None) -> list[str]:
    """Drop what sits around the body at its ends: a byline or reading-time line first;
    reporting credits, copyright lines, rules and the author's bio last.

    Only the first and last few lines are looked at, and only short lines of these
    shapes go: the body itself is never cut."""
    names = _author_names(byline)
    start = 0
    while start < min(3, len(lines) - 1):
        line = lines[start]
        if _READING_TIME.match(line) or _RULE_LINE.match(line) or _is_byline_line(line, names):
            start += 1
        else:
            break
    end = len(lines)
    while end > start + 1 and len(lines) - end < 5:
        line = lines[end - 1]
        credit = _words(line) <= _MAX_CREDIT_WORDS and bool(_CREDIT_LINE.match(line))
        if credit or _RULE_LINE.match(line) or _is_bio(line, names):
            end -= 1
        else:
            break
    return lines[start:end]


_BLOCK_TAGS = {
    "p", "div", "section", "article", "figure", "table", "ul", "ol", "dl", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "pre", "header", "footer", "aside", "center",
    "form", "hr",
}  # fmt: skip


def _paragraphize(tree: HtmlElement) -> None:
    """Wrap text written straight into a ``<div>`` (``<br>``-separated) into ``<p>``s."""
    from lxml.html import Element

    for div in list(tree.iter("div", "td", "section", "article")):
        children = list(div)
        if not children or not any(child.tag == "br" for child in children):
            continue
        direct = (div.text or "") + "".join(child.tail or "" for child in children)
        if _words(direct) < 20:
            continue
        # regroup: runs of inline content separated by <br><br> or block children
        groups: list[list[Any]] = [[div.text] if div.text and div.text.strip() else []]
        div.text = None
        brs = 0
        for child in children:
            tail, child.tail = child.tail, None
            div.remove(child)
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "br":
                brs += 1
                if brs >= 2 and groups[-1]:
                    groups.append([])
                elif groups[-1]:
                    groups[-1].append(" ")
            elif tag in _BLOCK_TAGS:
                groups += [[child], []]
                brs = 0
            else:
                groups[-1].append(child)
                brs = 0
            if tail and tail.strip():
                groups[-1].append(tail)
                brs = 0
        for group in groups:
            if not group:
                continue
            if len(group) == 1 and not isinstance(group[0], str) and group[0].tag in _BLOCK_TAGS:
                div.append(group[0])
                continue
            para = Element("p")
            last: Any = None
            for item in group:
                if isinstance(item, str):
                    if last is None:
                        para.text = (para.text or "") + item
                    else:
                        last.tail = (last.tail or "") + item
                else:
                    para.append(item)
                    last = item
            if _norm(para.text_content()) or len(para):
                div.append(para)


def _host(url: str | None) -> str:
    from urllib.parse import urlsplit

    host = urlsplit(url or "").netloc.lower()
    return host.removeprefix("www.")


#: a teaser link holds a headline and at most one summary paragraph: a link holding more
#: paragraphs of this many words, or more words than ``_MAX_TEASER_WORDS``, is an article
#: body that an unclosed ``<a>`` (or a block link) wraps, not a teaser
_LONG_PARAGRAPH_WORDS = 20
_MAX_TEASER_WORDS = 120


def _is_teaser(link: HtmlElement, cache: dict[HtmlElement, bool]) -> bool:
    if link not in cache:
        long_paragraphs = sum(
            1 for el in link.iter("p", "li") if _words(el.text_content()) >= _LONG_PARAGRAPH_WORDS
        )
        cache[link] = long_paragraphs <= 1 and _words(link.text_content()) <= _MAX_TEASER_WORDS
    return cache[link]


def _drop_link_blocks(tree: HtmlElement, url: str | None) -> None:
    """Remove paragraphs and list items that are nothing but a link to another page of
    the same site: "related story" teasers set inside the body.

    Evidence needed: the block's whole text is the text of one same-site link, and that
    link is teaser-sized (:func:`_is_teaser`). An ``<a>`` left unclosed before the body
    makes the parser nest every paragraph inside it; without the size test they would all
    go, and the extractor would fall back on whatever is left (captions, pull quotes)."""
    page = _host(url)
    teasers: dict[HtmlElement, bool] = {}
    for el in list(tree.iter("p", "li", "h2", "h3", "h4", "h5", "h6")):
        text = _norm(el.text_content())
        if _words(text) < 4:
            continue
        links = el.xpath("ancestor::a[1]") or el.findall(".//a")
        if len(links) != 1 or _norm(links[0].text_content()).find(text) < 0:
            continue
        if not _is_teaser(links[0], teasers):
            continue
        if not el.xpath("ancestor::a") and _norm(links[0].text_content()) != text:
            continue
        href = (links[0].get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        target = urljoin(url, href) if url else href
        if url and target.split("#")[0] == url.split("#")[0]:
            continue
        if not re.match(r"https?://", target) or (page and _host(target) == page):
            el.drop_tree()


def _paragraph_texts(node: HtmlElement) -> Iterator[HtmlElement]:
    for p in node.iter("p"):
        if _words(p.text_content()) >= 8:
            yield p


def _class_key(el: HtmlElement) -> tuple[str, str] | None:
    cls = " ".join(sorted((el.get("class") or "").split()))
    return (str(el.tag), cls) if cls else None


_CHROME = re.compile(
    r"comment|repl(y|ies)|respon[sd]|discuss|forum|disqus|sidebar|aside|related|recirc|"
    r"footer|promo|newsletter|recommend|popular|trending",
    re.IGNORECASE,
)


def _in_chrome(el: HtmlElement) -> bool:
    """Whether ``el`` sits inside comments, a sidebar, a footer or a promo block."""
    node: HtmlElement | None = el
    while node is not None:
        if node.tag in ("aside", "footer", "nav") or _CHROME.search(
            f"{node.get('class') or ''} {node.get('id') or ''}"
        ):
            return True
        node = node.getparent()
    return False


def _continuations(tree: HtmlElement, text: str) -> list[str]:
    """Paragraphs of sibling containers that continue the extracted body.

    Pages split a body over several containers with the same class (ads or embeds
    between them); extractors often keep only one. Find the container class holding
    most extracted paragraphs, then return the paragraphs of the other containers with
    that class that the extraction missed, in page order.
    """
    extracted = _norm(text)
    if not extracted:
        return []
    seen: Counter[tuple[str, str]] = Counter()
    for p in _paragraph_texts(tree):
        if _norm(p.text_content()) in extracted:
            parent = p.getparent()
            key = _class_key(parent) if parent is not None else None
            if key:
                seen[key] += 1
    if not seen:
        return []
    (tag, cls), hits = seen.most_common(1)[0]
    if hits < 2:
        return []
    containers = [
        el for el in tree.iter(tag) if " ".join(sorted((el.get("class") or "").split())) == cls
    ]
    if len(containers) < 2:
        return []
    missing: list[str] = []
    for container in containers:
        if _in_chrome(container):
            continue
        for p in _paragraph_texts(container):
            if p.getparent() is not container:
                continue
            line = " ".join(p.text_content().split())
            if _norm(line) not in extracted:
                missing.append(line)
    return missing


def _extract(
    tree: HtmlElement, url: str | None, *, precision: bool = False, recall: bool = False
) -> str:
    from trafilatura import extract

    text = extract(
        copy.deepcopy(tree),
        url=url,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        favor_precision=precision,
        favor_recall=recall,
    )
    return text or ""


def _shingle_set(text: str, n: int = 4) -> set[tuple[str, ...]]:
    tokens = _WORD.findall(text.lower())
    if not tokens:
        return set()
    return {tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))}


def _covers(candidate: str, found: str, share: float = 0.8) -> bool:
    """Whether ``candidate`` keeps (``share`` of the 4-word shingles of) the text ``found``.

    A fix-up may replace the extractor's text by a longer candidate only if the
    candidate contains it: a longer text from another part of the page (a table of
    captions, a comment thread) is not a better extraction of the same article."""
    wanted = _shingle_set(found)
    if not wanted:
        return True
    return len(wanted & _shingle_set(candidate)) >= share * len(wanted)


def _titles(tree: HtmlElement, title: str | None) -> list[str]:
    """The headline as the page spells it in its various places."""
    found = [title] if title else []
    found += [" ".join(h.text_content().split()) for h in tree.xpath("(//h1)[position() <= 2]")]
    found += [str(t) for t in tree.xpath("//title/text()")]
    return [t for t in found if t]


def _body(tree: HtmlElement, url: str | None, title: str | None, byline: str | None = None) -> str:
    work = copy.deepcopy(tree)
    _paragraphize(work)
    _drop_link_blocks(work, url)
    titles = _titles(tree, title)
    precise = _clean_lines(_extract(work, url, precision=True), titles)
    plain = _clean_lines(_extract(work, url), titles)
    text = precise
    if _words(plain) > 1.25 * _words(precise) + 20 and _covers(plain, precise):
        text = plain
    if not text.strip():
        text = _clean_lines(_extract(work, url, recall=True), titles)
    extra = _continuations(work, text)
    if extra and _words(" ".join(extra)) >= 0.2 * _words(text):
        text = "\n".join([text, *extra])
    lines = _trim_ends([line for line in text.splitlines() if line.strip()], byline)
    return "\n\n".join(lines)


# --------------------------------------------------------------------------- public

#: fewer words than this is a navigation stub, not an article
_MIN_WORDS = 5
#: libxml2 keeps elements this deep at most (deeper content is dropped, never recursed)
_MAX_DEPTH = 255


def _depth(tree: HtmlElement) -> int:
    """How deep the elements of ``tree`` nest (iteratively: no recursion limit)."""
    deepest = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node)
    return deepest


def parse_html(
    data: bytes | str,
    *,
    source: str,
    url: str | None = None,
    encoding: str | None = None,
) -> list[Article]:
    """The main article of an HTML page, as a one-element list.

    ``source`` is recorded on the article (the path or URL it came from); ``url`` is
    the page's address, used to resolve relative links when the page names no
    canonical URL; ``encoding`` is a charset from the transport (e.g. HTTP), tried
    after a byte-order mark and before the page's own ``<meta charset>``.

    Raises :class:`InputError` when the page holds no article text.
    """
    from trafilatura import load_html

    html = decode_html(data, encoding)
    if not html.strip():
        raise InputError(f"{source}: the HTML page is empty; pass a page with an article.")
    tree = load_html(html)
    if tree is None:
        raise InputError(f"{source}: cannot parse this as HTML; check that it is a web page.")
    meta = _metadata(tree, url)
    text = _body(tree, url, meta.title, meta.byline)  # paragraphs split by a blank line
    if _words(text) < _MIN_WORDS:
        if _depth(tree) >= _MAX_DEPTH:
            raise InputError(
                f"{source}: found no article text; the page nests its elements more than "
                f"{_MAX_DEPTH} levels deep and the HTML parser drops what lies deeper. "
                "Save the article's text as a .txt file and pass that."
            )
        raise InputError(
            f"{source}: found no article text in this page (is it an index or a login page?);"
            " pass the article's own page or save its text as a .txt file."
        )
    title = meta.title or text.splitlines()[0][:120]
    return [
        Article(
            title=title,
            text=text,
            outlet=meta.outlet,
            url=meta.url,
            published=meta.published,
            byline=meta.byline,
            language=meta.language,
            source=source,
        )
    ]
