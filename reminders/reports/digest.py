"""The daily digest: each therapist gets one email with their patients' new answers and flags.

"New" means since that therapist's previous digest (a `digest_run` row), or the
last day for a first digest. Every digest also counts the emergency alerts that could not
reach the clinic in that time, whoever the patient's therapist is: a failed alert means the
clinic's alert path is broken. A therapist with nothing new gets no email. Each digest is
claimed (a `sending` row written while the therapist's row is locked) before it is sent, so
two schedulers running at once send it once; one that failed is tried again by the next pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from reminders import audit, clock
from reminders.clinic import clinic_rules
from reminders.config import Settings
from reminders.db import session_scope
from reminders.models import ClinicAlert, DigestRun, Enrollment, Flag, Reply, User
from reminders.transports import Outgoing, TransportError, transport_for
from reminders.vocabulary import Channel, NoticeStatus

log = logging.getLogger(__name__)
CLAIM = timedelta(minutes=10)  # far longer than sending one email can take


@dataclass
class Digest:
    therapist: User
    since: datetime
    last: datetime | None  # when the previous digest was sent, as seen when collecting
    replies: list[Reply] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    failed_alerts: int = 0  # emergency alerts that could not be delivered, clinic-wide


def _last_sent(session: Session, therapist_id: int) -> datetime | None:
    """Up to when the therapist's last digest counted: one sent, or one being sent by a
    pass that claimed it less than CLAIM ago (one claimed earlier died before it could say)."""
    return session.scalar(
        select(func.max(DigestRun.covers_until)).where(
            DigestRun.therapist_id == therapist_id,
            or_(
                DigestRun.status == NoticeStatus.SENT,
                and_(
                    DigestRun.status == NoticeStatus.SENDING,
                    DigestRun.claimed_at > clock.real_now() - CLAIM,
                ),
            ),
        )
    )


def collect(session: Session, therapist: User, now: datetime) -> Digest:
    last = _last_sent(session, therapist.id)
    since = last or now - timedelta(days=1)
    mine = select(Enrollment.patient_id).where(Enrollment.therapist_id == therapist.id)
    replies = session.scalars(
        select(Reply)
        .where(Reply.patient_id.in_(mine), Reply.received_at > since)
        .order_by(Reply.received_at)
    )
    flags = session.scalars(
        select(Flag)
        .where(Flag.patient_id.in_(mine), Flag.opened_at > since)
        .order_by(Flag.opened_at)
    )
    failed_alerts = session.scalar(
        select(func.count())
        .select_from(ClinicAlert)
        .join(Reply, Reply.id == ClinicAlert.reply_id)
        .where(ClinicAlert.status == NoticeStatus.FAILED, Reply.received_at > since)
    )
    return Digest(therapist, since, last, list(replies), list(flags), failed_alerts or 0)


def compose_digest(digest: Digest, *, clinic: str, zone: ZoneInfo, base_url: str) -> Outgoing:
    def when(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%a %b %d %H:%M")

    def patient(patient_id: int | None) -> str:
        return f"P-{patient_id:06d}" if patient_id else "unknown"

    flag_lines = [
        f"- {patient(f.patient_id)}: {f.reason} ({when(f.opened_at)})" for f in digest.flags
    ]
    reply_lines = [
        f'- {patient(r.patient_id)}: "{r.text}"'
        + (f" = {r.score}/10" if r.score is not None else "")
        + f" ({when(r.received_at)})"
        for r in digest.replies
    ]
    failed = digest.failed_alerts
    alert_lines = (
        [
            f"{failed} emergency alert{'' if failed == 1 else 's'} could not be delivered"
            f" (the staff pages show which): {base_url}/",
            "",
        ]
        if failed
        else []
    )
    text = "\n".join(
        [
            f"Hello {digest.therapist.name},",
            "",
            f"New since {when(digest.since)}:",
            "",
            *alert_lines,
            f"Flags ({len(flag_lines)}):",
            *(flag_lines or ["- none"]),
            "",
            f"Answers ({len(reply_lines)}):",
            *(reply_lines or ["- none"]),
            "",
            f"Open flags: {base_url}/flags",
        ]
    )
    html = (
        '<pre style="font-family:system-ui,sans-serif;white-space:pre-wrap">'
        + escape(text)
        + "</pre>"
    )
    counts = f"{len(flag_lines)} new flag(s), {len(reply_lines)} answer(s)"
    if failed:
        counts = f"{failed} emergency alert(s) not delivered, {counts}"
    subject = f"{clinic}: {counts}"
    return Outgoing(
        digest.therapist.id, Channel.EMAIL, digest.therapist.email, text, subject=subject, html=html
    )


def send_digests(settings: Settings) -> int:
    """One digest per active therapist with something new; returns how many were sent."""
    sent = 0
    with session_scope() as session:
        now = clock.now(session)
        rules = clinic_rules(session)
        therapists = session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.id)
        ).all()
        digests = [
            d
            for d in (collect(session, t, now) for t in therapists)
            if d.replies or d.flags or d.failed_alerts
        ]
        outgoing = [
            compose_digest(
                d,
                clinic=rules.name,
                zone=ZoneInfo(rules.time_zone),
                base_url=settings.link_base_url,
            )
            for d in digests
        ]
    for digest, email in zip(digests, outgoing, strict=True):
        claim = _claim(digest, now)
        if claim is None:
            continue  # another scheduler sent this one
        try:
            transport_for(Channel.EMAIL).send(email)
        except TransportError as exc:
            log.warning("digest for user %s not sent (%s)", digest.therapist.id, exc.code)
            _finish(claim, digest.therapist.id, now, failure=exc.code)  # the next pass tries again
            continue
        _finish(claim, digest.therapist.id, now, failure=None)
        sent += 1
    return sent


def _claim(digest: Digest, now: datetime) -> int | None:
    """Claim the digest (a `sending` row) unless another process sent or claimed one since it
    was collected; the therapist's row is locked meanwhile (SQLite: the write transaction
    is)."""
    therapist_id = digest.therapist.id
    with session_scope() as session:
        session.scalar(select(User.id).where(User.id == therapist_id).with_for_update())
        if _last_sent(session, therapist_id) != digest.last:
            return None
        run = DigestRun(
            therapist_id=therapist_id,
            covers_until=now,
            status=NoticeStatus.SENDING,
            claimed_at=clock.real_now(),
        )
        session.add(run)
        session.flush()
        return run.id


def _finish(run_id: int, therapist_id: int, now: datetime, *, failure: str | None) -> None:
    """Record the outcome, with its audit event (history only: nothing reads it to decide)."""
    with session_scope() as session:
        session.execute(
            update(DigestRun)
            .where(DigestRun.id == run_id)
            .values(
                status=NoticeStatus.FAILED if failure else NoticeStatus.SENT,
                finished_at=clock.real_now(),
                reason=failure,
            )
        )
        audit.record(
            session,
            actor="system",
            action="digest.failed" if failure else "digest.sent",
            subject_type="user",
            subject_id=therapist_id,
            at=now,
            **({"code": failure} if failure else {}),
        )
