"""Sentence splitting for ingest: the splitter lives in :mod:`briefing.sentences` (one home
for the whole pipeline); this module keeps the older import path working."""

from briefing.sentences import ensure_sentences, sentence_texts, split_sentences

__all__ = ["ensure_sentences", "sentence_texts", "split_sentences"]
