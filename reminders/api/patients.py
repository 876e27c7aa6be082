"""JSON API: patients, their timeline (messages, replies, flags) and the message list."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from reminders import audit, clock, erasure
from reminders.api.common import (
    Id,
    Limit,
    Offset,
    OptionalId,
    actor,
    api_router,
    problem,
    saved,
)
from reminders.api.enrollments import summary
from reminders.api.schemas import (
    ContactFix,
    ContactFixed,
    FlagOut,
    MessageOut,
    Page,
    PatientOut,
    PatientTimeline,
    ReplyOut,
)
from reminders.clinic import clinic_rules
from reminders.config import get_settings
from reminders.enrolling import care_changes
from reminders.models import Flag, Message, Patient
from reminders.reports.timeline import (
    find_messages,
    find_patients,
    opted_out_by_patient,
    opted_out_channels,
    patient_enrollments,
    patient_flags,
    patient_messages,
    patient_replies,
    plain_reason,
)
from reminders.request_context import AdminUser, CurrentUser, SessionDep
from reminders.vocabulary import MessageStatus

router = api_router("patients")
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9000, 12, 31)
NameSearch = Annotated[
    str, Query(max_length=80, pattern=r"^[^\x00-\x1f]*$", description="part of the name")
]


def message_out(message: Message, zone: ZoneInfo) -> MessageOut:
    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment is not None else None

    return MessageOut(
        id=message.id,
        enrollment_id=message.enrollment_id,
        patient_id=message.patient_id,
        step=message.step_key,
        channel=message.channel,
        status=message.status,
        due_at=message.due_at.astimezone(zone),
        sent_at=local(message.sent_at),
        delivered_at=local(message.delivered_at),
        reason=plain_reason(message),
        attempts=message.attempts,
    )


def flag_out(flag: Flag, zone: ZoneInfo) -> FlagOut:
    return FlagOut(
        id=flag.id,
        patient_id=flag.patient_id,
        reason=flag.reason,
        opened_at=flag.opened_at.astimezone(zone),
        closed_at=flag.closed_at.astimezone(zone) if flag.closed_at else None,
        closed_by=flag.closed_by,
    )


def patient_out(
    session: Session, patient: Patient, opted_out: list[str] | None = None
) -> PatientOut:
    """A patient as the API shows them; `opted_out` when the caller looked it up already."""
    return PatientOut(
        id=patient.id,
        first_name=patient.first_name,
        last_name=patient.last_name,
        phone=patient.phone,
        email=patient.email,
        language=patient.language,
        time_zone=patient.time_zone,
        channel=patient.channel,
        opted_out=(
            opted_out
            if opted_out is not None
            else opted_out_channels(session, patient_id=patient.id)
        ),
        created_at=patient.created_at.astimezone(ZoneInfo(patient.time_zone)),
    )


def timeline(session: Session, patient: Patient) -> PatientTimeline:
    zone = ZoneInfo(patient.time_zone)
    return PatientTimeline(
        **patient_out(session, patient).model_dump(),
        consent_at=patient.consent_at.astimezone(zone),
        consent_method=patient.consent_method,
        enrollments=[summary(e) for e in patient_enrollments(session, patient_id=patient.id)],
        messages=[message_out(m, zone) for m in patient_messages(session, patient_id=patient.id)],
        replies=[
            ReplyOut(
                id=r.id,
                channel=r.channel,
                text=r.text,
                kind=r.kind,
                score=r.score,
                received_at=r.received_at.astimezone(zone),
            )
            for r in patient_replies(session, patient_id=patient.id)
        ],
        flags=[flag_out(f, zone) for f in patient_flags(session, patient_id=patient.id)],
    )


def _patient(session: Session, patient_id: int) -> Patient:
    found = session.get(Patient, patient_id)
    if found is None:
        raise problem(404, f"There is no patient {patient_id}.")
    return found


@router.get("/patients")
def list_patients(
    user: CurrentUser,
    session: SessionDep,
    name: NameSearch = "",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PatientOut]:
    """Patients whose name contains `name` (any case), newest first."""
    rows, total = find_patients(session, name=name, limit=limit, offset=offset)
    stopped = opted_out_by_patient(session, rows)  # one query for the page, not two a patient
    items = [patient_out(session, p, stopped[p.id]) for p in rows]
    return saved(session, Page(items=items, total=total, limit=limit, offset=offset))


@router.get("/patients/{patient_id}")
def get_patient(patient_id: Id, user: CurrentUser, session: SessionDep) -> PatientTimeline:
    """A patient's timeline: enrollments, messages, replies and flags (the view is audited)."""
    found = timeline(session, _patient(session, patient_id))
    audit.record(
        session,
        actor=actor(user),
        action="patient.viewed",
        subject_type="patient",
        subject_id=patient_id,
    )
    return saved(session, found)


