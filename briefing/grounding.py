"""Grounding: check every claim of a summary against its source article, keep only what holds.

:func:`ground` takes an ``ArticleSummary`` and its ``Article`` and returns a new summary
whose ``content`` holds only verified claims, with a :class:`GroundingReport` saying
what was checked and done, and an extractive fallback when too little survives.

What is checked (each check gives a reason when it fails):

* **quotes** occur verbatim in the source: compared as word sequences after Unicode
  NFKC, case folding and curly -> straight quotes, so whitespace, punctuation and
  quote style do not matter but every word and its order do; a quote with an ellipsis
  ("..." or "…") matches when its pieces occur in order. Quotes need 2+ words. The
  speaker's names must occur in the source, one of them within the three sentences
  before the quote, its sentence or the next.
* **numbers**: every number in a claim (digits, "76,000", "2.5", "3bn", "1.5 million",
  "twenty-four", "10%") must occur in the source, compared by value ("76,000" =
  "76000" = "76k"; "twenty-four" = "24"). A figure's value must occur in the very
  sentence it cites.
* **named entities**: every capitalised word of a claim (except a sentence's first
  word, whose capital may only open the sentence, and stopwords; the rest of a name
  starting there is checked) must occur in the source, case- and accent-insensitively
  (title-case headlines are left to the support score); country names, demonyms and
  capitals count for each other ("Iranian" is supported by "Iran"), acronyms match
  initials ("UN" = "United Nations"). Partial names pass ("Jiyad" for "Sajad Jiyad");
  invented ones do not. The ``countries``, ``people`` and ``organizations`` lists are
  filtered the same way, and their entries must look like names (at most 6 capitalised
  words: a sentence put in the people list is not a name).
* **negation**: a claim may not add a negation ("not", "never", "n't", "denied",
  "refused"...) that its evidence sentences do not contain.
* **support**: a key point must be supported by the sentences it cites (all ids must
  exist); the headline and each summary sentence by the two source sentences (title
  included) that match it best. The support score is ROUGE-style:

      score = 0.5 * unigram recall + 0.5 * bigram recall

  over content-word stems (stopwords dropped, light stemming, demonyms folded to their
  country): the share of the claim's words, and of its adjacent word pairs, found in
  the evidence. A claim needs ``score >= SUPPORT_THRESHOLD``.
* **region**: the model's region must hold at least half as many of the source's
  country mentions as the best region (``Global`` always passes, and so does any
  region when the source names no country); otherwise it is corrected to the best.
* **topic**: must be a plain label (known topic words or words from the source).

Calibration of ``SUPPORT_THRESHOLD = 0.6`` (``tests/data/grounding/calibration.json``,
checked by ``tests/test_grounding.py``): 96 claims about the four seed articles, each
citing its sentences; 48 faithful (true sentences, paraphrases, compressions) and 48
fabricated (invented events, swapped actors, negations, wrong places, one word
changed; mostly built from the source's own words, the hard case). Support scores:
faithful min 0.52, 5th percentile 0.61, median 0.86; fabricated median 0.43, 95th
percentile 0.75. With all checks together, by threshold (faithful kept / fabricated
kept, of 48 each): 0.45: 48 / 17; 0.5: 48 / 17; 0.55: 47 / 9; **0.6: 47 / 7**;
0.65: 42 / 5; 0.7: 38 / 2. 0.6 maximises kept-faithful minus kept-fabricated (Youden's
J = 0.83); above it faithful paraphrases go faster than fabrications. Weighting
unigrams 0.3 or 0.7 instead of 0.5 did no better (best J 0.83 and 0.79). What no
lexical score catches, and 0.6 lets through: a swapped agent ("Iran struck the command
centre of Israel's Quds Force"), one changed word ("20,000 men" for "20,000 women"),
an invented stance built from source words ("Bennett opposed the Octopus Doctrine").
Such claims still cite real sentences, so a reader can check them; a stronger model or
an entailment model would be the next step.

**Prompt injection.** Article text is data. Source sentences that look like
instructions to a model ("ignore previous instructions", role markers such as
``<|im_start|>system``, "system prompt", JSON with our schema's keys) are quarantined:
they are not evidence for anything, so a claim that repeats them is unsupported even
though it is "in the source", and the extractive fallback never picks them. A claim
whose own text looks like an instruction is unsupported too.

**What happens to unsupported claims** (``unsupported="drop"`` by default, or
``"flag"``): dropped, or moved to ``ArticleSummary.flagged`` for display marked
unverified; either way ``content`` keeps only verified claims. Labels are never flagged:
an unsupported headline is replaced by the article's title, a wrong region corrected,
an unsupported topic removed.

**Extractive fallback**: when the model's output failed validation, or verification
leaves no summary sentence and fewer than 2 key points, the headline, summary and key
points are taken from the article (``briefing.extractive``) and the status becomes
``"extractive"``; verified quotes, figures and names are kept.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from typing import cast

from briefing.extractive import (
    STOPWORDS,
    content_stems,
    content_words,
    extractive_output,
    stem,
    words,
)
from briefing.ingest.sentences import sentence_texts
from briefing.models import (
    Article,
    ArticleSummary,
    ClaimAction,
    ClaimCheck,
    ClaimKind,
    Figure,
    GroundingReport,
    KeyPoint,
    Quote,
    Region,
    Sentence,
    SummaryOutput,
    UnsupportedPolicy,
)
from briefing.regions import canonical_country, country_mentions, counts_by_region
from briefing.textsim import wordset

__all__ = [
    "SUPPORT_THRESHOLD",
    "Source",
    "ground",
    "is_instruction_like",
    "numbers_in",
    "support_score",
]

#: Minimum support score of a headline, summary sentence or key point (see the docstring).
SUPPORT_THRESHOLD = 0.6
#: Minimum unigram recall of a figure's description against its cited sentence.
FIGURE_WHAT_THRESHOLD = 0.5
#: Fallback when fewer than this many key points and no summary sentence survive.
MIN_KEY_POINTS = 2

# --------------------------------------------------------------------------- injection

_INSTRUCTION = re.compile(
    r"""
    \b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,40}?
        \b(?:previous|prior|above|earlier|all|any|your|the)\b[^.!?\n]{0,20}?
        \b(?:instructions?|prompts?|rules|directions|context)\b
    | <\|[a-z_]+\|>                                  # <|im_start|>, <|system|>, <|eot_id|>
    | \[/?INST\] | <</?SYS>>                         # llama chat markers
    | </?(?:system|assistant|user)>
    | (?:^|\n)\s*\#{0,3}\s*(?:system|assistant)\s*:  # "System: ..." at a line start
    | \bsystem\s+prompt\b
    | \byou\s+are\s+now\b
    | \bnew\s+instructions?\b
    | \b(?:respond|reply|answer|output)\s+(?:only\s+)?with\b
    | "(?:headline|summary|key_points|sentence_ids|importance)"\s*:   # our schema's keys
    """,
    re.IGNORECASE | re.VERBOSE,
)


#: Every match of ``_INSTRUCTION`` contains one of these (in any case): an ASCII text
#: holding none of them cannot match, and most sentences are ruled out this way.
_INSTRUCTION_WORDS = [
    *["ignore", "disregard", "forget", "override", "<|", "inst]", "sys>>", "system"],
    *["assistant", "user>", "you", "new", "respond", "reply", "answer", "output", '"'],
]


def is_instruction_like(text: str) -> bool:
    """True when ``text`` reads like an instruction to a model (see the module docstring)."""
    if text.isascii():
        lowered = text.lower()
        if not any(word in lowered for word in _INSTRUCTION_WORDS):
            return False
    return bool(_INSTRUCTION.search(unicodedata.normalize("NFKC", text)))


# --------------------------------------------------------------------------- numbers

_UNIT_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_TEN_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety"
_UNITS = {w: i for i, w in enumerate(_UNIT_WORDS.split(" "))}
_TENS = {w: 10 * i for i, w in enumerate(_TEN_WORDS.split(" "), 2)}
_SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "k": 1_000,
    "million": 1_000_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "billion": 1_000_000_000,
    "bn": 1_000_000_000,
    "trillion": 1_000_000_000_000,
    "tn": 1_000_000_000_000,
}
_NUMBER_WORDS = "|".join(sorted([*_UNITS, *_TENS], key=len, reverse=True))
_NUMBER = re.compile(
    rf"""
    (?<![\w.,])(?P<digits>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)
    (?:\s?(?P<dscale>hundred|thousand|million|billion|trillion|k|m|mn|bn|tn)\b)?
    | \b(?P<words>(?:{_NUMBER_WORDS})
        (?:[\s-](?:{_NUMBER_WORDS}|hundred|thousand|million|billion))*)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


