"""Every change of a message's state is one conditional UPDATE (DESIGN.md, "Message states"),
and only along the moves in `ALLOWED`: a move the table does not list is a programming error,
refused before it reaches the database."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, CursorResult, Executable, Update, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from reminders import clock
from reminders.models import Message
from reminders.vocabulary import MessageStatus

S = MessageStatus
T = TypeVar("T")
_HELD_BACK = frozenset({S.CANCELLED, S.SKIPPED, S.FAILED})  # decided before any send
# A send that went out is recorded even when the reaper took the message back meanwhile (or
# it has been queued again): it did go out, and recording it stops the second copy.
_WENT_OUT_LATE = frozenset({S.SENT})

# From a state (left) to the states it may move to, each with why.
ALLOWED: dict[MessageStatus, frozenset[MessageStatus]] = {
    # dispatched; or cancelled, opted out, too late
    S.SCHEDULED: frozenset({S.QUEUED, *_HELD_BACK, *_WENT_OUT_LATE}),
    S.RETRY_WAIT: frozenset({S.QUEUED, *_HELD_BACK, *_WENT_OUT_LATE}),
    # A worker claims it to send; a queued id lost with Redis goes back to wait.
    S.QUEUED: frozenset({S.SENDING, S.SCHEDULED, *_HELD_BACK, *_WENT_OUT_LATE}),
    S.SENDING: frozenset(
        {
            S.SENT,
            S.RETRY_WAIT,  # failed for now
            S.SCHEDULED,  # deferred (quiet hours, a pause), or the reaper found it never went
            S.DELIVERED,  # the provider's status callback arrived before we recorded `sent`
            S.UNDELIVERED,
            *_HELD_BACK,
        }
    ),
    S.SENT: frozenset({S.DELIVERED, S.UNDELIVERED, S.FAILED}),  # the provider's callback
    S.DELIVERED: frozenset(),
    S.UNDELIVERED: frozenset(),
    S.FAILED: frozenset({S.SCHEDULED}),  # a new number or address: tried again, if not too late
    S.CANCELLED: frozenset({S.SCHEDULED}),  # START: the patient opted back in
    S.SKIPPED: frozenset({S.SCHEDULED}),
}


def execute(session: Session, statement: Executable) -> CursorResult[Any]:
    """Run an UPDATE on the session's connection, in its transaction, without the ORM's layer
    (bench/deliver_profile.py: ~15 % of a delivery's CPU went there). What the session holds
    unwritten is flushed first, as the ORM would have, so the statement sees it."""
    session.flush()
    return session.connection().execute(statement)


class NotAllowed(Exception):
    """A move between message states that the design does not allow (a bug, not bad input)."""


def check(frm: Iterable[MessageStatus], to: MessageStatus) -> None:
    wrong = [str(state) for state in frm if to not in ALLOWED[state]]
    if wrong:
        raise NotAllowed(f"{', '.join(wrong)} -> {to}")


def move(
    session: Session, message_id: int, *, frm: tuple[MessageStatus, ...], **values: object
) -> bool:
    """Change one message if it is in one of the `frm` states; False when it was not."""
    return move_all(session, Message.id == message_id, frm=frm, **values) == 1


def move_all(
    session: Session, *where: ColumnElement[bool], frm: tuple[MessageStatus, ...], **values: object
) -> int:
    """Change every message matching `where` that is in one of the `frm` states; how many."""
    result = execute(session, _update(session, where, frm, values))
    return int(result.rowcount)


def move_reading(
    session: Session,
    message_id: int,
    read: InstrumentedAttribute[T],
    *,
    frm: tuple[MessageStatus, ...],
    **values: object,
) -> T | None:
    """`move`, in the same statement reading `read` from the row as changed; None when the
    message was not in one of the `frm` states."""
    statement = _update(session, (Message.id == message_id,), frm, values).returning(read)
    return execute(session, statement).scalar_one_or_none()


def _update(
    session: Session,
    where: tuple[ColumnElement[bool], ...],
    frm: tuple[MessageStatus, ...],
    values: dict[str, object],
) -> Update:
    if "status" in values:
        check(frm, MessageStatus(str(values["status"])))
    if "updated_at" not in values:  # (setdefault would read the clock even when given)
        values["updated_at"] = clock.now(session)
    return (
        update(Message)
        .where(*where, Message.status.in_(frm))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
