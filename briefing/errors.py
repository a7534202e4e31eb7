"""Typed errors users can cause, and the exit codes the CLI maps them to.

The library raises; ``briefing.cli`` converts. Every message says what to do.

    BriefingError                  any error a user can cause or fix
    ├── ConfigError                bad option, environment variable or config file
    ├── InputError                 missing, unreadable or unusable input
    ├── ProviderError              the model server failed (unreachable, auth, 5xx...)
    │   └── ModelNotFoundError     the named model or GGUF file does not exist
    ├── SummaryValidationError     the model's output stayed invalid after a repair
    ├── Interrupted                Ctrl-C / SIGTERM stopped the run
    └── DeliveryError              the brief could not be written or sent

Exit codes (stable; scripts may rely on them) are in :class:`ExitCode`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from briefing.models import Usage


class ExitCode(IntEnum):
    """Process exit codes of the ``briefing`` command."""

    OK = 0
    INTERNAL = 1  #: a bug: please report it (run with BRIEFING_RAISE_ERRORS=1)
    USAGE = 2  #: bad command-line usage (unknown option, missing argument)
    CONFIG = 3
    INPUT = 4
    PROVIDER = 5
    VALIDATION = 6
    DELIVERY = 7
    PARTIAL = 10  #: the brief was written, but some articles failed
    PENDING = 75  #: a batch was submitted and is not finished: collect it later (EX_TEMPFAIL)
    INTERRUPTED = 130  #: stopped by Ctrl-C / SIGINT


class BriefingError(Exception):
    """Base class of every error the user can cause or fix."""

    exit_code: ExitCode = ExitCode.INTERNAL


class ConfigError(BriefingError):
    """A setting is missing or invalid."""

    exit_code = ExitCode.CONFIG


class InputError(BriefingError):
    """An input file, directory, URL or stream cannot be used."""

    exit_code = ExitCode.INPUT


class ProviderError(BriefingError):
    """The model provider failed in a way retries could not fix."""

    exit_code = ExitCode.PROVIDER

    def __init__(
        self, message: str, *, status_code: int | None = None, every_call: bool | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self._every_call = every_call

    @property
    def every_call(self) -> bool:
        """True when every call would fail alike (server unreachable, key rejected,
        model missing), so a run that has not worked yet should stop rather than fail
        each article; False for one call's bad luck (a timeout, a dropped answer)."""
        if self._every_call is not None:
            return self._every_call
        return self.status_code in (None, 401, 403, 404)


class ModelNotFoundError(ProviderError):
    """The requested model (server model name or GGUF path) does not exist."""


class SummaryValidationError(BriefingError):
    """The model's output did not match the summary schema, even after a repair."""

    exit_code = ExitCode.VALIDATION

    def __init__(
        self,
        message: str,
        *,
        n_attempts: int,
        last_completion: str | None,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message)
        self.n_attempts = n_attempts
        self.last_completion = last_completion
        #: tokens the failed attempts were billed (None: not known)
        self.usage = usage


class Interrupted(BriefingError):
    """The run was stopped by Ctrl-C or SIGTERM; the message says what was kept."""

    exit_code = ExitCode.INTERRUPTED


class BatchPending(BriefingError):
    """``--batch --no-wait``: the batch is submitted and not done yet; the message says
    how to collect it."""

    exit_code = ExitCode.PENDING


class DeliveryError(BriefingError):
    """The brief could not be written or delivered."""

    exit_code = ExitCode.DELIVERY
