"""A patient's timeline as the therapist reads it: what was actually sent (the text as the
patient received it, or the email's subject and text), by which channel and what became of
it, and the patient's replies with the flags they raised, in the order they happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders.channels import rules_for
from reminders.models import Flag, Message, Patient, Reply
from reminders.reports.timeline import plain_reason
from reminders.vocabulary import Channel
from reminders.web.templating import render


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    when: str  # in the patient's time zone
    channel: str  # Text | Email
    kind: str  # message | reply
    subject: str  # an email's subject
    text: str  # what was sent or received; empty for a message not yet written
    step: str  # "Next morning": which message of the plan
    status: str  # plain words
    flags: tuple[str, ...] = ()


def step_name(step_key: str) -> str:
    """ "next-morning" -> "Next morning", "day-3" -> "Day 3"."""
    words = step_key.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _status(message: Message) -> str:
    reason = plain_reason(message)
    if reason and reason != message.status:
        return f"{message.status}: {reason}"
    return message.status


def _flag_words(flag: Flag) -> str:
    if flag.closed_at is None:
        return f"flagged: {flag.reason}"
    return f"flag closed ({flag.reason}) by {flag.closed_by}"


def timeline_entries(session: Session, patient: Patient) -> list[TimelineEntry]:
    zone = ZoneInfo(patient.time_zone)

    def when(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%a %b %d, %H:%M")

    entries = [
        TimelineEntry(
            at=m.sent_at or m.due_at,
            when=when(m.sent_at or m.due_at),
            channel=rules_for(m.channel).label,
            kind="message",
            subject=(m.subject or "") if m.channel == Channel.EMAIL else "",
            text=m.body or "",
            step=step_name(m.step_key),
            status=_status(m),
        )
        for m in session.scalars(
            select(Message)
            .where(Message.patient_id == patient.id)
            .order_by(Message.due_at, Message.channel)
        )
    ]
    flags: dict[int, list[str]] = {}
    for flag in session.scalars(
        select(Flag).where(Flag.patient_id == patient.id).order_by(Flag.id)
    ):
        flags.setdefault(flag.reply_id, []).append(_flag_words(flag))
    for reply in session.scalars(
        select(Reply).where(Reply.patient_id == patient.id).order_by(Reply.id)
    ):
        score = f", {reply.score} out of 10" if reply.score is not None else ""
        entries.append(
            TimelineEntry(
                at=reply.received_at,
                when=when(reply.received_at),
                channel=rules_for(reply.channel).label,
                kind="reply",
                subject="",
                text=reply.text,
                step="Reply",
                status=f"reply: {reply.kind.replace('_', ' ')}{score}",
                flags=tuple(flags.get(reply.id, ())),
            )
        )
    entries.sort(key=lambda e: e.at)
    return entries


def timeline_html(session: Session, patient: Patient) -> str:
    return render(
        "timeline.html", entries=timeline_entries(session, patient), zone=patient.time_zone
    )
