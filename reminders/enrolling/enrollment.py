"""Enrolling a patient: check what the therapist typed, plan the messages, write it all at once.

Everything an enrollment writes (patient, enrollment, messages, audit) goes in the
caller's single transaction: bad input raises InvalidEnrollment before anything is
written, so there is never a half-written enrollment.

A patient is a person, and a phone or an email may be a family's. An enrollment reuses a
record only for the same person (same name, and the same phone or email); anyone else on the
same contact gets a record of their own, and the therapist is told who shares it. Enrolling
never changes another patient's record.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reminders import audit
from reminders.channels import CHOICES
from reminders.clinic import clinic_rules
from reminders.config import Settings
from reminders.content.rendering import SmsCost, TemplateProblem, sms_cost
from reminders.enrolling.contacts import (
    InvalidContact,
    check_time_zone,
    normalize_email,
    normalize_phone,
)
from reminders.enrolling.patient_records import (
    ContactSharers,
    contact_sharers,
    find_patient,
    merge_patient,
    texted_before,
)
from reminders.errors import InvalidInput
from reminders.models import (
    AftercarePlan,
    Enrollment,
    Message,
    MessageTemplate,
    Patient,
    TemplateVersion,
)
from reminders.planning.plans import step_from_row
from reminders.planning.scheduling import schedule
from reminders.reports.timeline import opted_out_by_patient
from reminders.sending.composing import sms_text, template_variables
from reminders.vocabulary import (
    FINAL,
    NOT_SENT,
    UNSENT,
    Channel,
    EnrollmentStatus,
    MessageStatus,
    TemplateStatus,
)

LANGUAGES = ("en", "fr")
OLDEST_SESSION = timedelta(days=14)
NEWEST_SESSION = timedelta(hours=1)  # a little clock skew between devices is fine


class InvalidEnrollment(InvalidInput):
    """Input that cannot be enrolled; the message is one line, safe to show the therapist."""


@dataclass
class EnrollmentRequest:
    first_name: str
    last_name: str
    session_end: datetime
    phone: str | None = None
    email: str | None = None
    channel: str = Channel.SMS
    language: str = "en"
    time_zone: str | None = None  # None: the clinic's
    plan_key: str = "dry-needling"
    therapist_name: str = ""
    therapist_id: int | None = None  # the signed-in therapist's account, for digests
    consent_method: str = "verbal"
    recorded_by: str = "therapist"
    idempotency_key: str | None = None


@dataclass
class PlannedMessage:
    step_key: str
    channel: str
    due_at: datetime
    status: str  # scheduled | skipped
    reason: str | None = None


@dataclass
class EnrollmentPlan:
    patient: Patient  # as typed, checked and normalised
    existing: Patient | None  # the same person from an earlier enrollment
    plan: AftercarePlan
    versions: dict[str, int]  # message key -> pinned template version id
    messages: list[PlannedMessage] = field(default_factory=list)
    sharers: ContactSharers = field(default_factory=ContactSharers)


def plan_enrollment(
    session: Session, request: EnrollmentRequest, *, now: datetime, phone_region: str = "CA"
) -> EnrollmentPlan:
    """Validate the request and plan its messages without writing anything."""
    rules = clinic_rules(session)
    patient = _patient_from(request, rules.time_zone, phone_region, now)
    _check_session_time(request.session_end, now)
    plan = session.scalar(
        select(AftercarePlan)
        .where(AftercarePlan.key == request.plan_key)
        .options(selectinload(AftercarePlan.steps))
    )
    if plan is None:
        raise InvalidEnrollment(f"unknown plan {request.plan_key!r}")
    existing = find_patient(session, patient)
    opted_out = set(opted_out_by_patient(session, [patient])[patient.id])
    steps = [step_from_row(row) for row in plan.steps]
    zone = ZoneInfo(patient.time_zone)
    planned: list[PlannedMessage] = []
    for channel in CHOICES[patient.channel]:
        mine = [(s.key, s.timing) for s in steps if channel in s.channels]
        taken = _booked_times(session, existing, channel)
        for result in schedule(
            mine,
            session_end=request.session_end,
            zone=zone,
            quiet=rules.quiet,
            caps=rules.caps,
            taken=taken,
            now=now,
        ):
            reason = "opted out" if channel in opted_out else result.skipped_reason
            status = MessageStatus.SKIPPED if reason else MessageStatus.SCHEDULED
            planned.append(PlannedMessage(result.key, channel, result.due_at, status, reason))
    planned.sort(key=lambda m: (m.due_at, m.channel))
    versions = _published_versions(session, plan, patient.language)
    sharers = contact_sharers(
        session,
        phone=patient.phone,
        email=patient.email,
        besides=existing.id if existing else None,
    )
    return EnrollmentPlan(patient, existing, plan, versions, planned, sharers)


def sms_costs(
    session: Session, request: EnrollmentRequest, planned: EnrollmentPlan, *, settings: Settings
) -> dict[str, SmsCost]:
    """Each planned text's encoding and segments, by step, from the text as the worker will
    send it to this patient (first name, language, the opt-out line on a first text), so the
    therapist sees what the plan costs before enrolling. Nothing is written; a step whose
    template fails to render has no entry."""
    rules = clinic_rules(session)
    message_keys = {row.key: row.message_key for row in planned.plan.steps}
    enrollment = Enrollment(
        session_end=request.session_end, therapist_name=request.therapist_name.strip()
    )
    opt_out_line_due = not texted_before(session, planned.patient.phone)
    costs: dict[str, SmsCost] = {}
    for item in planned.messages:
        if item.channel != Channel.SMS:
            continue
        version = session.get_one(TemplateVersion, planned.versions[message_keys[item.step_key]])
        # Never added to the session: only what the templates read, as the worker reads it.
        draft = Message(
            enrollment=enrollment,
            patient=planned.patient,
            channel=Channel.SMS,
            locale=planned.patient.language,
            due_at=item.due_at,
        )
        first_sms = opt_out_line_due and item.status == MessageStatus.SCHEDULED
        opt_out_line_due = opt_out_line_due and not first_sms
        try:
            text = sms_text(
                version.sms,
                template_variables(draft, rules, settings),
                locale=planned.patient.language,
                first_sms=first_sms,
            )
        except TemplateProblem:
            continue  # the preview still shows the plan; sending will report the template
        costs[item.step_key] = sms_cost(text)
    return costs


def enroll(
    session: Session, request: EnrollmentRequest, *, now: datetime, phone_region: str = "CA"
) -> Enrollment:
    """Create (or, for a repeated Idempotency-Key, return) the enrollment and its messages."""
    if request.idempotency_key:
        earlier = session.scalar(
            select(Enrollment).where(Enrollment.idempotency_key == request.idempotency_key)
        )
        if earlier is not None:
            return earlier
    planned = plan_enrollment(session, request, now=now, phone_region=phone_region)
    patient = merge_patient(
        session,
        planned.patient,
        planned.existing,
        recorded_by=request.recorded_by,
        consent_method=request.consent_method,
        now=now,
    )
    versions = planned.versions
    enrollment = Enrollment(
        patient=patient,
        plan=planned.plan,
        therapist_name=request.therapist_name.strip(),
        therapist_id=request.therapist_id,
        session_end=request.session_end,
        status=EnrollmentStatus.ACTIVE,
        idempotency_key=request.idempotency_key,
        created_at=now,
    )
    session.add(enrollment)
    lateness = {row.key: row.max_lateness_seconds for row in planned.plan.steps}
    checkins = {row.key: row.checkin for row in planned.plan.steps}
    message_keys = {row.key: row.message_key for row in planned.plan.steps}
    for item in planned.messages:
        session.add(
            Message(
                enrollment=enrollment,
                patient=patient,
                step_key=item.step_key,
                channel=item.channel,
                locale=patient.language,
                template_version_id=versions[message_keys[item.step_key]],
                checkin=checkins[item.step_key],
                status=item.status,
                due_at=item.due_at,
                next_attempt_at=item.due_at,
                max_lateness_seconds=lateness[item.step_key],
                reason=item.reason,
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()
    audit.record(
        session,
        actor=request.recorded_by,
        action="enrollment.created",
        subject_type="enrollment",
        subject_id=enrollment.id,
        at=now,
        patient_id=patient.id,
        plan=planned.plan.key,
    )
    return enrollment


# How consent was given (CASL: keep a record of who, when, channel and how). Checked here, so
# the API, the web form and the CLI share one rule.
CONSENT_METHODS = ("verbal", "written", "web")


def _patient_from(
    request: EnrollmentRequest, clinic_zone: str, region: str, now: datetime
) -> Patient:
    first, last = request.first_name.strip(), request.last_name.strip()
    if not first or len(first) > 80 or len(last) > 80:
        raise InvalidEnrollment("first name is required, and names are at most 80 characters")
    if any(unicodedata.category(c).startswith("C") for c in first + last):
        raise InvalidEnrollment("names cannot hold line breaks, tabs or other control characters")
    if request.consent_method not in CONSENT_METHODS:
        raise InvalidEnrollment(f"consent must be one of {', '.join(CONSENT_METHODS)}")
    if len(request.plan_key) > 60:
        raise InvalidEnrollment("there is no plan by that name")
    if request.channel not in CHOICES:
        raise InvalidEnrollment("channel must be sms, email or both")
    if request.language not in LANGUAGES:
        raise InvalidEnrollment("language must be en or fr")
    try:
        phone = normalize_phone(request.phone, region=region) if request.phone else None
        email = normalize_email(request.email) if request.email else None
        zone = check_time_zone(request.time_zone or clinic_zone, clinic_zone=clinic_zone)
    except InvalidContact as exc:
        raise InvalidEnrollment(str(exc)) from None
    needs = CHOICES[request.channel]
    if Channel.SMS in needs and phone is None:
        raise InvalidEnrollment(f"channel {request.channel} needs a mobile phone number")
    if Channel.EMAIL in needs and email is None:
        raise InvalidEnrollment(f"channel {request.channel} needs an email address")
    return Patient(
        first_name=first,
        last_name=last,
        phone=phone,
        email=email,
        language=request.language,
        time_zone=zone,
        channel=request.channel,
        consent_at=now,
        consent_method=request.consent_method,
        consent_recorded_by=request.recorded_by,
        created_at=now,
    )


def _check_session_time(session_end: datetime, now: datetime) -> None:
    if session_end.tzinfo is None:
        raise InvalidEnrollment("session end needs a time zone offset")
    if session_end > now + NEWEST_SESSION:
        raise InvalidEnrollment("session end is in the future; enroll after the session")
    if session_end < now - OLDEST_SESSION:
        raise InvalidEnrollment("session end is more than 14 days ago")


def _booked_times(session: Session, patient: Patient | None, channel: str) -> list[datetime]:
    if patient is None:
        return []
    counted = [s for s in FINAL if s not in NOT_SENT]
    rows = session.scalars(
        select(Message.due_at).where(
            Message.patient_id == patient.id,
            Message.channel == channel,
            Message.status.in_([*UNSENT, *counted]),
        )
    )
    return list(rows)


def _published_versions(session: Session, plan: AftercarePlan, locale: str) -> dict[str, int]:
    """The newest published version of each message the plan uses, in the patient's language."""
    versions: dict[str, int] = {}
    for row in plan.steps:
        version_id = session.scalar(
            select(TemplateVersion.id)
            .join(MessageTemplate)
            .where(
                MessageTemplate.key == row.message_key,
                TemplateVersion.locale == locale,
                TemplateVersion.status == TemplateStatus.PUBLISHED,
            )
            .order_by(TemplateVersion.version.desc())
            .limit(1)
        )
        if version_id is None:
            raise InvalidEnrollment(
                f"message {row.message_key!r} has no published {locale} version"
            )
        versions[row.message_key] = version_id
    return versions
