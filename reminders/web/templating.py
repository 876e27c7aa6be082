"""Staff page bodies from Jinja2 templates under templates/staff/, autoescaped: a name, a reply
or a clinic setting is always shown as text, never as markup. `pages.page` wraps the body in
the shared layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

STAFF = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates" / "staff"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **values: Any) -> Markup:
    """The body of a staff page, as safe HTML."""
    return Markup(STAFF.get_template(template).render(**values))
