"""Tests of the rule-based sentence splitter."""

from __future__ import annotations

import pytest

from briefing.ingest.sentences import sentence_texts, split_sentences
from briefing.sentences import quotation_fragment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "He met Dr. Smith and Gen. Mark Milley in the U.S. on Monday. It rose 0.6 percent.",
            [
                "He met Dr. Smith and Gen. Mark Milley in the U.S. on Monday.",
                "It rose 0.6 percent.",
            ],
        ),
        (
            '"We fear for our children," Amna said. "They are good." Then he left.',
            ['"We fear for our children," Amna said.', '"They are good."', "Then he left."],
        ),
        (
            "The U.S. Army said so. Mrs. Jones agreed.",
            ["The U.S. Army said so.", "Mrs. Jones agreed."],
        ),
        (
            "They moved to the U.S. The talks failed.",
            ["They moved to the U.S.", "The talks failed."],
        ),
        (
            "Gen. Milley spoke. Lt. Col. Vindman listened.",
            ["Gen. Milley spoke.", "Lt. Col. Vindman listened."],
        ),
        (
            "George W. Bush said so. Roe v. Wade was cited.",
            ["George W. Bush said so.", "Roe v. Wade was cited."],
        ),
        (
            "He lives at No. 10 Downing St. in London.",
            ["He lives at No. 10 Downing St. in London."],
        ),
        (
            "It was 5 p.m. on Monday. He left at 6 a.m. The end.",
            ["It was 5 p.m. on Monday.", "He left at 6 a.m.", "The end."],
        ),
        (
            "Prices rose in Jan. 2024 by 2.5%. Who? Me! Yes.",
            ["Prices rose in Jan. 2024 by 2.5%.", "Who?", "Me!", "Yes."],
        ),
        (
            "'Why?' he asked. The answer was no. Fine.",
            ["'Why?' he asked.", "The answer was no.", "Fine."],
        ),
        (
            "He said: \u201cGo home.\u201d She stayed.",
            ["He said: \u201cGo home.\u201d", "She stayed."],
        ),
        ("It cost $1.5bn, e.g. for roads.", ["It cost $1.5bn, e.g. for roads."]),
    ],
)
def test_split_cases(text: str, expected: list[str]) -> None:
    assert sentence_texts(text) == expected


def test_ids_are_one_based_and_consecutive() -> None:
    sentences = split_sentences("One. Two. Three.")
    assert [(s.id, s.text) for s in sentences] == [(1, "One."), (2, "Two."), (3, "Three.")]


def test_paragraphs_are_hard_boundaries_and_headings_are_skipped() -> None:
    text = "First para without end\n\n## Priorities\n\nSecond para. Another one."
    assert sentence_texts(text) == ["First para without end", "Second para.", "Another one."]


def test_hard_wrapped_lines_are_joined() -> None:
    text = "The talks, hosted in Jeddah, were\nmeant to agree a truce. Then\nmediators left."
    assert sentence_texts(text) == [
        "The talks, hosted in Jeddah, were meant to agree a truce.",
        "Then mediators left.",
    ]


def test_empty_and_whitespace() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\n \n") == []


def test_sentences_join_back_as_their_script_writes_them() -> None:
    from briefing.sentences import join_sentences

    japanese = ["日本銀行は政策金利を引き上げた。", "利上げは３月以来となる。"]
    assert join_sentences(japanese) == "日本銀行は政策金利を引き上げた。利上げは３月以来となる。"
    assert sentence_texts(join_sentences(japanese)) == japanese
    quoted = ["総裁は「状況になった。」", "と述べた。"]
    assert join_sentences(quoted) == "総裁は「状況になった。」と述べた。"
    english = ["Prices rose.", "Wages did not."]
    assert join_sentences(english) == "Prices rose. Wages did not."
    assert join_sentences(["Он сказал.", "Она ушла."]) == "Он сказал. Она ушла."
    assert join_sentences([]) == ""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("'Israel is aiming for a regime collapse in Iran.", True),
        ("That is the only reason they would attack,' said Shahin Modarres.", True),
        ("'The second is to target delivery systems,' Jones said.", False),
        ("The goal was to end the 'existential threat' Israel says it faces.", False),
        ("Israel's strikes hit the farmers' union offices on Monday.", False),
        ("In the '90s the city grew.", False),
        ("“This is only the start.", True),
        ("It will go on,” she said.", True),
        ("He said “this is it.”", False),
        ('"We will fight on.', True),
        ('He said "no" and left.', False),
        ("\u201cI heard him ask, quote, \u2018So he\u2019s going to do it?\u2019\u201d", False),
    ],
)
def test_quotation_fragments(text: str, fragment: bool) -> None:
    assert quotation_fragment(text) is fragment
