"""Every change of a message's state is one conditional UPDATE (DESIGN.md, "Message states")."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from reminders import clock
from reminders.models import Message


def move(session: Session, message_id: int, *, frm: tuple[str, ...], **values: object) -> bool:
    """Change one message if it is in one of the `frm` states; False when it was not."""
    if "updated_at" not in values:  # (setdefault would read the clock even when given)
        values["updated_at"] = clock.now(session)
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status.in_(frm))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
