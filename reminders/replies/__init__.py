"""How a patient's SMS or email reply is understood, and what it calls for.

Plain functions over plain data, no I/O. Replies are read case- and accent-insensitively, in
English, Canadian French and franglais, with texting spellings and common typos. The raw text is
kept by the caller, so a reply read as "other" is never lost: the therapist still sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reminders.replies import keywords
from reminders.replies.emergencies import names_emergency
from reminders.replies.scores import find_score
from reminders.replies.symptoms import mentions_red_flag, says_better, says_worse
from reminders.replies.wording import bare_words, clauses, plain

KINDS = (
    "emergency",
    "opt_out",
    "unclear_stop",
    "opt_in",
    "help",
    "score",
    "worse",
    "better",
    "other",
)


@dataclass(frozen=True)
class Reading:
    """What a reply says: kind is one of KINDS; score (0-10, Numeric Pain Rating Scale) is set
    only for "score"."""

    kind: str
    score: int | None


def read_reply(text: str) -> Reading:
    """How a patient's reply is understood, first match wins: emergency, opt-out, unclear stop,
    opt-in, help, pain score, worse, better, other.

    An emergency wins over everything ("STOP I can't breathe"); see `emergencies` for how
    symptoms are read and `context` for negation ("no chest pain, just sore" is not one).
    """
    flat = plain(text)
    words = clauses(flat)
    bare = bare_words(words)
    core = keywords.core(bare)
    if names_emergency(words, core):
        return Reading("emergency", None)
    if keywords.asks_to_opt_out(words, core):
        return Reading("opt_out", None)
    if keywords.mentions_stop(words):
        return Reading("unclear_stop", None)
    if keywords.asks_to_opt_in(core):
        return Reading("opt_in", None)
    if keywords.asks_for_help(core):
        return Reading("help", None)
    score = find_score(flat, bare)
    if score is not None:
        return Reading("score", score)
    if says_worse(words):
        return Reading("worse", None)
    if says_better(words):
        return Reading("better", None)
    return Reading("other", None)


def flag_reasons(reading: Reading, previous_score: int | None, text: str) -> list[str]:
    """Why the therapist should look at this reply, in plain words; empty when nothing to flag.

    A rise of 2 points is clinically meaningful on the pain scale (pubmed 11690728).
    """
    reasons: list[str] = []
    if reading.kind == "emergency":
        reasons.append("possible red flag")
    if reading.kind == "score" and reading.score is not None:
        if reading.score >= 8:
            reasons.append("score 8 or more")
        if previous_score is not None and reading.score - previous_score >= 2:
            reasons.append(f"score rose by {reading.score - previous_score} since the last answer")
    words = clauses(plain(text))
    if reading.kind == "worse" or (reading.kind != "emergency" and says_worse(words)):
        reasons.append("says it is worse or not going away")
    if reading.kind != "emergency" and mentions_red_flag(words):
        reasons.append("mentions numbness, weakness, fever, infection or a spreading bruise")
    return reasons


def keyword_reply_key(reading: Reading) -> str | None:
    """The template folder that answers this reply at once."""
    return {
        "opt_out": "reply-stop",
        "opt_in": "reply-start",
        "help": "reply-help",
        "emergency": "reply-emergency",
        "unclear_stop": "reply-confirm-stop",
        "score": "reply-thanks",
        "better": "reply-thanks",
        "worse": "reply-ack",
        "other": "reply-ack",
    }[reading.kind]
