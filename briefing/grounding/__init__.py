"""Grounding: check every claim of a summary against its source, keep only what holds.

One module per kind of check, each readable alone:

==================  ====================================================================
``source``          the article as evidence: sentences (id 0 is the title), their stems,
                    numbers, quote words; instruction-like sentences quarantined
``instructions``    the instruction filter (prompt injection in articles and claims)
``numbers``         every number of a claim in the source (and in its passage), by value
``entities``        every capitalised name of a claim in the source; the name lists
``polarity``        no negation the evidence lacks
``quotes``          quotes verbatim in the source, attributed to someone named nearby
``figures``         a figure's value in the very sentence it cites
``lexical``         support and paraphrase: how much of a claim's wording the source
                    holds (ROUGE-style support, novel words, copied fragments)
``scorer``          the calibrated model over ``lexical``'s features (weights shipped as
                    ``scorer.json``, trained by ``bench/faithfulness.py --train``)
``check``           one claim (all of the above) and a whole summary: ``verify_summary``
``ground``          a model's ``ArticleSummary`` verified, dropped/flagged, fallback
==================  ====================================================================

Measured on human-labelled summaries (AggreFact validation half, SOTA rows; balanced
accuracy %, CNN/DM / XSum; ``bench/faithfulness.py``): the old rule 60.0 / 53.8; now
65.1 / 65.9 cross-validated (folds grouped by document), 65.2 / 65.7 trained on all
rows (``scorer.json``'s ``meta`` records them); published neural detectors 61-70 /
56-70 on the test half. The calibrated scorer replaced a single ROUGE-style support
threshold (0.6), which flagged most faithful abstractive (XSum-style) summaries and let
through claims that add content words to a real passage ("strikes targeted the oil tanker in Iran's
South Pars gas field" for "targeted the massive South Pars gas field").

Besides the scorer, three exact checks came with it: a number must be in the passage a
claim draws on (not only somewhere in the text), a claim copying a passage may not drop
its negation or hedge ("believed to be cesium" -> "cesium"), and a copy of a whole
source sentence is supported as such.

What no lexical check catches: a swapped agent built from the source's own words ("Iran
struck Israel" for "Israel struck Iran") scores like the original; one changed common
word ("20,000 men" for "20,000 women") only weakens the score. Such claims still cite
real sentences, so a reader can check them; ``--verify-with`` (``briefing.judge``) asks
a capable model for a second opinion.
"""

from briefing.grounding.check import (
    ClaimVerdict,
    Verdict,
    check_claim,
    check_text,
    verify_summary,
)
from briefing.grounding.entities import unsupported_entities
from briefing.grounding.figures import FIGURE_WHAT_THRESHOLD, check_figure
from briefing.grounding.ground import MIN_KEY_POINTS, ground
from briefing.grounding.instructions import is_instruction_like
from briefing.grounding.lexical import (
    SUPPORT_THRESHOLD,
    best_evidence,
    claim_features,
    support_score,
)
from briefing.grounding.numbers import numbers_in
from briefing.grounding.polarity import polarity_cues
from briefing.grounding.quotes import check_quote
from briefing.grounding.scorer import THRESHOLD, Scorer, default_scorer
from briefing.grounding.source import Source

__all__ = [
    "FIGURE_WHAT_THRESHOLD",
    "MIN_KEY_POINTS",
    "SUPPORT_THRESHOLD",
    "THRESHOLD",
    "ClaimVerdict",
    "Scorer",
    "Source",
    "Verdict",
    "best_evidence",
    "check_claim",
    "check_figure",
    "check_quote",
    "check_text",
    "claim_features",
    "default_scorer",
    "ground",
    "is_instruction_like",
    "numbers_in",
    "polarity_cues",
    "support_score",
    "unsupported_entities",
    "verify_summary",
]
