"""``briefing.grounding.polarity``: a claim may not add a negation."""

from __future__ import annotations

from briefing.grounding.polarity import added_negations, dropped_qualifiers, polarity_cues


def test_cues_in_plain_and_tokenised_lower_case_text() -> None:
    assert polarity_cues("He did n't go .") == {"not"}
    assert polarity_cues("he didn't go") == {"not"}
    assert polarity_cues("Officials denied the report and refused to comment.") == {"deny", "refus"}
    assert polarity_cues("The talks went ahead.") == set()


def test_added_negations() -> None:
    evidence = [polarity_cues("The minister resigned on Monday.")]
    assert added_negations("The minister did not resign.", evidence) == ["not"]
    assert added_negations("The minister resigned.", evidence) == []
    assert added_negations("He never denied it.", [polarity_cues("He never denied it.")]) == []


def test_dropped_negations_and_hedges_inside_the_copied_span() -> None:
    from briefing.extractive import words

    evidence = words("Police did not confirm that the minister resigned on Monday.")
    assert dropped_qualifiers("Police confirmed that the minister resigned.", evidence) == ["not"]
    assert dropped_qualifiers("Police did not confirm the resignation.", evidence) == []
    # outside the span the claim copies: "did not say when", then "confirmed"
    other = words("He did not say when he would leave, but the minister confirmed he would resign.")
    assert dropped_qualifiers("The minister confirmed he would resign.", other) == []
    hedged = words("Traces of a material believed to be cesium were found on the drone.")
    assert dropped_qualifiers("Traces of cesium were found on the drone.", hedged) == ["believed"]
