"""The embedded llama.cpp provider, run for real in process on a short text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from briefing.errors import ModelNotFoundError
from briefing.llm.base import Message
from briefing.llm.local import LocalLLM, default_model_path
from briefing.llm.schema import bound_sentence_ids, grammar_for_schema, model_schema
from briefing.models import SummaryOutput

pytestmark = pytest.mark.llama


@pytest.fixture(scope="module")
def llm() -> LocalLLM:
    return LocalLLM(n_ctx=2048)


def test_bundled_model_is_found_in_the_installed_package() -> None:
    path = default_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000


def test_missing_gguf_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="--model-path"):
        LocalLLM(tmp_path / "nope.gguf")


def test_counts_tokens_with_the_models_own_tokenizer(llm: LocalLLM) -> None:
    assert llm.count_tokens("Iraq treads a tightrope") > 3
    assert llm.context_window == 2048


def test_grammar_constrained_output_is_valid_json_within_caps(llm: LocalLLM) -> None:
    schema = {
        "type": "object",
        "properties": {
            "headline": {"type": "string", "maxLength": 60},
            "countries": {
                "type": "array",
                "items": {"type": "string", "maxLength": 20},
                "maxItems": 2,
            },
            "importance": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "required": ["headline", "countries", "importance"],
    }
    messages = [
        Message("system", "Reply with JSON only."),
        Message("user", "Iraq fears that the war between Israel and Iran spills over."),
    ]
    completion = llm.complete(messages, schema=schema, schema_name="t", max_tokens=120)
    data = json.loads(completion.text)
    assert set(data) == {"headline", "countries", "importance"}
    assert len(data["headline"]) <= 60 and len(data["countries"]) <= 2
    assert data["importance"] in range(1, 6)
    assert completion.usage.prompt_tokens > 0 and completion.structured == "grammar"


def test_summary_grammar_bounds_sentence_ids_and_importance() -> None:
    gbnf = grammar_for_schema(bound_sentence_ids(model_schema(SummaryOutput), 3))
    assert 'importance ::= "1" | "2" | "3" | "4" | "5"' in gbnf
    assert 'KeyPoint-sentence-ids-item ::= "1" | "2" | "3"' in gbnf
    # root property order follows the model: headline first
    root = next(line for line in gbnf.splitlines() if line.startswith("root ::="))
    assert root.index("headline") < root.index("summary") < root.index("importance")
