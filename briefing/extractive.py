"""Extractive summaries: the article's own most central sentences, used when the model's fail.

No model and no download: sentences are ranked by a small, explainable score

    score = 0.5 * centrality + 0.25 * title similarity + 0.25 * lead bias

* centrality: TextRank over the TF-IDF cosine-similarity graph of the sentences
  (20 power iterations, damping 0.85), scaled so the most central sentence has 1;
  computed without building the graph (see :func:`_textrank`): linear in the words
  of the article, where the graph has a weight for every pair of sentences (a
  463-sentence article took 4.9 s that way);
* title similarity: cosine similarity to the title, scaled the same way;
* lead bias: ``1 / (1 + 0.25 * position)`` (news puts the essentials first).

Sentences too short to stand alone (under 6 words: datelines, "- 'On standby' -"
subheads) are not candidates, nor are the ones the caller excludes (grounding excludes
instruction-like text). A quotation that runs over several sentences is one candidate,
from the sentence that opens it to the one that closes it (:func:`passages`): "'Israel
is aiming for a regime collapse in Iran." alone states someone's words without whose
(the seed brief had it as a key point); a piece whose other end is not found is used
only when nothing else is left. The summary takes the best passages in article order,
skipping any too similar (cosine > 0.6) to one already taken; the headline is the title.

The word helpers here (:func:`words`, :func:`content_words`, :func:`stem`) are shared
with ``briefing.grounding``. Their units come from ``briefing.words``: words in spaced
scripts, overlapping character bigrams in Chinese, Japanese, Thai and the other scripts
written without spaces (a bigram is its own stem: no case, suffix or stopword), so
ranking a Chinese article compares its sentences by the words they share, not by whole
clauses.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Container, Iterable, Sequence
from typing import TYPE_CHECKING

from briefing.models import Article, KeyPoint, Region, Sentence, SummaryOutput
from briefing.regions import canonical_country, countries_in_text, dominant_region
from briefing.sentences import join_sentences, quotation_ends, quotation_fragment
from briefing.textsim import cosine, idf, tfidf_vector, tfidf_vectors, wordset
from briefing.words import has_unspaced, is_unspaced_unit, units

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "STOPWORDS",
    "content_stems",
    "content_words",
    "extract",
    "extractive_output",
    "rank_sentences",
    "stem",
    "words",
]


#: Function words and reporting verbs: they carry no claim of their own.
STOPWORDS = wordset("""
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves
    said says say saying told tell according added adds also would could may might must shall
    one mr mrs ms dr s t re ve ll d
    """)

_SUFFIXES = (
    ("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", ""),
)  # fmt: skip

HEADLINE_MAX = 120
#: Characters of unspaced script a headline may lose to end at a space rather than
#: inside a run (Chinese and Japanese titles have few spaces, if any).
_HEADLINE_TAIL = 40


def words(text: str) -> list[str]:
    """The word tokens of ``text`` as written (hyphenated words split, apostrophes kept;
    NFKC): ``briefing.words.units``, so bigrams in scripts without spaces."""
    return units(unicodedata.normalize("NFKC", text))


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light stem (memoised: a brief stems the same words over and over): lower case,
    possessive and common suffixes removed, country names and
    demonyms folded to the country ("Iraqi" -> "iraq", "US" -> "united states")."""
    if is_unspaced_unit(word):
        return word  # a bigram of Chinese, Japanese, Thai...: no case, no suffix
    country = canonical_country(word) if word[:1].isupper() else None
    if country:
        return country.casefold()
    w = word.casefold().replace("\u2019", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 4 or w.isdigit():
        return w
    for suffix, replacement in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + replacement
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":  # "planned" -> "plann" -> "plan"
        w = w[:-1]
    return w.removesuffix("e") if len(w) > 4 else w


_NUMBER_WORDS = wordset("""
    zero two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred thousand million billion trillion bn
    """)


def content_words(text: str) -> list[str]:
    """Stems of the words of ``text`` that carry content, in order: stopwords and numbers
    (digits or words, which grounding checks by value) removed."""
    return content_stems(words(text))


def content_stems(tokens: Iterable[str]) -> list[str]:
    """:func:`content_words` of tokens already split by :func:`words`."""
    return [s for s in map(_content_stem, tokens) if s is not None]


@functools.lru_cache(maxsize=1 << 16)
def _content_stem(word: str) -> str | None:
    """The stem of a word that carries content, else ``None`` (memoised)."""
    folded = word.casefold()
    if folded in STOPWORDS or folded in _NUMBER_WORDS or word[0].isdigit():
        return None
    return stem(word)


# --------------------------------------------------------------------------- ranking

_MIN_WORDS = 6
_REDUNDANT = 0.6
_DAMPING = 0.85
_ITERATIONS = 20


def _textrank(vectors: Sequence[dict[str, float]]) -> list[float]:
    """TextRank over the cosine graph of ``vectors`` (an edge between every two sentences
    weighted by their cosine, no self-loops), without building the graph.

    With ``X`` the matrix of the vectors (one row per sentence), the graph is ``S = X
    X^T`` less its diagonal, so a power-iteration step ``S u`` is ``X (X^T u) - diag(S)
    u``: two sparse products, linear in the nonzero entries of ``X`` (numpy's
    ``bincount`` over their coordinates). A sentence's out-weight is its row sum ``S 1``,
    or 1 when it shares no term with any other sentence (it has no edge; found from
    the terms' document frequencies, not from a float difference). Same definition as
    the pairwise loop (``rank[i] = (1 - d) / n + d * sum_j S[j][i] / out[j] *
    rank[j]``), the same sums in another order: equal to within float rounding.
    """
    import numpy as np  # lazily: most runs never need an extractive summary

    n = len(vectors)
    term_ids: dict[str, int] = {}
    cols = [term_ids.setdefault(term, len(term_ids)) for vector in vectors for term in vector]
    row = np.repeat(np.arange(n), [len(vector) for vector in vectors])
    col = np.array(cols, dtype=np.intp)
    val = np.fromiter((w for vector in vectors for w in vector.values()), np.float64, len(cols))
    n_terms = len(term_ids)
    diagonal = np.bincount(row, weights=val * val, minlength=n)

    def graph_times(u: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        by_term = np.bincount(col, weights=val * u[row], minlength=n_terms)
        return np.bincount(row, weights=val * by_term[col], minlength=n) - diagonal * u

    shared_terms = np.bincount(col, minlength=n_terms) > 1
    linked = np.bincount(row, weights=shared_terms[col], minlength=n) > 0
    out_weight = np.where(linked, graph_times(np.ones(n)), 1.0)
    rank = np.full(n, 1.0 / n)
    for _ in range(_ITERATIONS):
        rank = (1 - _DAMPING) / n + _DAMPING * graph_times(rank / out_weight)
    return [float(r) for r in rank]


def _scaled(values: list[float]) -> list[float]:
    top = max(values, default=0.0)
    return [v / top if top > 0 else 0.0 for v in values]


#: most sentences one quotation may run over and still be one passage
_QUOTATION_SENTENCES = 4


def passages(sentences: Sequence[Sentence]) -> list[tuple[Sentence, ...]]:
    """The sentences in reading units: each sentence alone, except that a quotation
    running over several sentences (:func:`briefing.sentences.quotation_ends`) is one
    unit, from the sentence that opens it to the one that closes it (at most
    ``_QUOTATION_SENTENCES``): "'Israel is aiming for a regime collapse in Iran. That is
    the only reason...,' said Shahin Modarres." says whose words they are; each half
    alone does not. A piece of a quotation whose other end is not found stays alone."""
    units: list[tuple[Sentence, ...]] = []
    i = 0
    while i < len(sentences):
        opens, _ = quotation_ends(sentences[i].text)
        end = i
        if opens:
            for j in range(i + 1, min(i + _QUOTATION_SENTENCES, len(sentences))):
                next_opens, next_closes = quotation_ends(sentences[j].text)
                if next_closes:
                    end = j
                    break
                if next_opens:
                    break
        units.append(tuple(sentences[i : end + 1]))
        i = end + 1
    return units


def rank_sentences(
    sentences: Sequence[Sentence], title: str = "", *, exclude: Container[int] = ()
) -> list[tuple[Sentence, float]]:
    """Candidate passages with their scores, best first (see the module docstring). A
    passage of several sentences (a quotation, see :func:`passages`) is one ``Sentence``
    whose id is its first sentence's and whose text joins them: ``passage_ids`` gives
    the ids it stands for."""
    candidates: list[Sentence] = []
    docs: list[list[str]] = []
    fragments: list[tuple[Sentence, list[str]]] = []
    for unit in passages(sentences):
        if any(s.id in exclude for s in unit):
            continue
        text = join_sentences(s.text for s in unit)
        tokens = words(text)
        if len(tokens) < _MIN_WORDS:
            continue
        passage = unit[0] if len(unit) == 1 else Sentence(id=unit[0].id, text=text)
        if len(unit) == 1 and quotation_fragment(text):  # whose words? last resort
            fragments.append((passage, content_stems(tokens) or ["\0"]))
            continue
        candidates.append(passage)
        docs.append(content_stems(tokens) or ["\0"])
    if not candidates and fragments:
        candidates = [s for s, _ in fragments]
        docs = [doc for _, doc in fragments]
    if not candidates:
        return []
    title_doc = content_words(title)
    vectors = tfidf_vectors([*docs, title_doc] if title_doc else docs)
    sentence_vectors = vectors[: len(docs)]
    centrality = _scaled(_textrank(sentence_vectors))
    title_sim = _scaled([cosine(v, vectors[-1]) for v in sentence_vectors] if title_doc else [])
    if not title_sim:
        title_sim = [0.0] * len(candidates)
    position = {s.id: i for i, s in enumerate(sentences)}
    scored = [
        (
            s,
            0.5 * centrality[i] + 0.25 * title_sim[i] + 0.25 / (1 + 0.25 * position[s.id]),
        )
        for i, s in enumerate(candidates)
    ]
    return sorted(scored, key=lambda pair: (-pair[1], pair[0].id))


def passage_ids(passage: Sentence, sentences: Sequence[Sentence]) -> list[int]:
    """The ids of the sentences a ranked passage stands for (one, or a quotation's:
    passages never overlap, so its first id names it)."""
    return _ids_by_start(sentences).get(passage.id, [passage.id])


def _ids_by_start(sentences: Sequence[Sentence]) -> dict[int, list[int]]:
    return {unit[0].id: [s.id for s in unit] for unit in passages(sentences)}


def _select(ranked: Sequence[tuple[Sentence, float]], n: int) -> list[Sentence]:
    """The best ``n`` of ``ranked``, skipping near-duplicates, in rank order (IDF over all
    of ``ranked``; vectors only for the sentences looked at)."""
    chosen: list[Sentence] = []
    chosen_vectors: list[dict[str, float]] = []
    docs = [content_words(s.text) or ["\0"] for s, _ in ranked]
    weights = idf(docs)
    for (sentence, _score), doc in zip(ranked, docs, strict=True):
        if len(chosen) == n:
            break
        vector = tfidf_vector(doc, weights)
        if any(cosine(vector, other) > _REDUNDANT for other in chosen_vectors):
            continue
        chosen.append(sentence)
        chosen_vectors.append(vector)
    return chosen


def extract(
    sentences: Sequence[Sentence], title: str = "", *, n: int = 3, exclude: Container[int] = ()
) -> list[Sentence]:
    """The ``n`` best non-redundant sentences, in article order."""
    picked = _select(rank_sentences(sentences, title, exclude=exclude), n)
    return sorted(picked, key=lambda s: s.id)


def headline_from(title: str, sentences: Sequence[Sentence]) -> str:
    """The title, or else the first sentence cut at a word boundary."""
    text = " ".join(title.split()) or (" ".join(sentences[0].text.split()) if sentences else "")
    if len(text) <= HEADLINE_MAX:
        return text
    cut = text[: HEADLINE_MAX - 1]
    head, space, tail = cut.rpartition(" ")
    if space and (len(tail) <= _HEADLINE_TAIL or not has_unspaced(tail)):
        cut = head  # at a word boundary; in a long run of Chinese or Japanese, at a character
    return cut + "\u2026"


def extractive_output(
    article: Article,
    sentences: Sequence[Sentence],
    *,
    base: SummaryOutput | None = None,
    exclude: Container[int] = (),
    n_summary: int = 2,
    n_points: int = 2,
) -> SummaryOutput | None:
    """A summary made of the article's own sentences (``None`` if it has none usable).

    ``exclude``: ids of sentences never to use (0 stands for the title). Headline: the
    title. Summary: the best ``n_summary`` sentences in article order. Key
    points: the next best ``n_points`` sentences, verbatim, each citing itself. Region and
    countries: from the countries the article names. People, organizations, quotes,
    figures, topic and importance come from ``base`` (the verified part of the model's
    output) when given.
    """
    by_rank = _select(
        rank_sentences(sentences, article.title, exclude=exclude), n_summary + n_points
    )
    if not by_rank:
        return None
    ids_of = _ids_by_start(sentences)
    summary_part = sorted(by_rank[:n_summary], key=lambda s: s.id)
    points_part = sorted(by_rank[n_summary:], key=lambda s: s.id)
    body = "\n".join(s.text for s in sentences if s.id not in exclude)
    title = "" if 0 in exclude else article.title
    text = f"{title}\n{body}"
    region = dominant_region(f"{title}\n{text}")
    return SummaryOutput(
        headline=headline_from(article.title, sentences) or "Untitled",
        summary=join_sentences(s.text for s in summary_part),
        key_points=[
            KeyPoint(text=s.text, sentence_ids=ids_of.get(s.id, [s.id])) for s in points_part
        ],
        region=region or (base.region if base else Region.GLOBAL),
        countries=countries_in_text(text)[:6] or (base.countries if base else []),
        people=base.people if base else [],
        organizations=base.organizations if base else [],
        quotes=base.quotes if base else [],
        figures=base.figures if base else [],
        topic=base.topic if base else "",
        importance=base.importance if base else 3,
    )
