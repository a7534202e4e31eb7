"""Render a Briefing as Markdown, HTML, PDF or JSON."""
