"""Prompt templates shipped inside the wheel (a data package; see briefing.prompts)."""
