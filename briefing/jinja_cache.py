"""Compiled Jinja templates kept between runs and within a process.

Compiling a template (lexing, parsing, generating Python, ``compile()``) costs more than
rendering it: the brief's Markdown template took 0.1 s of every brief, the prompt
templates some milliseconds each. :class:`CompiledTemplates` is a Jinja bytecode cache
that keeps the compiled code in memory (for every environment of its kind in this
process, and for the children a resident server forks, see :mod:`briefing.resident`) and
on disk through Jinja's own ``FileSystemBytecodeCache`` (in its private per-user
temporary directory, which Jinja checks is the user's alone), so the next run loads it.
Jinja keys each entry by the template's file and checks it against the template's
source and the Python version, so an edited template or a new Python compiles again.
Each kind of environment (``prefix``) has entries of its own: the same file compiled
under other settings gives other code.
"""

from __future__ import annotations

import logging

import jinja2
from jinja2.bccache import Bucket

log = logging.getLogger(__name__)


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates in memory, then on disk (``prefix``: one kind of environment)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._memory: dict[str, bytes] = {}
        self._disk: jinja2.FileSystemBytecodeCache | None = None
        self._no_disk = False

    def _files(self) -> jinja2.FileSystemBytecodeCache | None:
        if self._disk is None and not self._no_disk:
            try:
                self._disk = jinja2.FileSystemBytecodeCache(pattern=f"__{self.prefix}_%s.cache")
            except (OSError, RuntimeError) as e:  # no safe temporary directory
                log.debug("compiled templates are not kept on disk: %s", e)
                self._no_disk = True
        return self._disk

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._memory.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)
            return
        files = self._files()
        if files is None:
            return
        try:
            files.load_bytecode(bucket)
        except Exception as e:  # unreadable or damaged (any unpickling error): compile again
            log.debug("compiled template %s not loaded: %s", bucket.key, e)
            bucket.reset()
            return
        if bucket.code is not None:
            self._memory[bucket.key] = bucket.bytecode_to_string()

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._memory[bucket.key] = bucket.bytecode_to_string()
        files = self._files()
        if files is not None:
            try:
                files.dump_bytecode(bucket)
            except OSError as e:  # a full disk or a read-only temporary directory
                log.debug("compiled template %s not kept: %s", bucket.key, e)

    def clear(self) -> None:
        self._memory.clear()
        files = self._files()
        if files is not None:
            files.clear()
