"""The Jinja2 environment for every rendered page (dataset card, leaderboard page, reports).

Undefined variables raise instead of rendering empty, so a template and its context cannot drift apart
silently. HTML templates (``*.html.j2``) are autoescaped; Markdown templates are not (their values are escaped
with ``render.tables.md_text`` where they come from users).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["environment", "render", "render_string"]


@lru_cache(maxsize=1)
def environment() -> Any:
    """The shared environment, loading templates from ``aipsy_affect/render/templates/``."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("aipsy_affect.render", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    """Render the packaged template ``name`` with ``context``."""
    return str(environment().get_template(name).render(**context))


def render_string(source: str, **context: Any) -> str:
    """Render a template given as text (the dataset card, whose source is ``CARD.md``)."""
    return str(environment().from_string(source).render(**context))
