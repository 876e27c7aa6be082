"""Erasing a patient on request, and the retention pass that blanks old texts.

Erasure removes the patient and everything that is theirs: enrollments, messages (with the
numbers and addresses they went to) and their delivery attempts, replies, flags, clinic alerts
about those replies, and opt-outs. An opt-out belongs to a number or an address and is never
forgotten because of someone else: when another patient still uses it, and no one else's
opt-out stands for it, it is carried over to them before the row goes. Audit events
already written stay (they hold ids and plain words only); one more, `patient.erased`, keeps
the id and the counts.

Retention (RETENTION_DAYS) blanks what patients wrote and what we sent them once it is older
than N days: reply texts, the numbers they came from and our answers, rendered message bodies and subjects, and the
number or address each message went to. The rows and
their statuses stay, so counts and reply rates still add up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from reminders.audit import record
from reminders.errors import NotFound
from reminders.models import (
    ClinicAlert,
    DeliveryAttempt,
    Enrollment,
    Flag,
    Message,
    OptOut,
    Patient,
    Reply,
)


class PatientNotFound(NotFound):
    """No patient with that id (never existed, or erased already)."""


@dataclass
class Erased:
    patient_id: int
    counts: dict[str, int] = field(default_factory=dict)


def erase_patient(session: Session, patient_id: int, *, actor: str, now: datetime) -> Erased:
    """Remove the patient and everything that is theirs; raises PatientNotFound."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise PatientNotFound(f"There is no patient {patient_id}.")
    counts: dict[str, int] = {}

    carried, removed = _settle_opt_outs(session, patient)
    counts["opt_outs_carried_over"], counts["opt_outs_removed"] = carried, removed

    messages = select(Message.id).where(Message.patient_id == patient_id)
    replies = select(Reply.id).where(
        or_(Reply.patient_id == patient_id, Reply.checkin_message_id.in_(messages))
    )
    counts["clinic_alerts"] = _delete(session, ClinicAlert, ClinicAlert.reply_id.in_(replies))
    counts["flags"] = _delete(
        session, Flag, or_(Flag.patient_id == patient_id, Flag.reply_id.in_(replies))
    )
    counts["replies"] = _delete(session, Reply, Reply.id.in_(replies))
    counts["delivery_attempts"] = _delete(
        session, DeliveryAttempt, DeliveryAttempt.message_id.in_(messages)
    )
    counts["messages"] = _delete(session, Message, Message.patient_id == patient_id)
    counts["enrollments"] = _delete(session, Enrollment, Enrollment.patient_id == patient_id)
    session.expunge(patient)
    _delete(session, Patient, Patient.id == patient_id)
    record(
        session,
        actor=actor,
        action="patient.erased",
        subject_type="patient",
        subject_id=patient_id,
        at=now,
        **counts,
    )
    session.flush()
    return Erased(patient_id, counts)


def _settle_opt_outs(session: Session, patient: Patient) -> tuple[int, int]:
    """An opt-out belongs to a number or an address: each active one the patient asked for is
    handed to another patient still reached there (unless someone else's stands for it
    already), then the patient's rows are deleted: (carried, removed)."""
    carried = 0
    rows = session.scalars(select(OptOut).where(OptOut.patient_id == patient.id)).all()
    for row in rows:
        if row.opted_in_at is not None:
            continue
        still_out = select(OptOut.id).where(
            OptOut.address == row.address,
            OptOut.channel == row.channel,
            OptOut.opted_in_at.is_(None),
            OptOut.patient_id != patient.id,
        )
        if session.scalar(still_out.limit(1)) is not None:
            continue
        others = _sharing(session, patient, row.channel, row.address)
        if not others:
            continue  # nobody of ours is reached there any more
        session.add(
            OptOut(
                patient_id=others[0],
                channel=row.channel,
                address=row.address,
                source=row.source,
                opted_out_at=row.opted_out_at,
            )
        )
        session.flush()
        carried += 1
    removed = _delete(session, OptOut, OptOut.patient_id == patient.id)
    return carried, removed


def _sharing(session: Session, patient: Patient, channel: str, address: str) -> list[int]:
    """Other patients reached at this number (sms) or address (email) now, oldest first."""
    query = (
        select(Patient.id)
        .where(Patient.reached_at(channel, address), Patient.id != patient.id)
        .order_by(Patient.id)
    )
    return list(session.scalars(query))


def _delete(session: Session, model: type, where: object) -> int:
    done = session.execute(delete(model).where(where).execution_options(synchronize_session=False))  # type: ignore[arg-type]
    return int(getattr(done, "rowcount", 0) or 0)


def removed_note(days: int) -> str:
    return f"(removed after {days} days)"


def purge_old_texts(session: Session, *, days: int, now: datetime, actor: str) -> dict[str, int]:
    """Blank reply texts, our answers and rendered message bodies older than `days`; rows and
    statuses stay. Returns what was blanked; records `retention.purged` when anything was."""
    if days < 1:
        raise ValueError("retention days must be 1 or more")
    cutoff, note = now - timedelta(days=days), removed_note(days)
    purged = "(removed after % days)"
    replies = session.execute(
        update(Reply)
        .where(Reply.received_at < cutoff, Reply.text.not_like(purged))
        .values(text=note, answer=None, from_address=None)
        .execution_options(synchronize_session=False)
    )
    messages = session.execute(
        update(Message)
        .where(
            func.coalesce(Message.sent_at, Message.updated_at) < cutoff,
            or_(
                Message.subject.is_not(None),
                and_(Message.body.is_not(None), Message.body.not_like(purged)),
                Message.to_address.is_not(None),
            ),
        )
        .values(
            body=case((Message.body.like(purged), Message.body), else_=note),
            subject=None,
            to_address=None,
        )
        .execution_options(synchronize_session=False)
    )
    counts = {
        "replies": int(getattr(replies, "rowcount", 0) or 0),
        "messages": int(getattr(messages, "rowcount", 0) or 0),
    }
    if any(counts.values()):
        record(
            session,
            actor=actor,
            action="retention.purged",
            subject_type="retention",
            subject_id=None,
            at=now,
            days=days,
            **counts,
        )
    return counts
