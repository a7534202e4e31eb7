"""``python -m briefing``: the same as the ``briefing`` command."""

from briefing.launch import main

main()
