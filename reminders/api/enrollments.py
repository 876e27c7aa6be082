"""JSON API: enrollments (enroll a patient after a session; pause, resume, cancel)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Header, Query, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reminders import clock
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
from reminders.api.schemas import (
    EnrollmentIn,
    EnrollmentOut,
    EnrollmentSummary,
    Page,
    PlannedMessageOut,
)
from reminders.config import get_settings
from reminders.enrolling import care_changes, idempotency
from reminders.enrolling.enrollment import EnrollmentRequest, enroll, plan_enrollment
from reminders.enrolling.patient_records import contact_sharers
from reminders.models import Enrollment, User
from reminders.reports.timeline import enrollment_messages, find_enrollments, plain_reason
from reminders.request_context import CurrentUser, SessionDep
from reminders.vocabulary import EnrollmentStatus

router = api_router("enrollments")
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=120,
        pattern=r"^[\x21-\x7e]+$",
        description="Repeat a request safely: the same key gives the same enrollment.",
    ),
]


def parse_session_end(text: str, *, now: datetime) -> datetime:
    """ "now", or ISO 8601 with an offset; anything else is a 422 saying what to send."""
    if text.strip().lower() == "now":
        return now
    try:
        when = datetime.fromisoformat(text.strip())
        when.astimezone(UTC)  # a date at the edge of the calendar cannot be used
    except (ValueError, OverflowError):
        raise problem(
            422, "session_end must be 'now' or ISO 8601 such as 2026-11-24T14:30:00-07:00"
        ) from None
    if when.tzinfo is None:
        raise problem(422, "session_end needs a UTC offset, such as 2026-11-24T14:30:00-07:00")
    return when


def summary(enrollment: Enrollment) -> EnrollmentSummary:
    zone = ZoneInfo(enrollment.patient.time_zone)
    return EnrollmentSummary(
        id=enrollment.id,
        patient_id=enrollment.patient_id,
        patient_name=f"{enrollment.patient.first_name} {enrollment.patient.last_name}".strip(),
        plan_key=enrollment.plan.key,
        status=enrollment.status,
        therapist_name=enrollment.therapist_name,
        therapist_id=enrollment.therapist_id,
        session_end=enrollment.session_end.astimezone(zone),
        created_at=enrollment.created_at.astimezone(zone),
    )


def described(session: Session, enrollment: Enrollment) -> EnrollmentOut:
    zone = ZoneInfo(enrollment.patient.time_zone)
    return EnrollmentOut(
        id=enrollment.id,
        patient_id=enrollment.patient_id,
        status=enrollment.status,
        dry_run=False,
        plan_key=enrollment.plan.key,
        therapist_name=enrollment.therapist_name,
        therapist_id=enrollment.therapist_id,
        session_end=enrollment.session_end.astimezone(zone),
        messages=[
            PlannedMessageOut(
                id=m.id,
                step=m.step_key,
                channel=m.channel,
                due_at=m.due_at.astimezone(zone),
                status=m.status,
                reason=plain_reason(m),
            )
            for m in enrollment_messages(session, enrollment_id=enrollment.id)
        ],
        shares_contact_with=contact_sharers(
            session,
            phone=enrollment.patient.phone,
            email=enrollment.patient.email,
            besides=enrollment.patient_id,
        ).names(),
    )


def enrollment_request(
    body: EnrollmentIn, user: User, now: datetime, key: str | None
) -> EnrollmentRequest:
    """What the API and the web form both ask for, as the enrollment rules take it."""
    return EnrollmentRequest(
        first_name=body.first_name,
        last_name=body.last_name,
        phone=body.phone or None,
        email=body.email or None,
        channel=body.channel,
        language=body.language,
        time_zone=body.time_zone or None,
        session_end=parse_session_end(body.session_end, now=now),
        plan_key=body.plan_key,
        therapist_name=body.therapist_name or user.name,
        therapist_id=user.id,
        consent_method=body.consent_method,
        recorded_by=actor(user),
        idempotency_key=key,
    )


def _dry_run(session: Session, request: EnrollmentRequest, now: datetime) -> EnrollmentOut:
    planned = plan_enrollment(session, request, now=now, phone_region=get_settings().phone_region)
    zone = ZoneInfo(planned.patient.time_zone)
    return EnrollmentOut(
        id=None,
        patient_id=planned.existing.id if planned.existing else None,
        status="dry_run",
        dry_run=True,
        plan_key=planned.plan.key,
        therapist_name=request.therapist_name,
        therapist_id=None,
        session_end=request.session_end.astimezone(zone),
        messages=[
            PlannedMessageOut(
                id=None,
                step=m.step_key,
                channel=m.channel,
                due_at=m.due_at.astimezone(zone),
                status=m.status,
                reason=m.reason,
            )
            for m in planned.messages
        ],
        shares_contact_with=planned.sharers.names(),
    )


@router.post(
    "/enrollments",
    status_code=201,
    responses={200: {"model": EnrollmentOut, "description": "A dry run, or a repeated key"}},
)
def create_enrollment(
    body: EnrollmentIn,
    user: CurrentUser,
    session: SessionDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> EnrollmentOut:
    """Enroll a patient right after a session and plan their messages (dry_run: plan only)."""
    now = clock.now(session)
    key = None if body.dry_run else idempotency_key
    digest = idempotency.fingerprint(
        body.model_dump(exclude={"dry_run"}), user_id=user.id, secret=get_settings().secret_key
    )
    if key is not None:
        earlier = idempotency.earlier_enrollment(session, key=key)
        if earlier is not None:
            if not idempotency.same_request(enrollment=earlier, digest=digest):
                raise problem(409, "This Idempotency-Key was used for a different enrollment.")
            response.status_code = 200
            return saved(session, described(session, earlier))
    try:
        request = enrollment_request(body, user, now, key)
        if body.dry_run:
            response.status_code = 200
            return saved(session, _dry_run(session, request, now))
        enrollment = enroll(session, request, now=now, phone_region=get_settings().phone_region)
        session.flush()
    except IntegrityError:
        raise problem(409, "This Idempotency-Key is being used by another request.") from None
    if key:
        idempotency.remember(enrollment=enrollment, digest=digest)
    return saved(session, described(session, enrollment))


@router.get("/enrollments")
def list_enrollments(
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[EnrollmentStatus | None, Query()] = None,
    patient_id: OptionalId = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EnrollmentSummary]:
    """Enrollments, newest first; filter by status or patient."""
    rows, total = find_enrollments(
        session, status=status, patient_id=patient_id, limit=limit, offset=offset
    )
    page: Page[EnrollmentSummary] = Page(
        items=[summary(e) for e in rows], total=total, limit=limit, offset=offset
    )
    return saved(session, page)


def _enrollment(session: Session, enrollment_id: int) -> Enrollment:
    found = session.get(Enrollment, enrollment_id)
    if found is None:
        raise problem(404, f"There is no enrollment {enrollment_id}.")
    return found


@router.get("/enrollments/{enrollment_id}")
def get_enrollment(enrollment_id: Id, user: CurrentUser, session: SessionDep) -> EnrollmentOut:
    """One enrollment with its messages, times in the patient's time zone."""
    return saved(session, described(session, _enrollment(session, enrollment_id)))


