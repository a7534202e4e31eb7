"""The source as grounding sees it: evidence sentences (id 0 is the title) and their indexes.

:class:`Source` is built once per article and shared by every check: the evidence
sentences (instruction-like ones quarantined, see ``briefing.grounding.instructions``),
each sentence's content-word stems and stem pairs, the folded tokens and countries of
the whole text; and, computed on first use, acronyms, numbers per sentence, the words
for verbatim quote search, the whole source's vocabulary and its token stream for the
lexical features (``briefing.grounding.lexical``).
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from briefing.extractive import content_stems, words
from briefing.grounding.entities import acronym, capitalised_spans, fold
from briefing.grounding.instructions import is_instruction_like
from briefing.grounding.numbers import numbers_in
from briefing.grounding.polarity import polarity_cues
from briefing.grounding.quotes import quote_words
from briefing.models import Article, Sentence
from briefing.regions import country_mentions
from briefing.sentences import split_sentences

__all__ = ["Source"]


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

    @classmethod
    def from_text(cls, text: str, title: str = "") -> Source:
        """A source from plain text (split into sentences here), e.g. a document to verify."""
        return cls.of(Article(title=title, text=text), split_sentences(text))

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
            self.tokens.update(map(fold, tokens))
        self._text = "\n".join(s.text for s in self.evidence.values())
        self.mentions = country_mentions(self._text)
        self.countries = set(self.mentions)

    @property
    def text(self) -> str:
        return self._text

    def words_of(self, sid: int) -> list[str]:
        """The word tokens of evidence sentence ``sid``."""
        return self._words[sid]

    # computed on first use: many summaries need no acronym, quote or figure check

    @functools.cached_property
    def acronyms(self) -> set[str]:
        """Initials of the evidence's multi-word names ("United Nations" -> "un")."""
        return {
            acronym(span)
            for tokens in self._words.values()
            for span in capitalised_spans(tokens, skip_first=False)
            if len(span) > 1
        }

    @functools.cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every content-word stem of the evidence."""
        return frozenset().union(*self.stem_sets.values())

    @functools.cached_property
    def characters(self) -> frozenset[str]:
        """Every character of the evidence (where a claim in Chinese, Japanese or Thai
        brings a letter the source never uses, ``lexical.novel_words``)."""
        return frozenset(unicodedata.normalize("NFKC", self._text))

    @functools.cached_property
    def all_bigrams(self) -> frozenset[tuple[str, str]]:
        """Every pair of adjacent content-word stems of the evidence (within a sentence)."""
        return frozenset().union(*self.bigrams.values())

    @functools.cached_property
    def stream(self) -> tuple[list[str], list[int], dict[str, list[int]]]:
        """The evidence's lower-cased words in order, the sentence of each, and where each
        word occurs (for the copied-fragment features of ``briefing.grounding.lexical``)."""
        flat: list[str] = []
        sentence_of: list[int] = []
        for sid, tokens in self._words.items():
            flat.extend(t.casefold() for t in tokens)
            sentence_of.extend([sid] * len(tokens))
        where: dict[str, list[int]] = {}
        for i, token in enumerate(flat):
            where.setdefault(token, []).append(i)
        return flat, sentence_of, where

    @functools.cached_property
    def copies(self) -> dict[tuple[str, ...], int]:
        """Each evidence sentence's words (``quotes.quote_words``) -> its id: a claim that
        copies a whole sentence is found here."""
        found: dict[tuple[str, ...], int] = {}
        for sid, sentence in self.evidence.items():
            found.setdefault(tuple(quote_words(sentence.text)), sid)
        found.pop((), None)
        return found

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
        all_words: list[str] = []
        quote_sentence: list[int] = []
        for sid, sentence in self.evidence.items():
            qwords = quote_words(sentence.text)
            all_words.extend(qwords)
            quote_sentence.extend([sid] * len(qwords))
        return all_words, quote_sentence

    @property
    def quote_words(self) -> list[str]:
        """The evidence's words for verbatim comparison (``quotes.quote_words``), in order."""
        return self._quotes[0]

    @property
    def quote_sentence(self) -> list[int]:
        """The evidence sentence of each of ``quote_words``."""
        return self._quotes[1]

    def cues(self, sid: int) -> set[str]:
        """``polarity_cues`` of evidence sentence ``sid`` (computed once)."""
        found = self._cues.get(sid)
        if found is None:
            found = self._cues[sid] = polarity_cues(self.evidence[sid].text)
        return found
