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
from collections.abc import Callable
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


def _each_object(node: Any, fn: Callable[[dict[str, Any]], None]) -> None:
    """Call ``fn`` on every JSON object (dict) in ``node``, depth first, parents first."""
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            _each_object(value, fn)
    elif isinstance(node, list):
        for value in node:
            _each_object(value, fn)


_SCHEMAS: dict[type[BaseModel], dict[str, Any]] = {}


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The pydantic JSON schema (a fresh copy, safe to modify). Generated once per model
    and process: pydantic builds it anew on every call (25 ms for ``SummaryOutput``)."""
    schema = _SCHEMAS.get(model)
    if schema is None:
        schema = _SCHEMAS[model] = model.model_json_schema()
    return copy.deepcopy(schema)


def bound_sentence_ids(schema: dict[str, Any], n_sentences: int) -> dict[str, Any]:
    """A copy of ``schema`` whose sentence-id fields only admit ``1..n_sentences``."""
    bounded = copy.deepcopy(schema)
    bounds = {"type": "integer", "minimum": 1, "maximum": max(1, n_sentences)}

    def bound(node: dict[str, Any]) -> None:
        for name, sub in (node.get("properties") or {}).items():
            if name in SENTENCE_ID_FIELDS and isinstance(sub, dict):
                if sub.get("type") == "array":
                    sub["items"] = dict(bounds)
                elif sub.get("type") == "integer":
                    sub.update(bounds)

    _each_object(bounded, bound)
    return bounded


def compact_schema(
    schema: dict[str, Any], *, max_items: int = 3, length_factor: float = 0.6
) -> dict[str, Any]:
    """A copy of ``schema`` with tighter caps: fewer list items, shorter strings.

    For small local models, which tend to fill every field up to its cap: output
    tokens are the slow part (about 16 tokens/s for SmolLM2 on 2 cores).
    """
    compact = copy.deepcopy(schema)

    def tighten(node: dict[str, Any]) -> None:
        if "maxItems" in node:
            node["maxItems"] = min(int(node["maxItems"]), max_items)
        if "maxLength" in node:
            node["maxLength"] = max(20, int(int(node["maxLength"]) * length_factor))

    _each_object(compact, tighten)
    return compact


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` in the subset OpenAI strict mode accepts, as short as it can be: the
    schema is billed as prompt tokens with every call, so ``$defs`` are inlined (when
    not recursive) and the models' docstrings dropped (field descriptions are kept).
    Full schema of ``SummaryOutput``: 460 o200k tokens; this: under 310."""
    result: dict[str, Any] = _walk(schema, _STRICT_UNSUPPORTED, strict=True)
    return _drop_type_docs(_inline_defs(result))


def _inline_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``{"$ref": "#/$defs/X"}`` replaced by X (unchanged when a
    definition refers to itself, directly or not)."""
    defs: dict[str, Any] = schema.get("$defs") or {}
    if not defs:
        return schema

    class Recursive(Exception):
        pass

    def expand(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
                name = ref.removeprefix("#/$defs/")
                if name in seen or name not in defs:
                    raise Recursive
                return expand(defs[name], (*seen, name))
            return {k: expand(v, seen) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [expand(v, seen) for v in node]
        return node

    try:
        inlined: dict[str, Any] = expand(schema, ())
    except Recursive:
        return schema
    return inlined


def _drop_type_docs(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop the descriptions of objects and enums (the models' docstrings); the
    descriptions of plain fields say what to write and stay."""
    result = copy.deepcopy(schema)

    def drop(node: dict[str, Any]) -> None:
        if "properties" in node or "enum" in node:
            node.pop("description", None)

    _each_object(result, drop)
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


def schema_outline(schema: dict[str, Any]) -> str:
    """A compact outline of the JSON ``schema`` for a prompt, where the server enforces
    no schema (JSON mode without one, or no structured output at all)::

        {"headline": string, "key_points": [{"text": string, "sentence_ids": [integer]}],
         "region": "Europe"|"Global", "importance": integer 1-5}

    About a third of the tokens of the schema itself."""
    defs: dict[str, Any] = schema.get("$defs") or {}

    def outline(node: Any, depth: int = 0) -> str:
        if not isinstance(node, dict) or depth > 8:
            return "any"
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return outline(defs.get(ref.removeprefix("#/$defs/")), depth + 1)
        for key in ("anyOf", "oneOf"):
            if isinstance(node.get(key), list):
                return "|".join(outline(sub, depth + 1) for sub in node[key])
        if "enum" in node:
            return "|".join(json.dumps(value, ensure_ascii=False) for value in node["enum"])
        kind = node.get("type")
        if kind == "object" or "properties" in node:
            fields = ", ".join(
                f"{json.dumps(name)}: {outline(sub, depth + 1)}"
                for name, sub in (node.get("properties") or {}).items()
            )
            return "{" + fields + "}"
        if kind == "array":
            return f"[{outline(node.get('items'), depth + 1)}]"
        if kind == "integer" and "minimum" in node and "maximum" in node:
            return f"integer {node['minimum']}-{node['maximum']}"
        return str(kind) if isinstance(kind, str) else "any"

    return outline(schema)
