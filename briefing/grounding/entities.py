"""Names: every capitalised name of a claim must occur in the source.

Every capitalised word of a claim (except a sentence's first word, whose capital may
only open the sentence, and stopwords; the rest of a name starting there is checked)
must occur in the source, case- and accent-insensitively (title-case headlines are left
to the support score); country names, demonyms and capitals count for each other
("Iranian" is supported by "Iran"), acronyms match initials ("UN" = "United Nations").
Partial names pass ("Jiyad" for "Sajad Jiyad"); invented ones do not. The
``countries``, ``people`` and ``organizations`` lists are filtered the same way, and
their entries must look like names (at most 6 capitalised words: a sentence put in the
people list is not a name).

Lower-cased text has no capitals to go by: there a name is just a content word, and an
invented one counts among the claim's novel words (``briefing.grounding.lexical``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from briefing.extractive import STOPWORDS, words
from briefing.regions import canonical_country
from briefing.sentences import sentence_texts
from briefing.textsim import wordset

if TYPE_CHECKING:
    from briefing.grounding.source import Source

__all__ = ["fold", "name_ok", "unsupported_entities"]


@functools.lru_cache(maxsize=1 << 16)
def fold(token: str) -> str:
    """Case, accents and possessive folded away: "Priština's" -> "pristina" (memoised)."""
    decomposed = unicodedata.normalize("NFKD", token.casefold().replace("\u2019", "'"))
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return folded[:-2] if folded.endswith("'s") else folded


def acronym(tokens: Sequence[str]) -> str:
    """The initials of the capitalised tokens ("United Nations" -> "un")."""
    return "".join(t[0] for t in tokens if t[:1].isupper()).casefold()


_CAP_TOKEN = re.compile(r"^[^\W\d_]")


def capitalised_spans(tokens: Sequence[str], *, skip_first: bool) -> list[list[str]]:
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


def entity_ok(span: Sequence[str], source: Source) -> bool:
    """Whether the source contains the name ``span`` (see the module docstring)."""
    country = canonical_country(" ".join(span))
    if country and country in source.countries:
        return True
    if len(span) > 1 and acronym(span) in source.tokens:
        return True  # "United Nations" for "UN"
    for token in span:
        folded = fold(token)
        if folded in source.tokens:
            continue
        country = canonical_country(token)
        if country and country in source.countries:
            continue
        if token.isupper() and len(token) > 1 and folded in source.acronyms:
            continue  # "UN" for "United Nations"
        return False
    return True


#: Where a sentence may end inside a text (a superset of ``briefing.sentences``'
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
        if headline and is_title_case(tokens):
            continue  # Headline Style Capitalises Everything: the support score decides
        for span in capitalised_spans(tokens, skip_first=True):
            if not entity_ok(span, source):
                missing.append(" ".join(span))
    return missing


def is_title_case(tokens: Sequence[str]) -> bool:
    """Most long words capitalised: a headline's style, not names."""
    long = [t for t in tokens if len(t) > 3]
    return len(long) >= 3 and sum(t[0].isupper() for t in long) / len(long) >= 0.75


_NAME_PARTICLES = wordset("al el bin ibn bint abu de del della di da du la le van von der den")


def name_ok(name: str, source: Source, *, country_list: bool = False) -> bool:
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
    return entity_ok([t for t in significant if t.casefold() not in _NAME_PARTICLES], source)
