"""What happens when a patient answers: keywords, check-in scores, flags, emergencies.

Every reply is kept with its raw text. The answer to it (at most 160 characters) is
returned to the webhook, which sends it at once in its response: no queue, no tick,
no quiet hours. Emergencies also alert the clinic through an immediate task.

A text belongs to the patient last messaged on its number (a family may share one, and a
patient's old number still reaches them); opt-outs belong to the number itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from reminders import audit
from reminders.clinic import clinic_rules
from reminders.content.rendering import VARIABLES, TemplateProblem, render
from reminders.content.template_checks import answer_limit
from reminders.content.template_history import published_or_none
from reminders.enrolling.contacts import contact_point
from reminders.models import (
    Flag,
    Message,
    OptOut,
    Patient,
    Reply,
)
from reminders.replies import Reading, flag_reasons, keyword_reply_key, read_reply
from reminders.sending.transitions import move_all
from reminders.vocabulary import (
    PENDING,
    WENT_OUT,
    Channel,
    MessageStatus,
    ReplyKind,
)

# Twilio's own keyword handling (Advanced Opt-Out) reports what it understood here.
TWILIO_OPT_OUT_TYPES = {
    "STOP": ReplyKind.OPT_OUT,
    "START": ReplyKind.OPT_IN,
    "HELP": ReplyKind.HELP,
}
ACK_KINDS = (ReplyKind.OTHER, ReplyKind.WORSE)  # the kinds answered by reply-ack
# One acknowledgement per patient in this window: a patient who answers "thanks" to it gets no
# second one, so two automatic senders can never loop.
ACK_WINDOW = timedelta(hours=4)


@dataclass
class Outcome:
    reply_id: int | None
    answer: str | None  # text to send back now, or None
    alert: bool = False  # the clinic must be alerted at once


def receive_sms(
    session: Session,
    *,
    from_number: str,
    body: str,
    provider_id: str | None,
    now: datetime,
    opt_out_type: str = "",
) -> Outcome:
    """Record and act on one inbound text. A repeated webhook (same MessageSid) does nothing."""
    if provider_id and session.scalar(select(Reply.id).where(Reply.provider_id == provider_id)):
        return Outcome(None, None)
    patient = sender(session, from_number)
    reading = read_reply(body)
    kind = TWILIO_OPT_OUT_TYPES.get(opt_out_type.upper(), reading.kind)
    checkin = _last_checkin(session, patient) if patient else None
    already_out = patient is not None and _opted_out(session, from_number, Channel.SMS)
    reply = Reply(
        patient_id=patient.id if patient else None,
        checkin_message_id=checkin,
        channel=Channel.SMS,
        provider_id=provider_id,
        from_address=from_number,
        received_at=now,
        text=body,
        kind=kind,
        score=reading.score if kind == ReplyKind.SCORE else None,
    )
    session.add(reply)
    session.flush()
    if patient is not None:
        _act(session, patient, reply, now, address=from_number)
    key = keyword_reply_key(Reading(kind, reply.score))
    if opt_out_type.upper() in TWILIO_OPT_OUT_TYPES and kind != ReplyKind.EMERGENCY:
        key = None  # Twilio has already answered its own keyword
    if patient is None and kind not in (ReplyKind.HELP, ReplyKind.EMERGENCY):
        key = None  # a number we do not know gets no aftercare answers
    if already_out and kind not in (ReplyKind.OPT_IN, ReplyKind.EMERGENCY, ReplyKind.HELP):
        key = None  # confirmed once; after that, nothing more on this channel but HELP's answer
    if key == "reply-ack" and patient is not None and _acknowledged_lately(session, patient, now):
        key = None
    flagged = patient is not None and bool(
        session.scalar(select(Flag.id).where(Flag.reply_id == reply.id).limit(1))
    )
    reply.answer = answer_text(session, key, patient, now=now, flagged=flagged) if key else None
    return Outcome(reply.id, reply.answer, alert=kind == ReplyKind.EMERGENCY)


def sender(session: Session, number: str) -> Patient | None:
    """Whose text this is: the patient of the newest message sent to that number (sent_at,
    then id), else the newest patient whose mobile it is now."""
    last_messaged = session.scalar(
        select(Message.patient_id)
        .where(
            Message.channel == Channel.SMS,
            Message.to_address == number,
            Message.sent_at.is_not(None),
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    )
    if last_messaged is not None:
        return session.get(Patient, last_messaged)
    return session.scalar(
        select(Patient).where(Patient.phone == number).order_by(Patient.id.desc()).limit(1)
    )


def _acknowledged_lately(session: Session, patient: Patient, now: datetime) -> bool:
    """Whether an acknowledgement went to this patient within ACK_WINDOW."""
    return bool(
        session.scalar(
            select(Reply.id)
            .where(
                Reply.patient_id == patient.id,
                Reply.kind.in_(ACK_KINDS),
                Reply.answer.is_not(None),
                Reply.received_at > now - ACK_WINDOW,
            )
            .limit(1)
        )
    )


def record_email_score(
    session: Session, *, message: Message, score: int, now: datetime
) -> Reply | None:
    """A click on a check-in email's 0-10 link; None if that check-in was answered already."""
    answered = session.scalar(
        select(Reply.id).where(
            Reply.checkin_message_id == message.id, Reply.channel == Channel.EMAIL
        )
    )
    if answered is not None:
        return None
    reply = Reply(
        patient_id=message.patient_id,
        checkin_message_id=message.id,
        channel=Channel.EMAIL,
        received_at=now,
        text=f"{score} (email link)",
        kind=ReplyKind.SCORE,
        score=score,
    )
    session.add(reply)
    session.flush()
    _act(session, message.patient, reply, now, address=None)
    return reply