#: ``_NUMBER`` tried only where a digit or a number word (after ``\b``) can start.
_NUMBER_SCAN = re.compile(
    f"(?=\\d|\\b[{''.join(sorted({w[0] for w in [*_UNITS, *_TENS]}))}])(?:{_NUMBER.pattern}\n)",
    _NUMBER.flags,
)


def _words_value(text: str) -> float:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", text.casefold()):
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
    return float(total + current)


def numbers_in(text: str, *, claim: bool = False) -> list[tuple[str, set[float]]]:
    """Each number in ``text`` with the values it may stand for ("3bn" -> {3, 3e9}).

    In a claim (``claim=True``) the word "one" is not read as a number: it is far more
    often a pronoun ("one of the...") than a count.
    """
    found: list[tuple[str, set[float]]] = []
    for match in _NUMBER_SCAN.finditer(unicodedata.normalize("NFKC", text)):
        if match.group("digits"):
            value = float(match.group("digits").replace(",", ""))
            values = {value}
            scale = (match.group("dscale") or "").casefold()
            if scale in _SCALES:
                values.add(value * _SCALES[scale])
        else:
            spelled = match.group("words")
            if claim and spelled.casefold() == "one":
                continue
            values = {_words_value(spelled)}
        found.append((match.group(0), {round(v, 6) for v in values}))
    return found


