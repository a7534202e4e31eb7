"""The ``briefing`` command's entry point (and ``python -m briefing``'s).

A command the resident server runs (``summarize``, see :mod:`briefing.resident`) is
handed to it before anything heavy is imported; otherwise, or when that does not work
out, the command runs here through :func:`briefing.cli.main`.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point."""
    args = sys.argv[1:]
    from briefing import resident

    if resident.wanted(args):
        status = resident.run(args)
        if status is not None:
            sys.exit(status)
    from briefing.cli import main as cli_main

    cli_main()