def _act(
    session: Session, patient: Patient, reply: Reply, now: datetime, *, address: str | None
) -> None:
    """Opt-out or opt-in of the number the reply came from, and the flags it raises for the
    therapist."""
    if address is not None and reply.kind == ReplyKind.OPT_OUT:
        opt_out(session, patient, channel=reply.channel, address=address, source="keyword", now=now)
    elif address is not None and reply.kind == ReplyKind.OPT_IN:
        opt_in(session, patient, channel=reply.channel, address=address, now=now)
    previous = session.scalar(
        select(Reply.score)
        .where(Reply.patient_id == patient.id, Reply.score.is_not(None), Reply.id != reply.id)
        .order_by(Reply.received_at.desc(), Reply.id.desc())
        .limit(1)
    )
    for reason in flag_reasons(Reading(reply.kind, reply.score), previous, reply.text):
        session.add(Flag(patient_id=patient.id, reply_id=reply.id, reason=reason, opened_at=now))


def _opted_out(session: Session, address: str, channel: str) -> bool:
    return bool(session.scalar(select(OptOut.active(address, channel))))


def _reached_at(address: str, channel: str) -> ColumnElement[bool]:
    """Messages on `channel` whose patient is reached at `address` now: everyone sharing it."""
    return Message.patient_id.in_(select(Patient.id).where(Patient.reached_at(channel, address)))


def opt_out(
    session: Session,
    patient: Patient,
    *,
    channel: str,
    address: str,
    source: str,
    now: datetime,
) -> None:
    """Honoured at once, for the contact point: every pending message on that channel to
    anyone reached at `address` (a number, an email) is cancelled. `patient` is who asked.
    Idempotent."""
    address = contact_point(channel, address)
    move_all(
        session,
        _reached_at(address, channel),
        Message.channel == channel,
        frm=PENDING,
        status=MessageStatus.CANCELLED,
        reason="opted out",
        updated_at=now,
    )
    if _opted_out(session, address, channel):
        return
    session.add(
        OptOut(
            patient_id=patient.id,
            channel=channel,
            address=address,
            source=source,
            opted_out_at=now,
        )
    )
    audit.record(
        session,
        actor="patient",
        action="opt_out",
        subject_type="patient",
        subject_id=patient.id,
        at=now,
        channel=channel,
        source=source,
    )


def opt_in(
    session: Session, patient: Patient, *, channel: str, address: str, now: datetime
) -> None:
    """The contact point is allowed again, for everyone on it: future messages held back by
    the opt-out are scheduled again, those it cancelled and those planned while it stood (a
    returning patient's new enrollment). Past ones stay as they are."""
    address = contact_point(channel, address)
    session.execute(
        update(OptOut)
        .where(OptOut.address == address, OptOut.channel == channel, OptOut.opted_in_at.is_(None))
        .values(opted_in_at=now)
        .execution_options(synchronize_session=False)
    )
    move_all(
        session,
        _reached_at(address, channel),
        Message.channel == channel,
        Message.reason == "opted out",
        Message.due_at > now,
        frm=(MessageStatus.CANCELLED, MessageStatus.SKIPPED),
        status=MessageStatus.SCHEDULED,
        reason=None,
        updated_at=now,
    )
    audit.record(
        session,
        actor="patient",
        action="opt_in",
        subject_type="patient",
        subject_id=patient.id,
        at=now,
        channel=channel,
    )


def _last_checkin(session: Session, patient: Patient) -> int | None:
    return session.scalar(
        select(Message.id)
        .where(
            Message.patient_id == patient.id,
            Message.checkin.is_(True),
            Message.status.in_(WENT_OUT),
        )
        .order_by(Message.sent_at.desc())
        .limit(1)
    )


def _published_sms(session: Session, key: str, locale: str) -> str | None:
    version = published_or_none(session, key, locale)
    return version.sms if version else None


def answer_text(
    session: Session,
    key: str,
    patient: Patient | None,
    *,
    now: datetime | None = None,
    flagged: bool = False,
) -> str | None:
    """The published answer in the patient's language (English for strangers)."""
    locale = patient.language if patient else "en"
    source = _published_sms(session, key, locale) or _published_sms(session, key, "en")
    if not source:
        return None
    rules = clinic_rules(session)
    variables: dict[str, object] = dict.fromkeys(VARIABLES, "")
    locale_name = locale if locale in ("en", "fr") else "en"
    variables.update(
        first_name=patient.first_name if patient else "",
        clinic_name=rules.name,
        clinic_phone=rules.phone,
        checkin_urls=[],
        clinic_hours=rules.hours.describe(locale_name),
        clinic_closed=now is not None
        and not rules.hours.is_open(now.astimezone(ZoneInfo(rules.time_zone))),
        flagged=flagged,
    )
    try:
        text = render(source, variables)
    except TemplateProblem:
        return None
    return text[: answer_limit(key) or len(text)]
