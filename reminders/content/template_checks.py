"""Checking what an admin typed into a message template, before it is saved or published.

Every part is compiled and rendered with sample data; the problems found are listed in the
clinic's words, each with the part it is about (to show it next to that field), and the SMS
is costed (encoding and segments). An email written as structured text is checked as its
author wrote it, then as the text and HTML parts made from it (reminders.content.structured_email).

The compiling and rendering itself runs in a helper process with a memory cap and a time
limit (reminders.content.template_checker), so a hostile template cannot hang the web process.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from reminders.content.defaults import EDITABLE_PARTS, EMAIL_BODY, LOCALES, PARTS
from reminders.content.rendering import (
    ALERT_VARIABLES,
    SAMPLE_VARIABLES,
    VARIABLES,
    SmsCost,
    sms_cost,
)
from reminders.content.structured_email import email_parts
from reminders.content.template_checker import _checker
from reminders.sending.composing import OPT_OUT_KEYWORD, OPT_OUT_LINES

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
    EMAIL_BODY: "email",
}
EMAIL_PARTS = ("email_subject", "email_text", "email_html")
MADE_PARTS = ("email_text", "email_html")  # made from the structured email, when there is one
MAX_SMS_CHARS = 1600  # the template source; Twilio also refuses a body longer than this
MAX_EMAIL_PART_BYTES = 100 * 1024
FIRST_SMS_KEYS = ("after-session",)  # the first text a patient gets: it says how to stop them
OPT_OUT_WORDS = {"en": ("STOP",), "fr": ("ARRET", "ARRÊT")}
ALERT_KEY = "clinic-alert"  # to clinic staff: alert variables, no unsubscribe link
KEYWORD_ANSWER_PREFIX = "reply-"  # answers sent back at once to a patient's text
# Carriers hold answers to STOP, START and HELP to one 160-character text; the other answers
# (acknowledgement, emergency, thanks) may take two segments, and are never cut short.
KEYWORD_ANSWERS = ("reply-stop", "reply-start", "reply-help")
KEYWORD_ANSWER_LIMIT = 160
OTHER_ANSWER_LIMIT = 320


def answer_limit(key: str) -> int | None:
    """How long an answer to a patient's text may be, or None for a planned message."""
    if not key.startswith(KEYWORD_ANSWER_PREFIX):
        return None
    return KEYWORD_ANSWER_LIMIT if key in KEYWORD_ANSWERS else OTHER_ANSWER_LIMIT


@dataclass(frozen=True)
class Validation:
    problems: list[str]
    sms: SmsCost | None  # of the SMS rendered with sample data; None when it cannot be rendered
    fields: dict[str, list[str]] = field(default_factory=dict)  # by part; "message": the whole
    sources: dict[str, str] = field(default_factory=dict)  # every part as it would be saved

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Preview:
    parts: dict[str, str]  # every part rendered with SAMPLE_VARIABLES; "" where it cannot be
    sms: SmsCost | None
    problems: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)  # by part; "message": the whole
    sources: dict[str, str] = field(default_factory=dict)  # every part as it would be saved

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
    return Validation(checked.problems, checked.sms, checked.fields, checked.sources)


def preview(
    parts: Mapping[str, str], *, key: str, locale: str, required: Collection[str] = ()
) -> Preview:
    """The parts rendered with sample data, the SMS cost and every problem; never raises."""
    return _check(parts, key=key, locale=locale, required=required)


