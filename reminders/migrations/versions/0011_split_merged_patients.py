"""split merged patients: one record per person where earlier enrollments disagree

Before contact points (0008), enrolling a second person on a shared phone or email took over
the first one's record: the name and contacts were overwritten, and the first person's later
messages went to the second. The names were stored nowhere else, but each message we sent
greets its patient ("Hi Frank," / "Bonjour Frank,"). So, for every patient with several
enrollments, an enrollment whose sent messages greet someone other than the record's current
first name is that other person's:

- it moves, with its messages, the replies to them and their flags, to a new patient record
  with the greeted first name, the same last name, language and time zone, and no phone or
  email (the overwritten ones are lost: staff add the right one on the patient's page);
- its messages not yet sent are cancelled ("held: record split, contact unknown"), so no
  more of that person's care goes to the other person;
- a `patient.split` audit event names both records (ids only).

An enrollment with no sent message, or whose messages greet no one we can read, stays put.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-22 10:00:00

"""

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GREETING = re.compile(r"\b(?:Hi|Hello|Bonjour|Allo|Allô)\s+([^,\n]{1,80}),")
HELD = "held: record split, contact unknown"
PENDING = ("scheduled", "retry_wait", "queued")

patient = sa.table(
    "patient",
    sa.column("id", sa.Integer()),
    sa.column("first_name", sa.String()),
    sa.column("last_name", sa.String()),
    sa.column("phone", sa.String()),
    sa.column("email", sa.String()),
    sa.column("language", sa.String()),
    sa.column("time_zone", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("consent_at", sa.DateTime(timezone=True)),
    sa.column("consent_method", sa.String()),
    sa.column("consent_recorded_by", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
enrollment = sa.table(
    "enrollment",
    sa.column("id", sa.Integer()),
    sa.column("patient_id", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
message = sa.table(
    "message",
    sa.column("id", sa.Integer()),
    sa.column("enrollment_id", sa.Integer()),
    sa.column("patient_id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("sent_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
reply = sa.table(
    "reply",
    sa.column("id", sa.Integer()),
    sa.column("patient_id", sa.Integer()),
    sa.column("checkin_message_id", sa.Integer()),
)
flag = sa.table("flag", sa.column("patient_id", sa.Integer()), sa.column("reply_id", sa.Integer()))
audit = sa.table(
    "audit_event",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.Integer()),
    sa.column("detail", sa.JSON()),
)


def plain(name: str) -> str:
    """A name as compared: any case, no accents, single spaces (SMS spell names in GSM-7)."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def greeted(bodies: Sequence[str | None]) -> str | None:
    """The first name the earliest greeting among `bodies` uses, if any."""
    for body in bodies:
        found = GREETING.search(body or "")
        if found:
            return found.group(1).strip()
    return None


def upgrade() -> None:
    connection = op.get_bind()
    shared = connection.execute(
        sa.select(enrollment.c.patient_id)
        .group_by(enrollment.c.patient_id)
        .having(sa.func.count() > 1)
    ).scalars()
    for patient_id in list(shared):
        _split(connection, patient_id)


def _split(connection: sa.Connection, patient_id: int) -> None:
    record = connection.execute(sa.select(patient).where(patient.c.id == patient_id)).one()
    others: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    enrollments = connection.execute(
        sa.select(enrollment.c.id)
        .where(enrollment.c.patient_id == patient_id)
        .order_by(enrollment.c.id)
    ).scalars()
    for enrollment_id in list(enrollments):
        bodies = connection.execute(
            sa.select(message.c.body)
            .where(message.c.enrollment_id == enrollment_id, message.c.sent_at.is_not(None))
            .order_by(message.c.sent_at, message.c.id)
        ).scalars()
        name = greeted(list(bodies))
        if name is None or plain(name) == plain(record.first_name):
            continue
        others.setdefault(plain(name), []).append(enrollment_id)
        names.setdefault(plain(name), name)
    now = datetime.now(UTC)
    for key, enrollment_ids in others.items():
        new_id = connection.execute(
            patient.insert()
            .values(
                first_name=names[key][:80],
                last_name=record.last_name,
                phone=None,
                email=None,
                language=record.language,
                time_zone=record.time_zone,
                channel=record.channel,
                consent_at=record.consent_at,
                consent_method=record.consent_method,
                consent_recorded_by=record.consent_recorded_by,
                created_at=record.created_at,
            )
            .returning(patient.c.id)
        ).scalar_one()
        _move(connection, enrollment_ids, new_id, now)
        connection.execute(
            audit.insert().values(
                at=now,
                actor="migration 0011",
                action="patient.split",
                subject_type="patient",
                subject_id=patient_id,
                detail={"new_patient_id": new_id, "enrollments": enrollment_ids},
            )
        )


def _move(connection: sa.Connection, enrollment_ids: list[int], new_id: int, now: datetime) -> None:
    moved = sa.select(message.c.id).where(message.c.enrollment_id.in_(enrollment_ids))
    replies = sa.select(reply.c.id).where(reply.c.checkin_message_id.in_(moved))
    connection.execute(flag.update().where(flag.c.reply_id.in_(replies)).values(patient_id=new_id))
    connection.execute(reply.update().where(reply.c.id.in_(replies)).values(patient_id=new_id))
    connection.execute(
        message.update()
        .where(message.c.enrollment_id.in_(enrollment_ids), message.c.status.in_(PENDING))
        .values(status="cancelled", reason=HELD, updated_at=now)
    )
    connection.execute(
        message.update()
        .where(message.c.enrollment_id.in_(enrollment_ids))
        .values(patient_id=new_id)
    )
    connection.execute(
        enrollment.update().where(enrollment.c.id.in_(enrollment_ids)).values(patient_id=new_id)
    )


def downgrade() -> None:
    """Split records stay split: merging two people back would repeat the harm."""
