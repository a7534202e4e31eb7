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

#: Templates the summarizer uses (all must exist in a prompts directory).
TEMPLATES = ("summarize.system.j2", "summarize.user.j2", "merge.user.j2", "repair.user.j2")
_VERSION_RE = re.compile(r"\{#-?\s*prompt-version:\s*([\w.\-]+)\s*-?#\}")
_DELIMITER_RE = re.compile(r"<\s*(/?)\s*(article)\b", re.IGNORECASE)


def neutralize(text: object) -> str:
    """Article text as inert data: it cannot close or open the ``<article>`` block."""
    return _DELIMITER_RE.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", str(text))  # noqa: RUF001


def packaged_prompts_dir() -> Path:
    """The prompt templates shipped with the package."""
    return Path(str(resources.files("briefing.prompt_templates")))


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
        self.env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(search),
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
