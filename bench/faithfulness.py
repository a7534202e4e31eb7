"""The claim checker measured on human-labelled summaries, and its scorer trained (issue 15).

    .venv/bin/python bench/faithfulness.py [--data FILE] [--folds 5]
    .venv/bin/python bench/faithfulness.py --train     # rewrites briefing/grounding/scorer.json

The data is AggreFact's validation half (``../shared/devcorpus/faithfulness/
aggrefact-val.jsonl`` beside the repository, read at run time, never copied into the
project; its README says what is in it). The measure: balanced accuracy (mean of the
recall on faithful and on unfaithful summaries) per origin (CNN/DM, XSum) on the SOTA
rows, and on all rows; a summary is flagged when any of its sentences (claims) is
judged unsupported.

It prints, per origin, for

* the **old** checker: the rule before issue 15 (``support >= 0.6`` from the two best
  evidence sentences, plus the exact checks: names, numbers, negation, instructions),
  run with today's code (sentence splitting of lower-cased text included);
* the **new** checker, **cross-validated**: the scorer trained on the other folds
  (folds grouped by document: a document's summaries are never in both a training and
  a test fold), with its threshold chosen on those folds; the mean over folds of the
  training-fold figures beside it shows the overfitting gap;
* the **new** checker **as shipped** (``scorer.json``: trained on all rows);
* the published detectors' figures on the held-out test half (from the README);

then the false-alarm rate on the sources' own sentences (each sentence of each
document checked as a claim against its document) and the time per pair.

Training (``--train``): every claim of every summary gets its summary's label (a
faithful summary's claims are all faithful; an unfaithful one's mostly carry its
error), weighted ``1 / claims`` so each summary counts once; claims failing an exact
check are left out (they are unsupported whatever the score). A logistic regression over
the standardised features (L2, ``C = 1``, fitted by Newton's method in numpy: no
scikit-learn needed, and deterministic), and the threshold that maximises the mean of
the two origins' balanced accuracy on the SOTA rows. ``--train`` writes the weights,
the threshold and the figures to ``briefing/grounding/scorer.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from briefing.grounding import Scorer, Source, check_claim, default_scorer  # noqa: E402
from briefing.grounding.lexical import (  # noqa: E402
    FEATURES,
    SUPPORT_THRESHOLD,
    best_evidence,
    claim_features,
    support_score,
)
from briefing.sentences import sentence_texts  # noqa: E402

DATA = ROOT.parent / "shared" / "devcorpus" / "faithfulness" / "aggrefact-val.jsonl"
WEIGHTS = ROOT / "briefing" / "grounding" / "scorer.json"
ORIGINS = ("cnndm", "xsum")
#: Published detectors on the SOTA test rows (balanced accuracy, CNN/DM, XSum).
PUBLISHED = {
    "DAE": (65.4, 70.2),
    "QuestEval": (70.2, 59.5),
    "SummaC-ZS": (64.0, 56.4),
    "SummaC-Conv": (61.0, 65.0),
    "QAFactEval": (67.8, 63.9),
    "old checker (test half, README)": (59.4, 54.9),
}
L2_C = 1.0


@dataclass
class Claim:
    features: list[float] | None  # None: not scored (no content word, instruction...)
    exact_failure: bool
    old_ok: bool


@dataclass
class Pair:
    origin: str
    sota: bool
    label: int
    doc: str
    claims: list[Claim]


def load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def extract(rows: Sequence[dict[str, Any]]) -> list[Pair]:
    """Each summary's claims: their features, exact failures and the old rule's verdict."""
    pairs = []
    sources: dict[str, Source] = {}
    for row in rows:
        source = sources.get(row["doc"])
        if source is None:
            source = sources[row["doc"]] = Source.from_text(row["doc"])
        claims = []
        for text in sentence_texts(row["summary"]) or [row["summary"]]:
            verdict = check_claim(text, source, None)
            f = verdict.features
            claims.append(
                Claim(
                    features=None if f is None or verdict.verbatim else [f[n] for n in FEATURES],
                    exact_failure=verdict.exact_failure,
                    old_ok=_old_exact_ok(verdict.failed) and _old_support(text, source),
                )
            )
        pairs.append(
            Pair(row["origin"], row["category"] == "SOTA", int(row["label"]), row["doc"], claims)
        )
    return pairs


#: The exact checks the old checker had (not "qualifier": new with issue 15).
OLD_CHECKS = frozenset({"instruction", "citation", "negation", "number", "name"})


def _old_exact_ok(failed: Sequence[str]) -> bool:
    return not OLD_CHECKS.intersection(failed)


def _old_support(text: str, source: Source) -> bool:
    """The old rule's support: ROUGE-style, from the two best evidence sentences."""
    return support_score(text, source, best_evidence(text, source)) >= SUPPORT_THRESHOLD


# --------------------------------------------------------------------------- the model


