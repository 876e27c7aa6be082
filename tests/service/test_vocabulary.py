"""The vocabulary of states, channels and reply kinds, and the moves between message states."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import literal, select
from sqlalchemy.exc import StatementError

from reminders.db import make_engine, migrate
from reminders.models import Message
from reminders.sending import transitions
from reminders.sending.transitions import ALLOWED, NotAllowed
from reminders.vocabulary import FINAL, UNSENT, MessageStatus

S = MessageStatus


def test_every_state_has_its_row_in_the_table() -> None:
    assert set(ALLOWED) == set(MessageStatus)
    # nothing moves out of delivered or undelivered: the provider's last word stands
    assert ALLOWED[S.DELIVERED] == ALLOWED[S.UNDELIVERED] == frozenset()


def test_a_message_on_its_way_can_always_be_stopped() -> None:
    for state in UNSENT:
        assert {S.CANCELLED, S.SKIPPED, S.FAILED} <= ALLOWED[state], state


def test_nothing_sent_goes_back_to_wait() -> None:
    # "never twice": once the provider has it, no move leads back to a state that sends
    for state in (S.SENT, S.DELIVERED, S.UNDELIVERED):
        assert not ALLOWED[state] & {S.SCHEDULED, S.RETRY_WAIT, S.QUEUED, S.SENDING}, state


@pytest.mark.parametrize(
    ("frm", "to"),
    [((S.SENT,), S.SCHEDULED), ((S.DELIVERED,), S.FAILED), ((S.QUEUED, S.SENT), S.SENDING)],
)
def test_a_move_outside_the_table_is_refused_before_the_database(
    frm: tuple[MessageStatus, ...], to: MessageStatus
) -> None:
    with pytest.raises(NotAllowed):
        transitions.check(frm, to)


def test_final_states_are_final_for_sending() -> None:
    assert not set(FINAL) & set(UNSENT)


def test_a_column_refuses_a_word_outside_its_vocabulary_and_reads_back_the_enum(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'words.db'}"
    migrate(url)
    engine = make_engine(url)
    status_type = Message.__table__.c.status.type
    with engine.connect() as connection:
        # a misspelt state never reaches the database
        with pytest.raises(StatementError, match="is not a valid MessageStatus"):
            connection.execute(select(Message.id).where(Message.status == "sendng"))
        read = connection.execute(select(literal("sent", status_type))).scalar()
    engine.dispose()
    assert read is S.SENT
