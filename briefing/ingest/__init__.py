"""Turn sources (files, directories, HTML, feeds, URLs, stdin) into clean Articles.

The entry point is :func:`load_articles`; :func:`dedupe` then merges copies of one story.
Every Article it returns has ``text`` (the clean body, paragraphs separated by a blank
line, sub-headings as ``## Heading``) and ``sentences`` (numbered from 1) filled.
"""

from briefing.ingest.dedupe import DEFAULT_THRESHOLD, dedupe, similarity
from briefing.ingest.files import MAX_BYTES, ErrorHandler, load_articles, load_path
from briefing.ingest.text import parse_text_page
from briefing.sentences import split_sentences

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_BYTES",
    "ErrorHandler",
    "dedupe",
    "load_articles",
    "load_path",
    "parse_text_page",
    "similarity",
    "split_sentences",
]
