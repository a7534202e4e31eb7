"""The one way to ask a model for structured output: ask, validate, repair once, count.

A job that needs the model (one article's summary, a merge, a region's synthesis) is
written once, as a generator that *yields* the :class:`Call` objects it needs and is
*sent* their completions (a :data:`Plan`). :func:`ask` is the building block: one call
plus up to ``repair_attempts`` repairs (the model sees its reply and what was wrong),
validated against a pydantic model, with the usage of every attempt counted. The
drivers run a plan with the model's ``complete`` (:func:`drive`) or ``acomplete``
(:func:`adrive`), so the sync and async paths share every step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from briefing.errors import SummaryValidationError
from briefing.llm.base import Completion, JsonSchema, Message
from briefing.models import Usage
from briefing.prompts import defuse

if TYPE_CHECKING:
    from briefing.llm.base import LLM
    from briefing.prompts import Prompts

__all__ = ["Asked", "Call", "Plan", "adrive", "ask", "drive", "parse_model"]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_FENCE_RE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


@dataclass(frozen=True)
class Call:
    """One model call a plan needs."""

    messages: list[Message]
    schema: JsonSchema
    schema_name: str
    max_tokens: int


#: The steps of one job: yields the calls it needs, is sent their completions.
Plan = Generator[Call, Completion, T]


@dataclass
class Asked(Generic[M]):
    """A validated answer, whether it took a repair, and what all attempts billed."""

    output: M
    repaired: bool
    usage: Usage = field(default_factory=Usage)


def ask(
    prompts: Prompts,
    messages: list[Message],
    model: type[M],
    *,
    schema: JsonSchema,
    schema_name: str,
    max_tokens: int,
    repair_attempts: int = 1,
) -> Plan[Asked[M]]:
    """One call plus up to ``repair_attempts`` repairs; the validated ``model``.

    Raises :class:`~briefing.errors.SummaryValidationError` (with the usage billed)
    when the answer is still invalid."""
    usage = Usage()
    attempts = 0
    while True:
        attempts += 1
        completion = yield Call(messages, schema, schema_name, max_tokens)
        usage += completion.usage
        try:
            return Asked(parse_model(completion, model), repaired=attempts > 1, usage=usage)
        except ValueError as e:
            problem = str(e)
        if attempts > repair_attempts:
            raise SummaryValidationError(
                f"the model's answer was invalid after {attempts} attempts: {problem}",
                n_attempts=attempts,
                last_completion=completion.text,
                usage=usage,
            )
        repair = prompts.render("repair.user.j2", error=problem)
        messages = [
            *messages,
            Message("assistant", defuse(completion.text[:4000])),
            Message("user", repair),
        ]


def drive(llm: LLM, plan: Plan[T]) -> T:
    """Run ``plan`` to its result with ``llm.complete``."""
    try:
        call = next(plan)
        while True:
            completion = llm.complete(
                call.messages,
                schema=call.schema,
                schema_name=call.schema_name,
                max_tokens=call.max_tokens,
            )
            call = plan.send(completion)
    except StopIteration as done:
        result: T = done.value
        return result
    finally:
        plan.close()


async def adrive(llm: LLM, plan: Plan[T], call: Call | None = None) -> T:
    """Run ``plan`` to its result with ``llm.acomplete`` (from ``call``, the call it is
    waiting on, when it was started elsewhere: a batch's follow-up)."""
    try:
        call = next(plan) if call is None else call
        while True:
            completion = await llm.acomplete(
                call.messages,
                schema=call.schema,
                schema_name=call.schema_name,
                max_tokens=call.max_tokens,
            )
            call = plan.send(completion)
    except StopIteration as done:
        result: T = done.value
        return result
    finally:
        plan.close()


def parse_model(completion: Completion, model: type[M]) -> M:
    """Validate a completion as one JSON object of ``model`` (code fences and prose
    around it tolerated); ``ValueError`` says what is wrong, for the repair prompt."""
    if completion.finish_reason == "refusal":
        said = f": {completion.refusal.strip()[:200]}" if completion.refusal else ""
        raise ValueError(f"the model refused to answer{said}")
    if completion.finish_reason == "empty":
        raise ValueError("the server returned no answer (an empty choices list)")
    text = completion.text.strip()
    if not text:
        raise ValueError("the answer was empty")
    text = _FENCE_RE.sub("", text)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        cut = " (it was cut off: the answer hit the token limit)" if completion.truncated else ""
        raise ValueError(f"the answer holds no JSON object{cut}")
    try:
        data: Any = json.loads(text[start : end + 1])
    except json.JSONDecodeError as e:
        cut = "; it was cut off at the token limit, write less" if completion.truncated else ""
        raise ValueError(f"invalid JSON ({e.msg} at position {e.pos}){cut}") from None
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'object'}: {err['msg']}"
            for err in e.errors()[:4]
        )
        raise ValueError(problems) from None
