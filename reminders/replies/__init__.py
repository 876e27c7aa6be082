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
from reminders.vocabulary import ReplyKind

KINDS = tuple(ReplyKind)


@dataclass(frozen=True)
class Reading:
    """What a reply says; score (0-10, Numeric Pain Rating Scale) is set only for a score."""

    kind: ReplyKind
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
        return Reading(ReplyKind.EMERGENCY, None)
    if keywords.asks_to_opt_out(words, core):
        return Reading(ReplyKind.OPT_OUT, None)
    if keywords.mentions_stop(words):
        return Reading(ReplyKind.UNCLEAR_STOP, None)
    if keywords.asks_to_opt_in(core):
        return Reading(ReplyKind.OPT_IN, None)
    if keywords.asks_for_help(core):
        return Reading(ReplyKind.HELP, None)
    score = find_score(flat, bare)
    if score is not None:
        return Reading(ReplyKind.SCORE, score)
    if says_worse(words):
        return Reading(ReplyKind.WORSE, None)
    if says_better(words):
        return Reading(ReplyKind.BETTER, None)
    return Reading(ReplyKind.OTHER, None)


def flag_reasons(reading: Reading, previous_score: int | None, text: str) -> list[str]:
    """Why the therapist should look at this reply, in plain words; empty when nothing to flag.

    A rise of 2 points is clinically meaningful on the pain scale (pubmed 11690728).
    """
    reasons: list[str] = []
    if reading.kind == ReplyKind.EMERGENCY:
        reasons.append("possible red flag")
    if reading.kind == ReplyKind.SCORE and reading.score is not None:
        if reading.score >= 8:
            reasons.append("score 8 or more")
        if previous_score is not None and reading.score - previous_score >= 2:
            reasons.append(f"score rose by {reading.score - previous_score} since the last answer")
    words = clauses(plain(text))
    if reading.kind == ReplyKind.WORSE or (
        reading.kind != ReplyKind.EMERGENCY and says_worse(words)
    ):
        reasons.append("says it is worse or not going away")
    if reading.kind != ReplyKind.EMERGENCY and mentions_red_flag(words):
        reasons.append("mentions numbness, weakness, fever, infection or a spreading bruise")
    return reasons


def keyword_reply_key(reading: Reading) -> str | None:
    """The template folder that answers this reply at once."""
    return {
        ReplyKind.OPT_OUT: "reply-stop",
        ReplyKind.OPT_IN: "reply-start",
        ReplyKind.HELP: "reply-help",
        ReplyKind.EMERGENCY: "reply-emergency",
        ReplyKind.UNCLEAR_STOP: "reply-confirm-stop",
        ReplyKind.SCORE: "reply-thanks",
        ReplyKind.BETTER: "reply-thanks",
        ReplyKind.WORSE: "reply-ack",
        ReplyKind.OTHER: "reply-ack",
    }[reading.kind]
