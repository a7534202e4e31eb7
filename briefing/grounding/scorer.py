"""The calibrated scorer: the lexical features of a claim -> the probability it is supported.

A logistic regression over :data:`briefing.grounding.lexical.FEATURES` (standardised),
trained on human-labelled summaries (AggreFact's validation half: 2,882 (document,
summary) pairs from CNN/DM and XSum, each claim labelled with its summary's label) by
``bench/faithfulness.py --train``, with the decision threshold that maximises the mean
balanced accuracy of the two origins. The weights ship as ``scorer.json`` beside this
module (a few hundred bytes) and are applied here in plain Python: no numpy, no
scikit-learn at run time.

A claim is supported when its probability is at least :data:`THRESHOLD` and no hard
check failed (a name, number or negation the source lacks, instruction-like text:
those are exact, see ``briefing.grounding.check``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["THRESHOLD", "Scorer", "default_scorer"]


@dataclass(frozen=True)
class Scorer:
    """Standardise, weigh, squash: ``p = 1 / (1 + exp(-(b + sum(w * (x - mean) / scale))))``."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    meta: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scorer:
        n = len(data["features"])
        for key in ("mean", "scale", "coef"):
            if len(data[key]) != n:
                raise ValueError(f"scorer weights: {key} has {len(data[key])} values, not {n}")
        return cls(
            features=tuple(data["features"]),
            mean=tuple(float(x) for x in data["mean"]),
            scale=tuple(float(x) or 1.0 for x in data["scale"]),
            coef=tuple(float(x) for x in data["coef"]),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            meta=dict(data.get("meta", {})),
        )

    def probability(self, features: Mapping[str, float]) -> float:
        """The probability that a claim with these features is supported (0..1)."""
        z = self.intercept
        for name, mean, scale, coef in zip(
            self.features, self.mean, self.scale, self.coef, strict=True
        ):
            z += coef * (features[name] - mean) / scale
        if z < -60:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))


def default_scorer() -> Scorer:
    """The shipped scorer (``scorer.json``), read once."""
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("briefing.grounding").joinpath("scorer.json").read_text("utf-8")
        _DEFAULT = Scorer.from_json(json.loads(text))
    return _DEFAULT


_DEFAULT: Scorer | None = None

#: A claim needs at least this probability (the shipped scorer's threshold).
THRESHOLD = default_scorer().threshold