@router.post("/enrollments/{enrollment_id}/pause")
def pause_enrollment(enrollment_id: Id, user: CurrentUser, session: SessionDep) -> EnrollmentOut:
    """Hold the remaining messages until resumed (409 unless active)."""
    return _change(care_changes.pause, session, enrollment_id, user)


@router.post("/enrollments/{enrollment_id}/resume")
def resume_enrollment(enrollment_id: Id, user: CurrentUser, session: SessionDep) -> EnrollmentOut:
    """Let a paused enrollment's remaining messages go out again, the overdue ones at once."""
    return _change(care_changes.resume, session, enrollment_id, user)


@router.post("/enrollments/{enrollment_id}/cancel")
def cancel_enrollment(enrollment_id: Id, user: CurrentUser, session: SessionDep) -> EnrollmentOut:
    """Cancel every message not yet sent; none of them will go out."""
    return _change(care_changes.cancel, session, enrollment_id, user)


def _change(
    change: Callable[..., object], session: Session, enrollment_id: int, user: User
) -> EnrollmentOut:
    enrollment = _enrollment(session, enrollment_id)
    change(session=session, enrollment_id=enrollment_id, actor=actor(user), now=clock.now(session))
    session.flush()
    session.expire_all()  # the messages were changed by bulk updates
    return saved(session, described(session, enrollment))