# --------------------------------------------------------------------------- the source

_QUOTE_CHARS = str.maketrans(
    {
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "`": "'",
    }
)  # fmt: skip
_ELLIPSIS = re.compile(r"\.\s*\.\s*\.|\u2026|\[\s*\.\.\.\s*\]")


def _quote_words(text: str) -> list[str]:
    """Words for verbatim comparison: NFKC, straight quotes, case-folded."""
    if text.isascii() and "`" not in text:  # NFKC and the quote mapping change nothing
        found = words(text.lower())
        return [w.replace("'", "") for w in found] if "'" in text else found
    normal = unicodedata.normalize("NFKC", text).translate(_QUOTE_CHARS).casefold()
    return [w.replace("'", "") for w in words(normal)]


def _acronym(tokens: Sequence[str]) -> str:
    return "".join(t[0] for t in tokens if t[:1].isupper()).casefold()


@dataclass
class Source:
    """An article prepared for verification: evidence sentences (id 0 is the title)."""

    title: str
    sentences: dict[int, Sentence]
    quarantined: set[int]
    evidence: dict[int, Sentence] = field(init=False)
    stems: dict[int, list[str]] = field(init=False)
    stem_sets: dict[int, frozenset[str]] = field(init=False)
    bigrams: dict[int, set[tuple[str, str]]] = field(init=False)
    tokens: set[str] = field(init=False)
    countries: set[str] = field(init=False)
    #: country -> mentions in ``text`` (in order of first mention)
    mentions: Counter[str] = field(init=False)
    _text: str = field(init=False, repr=False)
    _words: dict[int, list[str]] = field(init=False, repr=False)
    _cues: dict[int, set[str]] = field(init=False, repr=False)
    _sentence_numbers: dict[int, set[float]] = field(init=False, repr=False)
    _numbers_seen: set[float] = field(init=False, repr=False)

    @classmethod
    def of(cls, article: Article, sentences: Sequence[Sentence]) -> Source:
        all_sentences = {s.id: s for s in sentences}
        quarantined = {s.id for s in sentences if is_instruction_like(s.text)}
        if is_instruction_like(article.title):
            quarantined.add(0)
        return cls(article.title, all_sentences, quarantined)

    def __post_init__(self) -> None:
        self.evidence = {
            sid: s
            for sid, s in [(0, Sentence(id=0, text=self.title)), *self.sentences.items()]
            if sid not in self.quarantined and s.text.strip()
        }
        self.stems = {}
        self.stem_sets = {}
        self.bigrams = {}
        self.tokens = set()
        self._words = {}
        self._cues = {}
        self._sentence_numbers = {}
        self._numbers_seen = set()
        for sid, sentence in self.evidence.items():
            tokens = self._words[sid] = words(sentence.text)
            stems = content_stems(tokens)
            self.stems[sid] = stems
            self.stem_sets[sid] = frozenset(stems)
            self.bigrams[sid] = set(itertools.pairwise(stems))
            self.tokens.update(map(_fold, tokens))
        self._text = "\n".join(s.text for s in self.evidence.values())
        self.mentions = country_mentions(self._text)
        self.countries = set(self.mentions)

    @property
    def text(self) -> str:
        return self._text

    # computed on first use: many summaries need no acronym, quote or figure check

    @functools.cached_property
    def acronyms(self) -> set[str]:
        """Initials of the evidence's multi-word names ("United Nations" -> "un")."""
        return {
            _acronym(span)
            for tokens in self._words.values()
            for span in _capitalised_spans(tokens, skip_first=False)
            if len(span) > 1
        }

    @functools.cached_property
    def sentence_numbers(self) -> dict[int, set[float]]:
        """The values of the numbers in each evidence sentence."""
        return {sid: self._numbers_of(sid) for sid in self.evidence}

    @functools.cached_property
    def numbers(self) -> set[float]:
        """The values of every number in the evidence."""
        return set().union(*self.sentence_numbers.values())

    def _numbers_of(self, sid: int) -> set[float]:
        found = self._sentence_numbers.get(sid)
        if found is None:
            text = self.evidence[sid].text
            found = {v for _, values in numbers_in(text) for v in values}
            self._sentence_numbers[sid] = found
            self._numbers_seen |= found
        return found

    def has_number(self, values: set[float]) -> bool:
        """Whether a number of the evidence has one of ``values`` (``values & numbers``,
        parsing the sentences only until one is found)."""
        if values & self._numbers_seen:
            return True
        for sid in self.evidence:
            if sid not in self._sentence_numbers and values & self._numbers_of(sid):
                return True
        return False

    @functools.cached_property
    def _quotes(self) -> tuple[list[str], list[int]]:
        quote_words: list[str] = []
        quote_sentence: list[int] = []
        for sid, sentence in self.evidence.items():
            qwords = _quote_words(sentence.text)
            quote_words.extend(qwords)
            quote_sentence.extend([sid] * len(qwords))
        return quote_words, quote_sentence

    @property
    def quote_words(self) -> list[str]:
        """The evidence's words for verbatim comparison (:func:`_quote_words`), in order."""
        return self._quotes[0]

    @property
    def quote_sentence(self) -> list[int]:
        """The evidence sentence of each of ``quote_words``."""
        return self._quotes[1]

    def cues(self, sid: int) -> set[str]:
        """:func:`polarity_cues` of evidence sentence ``sid`` (computed once)."""
        found = self._cues.get(sid)
        if found is None:
            found = self._cues[sid] = polarity_cues(self.evidence[sid].text)
        return found


