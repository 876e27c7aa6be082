"""The staff pages' Jinja2 templates, under templates/staff/, autoescaped: a name, a reply or a
clinic setting is always shown as text, never as markup. A whole page extends base.html and
is rendered by `pages.staff_page`; `render` gives a part of a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

STAFF = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates" / "staff"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **values: Any) -> str:
    """A part of a staff page, as HTML (a plain str; `pages.page` marks a body it is given
    as safe)."""
    return str(STAFF.get_template(template).render(**values))
