"""A patient's 0-10 answer to an email check-in: recorded on a POST, changeable for a day.

Opening a check-in link records nothing (mail scanners and link previews open links too);
the answer is recorded when the patient presses a button. A patient who pressed the wrong
number can change it for CHANGE_WINDOW after first answering: the same reply takes the new
score, and its flags follow it (a flag the new score no longer calls for is closed, one it
calls for is opened). After that the answer stands, and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from reminders import audit
from reminders.models import Flag, Message, Reply
from reminders.replies import Reading, flag_reasons
from reminders.replies.inbound import record_email_score
from reminders.vocabulary import Channel, ReplyKind

CHANGE_WINDOW = timedelta(hours=24)
CLOSED_BY_CHANGE = "patient changed the answer"  # Flag.closed_by for a flag the change undid

Outcome = Literal["recorded", "changed", "unchanged", "too_late"]


@dataclass(frozen=True)
class Answer:
    """The answer on record once a POST is handled: `score` is the new one, except for
    "too_late", where it is the answer that stands."""

    outcome: Outcome
    score: int
    answered_at: datetime  # when the patient first answered this check-in
    changeable_until: datetime


def current_answer(session: Session, message: Message) -> Reply | None:
    """The email answer to this check-in, if the patient gave one."""
    return session.scalar(
        select(Reply)
        .where(Reply.checkin_message_id == message.id, Reply.channel == Channel.EMAIL)
        .order_by(Reply.id)
        .limit(1)
    )


def changeable_until(reply: Reply) -> datetime:
    return reply.received_at + CHANGE_WINDOW


def answer_checkin(session: Session, *, message: Message, score: int, now: datetime) -> Answer:
    """Record the patient's answer to a check-in email, or change it within CHANGE_WINDOW."""
    if not 0 <= score <= 10:
        raise ValueError("a check-in score is 0 to 10")
    # Two presses at once (a double tap) are taken one after the other: the row lock on
    # PostgreSQL; on SQLite every transaction already holds the write lock (BEGIN IMMEDIATE).
    session.execute(select(Message.id).where(Message.id == message.id).with_for_update())
    reply = current_answer(session, message)
    if reply is None:
        recorded = record_email_score(session, message=message, score=score, now=now)
        assert recorded is not None  # no answer yet, under the lock
        return Answer("recorded", score, now, changeable_until(recorded))
    until = changeable_until(reply)
    assert reply.score is not None
    if now >= until:
        return Answer("too_late", reply.score, reply.received_at, until)
    if reply.score == score:
        return Answer("unchanged", score, reply.received_at, until)
    _change(session, reply, score, now)
    return Answer("changed", score, reply.received_at, until)


def _change(session: Session, reply: Reply, score: int, now: datetime) -> None:
    """The reply takes the new score; the flags follow it. The reply keeps the time of the
    first answer (the window counts from it, and its place in the timeline stays)."""
    before = reply.score
    reply.score = score
    reply.text = f"{score} (email link, changed from {before})"
    wanted = set(
        flag_reasons(
            Reading(ReplyKind.SCORE, score),
            _previous_score(session, reply),
            f"{score} (email link)",
        )
    )
    kept: set[str] = set()
    for flag in session.scalars(select(Flag).where(Flag.reply_id == reply.id)):
        if flag.closed_at is None and flag.reason not in wanted:
            flag.closed_at, flag.closed_by = now, CLOSED_BY_CHANGE
        elif flag.closed_at is None or flag.closed_by != CLOSED_BY_CHANGE:
            kept.add(flag.reason)  # still open, or already seen and closed by the clinic
    assert reply.patient_id is not None  # an email answer always has its patient
    for reason in sorted(wanted - kept):
        session.add(
            Flag(patient_id=reply.patient_id, reply_id=reply.id, reason=reason, opened_at=now)
        )
    audit.record(
        session,
        actor="patient",
        action="checkin.changed",
        subject_type="reply",
        subject_id=reply.id,
        at=now,
        message_id=reply.checkin_message_id,
    )


def _previous_score(session: Session, reply: Reply) -> int | None:
    """The patient's last score before this reply (not a later one): what a rise is from."""
    return session.scalar(
        select(Reply.score)
        .where(
            Reply.patient_id == reply.patient_id,
            Reply.score.is_not(None),
            Reply.id != reply.id,
            or_(
                Reply.received_at < reply.received_at,
                and_(Reply.received_at == reply.received_at, Reply.id < reply.id),
            ),
        )
        .order_by(Reply.received_at.desc(), Reply.id.desc())
        .limit(1)
    )