@functools.lru_cache(maxsize=1 << 16)
def _fold(token: str) -> str:
    """Case, accents and possessive folded away: "Priština's" -> "pristina" (memoised)."""
    decomposed = unicodedata.normalize("NFKD", token.casefold().replace("\u2019", "'"))
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return folded[:-2] if folded.endswith("'s") else folded


# --------------------------------------------------------------------------- checks


def support_score(claim: str, source: Source, ids: Iterable[int]) -> float:
    """ROUGE-style support of ``claim`` by the evidence sentences ``ids`` (0..1)."""
    return _Claim(content_words(claim)).support(source, ids)


class _Claim:
    """A claim's stems, its stem set and its stem pairs, computed once for many scores."""

    __slots__ = ("pairs", "stems", "unique")

    def __init__(self, stems: list[str]) -> None:
        self.stems = stems
        self.unique = set(stems)
        self.pairs = set(itertools.pairwise(stems))

    def support(self, source: Source, ids: Iterable[int]) -> float:
        """:func:`support_score` of this claim by the evidence sentences ``ids``."""
        if not self.stems:
            return 0.0
        ids = [i for i in ids if i in source.stems]
        if len(ids) == 1:
            vocab: Set[str] = source.stem_sets[ids[0]]
            pairs: Set[tuple[str, str]] = source.bigrams[ids[0]]
        else:
            vocab = set().union(*(source.stem_sets[i] for i in ids)) if ids else set()
            pairs = set().union(*(source.bigrams[i] for i in ids)) if ids else set()
        unigram = len(self.unique & vocab) / len(self.unique)
        claim_pairs = self.pairs
        bigram = len(claim_pairs & pairs) / len(claim_pairs) if claim_pairs else unigram
        return round(0.5 * unigram + 0.5 * bigram, 3)


_NEGATIONS = wordset("no not never none nobody nothing neither nor without cannot")
_NEGATING_VERBS = wordset("refus deny reject fail cancel cancell abandon")


def polarity_cues(text: str) -> set[str]:
    """Negations in ``text``: "not" for any plain negation, else the negating verb's stem."""
    cues = set(map(_polarity, words(text)))
    cues.discard("")
    return cues


@functools.lru_cache(maxsize=1 << 16)
def _polarity(word: str) -> str:
    """The cue one word gives (see :func:`polarity_cues`), else "" (memoised)."""
    folded = word.casefold().replace("\u2019", "'")
    if folded in _NEGATIONS or folded.endswith("n't"):
        return "not"
    stemmed = stem(word)
    return stemmed if stemmed in _NEGATING_VERBS else ""


