"""``briefing.grounding.lexical``: support and the scorer's features."""

from __future__ import annotations

from briefing.grounding import Source
from briefing.grounding.lexical import FEATURES, best_evidence, claim_features, novel_words

SOURCE = Source.from_text(
    "Israel on Saturday targeted the massive South Pars gas field. "
    "Jones said the strikes hit fuel plants and refuelling tankers. "
    "Iran vowed to respond to the attack."
)


def test_features_of_a_copy_a_paraphrase_and_an_added_word() -> None:
    copy = claim_features("Israel targeted the massive South Pars gas field.", SOURCE, [1])
    assert set(copy) == set(FEATURES)
    assert copy["uni_doc"] == 1.0 and copy["novel"] == 0 and copy["support"] >= 0.8
    tanker = claim_features(
        "Strikes targeted the oil tanker in the South Pars gas field.", SOURCE, [1, 2]
    )
    assert tanker["novel"] == 1.0  # "oil" ("tanker" ~ "tankers")
    assert tanker["uni_doc"] < 1.0 and tanker["bi_doc"] < copy["bi_doc"]
    stitched = claim_features("Jones targeted the South Pars gas field.", SOURCE, [1, 2])
    assert stitched["longest"] < copy["longest"]


def test_novel_words_and_morphology() -> None:
    assert novel_words("Strikes targeted the oil tanker.", SOURCE) == ["oil"]
    assert novel_words("israel targets the gas fields", SOURCE) == []  # case, plural, tense


def test_best_evidence() -> None:
    assert best_evidence("Iran vowed a response to the attack.", SOURCE, k=1) == [3]


def test_swapped_agents_are_a_known_limit() -> None:
    """Documented: "Iran struck Israel" uses the same words as "Israel struck Iran"."""
    source = Source.from_text("Israel struck Iran on Friday.")
    a = claim_features("Israel struck Iran on Friday.", source, [1])
    b = claim_features("Iran struck Israel on Friday.", source, [1])
    assert a["uni_doc"] == b["uni_doc"] == 1.0
    assert b["bi_doc"] < a["bi_doc"]  # only the word pairs differ