@dataclass
class Fitted:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = self.intercept + ((x - self.mean) / self.scale) @ self.coef
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float = L2_C) -> Fitted:
    """Weighted L2 logistic regression on standardised ``x`` (Newton's method)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], 1.0 / c)
    penalty[0] = 0.0  # the intercept is not penalised
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -60, 60)))
        gradient = z.T @ (w * (p - y)) + penalty * beta
        hessian = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return Fitted(mean, scale, beta[1:], float(beta[0]))


def training_set(pairs: Sequence[Pair]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, w = [], [], []
    for pair in pairs:
        for claim in pair.claims:
            if claim.features is not None and not claim.exact_failure:
                x.append(claim.features)
                y.append(pair.label)
                w.append(1.0 / len(pair.claims))
    return np.array(x), np.array(y, dtype=float), np.array(w)


def summary_scores(pairs: Sequence[Pair], model: Fitted) -> np.ndarray:
    """Each summary's weakest claim: its probability, 0 for an exact failure, 1 for a
    claim with no content word."""
    scores = []
    for pair in pairs:
        worst = 1.0
        for claim in pair.claims:
            if claim.exact_failure:
                p = 0.0
            elif claim.features is None:
                p = 1.0
            else:
                p = float(model.probability(np.array([claim.features]))[0])
            worst = min(worst, p)
        scores.append(worst)
    return np.array(scores)


def balanced_accuracy(kept: np.ndarray, labels: np.ndarray) -> float:
    """Mean of the recall on faithful (kept) and unfaithful (flagged) summaries, in %."""
    faithful, unfaithful = labels == 1, labels == 0
    if not faithful.any() or not unfaithful.any():
        return float("nan")
    return 50.0 * (kept[faithful].mean() + (~kept[unfaithful]).mean())


def figures(pairs: Sequence[Pair], kept: np.ndarray) -> dict[str, float]:
    """Balanced accuracy per origin, SOTA rows and all rows."""
    labels = np.array([p.label for p in pairs])
    origin = np.array([p.origin for p in pairs])
    sota = np.array([p.sota for p in pairs])
    out = {}
    for o in ORIGINS:
        out[f"{o} SOTA"] = round(
            balanced_accuracy(kept[(origin == o) & sota], labels[(origin == o) & sota]), 1
        )
        out[f"{o} all"] = round(balanced_accuracy(kept[origin == o], labels[origin == o]), 1)
    return out


def best_threshold(pairs: Sequence[Pair], scores: np.ndarray) -> float:
    """The threshold maximising the mean SOTA balanced accuracy of the two origins."""
    labels = np.array([p.label for p in pairs])
    origin = np.array([p.origin for p in pairs])
    sota = np.array([p.sota for p in pairs])
    candidates = np.unique(
        np.round(np.quantile(scores[scores > 0], np.linspace(0.01, 0.99, 99)), 4)
    )

    def objective(t: float) -> tuple[float, float]:
        kept = scores >= t
        values = [
            balanced_accuracy(kept[(origin == o) & sota], labels[(origin == o) & sota])
            for o in ORIGINS
        ]
        return (statistics.mean(values), -t)

    return float(max(candidates, key=objective))


def groups_of(pairs: Sequence[Pair]) -> np.ndarray:
    ids: dict[str, int] = {}
    return np.array([ids.setdefault(p.doc, len(ids)) for p in pairs])


def folds(pairs: Sequence[Pair], k: int) -> list[np.ndarray]:
    """``k`` test folds grouped by document (documents dealt round-robin in order of first
    appearance: deterministic, no document in two folds)."""
    groups = groups_of(pairs)
    return [np.flatnonzero(groups % k == i) for i in range(k)]


def cross_validate(pairs: Sequence[Pair], k: int) -> tuple[dict[str, float], dict[str, float]]:
    """(mean training-fold figures, mean test-fold figures)."""
    train_figs, test_figs = [], []
    everything = np.arange(len(pairs))
    for test in folds(pairs, k):
        train = np.setdiff1d(everything, test)
        train_pairs = [pairs[i] for i in train]
        test_pairs = [pairs[i] for i in test]
        model = fit(*training_set(train_pairs))
        train_scores = summary_scores(train_pairs, model)
        threshold = best_threshold(train_pairs, train_scores)
        train_figs.append(figures(train_pairs, train_scores >= threshold))
        test_figs.append(figures(test_pairs, summary_scores(test_pairs, model) >= threshold))

    def mean(figs: list[dict[str, float]]) -> dict[str, float]:
        return {key: round(statistics.mean(f[key] for f in figs), 1) for key in figs[0]}

    return mean(train_figs), mean(test_figs)


def train(pairs: Sequence[Pair], k: int) -> dict[str, Any]:
    model = fit(*training_set(pairs))
    scores = summary_scores(pairs, model)
    threshold = best_threshold(pairs, scores)
    train_figs, cv_figs = cross_validate(pairs, k)
    return {
        "features": list(FEATURES),
        "mean": [round(float(v), 6) for v in model.mean],
        "scale": [round(float(v), 6) for v in model.scale],
        "coef": [round(float(v), 6) for v in model.coef],
        "intercept": round(model.intercept, 6),
        "threshold": round(threshold, 4),
        "meta": {
            "trained_on": "AggreFact validation half (2,882 pairs), bench/faithfulness.py --train",
            "model": f"logistic regression, L2 C={L2_C}, claims weighted 1/claims",
            "balanced_accuracy_all_fit": figures(pairs, scores >= threshold),
            "balanced_accuracy_cv": cv_figs,
            "balanced_accuracy_cv_train_folds": train_figs,
            "cv": f"{k} folds grouped by document",
        },
    }


# --------------------------------------------------------------------------- the report


def source_sentence_flags(
    rows: Sequence[dict[str, Any]], scorer: Scorer
) -> tuple[float, float, float, int]:
    """(new rate, new rate by the scorer alone, old rate, sentences): each document
    sentence checked as a claim against its own document (best evidence). "The scorer
    alone": without the rule that a copy of a whole sentence is supported."""
    new = scored = old = total = 0
    for doc in dict.fromkeys(r["doc"] for r in rows):
        source = Source.from_text(doc)
        for sid, sentence in source.sentences.items():
            if sid not in source.evidence:
                continue  # quarantined (instruction-like): counted by the filter's own test
            text = sentence.text
            verdict = check_claim(text, source, None, scorer=scorer)
            total += 1
            new += not verdict.supported
            old += not _old_exact_ok(verdict.failed) or not _old_support(text, source)
            p = scorer.probability(claim_features(text, source, best_evidence(text, source)))
            scored += verdict.exact_failure or p < scorer.threshold
    return 100.0 * new / total, 100.0 * scored / total, 100.0 * old / total, total


