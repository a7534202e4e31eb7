"""``briefing.grounding.scorer``: the shipped weights, applied without numpy."""

from __future__ import annotations

import json
import math
from importlib import resources

import pytest

from briefing.grounding.lexical import FEATURES
from briefing.grounding.scorer import THRESHOLD, Scorer, default_scorer


def test_shipped_weights_cover_the_features_and_record_their_figures() -> None:
    data = json.loads(resources.files("briefing.grounding").joinpath("scorer.json").read_text())
    assert tuple(data["features"]) == FEATURES
    assert 0 < THRESHOLD < 1 and data["threshold"] == THRESHOLD
    cv = data["meta"]["balanced_accuracy_cv"]
    assert set(cv) == {"cnndm SOTA", "cnndm all", "xsum SOTA", "xsum all"}


def test_probability_is_the_logistic_of_the_standardised_sum() -> None:
    scorer = Scorer.from_json(
        {"features": ["a", "b"], "mean": [1, 0], "scale": [2, 1], "coef": [1, -1],
         "intercept": 0.5, "threshold": 0.5}
    )  # fmt: skip
    z = 0.5 + 1 * (3 - 1) / 2 - 1 * 2
    assert scorer.probability({"a": 3, "b": 2}) == pytest.approx(1 / (1 + math.exp(-z)))
    with pytest.raises(ValueError, match="coef"):
        Scorer.from_json(
            {
                "features": ["a"],
                "mean": [0],
                "scale": [1],
                "coef": [],
                "intercept": 0,
                "threshold": 0.5,
            }
        )


def test_better_support_scores_higher() -> None:
    scorer = default_scorer()
    good = dict.fromkeys(FEATURES, 1.0) | {
        "novel": 0.0,
        "novel_top3": 0.0,
        "n_stems": 6.0,
        "passages": 1.0,
    }
    bad = good | {
        "uni_doc": 0.5,
        "bi_doc": 0.1,
        "novel": 3.0,
        "novel_top3": 3.0,
        "top3": 0.5,
        "copied": 0.4,
        "support": 0.3,
    }
    assert scorer.probability(good) > THRESHOLD > scorer.probability(bad)