class PatientErased(BaseModel):
    id: int
    removed: dict[str, int]


@router.delete("/patients/{patient_id}")
def erase_patient(patient_id: Id, user: AdminUser, session: SessionDep) -> PatientErased:
    """Erase a patient on request (admins only): the patient, enrollments, messages, replies,
    flags and opt-outs (one still used by another patient is kept for them). The audit log
    keeps `patient.erased` with the id and the counts."""
    done = erasure.erase_patient(session, patient_id, actor=actor(user), now=clock.now(session))
    return saved(session, PatientErased(id=done.patient_id, removed=done.counts))


@router.patch("/patients/{patient_id}")
def fix_patient_contact(
    patient_id: Id, body: ContactFix, user: CurrentUser, session: SessionDep
) -> ContactFixed:
    """Fix a typo in the mobile number or email; what failed because of it is sent again."""
    if body.phone is None and body.email is None:
        raise problem(422, "Send the corrected phone or email.")
    patient = _patient(session, patient_id)
    try:
        resent = care_changes.fix_contact(
            session=session,
            patient_id=patient.id,
            phone=body.phone,
            email=body.email,
            actor=actor(user),
            now=clock.now(session),
            region=get_settings().phone_region,
        )
    except care_changes.CareChangeRefused as exc:
        raise problem(422, str(exc)) from None
    session.flush()
    return saved(session, ContactFixed(patient=patient_out(session, patient), resent=resent))


@router.post("/patients/{patient_id}/flags/{flag_id}/close")
def close_flag(patient_id: Id, flag_id: Id, user: CurrentUser, session: SessionDep) -> FlagOut:
    """Close a flag after looking at it, recording who and when (409 if closed already)."""
    patient = _patient(session, patient_id)
    flag = session.get(Flag, flag_id)
    if flag is None or flag.patient_id != patient.id:
        raise problem(404, f"Patient {patient_id} has no flag {flag_id}.")
    care_changes.close_flag(
        session=session, flag_id=flag.id, actor=actor(user), now=clock.now(session)
    )
    return saved(session, flag_out(flag, ZoneInfo(patient.time_zone)))


@router.get("/messages")
def list_messages(
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[MessageStatus | None, Query()] = None,
    patient_id: OptionalId = None,
    enrollment_id: OptionalId = None,
    due_from: Annotated[date | None, Query(description="first day, clinic time")] = None,
    due_to: Annotated[date | None, Query(description="last day (included)")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[MessageOut]:
    """Messages by due time; filter by status, patient, enrollment and days (clinic time)."""
    if due_from and due_to and due_from > due_to:
        raise problem(422, "due_from is after due_to.")
    if any(day and not FIRST_DAY <= day <= LAST_DAY for day in (due_from, due_to)):
        raise problem(422, f"due_from and due_to must be between {FIRST_DAY} and {LAST_DAY}.")
    clinic_zone = ZoneInfo(clinic_rules(session).time_zone)
    rows, total = find_messages(
        session,
        status=status,
        patient_id=patient_id,
        enrollment_id=enrollment_id,
        due_from=_midnight(due_from, clinic_zone) if due_from else None,
        due_before=_midnight(due_to + timedelta(days=1), clinic_zone) if due_to else None,
        limit=limit,
        offset=offset,
    )
    items = [message_out(m, ZoneInfo(m.patient.time_zone)) for m in rows]
    return saved(session, Page(items=items, total=total, limit=limit, offset=offset))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
