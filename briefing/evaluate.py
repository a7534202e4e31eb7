"""Faithfulness metrics of grounded summaries (``briefing eval``), and ROUGE against references.

Per article, from its :class:`~briefing.models.GroundingReport` (what the model claimed,
before anything was dropped):

* quote verbatim rate: quotes found verbatim in the source / quotes given;
* figure support rate: figures found in the sentence they cite / figures given;
* entity support rate: countries, people and organizations the source names / given;
* claim support rate: headline, summary sentences and key points supported / given;
* extractive: whether the shown summary had to be taken from the source instead;
* compression ratio: words of the shown summary and key points / words of the article;
* ROUGE-1, ROUGE-2 and ROUGE-L F1 of the shown summary and key points against a
  reference summary, where one is given.

Overall rates add the counts up over articles (micro average); ROUGE and compression
are averaged over articles (macro). ROUGE here follows the usual definition (as in
Google's ``rouge-score`` without stemming): case-folded alphanumeric tokens, clipped
n-gram overlap for ROUGE-N, longest common subsequence for ROUGE-L, F1 reported.

Reference summaries (``--references DIR``) are plain-text files named after the article:
``<article id>.txt``, or ``<input file stem>.txt`` when that input held one article, or
``<input file stem>-<n>.txt`` for its n-th article (from 1); ``.md`` works too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from briefing.errors import InputError
from briefing.extractive import words
from briefing.models import Article, ArticleSummary, ClaimKind

__all__ = [
    "ArticleEval",
    "EvalReport",
    "Rouge",
    "evaluate",
    "format_report",
    "load_references",
    "rouge",
    "rouge_l",
    "rouge_n",
]

_TEXT_KINDS: frozenset[ClaimKind] = frozenset({"headline", "summary", "key_point"})
_ENTITY_KINDS: frozenset[ClaimKind] = frozenset({"country", "person", "organization"})


# --------------------------------------------------------------------------- ROUGE


class Rouge(BaseModel):
    """Precision, recall and F1 of one ROUGE variant."""

    precision: float
    recall: float
    f1: float


def _tokens(text: str) -> list[str]:
    return [w.casefold() for w in words(text.replace("'", " ").replace("\u2019", " "))]


def _prf(overlap: int, n_candidate: int, n_reference: int) -> Rouge:
    precision = overlap / n_candidate if n_candidate else 0.0
    recall = overlap / n_reference if n_reference else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Rouge(precision=precision, recall=recall, f1=f1)


def rouge_n(candidate: str, reference: str, n: int) -> Rouge:
    """ROUGE-N: clipped overlap of word n-grams."""

    def grams(text: str) -> Counter[tuple[str, ...]]:
        tokens = _tokens(text)
        return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))

    cand, ref = grams(candidate), grams(reference)
    overlap = sum((cand & ref).values())
    return _prf(overlap, sum(cand.values()), sum(ref.values()))


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> Rouge:
    """ROUGE-L: longest common subsequence of the two token sequences."""
    cand, ref = _tokens(candidate), _tokens(reference)
    return _prf(_lcs(cand, ref), len(cand), len(ref))


def rouge(candidate: str, reference: str) -> dict[str, Rouge]:
    """ROUGE-1, ROUGE-2 and ROUGE-L of ``candidate`` against ``reference``."""
    return {
        "rouge1": rouge_n(candidate, reference, 1),
        "rouge2": rouge_n(candidate, reference, 2),
        "rougeL": rouge_l(candidate, reference),
    }


# --------------------------------------------------------------------------- metrics


class ArticleEval(BaseModel):
    """The metrics of one article."""

    article_id: str
    title: str
    status: str
    extractive: bool
    claims: tuple[int, int] = (0, 0)  #: (supported, checked): headline, summary, key points
    quotes: tuple[int, int] = (0, 0)
    figures: tuple[int, int] = (0, 0)
    entities: tuple[int, int] = (0, 0)
    summary_words: int = 0
    article_words: int = 0
    rouge: dict[str, Rouge] | None = None

    @property
    def compression(self) -> float | None:
        return self.summary_words / self.article_words if self.article_words else None


def _rate(pair: tuple[int, int]) -> float | None:
    return pair[0] / pair[1] if pair[1] else None


class EvalReport(BaseModel):
    """Per-article metrics and their overall values."""

    articles: list[ArticleEval]

    def _total(self, name: str) -> tuple[int, int]:
        pairs: list[tuple[int, int]] = [getattr(a, name) for a in self.articles]
        return sum(p[0] for p in pairs), sum(p[1] for p in pairs)

    def overall(self) -> dict[str, float | None]:
        """The overall rates (micro), extractive share, compression and ROUGE (macro)."""
        n = len(self.articles)
        compressions = [c for a in self.articles if (c := a.compression) is not None]
        out: dict[str, float | None] = {
            "quote_verbatim_rate": _rate(self._total("quotes")),
            "figure_support_rate": _rate(self._total("figures")),
            "entity_support_rate": _rate(self._total("entities")),
            "claim_support_rate": _rate(self._total("claims")),
            "extractive_share": sum(a.extractive for a in self.articles) / n if n else None,
            "compression_ratio": sum(compressions) / len(compressions) if compressions else None,
        }
        scored = [a.rouge for a in self.articles if a.rouge]
        for key in ("rouge1", "rouge2", "rougeL"):
            out[key] = sum(r[key].f1 for r in scored) / len(scored) if scored else None
        return out


def _count(summary: ArticleSummary, kinds: frozenset[ClaimKind]) -> tuple[int, int]:
    claims = [c for c in (summary.grounding.claims if summary.grounding else []) if c.kind in kinds]
    return sum(c.supported for c in claims), len(claims)


def shown_text(summary: ArticleSummary) -> str:
    """The summary paragraph and key points as shown in the brief."""
    if summary.content is None:
        return ""
    return " ".join([summary.content.summary, *(k.text for k in summary.content.key_points)])


def evaluate(
    articles: Sequence[Article],
    summaries: Sequence[ArticleSummary],
    references: Mapping[str, str] | None = None,
) -> EvalReport:
    """Metrics of grounded ``summaries`` (same order as ``articles``); ``references`` maps
    article ids to reference summaries."""
    rows: list[ArticleEval] = []
    for article, summary in zip(articles, summaries, strict=True):
        shown = shown_text(summary)
        reference = (references or {}).get(article.id)
        rows.append(
            ArticleEval(
                article_id=article.id,
                title=article.title,
                status=summary.status,
                extractive=bool(summary.grounding and summary.grounding.extractive),
                claims=_count(summary, _TEXT_KINDS),
                quotes=_count(summary, frozenset({"quote"})),
                figures=_count(summary, frozenset({"figure"})),
                entities=_count(summary, _ENTITY_KINDS),
                summary_words=len(words(shown)),
                article_words=len(words(article.text)),
                rouge=rouge(shown, reference) if reference is not None else None,
            )
        )
    return EvalReport(articles=rows)


def load_references(directory: Path, articles: Sequence[Article]) -> dict[str, str]:
    """Reference summaries from ``directory`` by article (see the module docstring)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"Reference directory {directory} does not exist.")
    per_source = Counter(a.source for a in articles)
    position: Counter[str] = Counter()
    found: dict[str, str] = {}
    for article in articles:
        position[article.source] += 1
        stem = Path(article.source).name.split(".")[0] if article.source != "-" else ""
        names = [article.id]
        if stem:
            names.append(f"{stem}-{position[article.source]}")
            if per_source[article.source] == 1:
                names.append(stem)
        for name in names:
            path = next(
                (p for p in (directory / f"{name}.txt", directory / f"{name}.md") if p.is_file()),
                None,
            )
            if path is not None:
                found[article.id] = path.read_text(encoding="utf-8")
                break
    return found


