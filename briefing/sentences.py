"""Sentences, one home for the whole pipeline: rule-based splitting into numbered ``Sentence``s.

Ingest numbers an article's sentences (:func:`split_sentences`); summarizing, grounding
and rendering get them from here too (:func:`ensure_sentences` splits an article that
came without them; :func:`sentence_texts` splits any text, e.g. a summary into claims).
``briefing.ingest.sentences`` re-exports these names for older imports.

Why our own rules and not a library: the whole non-LLM pipeline must handle 1,000
articles of ~700 tokens in under 10 s. Measured on the seed page (single core):

==============  ==================  ============================================
splitter        sentences / second  notes
==============  ==================  ============================================
pysbd 0.3.4     ~300-500            ~65-100 s for 1,000 articles: far too slow
syntok 1.4.4    ~3,400              ~9 s for 1,000 articles: the whole budget
blingfire 0.1.8 ~95,000             fast, but last release 2021, x86-64 only
                                    native library, 100 MB installed, and it
                                    splits "Mrs. Jones" and "Lt. Col. Vindman"
these rules     ~150,000+           pure Python, no data, no download
==============  ==================  ============================================

The rules (the same ones pysbd and syntok encode, kept small and tested):

* Hard boundaries: blank lines, and single newlines unless the line is a hard-wrapped
  continuation (no end punctuation and the next line starts in lower case).
* A candidate boundary is ``.``, ``!``, ``?`` or ``…`` (optionally followed by closing
  quotes or brackets), then whitespace, then a word starting with an upper-case letter
  or a digit (optionally behind opening quotes). A lower-case next word never starts a
  sentence, so ``0.6``, ``in the U.S. on Monday`` and ``"Why?" he asked`` stay whole.
* After a period the word before it decides: titles (``Dr.``, ``Gen.``, ``Mrs.``, ``Lt.
  Col.``) and single-letter initials never end a sentence; ``e.g.``/``vs.``/``No.``
  never do; dotted acronyms (``U.S.``, ``a.m.``) and ambiguous abbreviations (``Inc.``,
  ``Jan.``, ``etc.``) end one only when the next word is a usual sentence opener
  (``The``, ``He``, ``But``...), so ``the U.S. Army`` stays whole but ``to the U.S. The
  talks`` splits.
* Other scripts: ``。！？`` (and full-width ``．``) end a Chinese or Japanese sentence
  with no space after them (closing brackets ``」』）`` stay with it; ``。」と述べた``, a
  quote that goes on, does not end one); Arabic ``؟`` and Urdu ``۔`` are end punctuation;
  in scripts without capitals (Arabic, Hebrew, CJK, Thai, Korean Hangul) any letter may
  start the next sentence; Thai writes no end punctuation: a space between two Thai
  letters ends a sentence (pieces under :data:`MIN_THAI_CHARS` are kept with the next);
  Russian abbreviations (``т.е.``, ``г.``, ``млн.``) follow the period rules above.
* Lines starting with ``# `` / ``## `` (how the ingest layer marks sub-headings in
  ``Article.text``) are headings, not sentences: they are skipped.
* A block whose letters are all lower case (lower-cased, tokenised text such as "the u.s.
  says 12 people died . police said ...") has no capitals to go by: there a lower-case
  word may start a sentence, and the period rules above decide alone (openers compared
  in lower case), so "the u.s. says" stays whole and "died . police" splits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from briefing.models import Article, Sentence
from briefing.textsim import wordset

# ruff: noqa: RUF001, RUF002, RUF003  (CJK, Arabic and Cyrillic punctuation on purpose)

__all__ = ["ensure_sentences", "join_sentences", "sentence_texts", "split_sentences"]


#: Titles and ranks: followed by a name, never the end of a sentence.
_TITLES = wordset("""
    mr mrs ms mx dr prof gen lt col maj capt cpt sgt adm cmdr cdr brig gov sen rep rev fr
    st sr jr hon pres supt insp det cpl pvt messrs mme mlle mgr ald atty amb sec gens
    """)
#: Abbreviations that never end a sentence (whatever follows).
_NEVER_FINAL = wordset("e.g i.e vs v approx cf ca viz z.b bzw u.a т.е т.к т.н т.ч см ср им")
#: Abbreviations that never end a sentence before a number ("No. 10", "Fig. 3").
_NUMBERED = wordset("no nos nr vol fig pp art op p")
#: Abbreviations that end a sentence only before a usual sentence opener.
_AMBIGUOUS = wordset("""
    inc corp co ltd plc llc bros dept est etc jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun ft mt km kg oz lb lbs min max govt univ
    г гг т.д т.п др тыс млн млрд руб коп ул пр обл
    """)
#: Words that usually open a sentence (decide the ambiguous cases above).
_OPENERS = wordset("""
    A An The This That These Those There Then Thus Here He She It We They I You His Her Its
    Their Our My But And Or So Yet Still In On At As After Before When While If Although
    Though Since Because For From With Without By To Of Meanwhile However Moreover Also
    Officials Authorities Police Some Many Most Other Others One Two Three No Not Now Last
    Earlier Later Today Yesterday Tomorrow What Why How Who Where According During Despite
    Under Over Among Between About Only Even Such Each Every All Both Neither Nor
    В На По Это Он Она Они Мы Но И А Как Также При Однако После Ранее Кроме Сейчас
    """)
#: End punctuation (a whole run of it: the look-behind and the possessive quantifiers keep
#: the search linear on a line of 10 MB of dots), closing quotes, then whitespace.
_CANDIDATE = re.compile(
    r"(?<![.!?\u2026\u061f\u06d4])[.!?\u2026\u061f\u06d4]++[\"'\u201d\u2019\u00bb)\]]*+\s+"
)
#: A CJK sentence end: full-width end punctuation and closing brackets, no space needed.
_CJK_END = re.compile(
    "[\u3002\uff01\uff1f\uff0e]++[\u300d\u300f\uff09\u3011\u201d\u2019\"')\\]]*+\\s*"
)
#: After a closing quote, words that carry the sentence on (「...。」と述べた).
_QUOTE_GOES_ON = "\u3068\u3063\u306a\u306e\u3092\u306b\u304c\u3082"
#: A short attribution after a quote ("...。”发言人表示。"): the quote's sentence goes on.
_SAID = re.compile(
    "[^\u3002\uff01\uff1f]{0,15}?"  # then 表示 说 称 指出 强调 透露 說 稱
    "(?:\u8868\u793a|\u8bf4|\u79f0|\u6307\u51fa|\u5f3a\u8c03|\u900f\u9732|\u8aac|\u7a31)"
    "[\u3002\uff0c\uff1a]"
)
_CLOSERS = "\u300d\u300f\uff09\u3011\u201d\u2019\"')]"
#: A space between two Thai letters: where Thai, which has no end punctuation, ends a
#: sentence (or a clause). \u0e46 (the repetition mark) and digits do not count.
_THAI_BREAK = re.compile("(?<=[\u0e01-\u0e45\u0e47-\u0e4e])\\s+(?=[\u0e01-\u0e45\u0e47-\u0e4e])")
_THAI = re.compile("[\u0e00-\u0e7f]")
#: Thai pieces shorter than this (characters) are a clause: kept with the next piece.
MIN_THAI_CHARS = 30
_DOTTED = re.compile(r"^(?:[^\W\d_]\.)+[^\W\d_]$")  # U.S  a.m  e.g  (final dot excluded)
_OPENING = "\"'\u201c\u2018\u00ab([\u00bf\u00a1\u300c\u300e\uff08"
_HEADING = re.compile(r"^#{1,6}\s")
_PARAGRAPHS = re.compile(r"\n\s*\n")
_END_PUNCT = re.compile(
    r"[.!?\u2026:;\u061f\u06d4\u3002\uff01\uff1f\uff0e][\"'\u201d\u2019\u00bb)\]\u300d\u300f\uff09]*$"
)


def split_sentences(text: str, language: str | None = None) -> list[Sentence]:
    """Split ``text`` into sentences numbered from 1 (the ids summaries cite).

    ``language`` is accepted for the future (the rules are tuned for English and work
    for most Latin-script languages); heading lines (``## ...``) are not sentences.
    """
    return [Sentence(id=i, text=s) for i, s in enumerate(sentence_texts(text, language), 1)]


def ensure_sentences(article: Article) -> list[Sentence]:
    """The article's sentences, splitting its text if ingestion did not."""
    if article.sentences:
        return article.sentences
    return split_sentences(article.text, article.language)


def sentence_texts(text: str, language: str | None = None) -> list[str]:
    """The sentence strings of ``text`` (what :func:`split_sentences` numbers)."""
    del language  # one rule set for now; see the module docstring
    out: list[str] = []
    for block in _blocks(text):
        _split_block(block, out)
    return out


#: a sentence ending in a full stop, exclamation or question mark of Chinese or Japanese
#: (with any closing brackets): the next follows it without a space, as those scripts
#: write them
_CJK_CLOSED = re.compile("[\u3002\uff01\uff1f][\u300d\u300f\uff09\u3011\u3015\u300b]*$")


def join_sentences(texts: Iterable[str]) -> str:
    """Sentences as running text: a space between them, none after a Chinese or
    Japanese one ("...決めた。利上げは..."), as :func:`sentence_texts` read them."""
    out = ""
    for text in texts:
        if out and not _CJK_CLOSED.search(out):
            out += " "
        out += text
    return out


def _blocks(text: str) -> list[str]:
    """Paragraph-like blocks: hard boundaries at blank lines and most newlines."""
    blocks: list[str] = []
    for para in _PARAGRAPHS.split(text):
        current: list[str] = []  # the block's lines (joined once: linear in its length)
        for raw in para.split("\n"):
            line = raw.strip()
            if not line:
                continue
            if _HEADING.match(line):
                if current:
                    blocks.append(" ".join(current))
                current = []
                continue
            if current and not _END_PUNCT.search(current[-1]) and line[0].islower():
                current.append(line)  # a hard-wrapped continuation
            else:
                if current:
                    blocks.append(" ".join(current))
                current = [line]
        if current:
            blocks.append(" ".join(current))
    return blocks


def _split_block(block: str, out: list[str]) -> None:
    block = " ".join(block.split())
    lowered = block.islower()  # cased letters, all lower case
    start = 0
    for match in _CANDIDATE.finditer(block):
        end = match.end()
        if end >= len(block) or not _is_boundary(block, match.start(), end, lowered):
            continue
        _add(block[start:end], out)
        start = end
    _add(block[start:], out)


def _add(sentence: str, out: list[str]) -> None:
    """Append ``sentence``, split further where CJK or Thai sentences end inside it."""
    sentence = sentence.strip()
    if not sentence:
        return
    pieces = _split_cjk(sentence) if _CJK_END.search(sentence) else [sentence]
    for piece in pieces:
        if _THAI.search(piece):
            out.extend(_split_thai(piece))
        else:
            out.append(piece)


def _split_cjk(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _CJK_END.finditer(text):
        end = match.end()
        if end >= len(text):
            break
        nxt = text[end]
        if nxt.isdigit() and match.group(0).startswith("\uff0e"):
            continue  # a full-width decimal point: ３．５
        if any(c in _CLOSERS for c in match.group(0)) and (
            nxt in _QUOTE_GOES_ON or _SAID.match(text, end)
        ):
            continue  # 「...。」と述べた, “...。”他表示。: the quote is part of the sentence
        pieces.append(text[start:end].strip())
        start = end
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _split_thai(text: str) -> list[str]:
    pieces: list[str] = []
    pending = ""
    start = 0
    for match in [*_THAI_BREAK.finditer(text), None]:
        end = len(text) if match is None else match.start()
        piece = (pending + " " + text[start:end].strip()).strip()
        if match is not None:
            start = match.end()
        if len(piece) < MIN_THAI_CHARS and match is not None:
            pending = piece  # a clause: kept with what follows
            continue
        pieces.append(piece)
        pending = ""
    if len(pieces) > 1 and len(pieces[-1]) < MIN_THAI_CHARS:
        pieces[-2] += " " + pieces.pop()
    return pieces


def _next_word(block: str, pos: int) -> str:
    space = block.find(" ", pos)
    word = block[pos:] if space < 0 else block[pos:space]
    return word.lstrip(_OPENING)


def _is_boundary(block: str, punct_start: int, next_start: int, lowered: bool = False) -> bool:
    nxt = _next_word(block, next_start)
    if not nxt:
        return False
    first = nxt[0]
    if not (first.isdigit() or (first.isalpha() and (lowered or not first.islower()))):
        return False  # a lower-case word goes on the sentence (caseless scripts: any word)
    if block[punct_start] != "." or block.startswith("..", punct_start):
        return True  # ! ? \u2026 and "..." end a sentence before a capital
    # the word the period belongs to
    word_start = block.rfind(" ", 0, punct_start) + 1
    word = block[word_start:punct_start].lstrip(_OPENING)
    if not word:
        return True
    lower = word.lower()
    if lower in _TITLES or lower in _NEVER_FINAL:
        return False
    if lower in _NUMBERED and first.isdigit():
        return False
    if _DOTTED.match(word) or lower in _AMBIGUOUS:
        if first.isdigit():
            return False  # "Jan. 5", "a.m. 10"...
        opener = nxt.rstrip(",;:")
        return (opener.capitalize() if lowered else opener) in _OPENERS
    if len(word) == 1 and word.isalpha():
        return not word.isupper()  # "George W. Bush": an initial
    return True


# -- quotations cut by sentence boundaries ---------------------------------------------------
#: a single quote that opens a quotation: at the start or after a space or bracket, before
#: a letter or bracket ("'Israel is...", "('We...", not "the '90s")
_SINGLE_OPENS = re.compile(r"(?:^|(?<=[\s(\[\u2014\u2013-]))['\u2018](?=[^\W\d_]|[\[(])")
#: a single quote that closes one: after a letter or punctuation, before a space,
#: punctuation or the end ("...people,' said", "...later.'")
_SINGLE_CLOSES = re.compile(
    r"(?<=[\w.,!?;:\u2026\])])['\u2019](?=[\s.,;:!?)\]\u2014\u2013\u201d\u00bb\"-]|$)"
)
#: a closing single quote that cannot be a plural possessive ("farmers' union"): it
#: follows the quotation's own punctuation
_SINGLE_CLOSES_AFTER_PUNCT = re.compile(r"(?<=[.,!?;:\u2026])['\u2019](?=\s|$)")


def quotation_ends(text: str) -> tuple[bool, bool]:
    """Whether ``text`` (one sentence) opens a quotation it does not close, and whether
    it closes one it did not open: ("'Israel is aiming for a regime collapse in Iran.":
    opens; "That is the only reason...,' said Shahin Modarres.": closes). Curly double
    quotes count by kind, straight ones by parity (an odd one opens when it stands
    before a word); a single quote must stand where a quotation mark does, so
    apostrophes ("Israel's", "the '90s") and plural possessives ("farmers' union") are
    not taken for one."""
    opens = text.count("\u201c")
    closes = text.count("\u201d")
    if opens != closes:
        return opens > closes, closes > opens
    if text.count('"') % 2:
        first = text.index('"')
        opening = (first == 0 or text[first - 1].isspace()) and text[
            first + 1 : first + 2
        ].isalpha()
        return opening, not opening
    first_open = _SINGLE_OPENS.search(text)
    if first_open is not None:
        return _SINGLE_CLOSES.search(text, first_open.end()) is None, False
    return False, _SINGLE_CLOSES_AFTER_PUNCT.search(text) is not None


def quotation_fragment(text: str) -> bool:
    """True when ``text`` is part of a quotation that goes on past it (see
    :func:`quotation_ends`): on its own it states someone's words without saying whose,
    or leans on the sentence before."""
    opens, closes = quotation_ends(text)
    return opens or closes
