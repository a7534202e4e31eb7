"""Compiled templates kept in the process and between runs (``briefing.jinja_cache``)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import jinja2
import pytest

from briefing.jinja_cache import CompiledTemplates

TEMPLATES = {"t.j2": "{% for x in items %}[{{ x }}]{% endfor %}"}


def environment(cache: CompiledTemplates, templates: dict[str, str] = TEMPLATES) -> Any:
    return jinja2.Environment(loader=jinja2.DictLoader(templates), bytecode_cache=cache)


def no_compiling(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled again")

    monkeypatch.setattr(env, "compile", refuse)


@pytest.fixture
def cache() -> Any:
    made = CompiledTemplates(f"briefing_test_{secrets.token_hex(4)}")
    yield made
    made.clear()


def test_a_second_environment_and_a_second_run_do_not_compile_again(
    cache: CompiledTemplates, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert environment(cache).get_template("t.j2").render(items=[1, 2]) == "[1][2]"

    same_process = environment(cache)
    no_compiling(same_process, monkeypatch)
    assert same_process.get_template("t.j2").render(items=[3]) == "[3]"

    next_run = environment(CompiledTemplates(cache.prefix))  # an empty memory: from disk
    no_compiling(next_run, monkeypatch)
    assert next_run.get_template("t.j2").render(items=[4]) == "[4]"


def test_an_edited_template_is_compiled_again(cache: CompiledTemplates) -> None:
    environment(cache).get_template("t.j2").render(items=[1])
    edited = environment(cache, {"t.j2": "{{ items | length }} items"})
    assert edited.get_template("t.j2").render(items=[1, 2, 3]) == "3 items"
    fresh = environment(CompiledTemplates(cache.prefix), {"t.j2": "{{ items | length }} items"})
    assert fresh.get_template("t.j2").render(items=[1]) == "1 items"


def test_a_damaged_file_is_compiled_again(cache: CompiledTemplates) -> None:
    environment(cache).get_template("t.j2")
    files = cache._files()
    assert files is not None
    for path in Path(files.directory).glob(f"__{cache.prefix}_*.cache"):
        path.write_bytes(b"not a compiled template")
    again = environment(CompiledTemplates(cache.prefix))
    assert again.get_template("t.j2").render(items=["a"]) == "[a]"