def best_evidence(claim: str, source: Source, k: int = 2) -> list[int]:
    """The ``k`` evidence sentences sharing most content words with ``claim``: by best
    support score, then most shared stems, then first in the article.

    Only the sentences sharing a stem with the claim are scored: any other one scores 0
    and shares nothing, so it ranks after them, by id."""
    parsed = _Claim(content_words(claim))
    unique, pairs = parsed.unique, parsed.pairs
    shared = [sid for sid, stems in source.stem_sets.items() if not unique.isdisjoint(stems)]
    keys = []
    for sid in shared:  # (-parsed.support(source, [sid]), -stems shared, sid), inlined
        common = len(unique & source.stem_sets[sid])
        unigram = common / len(unique)
        bigram = len(pairs & source.bigrams[sid]) / len(pairs) if pairs else unigram
        keys.append((-round(0.5 * unigram + 0.5 * bigram, 3), -common, sid))
    ranked = [sid for _, _, sid in sorted(keys)[:k]]
    if len(ranked) < k:
        taken = set(shared)
        rest = (sid for sid in sorted(source.stems) if sid not in taken)
        ranked += itertools.islice(rest, k - len(ranked))
    return sorted(ranked)


def _unsupported_numbers(text: str, source: Source, allowed: set[float] | None = None) -> list[str]:
    found = numbers_in(text, claim=True)
    if allowed is not None:
        return [raw for raw, values in found if not values & allowed]
    return [raw for raw, values in found if not source.has_number(values)]


_CAP_TOKEN = re.compile(r"^[^\W\d_]")


def _capitalised_spans(tokens: Sequence[str], *, skip_first: bool) -> list[list[str]]:
    """Runs of capitalised words. With ``skip_first`` the sentence's first word is left
    out (its capital may just open the sentence: "Analyst Sajad Jiyad" -> "Sajad Jiyad")."""
    spans: list[tuple[int, list[str]]] = []
    for i in [i for i, token in enumerate(tokens) if token[:1].isupper()]:
        token = tokens[i]
        if not _CAP_TOKEN.match(token) or token.casefold() in STOPWORDS:
            continue
        if spans and spans[-1][0] + len(spans[-1][1]) == i:
            spans[-1][1].append(token)
        else:
            spans.append((i, [token]))
    if skip_first and spans and spans[0][0] == 0:
        spans[0] = (0, spans[0][1][1:])
    return [span for _, span in spans if span]


def _entity_ok(span: Sequence[str], source: Source) -> bool:
    country = canonical_country(" ".join(span))
    if country and country in source.countries:
        return True
    if len(span) > 1 and _acronym(span) in source.tokens:
        return True  # "United Nations" for "UN"
    for token in span:
        folded = _fold(token)
        if folded in source.tokens:
            continue
        country = canonical_country(token)
        if country and country in source.countries:
            continue
        if token.isupper() and len(token) > 1 and folded in source.acronyms:
            continue  # "UN" for "United Nations"
        return False
    return True


#: Where a sentence may end inside a text (a superset of ``briefing.ingest.sentences``'
#: candidates: end punctuation, closing quotes, whitespace).
_MAYBE_BREAK = re.compile(r"[.!?\u2026][\"'\u201d\u2019\u00bb)\]]*\s")


def unsupported_entities(text: str, source: Source, *, headline: bool = False) -> list[str]:
    """The capitalised names in ``text`` that the source does not contain."""
    missing: list[str] = []
    if "\n" in text or _MAYBE_BREAK.search(text):
        sentences = sentence_texts(text) or [text]
    else:  # one sentence: splitting would only normalise its spaces, not its words
        sentences = [text]
    for sentence in sentences:
        tokens = words(sentence)
        if headline and _is_title_case(tokens):
            continue  # Headline Style Capitalises Everything: the support score decides
        for span in _capitalised_spans(tokens, skip_first=True):
            if not _entity_ok(span, source):
                missing.append(" ".join(span))
    return missing


def _is_title_case(tokens: Sequence[str]) -> bool:
    long = [t for t in tokens if len(t) > 3]
    return len(long) >= 3 and sum(t[0].isupper() for t in long) / len(long) >= 0.75


_NAME_PARTICLES = wordset("al el bin ibn bint abu de del della di da du la le van von der den")


