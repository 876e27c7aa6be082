"""Rendering message templates safely, and what an SMS will cost.

Templates run in Jinja2's sandbox with StrictUndefined and a fixed set of variables, so an
admin's template can neither reach Python internals nor silently print an empty name.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

VARIABLES = (
    "first_name",
    "clinic_name",
    "clinic_phone",
    "therapist_name",
    "session_date",
    "unsubscribe_url",
    "checkin_url",
    "checkin_urls",
    "manage_url",
    "clinic_hours",  # when the clinic reads replies: "Mon-Fri 8:00-18:00"
    "clinic_closed",  # true when the message goes out while the clinic is closed: name 811
    "flagged",  # replies only: true when the reply was flagged for the therapist
)
ALERT_VARIABLES = ("patient_ref", "reply_text", "received_at", "patient_url")

SAMPLE_VARIABLES: dict[str, Any] = {
    "first_name": "Alexandra",
    "clinic_name": "Bow River Physiotherapy",
    "clinic_phone": "403-555-0100",
    "therapist_name": "Sam Chen",
    "session_date": "Tuesday, November 24",
    "unsubscribe_url": "https://clinic.example/u/sample-token",
    "checkin_url": "https://clinic.example/c/sample-token",
    "checkin_urls": [f"https://clinic.example/c/sample-token?score={n}" for n in range(11)],
    "manage_url": "https://clinic.example/m/sample-token",
    "clinic_hours": "Mon-Fri 8:00-18:00",
    "clinic_closed": True,
    "flagged": True,
    "patient_ref": "P-000123",
    "reply_text": "chest feels tight",
    "received_at": "2026-11-24 21:14",
    "patient_url": "https://clinic.example/patients/123",
}

_text = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_html = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


class TemplateProblem(ValueError):
    """A template that does not parse or uses what it may not; the message says which."""


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> Template:
    """Templates are compiled once per process: a published version never changes."""
    return (_html if html else _text).from_string(source)


def render(source: str, variables: dict[str, Any], *, html: bool = False) -> str:
    try:
        return _compiled(source, html).render(**variables).strip()
    except TemplateError as exc:
        raise TemplateProblem(f"template error: {exc.message or exc}") from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        # An admin's template may fail while rendering ({{ 1/0 }}, {{ name + 1 }}).
        raise TemplateProblem(f"template failed while rendering: {exc}") from None


@dataclass(frozen=True)
class SmsCost:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def sms_cost(text: str) -> SmsCost:
    """Encoding and segment count: 160/153 septets in GSM-7, 70/67 code units in UCS-2."""
    try:
        units = len(text.encode("gsm03.38"))
        single, multi, encoding = 160, 153, "GSM-7"
    except UnicodeEncodeError:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else math.ceil(units / multi)
    return SmsCost(encoding, units, segments)


# Latin letters that Unicode does not decompose into a base letter and an accent.
_GSM_LOOKALIKES = {
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Œ": "Oe",
    "œ": "oe",
    "ı": "i",
    "ð": "d",
    "Þ": "Th",
    "þ": "th",
    "\u2019": "'",  # the curly apostrophe phones type in names like D’Arcy
    "\u2018": "'",
}


def _in_gsm7(text: str) -> bool:
    """Is every character of `text` in the GSM-7 alphabet (its extension table included)?"""
    try:
        text.encode("gsm03.38")
    except UnicodeEncodeError:
        return False
    return True


def gsm7_spelling(name: str) -> str:
    """`name` with each character outside GSM-7 written without its accent: François ->
    Francois, Joël -> Joel; é, è, à, ü, ñ, ø and the others GSM-7 has stay as they are.

    One such character puts a whole text into UCS-2, 70 characters a segment instead of 160,
    which can triple its cost. A name that cannot be spelled in GSM-7 (another script) comes
    back unchanged: its text is UCS-2 anyway, and the patient's name is best left whole.
    """
    spelled = []
    for char in name:
        if _in_gsm7(char):
            spelled.append(char)
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        base = _GSM_LOOKALIKES.get(char) or "".join(
            c for c in decomposed if not unicodedata.combining(c)
        )
        if not base or not _in_gsm7(base):
            return name
        spelled.append(base)
    return "".join(spelled)
