"""The Jinja2 environment over the prompt templates in ``prompts/``.

Templates render in a sandbox with ``StrictUndefined`` (a missing variable is an error,
never an empty string). They load from ``--prompts-dir`` first, then from the copies
shipped inside the package. Each template's first line declares its version
(``{#- prompt-version: N -#}``); versions are recorded with every summary and are part
of cache keys, so editing a prompt invalidates what it produced.

Every template sees ``language`` (``Prompts(language=...)``, default English): the
language the brief is written in whatever the sources' language. A language other
than English is part of :meth:`Prompts.combined_version` (and so of cache keys).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from briefing.errors import ConfigError
from briefing.jinja_cache import CompiledTemplates
from briefing.models import Sentence

#: Templates the summarizer uses (all must exist in a prompts directory).
TEMPLATES = ("summarize.system.j2", "summarize.user.j2", "merge.user.j2", "repair.user.j2")
_VERSION_RE = re.compile(r"\{#-?\s*prompt-version:\s*([\w.\-]+)\s*-?#\}")
#: Line breaks of every kind (the data filter puts each value on one line).
_LINE_BREAKS_RE = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
#: Markup in data that a prompt or a chat template would read as structure: our own
#: delimiters (``<article>``, ``<stories>``), chat-template control tokens (ChatML
#: ``<|im_start|>``, Llama 3 ``<|eot_id|>``, DeepSeek's with a fullwidth bar, Gemma
#: ``<start_of_turn>``, Llama 2 / Mistral ``[INST]`` ``<<SYS>>`` ``</s>``) and role tags.
#: llama.cpp tokenizes a chat prompt with special tokens enabled, so the literal text
#: ``<|im_start|>system`` in an article would otherwise become a real turn marker for a
#: local model or a llama.cpp server.
_MARKUP_RE = re.compile(
    r"""
    <\s*/?\s*(?:article|stories)\b(?:[^<>\[\]]{0,40}>)?
    | <[|\uff5c] | [|\uff5c]>
    | <</?\s*SYS\s*>> | <\s*/?\s*(?:s|system|user|assistant|start_of_turn|end_of_turn)\s*>
    | \[\s*/?\s*(?:INST|SYS|SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)\s*\]
    """,
    re.IGNORECASE | re.VERBOSE,
)
#: every character the line-break and markup patterns can start with
_SUSPECT_RE = re.compile(r"[<\[|\uff5c\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
#: the defused brackets: U+2039 and U+203A, U+27E6 and U+27E7 (look-alikes, plain text)
_DEFUSE = str.maketrans({"<": "\u2039", ">": "\u203a", "[": "\u27e6", "]": "\u27e7"})


def neutralize(text: object) -> str:
    """Text from an article (or a model) as inert data for a prompt (the ``data`` filter).

    The value is put on one line, so nothing in it can start a line of the prompt (a
    forged "### System:" or "assistant:" turn, or a fake ``[n]`` sentence), and the
    markup above is defused: its angle and square brackets become look-alike
    characters (``</article>`` and ``<|im_start|>`` keep their letters between single
    angle quotation marks, ``[INST]`` between white square brackets) that no tokenizer
    or chat template treats as structure. Ordinary prose is unchanged.
    """
    value = str(text)
    if not _SUSPECT_RE.search(value):  # most sentences: nothing to do
        return value
    return defuse(_LINE_BREAKS_RE.sub(" ", value))


def defuse(text: str) -> str:
    """``text`` with the markup above defused but its lines kept: for text that goes
    back to a model whole, e.g. a model's own answer echoed in a repair request."""
    return _MARKUP_RE.sub(lambda m: m.group(0).translate(_DEFUSE), text)


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with a fast path for the two fields of the data the prompts loop
    over (``Sentence.id``, ``Sentence.text``): a long article has hundreds of sentences,
    and the sandbox's generic checks of each attribute read were the largest part of
    rendering a prompt."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is Sentence and attribute in _SENTENCE_FIELDS:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


_SENTENCE_FIELDS = frozenset({"id", "text"})


def packaged_prompts_dir() -> Path:
    """The prompt templates shipped with the package."""
    return Path(str(resources.files("briefing.prompt_templates")))


#: compiled prompt templates, shared by every ``Prompts`` (they configure their
#: environments alike) and kept between runs; a resident server fills it before it forks
_COMPILED = CompiledTemplates("briefing_prompts")


def precompile() -> int:
    """Compile every packaged template into the process's cache; how many there are."""
    prompts = Prompts()
    names = sorted(p.name for p in packaged_prompts_dir().glob("*.j2"))
    for name in names:
        prompts.env.get_template(name)
    return len(names)


class Prompts:
    """Renders the prompt templates, from a user's directory or the packaged ones."""

    def __init__(self, prompts_dir: str | Path | None = None, *, language: str = "English") -> None:
        search: list[str] = []
        #: the user's prompts directory, if any (searched before the packaged one)
        self.directory: Path | None = None
        if prompts_dir is not None:
            directory = self.directory = Path(prompts_dir).expanduser()
            if not directory.is_dir():
                raise ConfigError(f"--prompts-dir {directory} is not a directory.")
            search.append(str(directory))
        search.append(str(packaged_prompts_dir()))
        self.env = _Sandbox(
            loader=jinja2.FileSystemLoader(search),
            bytecode_cache=_COMPILED,
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
        )
        self.env.filters["data"] = neutralize
        self.language = " ".join(language.split()) or "English"
        self.env.globals["language"] = self.language
        self._versions: dict[str, str] = {}

    def render(self, name: str, **variables: Any) -> str:
        """Render template ``name``; a missing variable or template is a ConfigError."""
        try:
            return self.env.get_template(name).render(**variables).strip()
        except jinja2.TemplateNotFound as e:
            raise ConfigError(f"Prompt template {name} not found in the prompts directory.") from e
        except jinja2.UndefinedError as e:
            raise ConfigError(f"Prompt template {name} uses an unknown variable: {e}.") from e
        except jinja2.TemplateSyntaxError as e:
            raise ConfigError(f"Prompt template {name}, line {e.lineno}: {e.message}") from e

    def version(self, name: str) -> str:
        """The template's declared version, or a hash of its text if it declares none."""
        if name not in self._versions:
            try:
                source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
            except jinja2.TemplateNotFound as e:
                raise ConfigError(f"Prompt template {name} not found.") from e
            match = _VERSION_RE.search(source.split("\n", 1)[0])
            digest = hashlib.sha256(source.encode()).hexdigest()[:8]
            self._versions[name] = match.group(1) if match else f"sha-{digest}"
        return self._versions[name]

    def combined_version(self, names: Iterable[str] = TEMPLATES) -> str:
        """One string naming every template's version, e.g. ``summarize.system@1+...``."""
        combined = "+".join(f"{n.removesuffix('.j2')}@{self.version(n)}" for n in names)
        return combined if self.language == "English" else f"{combined}+language={self.language}"