def _name_ok(name: str, source: Source, *, country_list: bool = False) -> bool:
    """A list entry (country, person, organization) that is a name the source contains.

    A name has at most 6 words, each capitalised (stopwords and particles such as "al"
    or "van" aside): a sentence put in the people list is not a name. A country entry
    must be a known country the source names, or a name of at most two words found in
    the source ("Kurdistan", "Gaza Strip").
    """
    country = canonical_country(name)
    if country:
        return country in source.countries
    tokens = words(name)
    significant = [t for t in tokens if t.casefold() not in STOPWORDS]
    if not significant or len(tokens) > 6 or (country_list and len(significant) > 2):
        return False
    if any(
        not (t[0].isupper() or t[0].isdigit()) and t.casefold() not in _NAME_PARTICLES
        for t in significant
    ):
        return False
    return _entity_ok([t for t in significant if t.casefold() not in _NAME_PARTICLES], source)


def _find_quote(pieces: list[list[str]], source: Source) -> int | None:
    """The sentence id where the quote starts, if all pieces occur in order."""
    haystack = source.quote_words
    start = 0
    first: int | None = None
    for piece in pieces:
        n = len(piece)
        i = start
        while True:  # the first i >= start where the piece occurs
            try:  # jump to the next occurrence of its first word (a scan in C)
                i = haystack.index(piece[0], i, len(haystack) - n + 1)
            except ValueError:
                return None
            if haystack[i : i + n] == piece:
                break
            i += 1
        if first is None:
            first = source.quote_sentence[i]
        start = i + n
    return first


_GENERIC_SPEAKER = frozenset(
    ["official", "officials", "spokesman", "spokeswoman", "spokesperson", "source"]
)


def check_quote(quote: Quote, source: Source) -> tuple[bool, str, list[int]]:
    """(verbatim and attributed?, reason, sentence ids)."""
    pieces = [p for p in (_quote_words(part) for part in _ELLIPSIS.split(quote.text)) if p]
    if sum(len(p) for p in pieces) < 2:
        return False, "too short to verify", []
    if is_instruction_like(quote.text):
        return False, "instruction-like text", []
    sid = _find_quote(pieces, source)
    if sid is None:
        return False, "not found verbatim in the source", []
    if len(words(quote.speaker)) > 8 or any(c in quote.speaker for c in ',.;:!?"\u201c\u201d'):
        return False, "speaker is not a name or a short description", [sid]
    missing = [
        " ".join(span)
        for span in _capitalised_spans(words(quote.speaker), skip_first=False)
        if not _entity_ok(span, source)
    ]
    if missing:
        return False, f"speaker not in the source: {', '.join(dict.fromkeys(missing))}", [sid]
    speaker = {_fold(t) for t in words(quote.speaker) if t.casefold() not in STOPWORDS}
    window = {
        _fold(t)
        for i in range(sid - 3, sid + 2)
        if i in source.evidence
        for t in words(source.evidence[i].text)
    }
    if speaker and not speaker & window and not speaker <= _GENERIC_SPEAKER:
        return False, "speaker not named near the quote", [sid]
    return True, "", [sid]


def check_figure(figure: Figure, source: Source) -> tuple[bool, str]:
    sid = figure.sentence_id
    if sid not in source.sentences:
        return False, f"cites sentence {sid}, which does not exist"
    if sid not in source.evidence:
        return False, f"cites sentence {sid}, which is instruction-like text"
    text = f"{figure.value} {figure.what}"
    if is_instruction_like(text):
        return False, "instruction-like text"
    value_numbers = numbers_in(figure.value, claim=True)
    if value_numbers:
        bad = _unsupported_numbers(figure.value, source, source.sentence_numbers[sid])
        if bad:
            return False, f"{', '.join(bad)} not in sentence {sid}"
    elif support_score(figure.value, source, [sid]) < 1.0:
        return False, f"value not in sentence {sid}"
    bad = _unsupported_numbers(figure.what, source)
    if bad:
        return False, f"number not in the source: {', '.join(bad)}"
    missing = unsupported_entities(figure.what, source)
    if missing:
        return False, f"not in the source: {', '.join(missing)}"
    what = set(content_words(figure.what))
    if what:
        recall = len(what & set(source.stems[sid])) / len(what)
        if recall < FIGURE_WHAT_THRESHOLD:
            return False, f"description not supported by sentence {sid} ({recall:.2f})"
    return True, ""


