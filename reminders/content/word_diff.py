"""What an edit changes in a message, in words: the words added and removed since the
published version, for an admin to read before publishing (difflib over words, not lines:
a one-word change in a long paragraph shows as one word)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

# A placeholder or tag is one word; so is each run of spaces between words.
WORDS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\s+|[^\s{]+|\{", re.DOTALL)
MAX_WORDS = 5_000  # beyond this, compare line by line: difflib is quadratic at worst


@dataclass(frozen=True)
class Change:
    kind: str  # "same" | "added" | "removed"
    text: str


@dataclass(frozen=True)
class PartChanges:
    part: str  # sms | email_subject | email (the email as its author wrote it)
    label: str
    changes: list[Change]
    added: int  # words
    removed: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


COMPARED = (("sms", "SMS"), ("email_subject", "Email subject"), ("email", "Email"))


def word_diff(old: str, new: str) -> list[Change]:
    """`new` as runs of words kept, added and removed compared with `old`."""
    before, after = WORDS.findall(old), WORDS.findall(new)
    if max(len(before), len(after)) > MAX_WORDS:
        before, after = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    changes: list[Change] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _add(changes, "same", "".join(before[i1:i2]))
            continue
        if op in ("delete", "replace"):
            _add(changes, "removed", "".join(before[i1:i2]))
        if op in ("insert", "replace"):
            _add(changes, "added", "".join(after[j1:j2]))
    return changes


def message_changes(
    published: Mapping[str, str] | None, edited: Mapping[str, str]
) -> list[PartChanges]:
    """The SMS, the subject and the email in words, compared with the published version
    (an empty one when nothing is published). The email compared is what its author wrote:
    the structured text, or else the plain text part; the HTML source when both are raw
    HTML and only the HTML changed."""
    old = published or {}
    compared = [*COMPARED]
    raw = not old.get("email_body") and not edited.get("email_body")
    same_text = old.get("email_text", "") == edited.get("email_text", "")
    if raw and same_text and old.get("email_html", "") != edited.get("email_html", ""):
        compared[2] = ("email_html", "Email HTML")
    found = []
    for part, label in compared:
        changes = word_diff(_words_of(old, part), _words_of(edited, part))
        found.append(
            PartChanges(
                part=part,
                label=label,
                changes=changes,
                added=_count(changes, "added"),
                removed=_count(changes, "removed"),
            )
        )
    return found


def _words_of(parts: Mapping[str, str], part: str) -> str:
    if part == "email":
        return parts.get("email_body") or parts.get("email_text", "")
    return parts.get(part, "")


def _add(changes: list[Change], kind: str, text: str) -> None:
    if not text:
        return
    if changes and changes[-1].kind == kind:
        changes[-1] = Change(kind, changes[-1].text + text)
    else:
        changes.append(Change(kind, text))


def _count(changes: list[Change], kind: str) -> int:
    return sum(
        1
        for change in changes
        if change.kind == kind
        for word in WORDS.findall(change.text)
        if not word.isspace()
    )
