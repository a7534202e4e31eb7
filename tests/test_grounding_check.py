"""``briefing.grounding.check``: one claim through every check; the two operating points."""

from __future__ import annotations

from briefing.grounding import Source, check_claim, check_text

SOURCE = Source.from_text(
    "The club's media team made the highlights short: just 27 seconds in fact. "
    "The weather in the town was grey all week. "
    "Fans queued in the rain for hours before kick-off. "
    "The ground holds 15,000 people. "
    "Police did not confirm that the manager resigned on Monday. "
    "A parcel thought to contain a material believed to be cesium was found."
)


def test_a_copied_sentence_is_supported_without_scoring() -> None:
    verdict = check_claim("The ground holds 15,000 people.", SOURCE)
    assert verdict.supported and verdict.verbatim and verdict.score == 1.0


def test_a_number_from_another_passage_fails() -> None:
    verdict = check_claim("The media team made the highlights just 15,000 seconds long.", SOURCE)
    assert not verdict.supported and verdict.failed == ("number-passage",)
    assert "number not in the passage it draws on: 15,000" in verdict.reason
    assert check_claim("The media team made the highlights just 27 seconds long.", SOURCE).supported


def test_a_left_out_negation_or_hedge_fails() -> None:
    verdict = check_claim("Police confirmed that the manager resigned on Monday.", SOURCE)
    assert not verdict.supported and "leaves out not of sentence 5" in verdict.reason
    hedge = check_claim("A parcel thought to contain cesium was found.", SOURCE)
    assert not hedge.supported and hedge.failed == ("qualifier",)


def test_verify_and_brief_operating_points() -> None:
    """A fragment with no content word passes ``verify`` but not the brief."""
    assert check_claim("9.", Source.from_text("It was 9. Then it rained.")).supported
    ok, _score, reason, _ids = check_text("9.", Source.from_text("It was 9. Then it rained."), None)
    assert not ok and reason == "no content word to verify"


def test_exact_failures_score_zero_and_scores_are_probabilities() -> None:
    bad = check_claim("Fans queued in the snow in Oslo for hours.", SOURCE)
    assert not bad.supported and bad.score == 0.0 and "name" in bad.failed
    good = check_claim("Fans waited in the rain for hours before the match.", SOURCE)
    assert good.supported and good.score is not None and 0.0 < good.score < 1.0
