"""Staff page bodies from Jinja2 templates under templates/staff/, autoescaped: a name, a reply
or a clinic setting is always shown as text, never as markup. `pages.page` wraps the body in
the shared layout."""

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
    """The body of a staff page, as HTML (a plain str: the page layout joins plain strings;
    a Markup here would escape the HTML it is joined with)."""
    return str(STAFF.get_template(template).render(**values))
