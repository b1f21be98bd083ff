"""``validation/REPORT.md``, the certification report for people.

The renderer lives in :mod:`aipsy_affect.certify.markdown` because ``certify`` writes REPORT.md and the layering
lets it use only the rendering utilities (``render.tables``, ``render.templates``); it builds every table with
``render.tables.markdown_table`` and takes every figure from the report. This module is its place among the other
rendered pages.
"""

from __future__ import annotations

from aipsy_affect.certify.markdown import render_markdown

__all__ = ["render_markdown"]
