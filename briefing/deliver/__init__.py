"""Deliver briefs: email and scheduling."""