def check_text(
    text: str, source: Source, ids: Sequence[int] | None, *, headline: bool = False
) -> tuple[bool, float | None, str, list[int]]:
    """A headline, summary sentence (``ids=None``: best evidence) or key point (cited ids)."""
    if is_instruction_like(text):
        return False, None, "instruction-like text", list(ids or [])
    if ids is None:
        ids = best_evidence(text, source)
    else:
        missing_ids = [i for i in ids if i not in source.sentences]
        if not ids:
            return False, None, "cites no sentence", []
        if missing_ids:
            return False, None, f"cites sentence {missing_ids[0]}, which does not exist", list(ids)
        hostile = [i for i in ids if i in source.quarantined]
        if hostile:
            return False, None, f"cites instruction-like sentence {hostile[0]}", list(ids)
    score = support_score(text, source, ids)
    reasons: list[str] = []
    evidence_cues = set().union(*(source.cues(i) for i in ids))
    negations = sorted(polarity_cues(text) - evidence_cues)
    if negations:
        reasons.append(f"negation not in the evidence: {', '.join(negations)}")
    bad_numbers = _unsupported_numbers(text, source)
    if bad_numbers:
        reasons.append(f"number not in the source: {', '.join(bad_numbers)}")
    missing = unsupported_entities(text, source, headline=headline)
    if missing:
        reasons.append(f"not in the source: {', '.join(dict.fromkeys(missing))}")
    if score < SUPPORT_THRESHOLD:
        cited = ", ".join(str(i) for i in ids) or "none"
        reasons.append(f"support {score:.2f} < {SUPPORT_THRESHOLD} (sentences {cited})")
    return not reasons, score, "; ".join(reasons), list(ids)


# --------------------------------------------------------------------------- topic

_TOPICS = wordset("""
    conflict war politics political economy economic justice security diplomacy diplomatic
    health climate environment disaster energy migration refugees humanitarian rights human
    technology tech sport sports culture science business trade education religion crime
    elections election society social water transport finance financial military defence
    defense terrorism agriculture law legal labour labor media world international
    international relations foreign policy nuclear weapons protest protests government
    courts accountability gender history aviation weather infrastructure housing food
    """)


def _topic_ok(topic: str, source: Source) -> bool:
    tokens = words(topic)
    if not tokens or len(tokens) > 4 or is_instruction_like(topic):
        return False
    if all(t.casefold() in _TOPICS for t in tokens):
        return True
    vocab = set().union(*source.stem_sets.values())
    return all(t.casefold() in _TOPICS or stem(t) in vocab for t in tokens)


# --------------------------------------------------------------------------- ground


@dataclass
class _Run:
    source: Source
    policy: UnsupportedPolicy
    claims: list[ClaimCheck] = field(default_factory=list)

    def record(
        self,
        kind: ClaimKind,
        text: str,
        supported: bool,
        *,
        score: float | None = None,
        reason: str = "",
        ids: Sequence[int] = (),
        action: ClaimAction | None = None,
    ) -> bool:
        if action is None:
            action = "kept" if supported else ("dropped" if self.policy == "drop" else "flagged")
        self.claims.append(
            ClaimCheck(
                kind=kind,
                text=text,
                supported=supported,
                score=score,
                reason=reason,
                action=action,
                sentence_ids=list(ids),
            )
        )
        return supported


def _check_region(run: _Run, region: Region) -> Region:
    # = region_counts(f"{title}\n{text}"): no spelling spans a line break
    counts = counts_by_region(country_mentions(run.source.title) + run.source.mentions)
    if region == Region.GLOBAL or not counts:
        reason = "global story" if region == Region.GLOBAL else "the source names no country"
        run.record("region", region.value, True, reason=reason)
        return region
    order = list(Region)
    best = max(counts, key=lambda r: (counts[r], -order.index(r)))
    if counts[region] * 2 >= counts[best]:
        run.record("region", region.value, True, score=counts[region] / counts[best])
        return region
    named = ", ".join(f"{r.value} {n}" for r, n in counts.most_common(3))
    run.record(
        "region",
        region.value,
        False,
        score=counts[region] / counts[best],
        reason=f"contradicts the countries named (mentions: {named}); corrected to {best.value}",
        action="corrected",
    )
    return best