def timing(rows: Sequence[dict[str, Any]]) -> tuple[float, float]:
    """(ms per pair over all rows, ms per pair for documents of 400-600 words), one core:
    the source built and every claim checked (``verify_summary``)."""
    from briefing.grounding import verify_summary

    def run(selected: Sequence[dict[str, Any]]) -> float:
        start = time.perf_counter()
        for row in selected:
            verify_summary(row["doc"], row["summary"])
        return 1000 * (time.perf_counter() - start) / max(1, len(selected))

    mid = [r for r in rows if 400 <= len(r["doc"].split()) <= 600]
    return run(rows), run(mid)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--train", action="store_true", help=f"rewrite {WEIGHTS.name}")
    args = parser.parse_args(argv)
    rows = load(args.data)
    started = time.perf_counter()
    pairs = extract(rows)
    print(f"{len(rows)} pairs, features in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.train:
        weights = train(pairs, args.folds)
        WEIGHTS.write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS.relative_to(ROOT)}: threshold {weights['threshold']}")
        print(json.dumps(weights["meta"], indent=1))
        return
    scorer = default_scorer()
    old_kept = np.array(
        [
            all(c.old_ok or (c.features is None and not c.exact_failure) for c in p.claims)
            for p in pairs
        ]
    )
    shipped = Fitted(
        np.array(scorer.mean), np.array(scorer.scale), np.array(scorer.coef), scorer.intercept
    )
    new_kept = summary_scores(pairs, shipped) >= scorer.threshold
    train_figs, cv_figs = cross_validate(pairs, args.folds)
    table = {
        "old checker (support >= 0.6)": figures(pairs, old_kept),
        f"new, {args.folds}-fold CV (grouped by document)": cv_figs,
        "new, CV training folds (overfitting gap)": train_figs,
        "new as shipped (trained on all rows)": figures(pairs, new_kept),
    }
    keys = [f"{o} {r}" for o in ORIGINS for r in ("SOTA", "all")]
    print(f"{'balanced accuracy (%)':52}" + "".join(f"{k:>12}" for k in keys))
    for name, figs in table.items():
        print(f"{name:52}" + "".join(f"{figs[k]:>12.1f}" for k in keys))
    print("published detectors, SOTA rows of the test half:")
    for name, (cnndm, xsum) in PUBLISHED.items():
        print(f"  {name:50}{cnndm:>12.1f}{'':>12}{xsum:>12.1f}")
    new_rate, scored_rate, old_rate, total = source_sentence_flags(rows, scorer)
    print(
        f"source sentences flagged as claims against their own document ({total}): "
        f"new {new_rate:.2f}% (scorer alone, no copy rule: {scored_rate:.2f}%), "
        f"old {old_rate:.2f}%"
    )
    all_ms, mid_ms = timing(rows)
    print(
        f"time per pair (verify_summary, one core): {all_ms:.1f} ms over all pairs, "
        f"{mid_ms:.1f} ms for 400-600-word documents"
    )


if __name__ == "__main__":
    main()