def _check(
    parts: Mapping[str, str], *, key: str, locale: str, required: Collection[str]
) -> Preview:
    found: list[tuple[str, str]] = []  # (part, problem); part "" for the message as a whole
    if locale not in LOCALES:
        found.append(("", f"The language must be one of {', '.join(LOCALES)}."))
    for name in parts:
        if name not in EDITABLE_PARTS:
            found.append(
                (
                    "",
                    f"There is no template part called {name[:40]!r}; the parts are {', '.join(PARTS)}.",
                )
            )
    sources: dict[str, object] = {name: parts.get(name, "") for name in EDITABLE_PARTS}
    texts = dict.fromkeys(EDITABLE_PARTS, "")  # the parts fit to check further
    filled: set[str] = set()  # not empty (a part with a problem counts as filled)
    structured = isinstance(sources[EMAIL_BODY], str) and bool(str(sources[EMAIL_BODY]).strip())
    for name, source in sources.items():
        if structured and name in MADE_PARTS:
            continue  # made from the structured email below; what was sent for them is unused
        problem = _source_problem(name, source)
        if problem:
            found.append((name, problem))
            filled.add(name)
        elif isinstance(source, str) and source.strip():
            texts[name] = source
            filled.add(name)
    if structured:
        filled.update(MADE_PARTS)
        if texts[EMAIL_BODY]:
            texts["email_text"], texts["email_html"] = email_parts(
                texts[EMAIL_BODY], subject=texts["email_subject"], locale=locale
            )
            found.extend((EMAIL_BODY, p) for n in MADE_PARTS if (p := _source_problem(n, texts[n])))

    rendered = dict.fromkeys(EDITABLE_PARTS, "")
    # Rendered fine with sample data; an empty part renders fine (to nothing)
    renderable = {name: name not in filled for name in EDITABLE_PARTS}
    found.extend(_render_checks(texts, rendered, renderable, key, structured))
    found.extend(_content_problems(filled, rendered, renderable, key, locale, required, structured))
    cost = sms_cost(rendered["sms"]) if renderable["sms"] and rendered["sms"] else None
    saved = {name: s if isinstance(s, str) else "" for name, s in sources.items()}
    if structured:  # what is saved: the parts made from the structured email
        saved["email_text"], saved["email_html"] = texts["email_text"], texts["email_html"]
    fields: dict[str, list[str]] = {}
    for name, problem in found:
        fields.setdefault(name or "message", []).append(problem)
    rendered[EMAIL_BODY] = ""  # shown as its HTML and text parts
    return Preview(rendered, cost, [problem for _, problem in found], fields=fields, sources=saved)


def _render_checks(
    texts: dict[str, str],
    rendered: dict[str, str],
    renderable: dict[str, bool],
    key: str,
    structured: bool,
) -> list[tuple[str, str]]:
    """Compile and render the parts with sample data in the helper process; fills `rendered`
    and `renderable`, and returns the problems found, by part."""
    # The structured email first: a problem in it is not said again of the parts made from it
    to_render = [name for name in (EMAIL_BODY, *PARTS) if texts[name]]
    allowed = frozenset(variables_for(key))
    jobs = [(PART_LABELS[n], texts[n], allowed, n == "email_html") for n in to_render]
    results = _checker.check(jobs) if jobs else []
    if results is None:
        return [
            (
                "",
                "The template could not be checked: it takes too long or needs too much memory "
                "to render with sample data (a loop that runs too often, or a huge text?).",
            )
        ]
    found: list[tuple[str, str]] = []
    body_failed = False
    for name, (problems, text) in zip(to_render, results, strict=True):
        made = structured and name in MADE_PARTS
        if made and body_failed:
            continue  # the same problem, already said of the email itself
        found.extend((EMAIL_BODY if made else name, problem) for problem in problems)
        if name == EMAIL_BODY:
            body_failed = text is None
        elif text is not None:
            rendered[name], renderable[name] = text, True
    return found


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
    structured: bool,
) -> list[tuple[str, str]]:
    """Rules about what the message says, checked on the sample rendering."""
    problems: list[tuple[str, str]] = []
    for name in PARTS:
        if name in required and name not in filled:
            problems.append(
                (name, f"The {PART_LABELS[name]} cannot be empty: this message is sent with one.")
            )
    empty = [name for name in EMAIL_PARTS if name not in filled]
    if empty and len(empty) < len(EMAIL_PARTS):
        problems.append(
            (
                empty[0],
                "An email needs a subject, a text part and an HTML part; the "
                f"{' and '.join(PART_LABELS[n] for n in empty)} "
                f"{'is' if len(empty) == 1 else 'are'} empty.",
            )
        )
    sms = rendered["sms"]
    if renderable["sms"]:
        problems.extend(("sms", problem) for problem in _sms_problems(sms, key, locale))
    if renderable["email_subject"] and re.search(r"[\r\n]", rendered["email_subject"]):
        problems.append(("email_subject", "The email subject must be a single line."))
    if key != ALERT_KEY:
        link = str(SAMPLE_VARIABLES["unsubscribe_url"])
        missing = [
            name
            for name in MADE_PARTS
            if renderable[name] and rendered[name] and link not in rendered[name]
        ]
        if structured and missing:
            problems.append(
                (EMAIL_BODY, "The email must include the unsubscribe link {{ unsubscribe_url }}.")
            )
        elif missing:
            problems.extend(
                (
                    name,
                    f"The {PART_LABELS[name]} must include the unsubscribe link "
                    "{{ unsubscribe_url }}.",
                )
                for name in missing
            )
    return problems


def _sms_problems(sms: str, key: str, locale: str) -> list[str]:
    problems: list[str] = []
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
    limit = answer_limit(key)
    if limit is not None and len(sms) > limit:
        problems.append(
            f"{'Keyword answers' if limit == KEYWORD_ANSWER_LIMIT else 'Answers to replies'}"
            f" are cut at {limit} characters; with sample data this one is {len(sms)}."
        )
    return problems
