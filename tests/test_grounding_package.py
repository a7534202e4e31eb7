"""The grounding package: its public names, and sentence handling in one place."""

from __future__ import annotations

import subprocess
import sys


def test_public_import_paths() -> None:
    from briefing.grounding import (  # noqa: F401
        SUPPORT_THRESHOLD,
        Source,
        best_evidence,
        check_text,
        ground,
        is_instruction_like,
        numbers_in,
        polarity_cues,
        support_score,
        unsupported_entities,
        verify_summary,
    )
    from briefing.ingest.sentences import split_sentences as old
    from briefing.sentences import split_sentences
    from briefing.summarize import ensure_sentences  # noqa: F401

    assert old is split_sentences


def test_each_unit_imports_alone_without_cycles() -> None:
    """Every module imports first, in a fresh interpreter (a cycle fails one of them)."""
    modules = [
        "briefing.sentences", "briefing.grounding.instructions", "briefing.grounding.numbers",
        "briefing.grounding.entities", "briefing.grounding.polarity", "briefing.grounding.quotes",
        "briefing.grounding.source", "briefing.grounding.lexical", "briefing.grounding.scorer",
        "briefing.grounding.figures", "briefing.grounding.check", "briefing.grounding.ground",
        "briefing.cli_verify", "briefing.render", "briefing.summarize",
    ]  # fmt: skip
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    for module in modules:
        run = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True)
        assert run.returncode == 0, f"{module}: {run.stderr[-400:]}"
    # grounding never reaches into summarize (one-way flow) nor pulls in numpy
    probe = "import sys, briefing.grounding; print('briefing.summarize' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
    assert out.split() == ["False", "False"]


def test_lower_cased_text_splits_into_sentences() -> None:
    from briefing.sentences import sentence_texts

    assert sentence_texts("the u.s. says 12 people died . police said dr. smith left.") == [
        "the u.s. says 12 people died .",
        "police said dr. smith left.",
    ]
    assert sentence_texts("He met Dr. Smith in the U.S. on Monday. It rose.") == [
        "He met Dr. Smith in the U.S. on Monday.",
        "It rose.",
    ]
