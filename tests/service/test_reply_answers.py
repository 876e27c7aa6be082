"""Every reply is answered, once: acknowledgements, an ambiguous STOP, lasting soreness, through
the signed webhook and the web app in this process, on SQLite and PostgreSQL. (An emergency,
whose clinic alert the real worker sends: tests/system/test_emergency_answers.py.)"""

from __future__ import annotations

from datetime import timedelta

from in_process import InProcessWeb
from sqlalchemy import select
from stack import Deployment
from test_two_way import SESSION_END, enrolled, flags, replies
from twilio_webhooks import answered, text_in

from reminders.models import Message, Patient
from reminders.replies.inbound import answer_text


def pending(stack: Deployment) -> int:
    return sum(m.status == "scheduled" for m in stack.messages())


def test_it_acknowledges_an_ordinary_reply_once_in_a_few_hours(stack: InProcessWeb) -> None:
    # Given an enrolled patient, on a Tuesday at 20:05 clinic time (the clinic is closed)
    enrolled(stack)
    stack.set_clock(SESSION_END + timedelta(hours=6, minutes=5))

    # When they ask a question, then thank us for the answer
    first = answered(text_in(stack, "Can I have a hot shower tonight?"))
    second = answered(text_in(stack, "ok thanks!"))

    # Then the question gets one acknowledgement with the clinic's hours, 911 and 811, and the
    # thanks gets nothing, so two automatic senders can never loop
    assert "911" in first and "Mon-Fri 8:00-18:00" in first and "811" in first
    assert second == ""
    assert [r.kind for r in replies(stack)] == ["other", "other"]

    # And a reply after the window is acknowledged again
    stack.set_clock(SESSION_END + timedelta(hours=11))
    assert "911" in answered(text_in(stack, "One more question about parking"))


def test_it_flags_lasting_soreness_and_says_so(stack: InProcessWeb) -> None:
    # Given an enrolled patient four days after the session
    enrolled(stack, language="fr")
    stack.set_clock(SESSION_END + timedelta(days=4))

    # When they say they are still sore
    answer = answered(text_in(stack, "toujours mal au dos, ça passe pas"))

    # Then the reply is flagged for the therapist and the acknowledgement says so, in French
    assert flags(stack) == ["says it is worse or not going away"]
    with stack.session() as session:
        patient = session.scalars(select(Patient)).one()
        expected = answer_text(
            session, "reply-ack", patient, now=SESSION_END + timedelta(days=4), flagged=True
        )
        unflagged = answer_text(
            session, "reply-ack", patient, now=SESSION_END + timedelta(days=4), flagged=False
        )
    assert answer == expected and answer != unflagged
    assert "911" in answer


def test_it_asks_to_confirm_a_stop_among_other_words(stack: InProcessWeb) -> None:
    # Given an enrolled patient with messages to come
    enrolled(stack)
    before = pending(stack)
    assert before > 0

    # When a reply has STOP in it but says more
    answer = answered(text_in(stack, "STOP who is this"))

    # Then nothing is cancelled, and the answer says how to stop
    assert pending(stack) == before
    assert "STOP" in answer and "911" in answer
    assert replies(stack)[-1].kind == "unclear_stop"

    # And STOP alone then opts out at once
    answered(text_in(stack, "STOP"))
    assert pending(stack) == 0


def test_it_never_opts_out_on_dont_stop_or_a_time_wish(stack: InProcessWeb) -> None:
    enrolled(stack)
    before = pending(stack)
    for text in (
        "don't stop sending these, they're useful",
        "don't send me anything before 9am please",
    ):
        answered(text_in(stack, text))
    assert pending(stack) == before
    with stack.session() as session:
        kinds = session.scalars(select(Message.status).distinct()).all()
    assert "cancelled" not in kinds
