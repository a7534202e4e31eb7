"""Derive provider-specific JSON schemas from the pydantic output models.

* :func:`strict_schema` — OpenAI "strict" structured outputs: every property required,
  ``additionalProperties: false``, only supported keywords (length caps removed; the
  pydantic model truncates instead).
* :func:`grammar_schema` — for grammar-constrained local generation: keeps the length
  and item caps (so a small model cannot loop forever), turns small integer ranges
  into enums (the grammar converter ignores minimum/maximum), drops prose keywords.
* :func:`bound_sentence_ids` — limits sentence-id fields to the ids the article has.
* :func:`grammar_for_schema` — GBNF text for llama.cpp from a schema.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import BaseModel

_STRICT_UNSUPPORTED = {"maxLength", "minLength", "maxItems", "minItems", "title", "default"}
_GRAMMAR_DROP = {"title", "description", "default"}
#: integer ranges up to this size become enums in grammars
_MAX_ENUM_RANGE = 400
#: property names whose integers (or arrays of integers) are source sentence ids
SENTENCE_ID_FIELDS = ("sentence_id", "sentence_ids")


def _walk(node: Any, drop: set[str], *, strict: bool) -> Any:
    if isinstance(node, dict):
        out = {k: _walk(v, drop, strict=strict) for k, v in node.items() if k not in drop}
        # "properties" maps names to schemas: its keys are names, never keywords
        if "properties" in node:
            out["properties"] = {
                name: _walk(sub, drop, strict=strict) for name, sub in node["properties"].items()
            }
            if strict:
                out["required"] = list(node["properties"])
                out["additionalProperties"] = False
        if not strict and out.get("type") == "integer":
            low, high = out.get("minimum"), out.get("maximum")
            if low is not None and high is not None and 0 <= high - low <= _MAX_ENUM_RANGE:
                return {"enum": list(range(int(low), int(high) + 1))}
        return out
    if isinstance(node, list):
        return [_walk(v, drop, strict=strict) for v in node]
    return node


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The pydantic JSON schema (a fresh copy, safe to modify)."""
    return copy.deepcopy(model.model_json_schema())


def bound_sentence_ids(schema: dict[str, Any], n_sentences: int) -> dict[str, Any]:
    """A copy of ``schema`` whose sentence-id fields only admit ``1..n_sentences``."""
    bounded = copy.deepcopy(schema)
    bounds = {"type": "integer", "minimum": 1, "maximum": max(1, n_sentences)}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if name in SENTENCE_ID_FIELDS and isinstance(sub, dict):
                    if sub.get("type") == "array":
                        sub["items"] = dict(bounds)
                    elif sub.get("type") == "integer":
                        sub.update(bounds)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(bounded)
    return bounded


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` in the subset OpenAI strict mode accepts."""
    result: dict[str, Any] = _walk(schema, _STRICT_UNSUPPORTED, strict=True)
    return result


def grammar_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its caps kept and integer ranges as enums, for a grammar."""
    result: dict[str, Any] = _walk(schema, _GRAMMAR_DROP, strict=False)
    return result


def grammar_for_schema(schema: dict[str, Any]) -> str:
    """GBNF for llama.cpp that only admits JSON matching ``schema``.

    Property order is the schema's (headline first: the most useful field is written
    first, so a truncated answer still carries it). String characters exclude control
    characters, which JSON forbids unescaped.
    """
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    gbnf: str = json_schema_to_gbnf(json.dumps(grammar_schema(schema)))
    return gbnf.replace('char ::= [^"\\\\] |', 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |', 1)
