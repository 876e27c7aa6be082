"""What staff look up: patients by name, an enrollment's messages, a patient's timeline.

Read-only queries, keyword arguments only; each returns rows and, for lists, the total.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from reminders.models import Enrollment, Flag, Message, OptOut, Patient, Reply
from reminders.vocabulary import Channel, MessageStatus

Row = TypeVar("Row")

PLAIN_REASONS = {
    MessageStatus.FAILED: "could not be sent",
    MessageStatus.UNDELIVERED: "the phone company could not deliver it",
    MessageStatus.CANCELLED: "cancelled",
    MessageStatus.SKIPPED: "not sent",
}


def plain_reason(message: Message) -> str | None:
    """Why a message did not (or not yet) go out, in words a therapist reads at a glance."""
    if message.reason:
        return message.reason
    return PLAIN_REASONS.get(message.status)


def _page(
    session: Session, query: Select[Row], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(session.scalars(query.limit(limit).offset(offset)))
    return rows, int(total or 0)


def find_patients(
    session: Session, *, name: str = "", limit: int, offset: int
) -> tuple[list[Patient], int]:
    """Patients whose "first last" name contains `name` (any case), newest first."""
    query = select(Patient).order_by(Patient.id.desc())
    if name.strip():
        full = func.lower(Patient.first_name + " " + Patient.last_name)
        query = query.where(full.contains(name.strip().lower(), autoescape=True))
    return _page(session, query, limit=limit, offset=offset)


def find_enrollments(
    session: Session,
    *,
    status: str | None = None,
    patient_id: int | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Enrollment], int]:
    """Enrollments, newest first; every therapist sees all (a clinic shares its patients)."""
    query = (
        select(Enrollment)
        .options(selectinload(Enrollment.patient), selectinload(Enrollment.plan))
        .order_by(Enrollment.created_at.desc(), Enrollment.id.desc())
    )
    if status:
        query = query.where(Enrollment.status == status)
    if patient_id:
        query = query.where(Enrollment.patient_id == patient_id)
    return _page(session, query, limit=limit, offset=offset)


def find_messages(
    session: Session,
    *,
    status: str | None = None,
    patient_id: int | None = None,
    enrollment_id: int | None = None,
    due_from: datetime | None = None,
    due_before: datetime | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Message], int]:
    """Messages by due time (earliest first), with their patients loaded."""
    query = (
        select(Message).options(selectinload(Message.patient)).order_by(Message.due_at, Message.id)
    )
    if status:
        query = query.where(Message.status == status)
    if patient_id:
        query = query.where(Message.patient_id == patient_id)
    if enrollment_id:
        query = query.where(Message.enrollment_id == enrollment_id)
    if due_from is not None:
        query = query.where(Message.due_at >= due_from)
    if due_before is not None:
        query = query.where(Message.due_at < due_before)
    return _page(session, query, limit=limit, offset=offset)


def enrollment_messages(session: Session, *, enrollment_id: int) -> list[Message]:
    query = (
        select(Message)
        .where(Message.enrollment_id == enrollment_id)
        .order_by(Message.due_at, Message.channel)
    )
    return list(session.scalars(query))


def patient_messages(session: Session, *, patient_id: int) -> list[Message]:
    query = (
        select(Message)
        .where(Message.patient_id == patient_id)
        .order_by(Message.due_at, Message.channel)
    )
    return list(session.scalars(query))


def patient_enrollments(session: Session, *, patient_id: int) -> list[Enrollment]:
    query = (
        select(Enrollment)
        .options(selectinload(Enrollment.plan))
        .where(Enrollment.patient_id == patient_id)
        .order_by(Enrollment.created_at.desc(), Enrollment.id.desc())
    )
    return list(session.scalars(query))


def patient_replies(session: Session, *, patient_id: int) -> list[Reply]:
    query = (
        select(Reply).where(Reply.patient_id == patient_id).order_by(Reply.received_at, Reply.id)
    )
    return list(session.scalars(query))


def patient_flags(session: Session, *, patient_id: int) -> list[Flag]:
    query = select(Flag).where(Flag.patient_id == patient_id).order_by(Flag.opened_at, Flag.id)
    return list(session.scalars(query))


def opted_out_channels(session: Session, *, patient_id: int) -> list[str]:
    """The channels the patient gets nothing on: their number or email opted out (by them,
    or by anyone who shares it)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        return []
    return opted_out_by_patient(session, [patient])[patient.id]


def opted_out_by_patient(session: Session, patients: list[Patient]) -> dict[int, list[str]]:
    """`opted_out_channels` for many patients in one query (a page of the patients list)."""
    wanted = {
        (channel, address)
        for patient in patients
        for channel in Channel
        if (address := patient.address(channel)) is not None
    }
    stopped: set[tuple[str, str]] = set()
    if wanted:
        rows = session.execute(
            select(OptOut.channel, OptOut.address).where(
                OptOut.opted_in_at.is_(None),
                OptOut.address.in_({address for _, address in wanted}),
            )
        )
        stopped = {(channel, address) for channel, address in rows}
    return {
        patient.id: sorted(
            channel for channel in Channel if (channel, patient.address(channel)) in stopped
        )
        for patient in patients
    }
