"""Rendering message templates safely, and what an SMS will cost.

Templates run in Jinja2's sandbox with StrictUndefined and a fixed set of variables, so an
admin's template can neither reach Python internals nor silently print an empty name. Every
render also has a deadline and a size cap (checked on each loop turn, call, filter and output
chunk), so a template asking for billions of loop turns or a gigabyte string fails that one
message in about RENDER_SECONDS instead of holding a worker.
"""

from __future__ import annotations

import functools
import math
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

RENDER_SECONDS = 2.0  # one render, anywhere: a real message takes milliseconds
MAX_VALUE_CHARS = 2_000_000  # the longest string or list a render may make, output included
_LOOP_GUARD = "_render_loop_guard"  # a filter wrapped around every {% for %}'s iterable

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
ALERT_VARIABLES = ("patient_ref", "reply_text", "reply_from", "received_at", "patient_url")

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
    "reply_from": "+14035550123",
    "received_at": "2026-11-24 21:14",
    "patient_url": "https://clinic.example/patients/123",
}


class TemplateProblem(ValueError):
    """A template that does not parse or uses what it may not; the message says which."""


class _TooCostly(Exception):
    """Raised inside a render that ran past its deadline or made too large a value."""


_deadline: ContextVar[float | None] = ContextVar("render_deadline", default=None)


def _check_time() -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise _TooCostly("template took too long to render")


def _check_size(value: object) -> None:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset) and (
        len(value) > MAX_VALUE_CHARS
    ):
        raise _TooCostly(f"template makes a value over {MAX_VALUE_CHARS:,} long")


def _guard_loop(iterable: Iterable[Any]) -> Iterator[Any]:
    for turn, item in enumerate(iterable):
        if not turn & 255:
            _check_time()
        yield item


def _limited_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps jinja's pass_context/pass_eval_context marks
    def limited(*args: Any, **kwargs: Any) -> Any:
        _check_time()
        result = function(*args, **kwargs)
        _check_size(result)
        return result

    return limited


class _LimitedEnvironment(SandboxedEnvironment):
    """The sandbox, plus the render deadline and size cap: every loop's iterable goes through
    a guard filter (templates cannot rebind filters), every call and filter checks the time
    and the size of what it made, and `*` and `**` are refused before making a huge value."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _limited_filter(f) for name, f in self.filters.items()}
        self.filters[_LOOP_GUARD] = _guard_loop

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in list(tree.find_all(nodes.For)):
            loop.iter = nodes.Filter(
                loop.iter, _LOOP_GUARD, [], [], None, None, lineno=loop.iter.lineno
            )
        tree.set_environment(self)
        return tree

    def call(
        __self,  # the sandbox's own signature: a template may pass "self" as a keyword
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _check_time()
        result = SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs)
        _check_size(result)
        return result

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | bytes | list | tuple)
                    and isinstance(times, int)
                    and len(sequence) * times > MAX_VALUE_CHARS
                ):
                    raise _TooCostly(f"template makes a value over {MAX_VALUE_CHARS:,} long")
        if (
            operator == "**"
            and isinstance(left, int | float)
            and isinstance(right, int | float)
            and abs(left) > 1
            and right > 0
            and right * math.log2(abs(left)) > 4096
        ):
            raise _TooCostly("template computes a number too large to render")
        return super().call_binop(context, operator, left, right)


_text = _LimitedEnvironment(undefined=StrictUndefined, autoescape=False)
_html = _LimitedEnvironment(undefined=StrictUndefined, autoescape=True)


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> Template:
    """Templates are compiled once per process: a published version never changes."""
    return (_html if html else _text).from_string(source)


def render(source: str, variables: dict[str, Any], *, html: bool = False) -> str:
    """The rendered text, stripped; TemplateProblem if the template fails, takes more than
    RENDER_SECONDS ("template took too long to render") or makes too large a value."""
    token = _deadline.set(time.monotonic() + RENDER_SECONDS)
    try:
        chunks: list[str] = []
        size = 0
        for chunk in _compiled(source, html).generate(**variables):
            size += len(chunk)
            if size > MAX_VALUE_CHARS:
                raise _TooCostly(f"template renders to more than {MAX_VALUE_CHARS:,} characters")
            chunks.append(chunk)
        return "".join(chunks).strip()
    except _TooCostly as exc:
        raise TemplateProblem(str(exc)) from None
    except TemplateError as exc:
        raise TemplateProblem(f"template error: {exc.message or exc}") from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        # An admin's template may fail while rendering ({{ 1/0 }}, {{ name + 1 }}).
        raise TemplateProblem(f"template failed while rendering: {exc}") from None
    finally:
        _deadline.reset(token)


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