def _verify(run: _Run, content: SummaryOutput, title: str) -> tuple[SummaryOutput, int, int]:
    """The verified content, number of summary sentences kept, and of key points kept."""
    source = run.source
    # headline
    ok, score, reason, ids = check_text(content.headline, source, None, headline=True)
    headline = content.headline
    if not run.record(
        "headline",
        content.headline,
        ok,
        score=score,
        reason=reason,
        ids=ids,
        action=None if ok else "replaced",
    ):
        headline = " ".join(title.split()) or headline
    # summary, sentence by sentence
    kept_sentences: list[str] = []
    for sentence in sentence_texts(content.summary):
        ok, score, reason, ids = check_text(sentence, source, None)
        if run.record("summary", sentence, ok, score=score, reason=reason, ids=ids):
            kept_sentences.append(sentence)
    # key points
    points: list[KeyPoint] = []
    for point in content.key_points:
        ok, score, reason, ids = check_text(point.text, source, point.sentence_ids)
        if run.record("key_point", point.text, ok, score=score, reason=reason, ids=ids):
            points.append(point)
    # quotes
    quotes: list[Quote] = []
    seen_quotes: set[tuple[str, str]] = set()
    for quote in content.quotes:
        key = (quote.speaker.casefold(), " ".join(words(quote.text)).casefold())
        if key in seen_quotes:  # a small model repeats itself
            continue
        seen_quotes.add(key)
        ok, reason, ids = check_quote(quote, source)
        label = f"{quote.speaker}: \u201c{quote.text}\u201d"
        if run.record("quote", label, ok, reason=reason, ids=ids):
            quotes.append(quote)
    # figures
    figures: list[Figure] = []
    for figure in content.figures:
        ok, reason = check_figure(figure, source)
        label = f"{figure.value} \u2014 {figure.what}"
        if run.record("figure", label, ok, reason=reason, ids=[figure.sentence_id]):
            figures.append(figure)
    # names
    lists: dict[str, list[str]] = {}
    kinds: tuple[ClaimKind, ...] = ("country", "person", "organization")
    for kind in kinds:
        field_name = {"country": "countries", "person": "people"}.get(kind, "organizations")
        kept: list[str] = []
        for name in cast(list[str], getattr(content, field_name)):
            ok = _name_ok(name, source, country_list=kind == "country")
            reason = "" if ok else "not named in the source"
            if run.record(kind, name, ok, reason=reason):
                kept.append(name)
        lists[field_name] = kept
    region = _check_region(run, content.region)
    topic = content.topic
    if topic and not _topic_ok(topic, source):
        run.record("topic", topic, False, reason="not a plain topic label", action="dropped")
        topic = ""
    verified = content.model_copy(
        update={
            "headline": headline,
            "summary": " ".join(kept_sentences),
            "key_points": points,
            "quotes": quotes,
            "figures": figures,
            "region": region,
            "topic": topic,
            **lists,
        }
    )
    return verified, len(kept_sentences), len(points)


def _report(run: _Run, *, extractive: bool, reason: str | None) -> GroundingReport:
    actions = Counter(c.action for c in run.claims)
    return GroundingReport(
        checked=len(run.claims),
        supported=sum(c.supported for c in run.claims),
        dropped=actions["dropped"],
        flagged=actions["flagged"],
        replaced=actions["replaced"] + actions["corrected"],
        extractive=extractive,
        extractive_reason=reason,
        unsupported=run.policy,
        threshold=SUPPORT_THRESHOLD,
        claims=run.claims,
    )


def ground(
    summary: ArticleSummary, article: Article, *, unsupported: str = "drop"
) -> ArticleSummary:
    """Verify ``summary`` against ``article``; a new summary with only verified content.

    ``unsupported``: ``"drop"`` (default) removes claims that fail verification,
    ``"flag"`` moves them to ``flagged`` to be shown marked as unverified.
    """
    if unsupported not in ("drop", "flag"):
        raise ValueError(f"unsupported must be 'drop' or 'flag', not {unsupported!r}")
    policy = cast(UnsupportedPolicy, unsupported)
    from briefing.summarize import ensure_sentences

    sentences = ensure_sentences(article)
    source = Source.of(article, sentences)
    run = _Run(source, policy)
    base: SummaryOutput | None = None
    fallback_reason: str | None = None
    if summary.content is None:
        fallback_reason = "the model's output could not be used" + (
            f" ({summary.error})" if summary.error else ""
        )
    else:
        base, n_sentences, n_points = _verify(run, summary.content, article.title)
        if n_sentences == 0 and n_points < MIN_KEY_POINTS:
            fallback_reason = (
                f"verification left no summary sentence and {n_points} key point"
                f"{'' if n_points == 1 else 's'}"
            )
    flagged = [c for c in run.claims if c.action == "flagged"]
    if fallback_reason is None:
        return summary.model_copy(
            update={
                "content": base,
                "grounding": _report(run, extractive=False, reason=None),
                "flagged": flagged,
            }
        )
    fallback = extractive_output(article, sentences, base=base, exclude=source.quarantined)
    if fallback is None:  # nothing usable in the source either
        return summary.model_copy(
            update={
                "content": None,
                "status": "failed",
                "error": summary.error or fallback_reason,
                "grounding": _report(run, extractive=False, reason=fallback_reason),
                "flagged": flagged,
            }
        )
    return summary.model_copy(
        update={
            "content": fallback,
            "status": "extractive",
            "grounding": _report(run, extractive=True, reason=fallback_reason),
            "flagged": flagged,
        }
    )
