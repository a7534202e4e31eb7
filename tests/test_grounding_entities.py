"""``briefing.grounding.entities``: names of a claim must be in the source."""

from __future__ import annotations

from briefing.grounding import Source
from briefing.grounding.entities import name_ok, unsupported_entities

SOURCE = Source.from_text(
    "The United Nations said Sajad Jiyad met Iraqi officials in Baghdad. "
    "Priština courts sentenced the men."
)


def test_invented_names_partial_names_demonyms_acronyms_accents() -> None:
    assert unsupported_entities("Analyst Jiyad met the UN in Iraq.", SOURCE) == []
    assert unsupported_entities("A Pristina court ruled.", SOURCE) == []
    assert unsupported_entities("Jiyad met John Smith in Oslo.", SOURCE) == ["John Smith", "Oslo"]
    # Headline Style: left to the score
    assert (
        unsupported_entities("Jiyad Meets Officials In Baghdad Amid Fears", SOURCE, headline=True)
        == []
    )


def test_name_lists() -> None:
    assert name_ok("Sajad Jiyad", SOURCE)
    assert not name_ok("The Iraqis are worried about Iran", SOURCE)
    assert name_ok("Iraq", SOURCE, country_list=True)
    assert not name_ok("France", SOURCE, country_list=True)
