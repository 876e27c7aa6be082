"""Checking what an admin typed into a message template, before it is saved or published.

Every part is compiled and rendered with sample data; the problems found are listed in the
clinic's words, and the SMS is costed (encoding and segments).

Checking a template means compiling and rendering what an admin typed. The Jinja sandbox
stops templates from reaching Python internals, but not from asking for a billion loop turns
or a gigabyte string, so that work runs in a helper process with a memory cap and a time
limit: a bad template becomes a problem in the list, never a stuck or dead web process.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import select as io_select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from reminders.composing import OPT_OUT_KEYWORD, OPT_OUT_LINES
from reminders.defaults import LOCALES, PARTS
from reminders.inbound import SMS_LIMIT as KEYWORD_ANSWER_LIMIT
from reminders.rendering import (
    ALERT_VARIABLES,
    SAMPLE_VARIABLES,
    VARIABLES,
    SmsCost,
    TemplateProblem,
    render,
    sms_cost,
)

__all__ = [
    "ALERT_KEY",
    "FIRST_SMS_KEYS",
    "MAX_EMAIL_PART_BYTES",
    "MAX_SMS_CHARS",
    "PART_LABELS",
    "Preview",
    "Validation",
    "preview",
    "validate",
    "variables_for",
]

PART_LABELS = {
    "sms": "SMS",
    "email_subject": "email subject",
    "email_text": "email text",
    "email_html": "email HTML",
}
EMAIL_PARTS = ("email_subject", "email_text", "email_html")
MAX_SMS_CHARS = 1600  # the template source; Twilio also refuses a body longer than this
MAX_EMAIL_PART_BYTES = 100 * 1024
FIRST_SMS_KEYS = ("after-session",)  # the first text a patient gets: it says how to stop them
OPT_OUT_WORDS = {"en": ("STOP",), "fr": ("ARRET", "ARRÊT")}
ALERT_KEY = "clinic-alert"  # to clinic staff: alert variables, no unsubscribe link
KEYWORD_ANSWER_PREFIX = "reply-"  # answers to STOP/HELP/...: cut at 160 characters

CHECK_SECONDS = 3.0  # for all parts together, in the helper process
CHECKER_MEMORY_BYTES = 1 << 30
CHECKER_RECYCLE_BYTES = 384 << 20  # resident size after which the helper is replaced
MAX_RENDERED_CHARS = 1_000_000


@dataclass(frozen=True)
class Validation:
    problems: list[str]
    sms: SmsCost | None  # of the SMS rendered with sample data; None when it cannot be rendered

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Preview:
    parts: dict[str, str]  # every part rendered with SAMPLE_VARIABLES; "" where it cannot be
    sms: SmsCost | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- checking content -----------------------------------------------------------------------


def variables_for(key: str) -> tuple[str, ...]:
    """The variables a template with this key may use."""
    return (*VARIABLES, *ALERT_VARIABLES) if key == ALERT_KEY else VARIABLES


def validate(
    parts: Mapping[str, str], *, key: str, locale: str, required: Collection[str] = ()
) -> Validation:
    """Every problem with these parts, and what the SMS costs; never raises.

    `required` names parts that may not be empty (see `required_parts`).
    """
    checked = _check(parts, key=key, locale=locale, required=required)
    return Validation(checked.problems, checked.sms)


def preview(
    parts: Mapping[str, str], *, key: str, locale: str, required: Collection[str] = ()
) -> Preview:
    """The parts rendered with sample data, the SMS cost and every problem; never raises."""
    return _check(parts, key=key, locale=locale, required=required)


def _check(
    parts: Mapping[str, str], *, key: str, locale: str, required: Collection[str]
) -> Preview:
    problems: list[str] = []
    if locale not in LOCALES:
        problems.append(f"The language must be one of {', '.join(LOCALES)}.")
    for name in parts:
        if name not in PARTS:
            problems.append(
                f"There is no template part called {name[:40]!r}; the parts are {', '.join(PARTS)}."
            )
    sources: dict[str, object] = {name: parts.get(name, "") for name in PARTS}
    texts = dict.fromkeys(PARTS, "")  # the parts fit to check further
    filled: set[str] = set()  # not empty (a part with a problem counts as filled)
    for name, source in sources.items():
        problem = _source_problem(name, source)
        if problem:
            problems.append(problem)
            filled.add(name)
        elif isinstance(source, str) and source.strip():
            texts[name] = source
            filled.add(name)
    to_render = [name for name in PARTS if texts[name]]

    rendered = dict.fromkeys(PARTS, "")
    # Rendered fine with sample data; an empty part renders fine (to nothing)
    renderable = {name: name not in filled for name in PARTS}
    allowed = frozenset(variables_for(key))
    jobs = [(PART_LABELS[n], texts[n], allowed, n == "email_html") for n in to_render]
    results = _checker.check(jobs) if jobs else []
    if results is None:
        problems.append(
            "The template could not be checked: it takes too long or needs too much memory "
            "to render with sample data (a loop that runs too often, or a huge text?)."
        )
    else:
        for name, (found, text) in zip(to_render, results, strict=True):
            problems.extend(found)
            if text is not None:
                rendered[name], renderable[name] = text, True

    problems.extend(_content_problems(filled, rendered, renderable, key, locale, required))
    cost = sms_cost(rendered["sms"]) if renderable["sms"] and rendered["sms"] else None
    return Preview(rendered, cost, problems)


def _source_problem(name: str, source: object) -> str | None:
    label = PART_LABELS[name]
    if not isinstance(source, str):
        return f"The {label} must be text."
    if "\x00" in source:
        return f"The {label} contains a NUL character; remove it."
    try:
        size = len(source.encode("utf-8"))
    except UnicodeEncodeError:
        return f"The {label} contains characters that are not valid text; retype them."
    if name == "sms" and len(source) > MAX_SMS_CHARS:
        return (
            f"The SMS template is {len(source):,} characters long; the most is {MAX_SMS_CHARS:,}."
        )
    if name != "sms" and size > MAX_EMAIL_PART_BYTES:
        return (
            f"The {label} is {size:,} bytes; the most is {MAX_EMAIL_PART_BYTES:,} "
            f"({MAX_EMAIL_PART_BYTES // 1024} KB)."
        )
    return None


def _content_problems(
    filled: set[str],
    rendered: dict[str, str],
    renderable: dict[str, bool],
    key: str,
    locale: str,
    required: Collection[str],
) -> list[str]:
    """Rules about what the message says, checked on the sample rendering."""
    problems: list[str] = []
    for name in PARTS:
        if name in required and name not in filled:
            problems.append(
                f"The {PART_LABELS[name]} cannot be empty: this message is sent with one."
            )
    empty = [name for name in EMAIL_PARTS if name not in filled]
    if empty and len(empty) < len(EMAIL_PARTS):
        problems.append(
            "An email needs a subject, a text part and an HTML part; the "
            f"{' and '.join(PART_LABELS[n] for n in empty)} {'is' if len(empty) == 1 else 'are'} "
            "empty."
        )
    sms = rendered["sms"]
    if renderable["sms"]:
        if key in FIRST_SMS_KEYS:
            words = OPT_OUT_WORDS.get(locale, OPT_OUT_WORDS["en"])
            found = {match.group(1) for match in OPT_OUT_KEYWORD.finditer(sms)}
            if not found.intersection(words):
                line = OPT_OUT_LINES.get(locale, OPT_OUT_LINES["en"])
                problems.append(
                    "The first SMS a patient gets must say how to stop the texts: "
                    f"add the opt-out line “{line}” (the keyword {words[0]} in capitals)."
                )
        if len(sms) > MAX_SMS_CHARS:
            problems.append(
                f"With sample data the SMS is {len(sms):,} characters long; "
                f"a text can be at most {MAX_SMS_CHARS:,}."
            )
        if key.startswith(KEYWORD_ANSWER_PREFIX) and len(sms) > KEYWORD_ANSWER_LIMIT:
            problems.append(
                f"Keyword answers are cut at {KEYWORD_ANSWER_LIMIT} characters; with sample "
                f"data this one is {len(sms)}."
            )
    if renderable["email_subject"] and re.search(r"[\r\n]", rendered["email_subject"]):
        problems.append("The email subject must be a single line.")
    if key != ALERT_KEY:
        link = str(SAMPLE_VARIABLES["unsubscribe_url"])
        for name in ("email_text", "email_html"):
            if renderable[name] and rendered[name] and link not in rendered[name]:
                problems.append(
                    f"The {PART_LABELS[name]} must include the unsubscribe link "
                    "{{ unsubscribe_url }}."
                )
    return problems


# --- the helper process that compiles and renders -------------------------------------------

_CheckJob = tuple[str, str, frozenset[str], bool]  # label, source, allowed variables, html
_CheckResult = tuple[list[str], str | None]  # problems, rendered text (None if it failed)


def _check_part(label: str, source: str, allowed: frozenset[str], html: bool) -> _CheckResult:
    """Syntax, variables, then one sandboxed render with sample data. Runs in the helper."""
    try:
        try:
            tree = _parser.parse(source)
            unknown = meta.find_undeclared_variables(tree) - allowed
        except TemplateSyntaxError as exc:
            return [f"The {label} has a syntax error on line {exc.lineno}: {exc.message}"], None
        if unknown:
            names = ", ".join("{{ " + name + " }}" for name in sorted(unknown))
            plural = "are not variables" if len(unknown) > 1 else "is not a variable"
            return [
                f"The {label} uses {names}, which {plural} messages can use. "
                f"The variables are: {', '.join(sorted(allowed))}."
            ], None
        try:
            text = render(source, SAMPLE_VARIABLES, html=html)
        except TemplateProblem as exc:
            return [f"The {label} cannot be rendered safely ({str(exc).rstrip('.')})."], None
        if len(text) > MAX_RENDERED_CHARS:
            return [f"The {label} renders to more than {MAX_RENDERED_CHARS:,} characters."], None
        return [], text
    except MemoryError:
        return [f"The {label} needs too much memory to render."], None
    except RecursionError:
        return [f"The {label} nests too deeply to render."], None
    except Exception as exc:  # an admin's template must never take the checker down
        return [f"The {label} cannot be rendered ({type(exc).__name__}: {str(exc)[:160]})."], None


_parser = SandboxedEnvironment()


def _serve() -> None:
    """The helper process: a capped address space, then one batch of parts per request.

    Requests and answers are length-prefixed JSON on stdin and stdout.
    """
    import resource

    with contextlib.suppress(ValueError, OSError):  # no cap where the platform has none
        resource.setrlimit(resource.RLIMIT_AS, (CHECKER_MEMORY_BYTES, CHECKER_MEMORY_BYTES))
    stdin, stdout = sys.stdin.buffer, sys.stdout.fileno()
    with contextlib.suppress(OSError):  # the web process went away
        _write_frame(stdout, "ready")
        while len(header := stdin.read(_HEADER.size)) == _HEADER.size:
            jobs = json.loads(stdin.read(_HEADER.unpack(header)[0]))
            answer = [_check_part(label, src, frozenset(ok), html) for label, src, ok, html in jobs]
            _write_frame(stdout, answer)
            # Compiled templates are cached by rendering: start afresh before that adds up
            if resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 > CHECKER_RECYCLE_BYTES:
                return


_HEADER = struct.Struct(">Q")


def _write_frame(fd: int, value: object) -> None:
    data = json.dumps(value).encode("ascii")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


class _Checker:
    """One helper process per web process, started on first use, replaced when it is killed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self._stop)

    def check(self, jobs: list[_CheckJob]) -> list[_CheckResult] | None:
        """Results per job; None when the batch took too long or killed the helper."""
        request = [(label, src, sorted(ok), html) for label, src, ok, html in jobs]
        with self._lock:
            for _attempt in range(2):  # a helper that died since the last call gets one retry
                try:
                    process = self._started()
                    assert process.stdin is not None and process.stdout is not None
                    _write_frame(process.stdin.fileno(), request)
                    answer = _read_frame(process.stdout.fileno(), CHECK_SECONDS)
                except _TooSlow:
                    self._stop()
                    return None
                except (OSError, ValueError, EOFError):
                    self._stop()
                    continue
                return [(list(problems), text) for problems, text in answer]
            return None

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()
        package_root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, *sys.path])}
        process = subprocess.Popen(
            [sys.executable, "-c", "from reminders.template_checks import _serve; _serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        self._process = process
        assert process.stdout is not None
        try:
            if _read_frame(process.stdout.fileno(), 60) != "ready":
                raise OSError("the template checker did not start")
        except _TooSlow:
            raise OSError("the template checker did not start") from None
        return process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class _TooSlow(Exception):
    pass


def _read_frame(fd: int, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    header = _read_exactly(fd, _HEADER.size, deadline)
    return json.loads(_read_exactly(fd, _HEADER.unpack(header)[0], deadline))


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while size:
        left = deadline - time.monotonic()
        if left <= 0 or not io_select.select([fd], [], [], left)[0]:
            raise _TooSlow
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the template checker stopped")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


_checker = _Checker()