# --------------------------------------------------------------------------- text


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _pair(pair: tuple[int, int]) -> str:
    return "-" if not pair[1] else f"{pair[0]}/{pair[1]}"


def format_report(report: EvalReport) -> str:
    """A plain-text table: one line per article, then the overall values."""
    with_rouge = any(a.rouge for a in report.articles)
    head = f"{'#':>3}  {'article':<38} {'status':<10} {'claims':>7} {'quotes':>7} "
    head += f"{'figures':>7} {'entities':>8} {'compr':>6}"
    if with_rouge:
        head += f" {'R-1':>5} {'R-2':>5} {'R-L':>5}"
    lines = [head]
    for i, a in enumerate(report.articles, 1):
        title = a.title if len(a.title) <= 38 else a.title[:37] + "\u2026"
        compression = "-" if a.compression is None else f"{a.compression:.2f}"
        line = f"{i:>3}  {title:<38} {a.status:<10} {_pair(a.claims):>7} {_pair(a.quotes):>7} "
        line += f"{_pair(a.figures):>7} {_pair(a.entities):>8} {compression:>6}"
        if with_rouge:
            r = a.rouge
            line += "".join(
                f" {r[k].f1:>5.2f}" if r else f" {'-':>5}" for k in ("rouge1", "rouge2", "rougeL")
            )
        lines.append(line)
    o = report.overall()
    lines += [
        "",
        f"claim support rate    {_pct(o['claim_support_rate'])}"
        "   (headline, summary sentences, key points)",
        f"quote verbatim rate   {_pct(o['quote_verbatim_rate'])}",
        f"figure support rate   {_pct(o['figure_support_rate'])}",
        f"entity support rate   {_pct(o['entity_support_rate'])}",
        f"extractive fallbacks  {_pct(o['extractive_share'])}",
        "compression ratio     "
        + ("-" if o["compression_ratio"] is None else f"{o['compression_ratio']:.3f}"),
    ]
    if with_rouge:
        lines.append(
            "ROUGE F1              "
            + "  ".join(
                f"{k} {o[k]:.3f}" for k in ("rouge1", "rouge2", "rougeL") if o[k] is not None
            )
        )
    return "\n".join(lines) + "\n"
