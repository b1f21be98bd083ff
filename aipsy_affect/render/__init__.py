"""Rendering: Markdown tables and the Jinja2 templates (dataset card, leaderboard page)."""
