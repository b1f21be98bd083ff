"""The one Markdown table renderer, and the number formats every rendered page shares.

Cells are escaped for a GitHub-flavoured Markdown table: a pipe would split the cell, a newline would end the
row, and ``<``/``>``/``&`` would start raw HTML. User-supplied strings (model ids, submitter names) also get
Markdown markup escaped with backslashes, never HTML entities for quotes (``'`` stays ``'``).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

__all__ = ["fmt_number", "markdown_table", "md_cell", "md_text"]

_MARKUP = re.compile(r"([\\`*_\[\]#~!()])")


def fmt_number(x: float | None, digits: int = 3) -> str:
    """A figure for a table: ``n/a`` for missing or NaN, scientific notation for very small or large values."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) < 1e-3 or abs(x) >= 1e5:
        return f"{x:.2e}"
    return f"{x:.{digits}f}"


def md_text(text: str) -> str:
    """Escape an untrusted string for a Markdown table cell (markup, pipes, HTML, control characters)."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    cleaned = cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKUP.sub(r"\\\1", cleaned).replace("|", "\\|")


def md_cell(value: Any, digits: int = 3) -> str:
    """One cell: numbers formatted, booleans as yes/no, None as n/a, strings with pipes and newlines escaped."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return fmt_number(value, digits)
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None, digits: int = 3
) -> str:
    """A Markdown table; ``align`` is one character per column (``l``, ``r`` or ``c``), default left.

    Cells that are already strings are escaped with :func:`md_cell` (pipes, newlines); pass untrusted strings
    through :func:`md_text` first.
    """
    if align is not None and len(align) != len(header):
        raise ValueError(f"align has {len(align)} characters for {len(header)} columns")
    rule = {"l": "---", "r": "---:", "c": ":---:"}
    lines = [
        "| " + " | ".join(md_cell(h) for h in header) + " |",
        "|" + "|".join(rule[a] for a in (align or "l" * len(header))) + "|",
    ]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells for {len(header)} columns")
        lines.append("| " + " | ".join(md_cell(v, digits) for v in row) + " |")
    return "\n".join(lines) + "\n"
