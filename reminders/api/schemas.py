"""What the JSON API takes and gives: pydantic bodies in the clinic's words.

Every text field has a length limit and refuses control characters, so nothing a
script sends can overflow a column or reach the database as a NUL byte.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from reminders.enrolling.contacts import InvalidContact, check_time_zone, normalize_email
from reminders.planning.scheduling import parse_wall_time
from reminders.vocabulary import Channel, ContactChoice

T = TypeVar("T")


class Body(BaseModel):
    """A request body: unknown fields are a mistake worth saying (422), not ignoring.

    Text is one line without control characters, except in the `MULTILINE` fields.
    """

    model_config = ConfigDict(extra="forbid")
    MULTILINE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        allowed = "\n\r\t" if info.field_name in cls.MULTILINE else ""
        if any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in value):
            raise ValueError("must be plain text, without control characters")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("must be valid Unicode text") from None
        return value


class Problem(BaseModel):
    detail: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# enrollments -----------------------------------------------------------------------------


class EnrollmentIn(Body):
    first_name: str = Field(min_length=1, max_length=80)
    last_name: str = Field("", max_length=80)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    channel: ContactChoice = ContactChoice.SMS
    language: Literal["en", "fr"] = "en"
    time_zone: str | None = Field(None, max_length=64, description="IANA; default the clinic's")
    session_end: str = Field(
        "now",
        max_length=40,
        description='"now", or ISO 8601 with an offset: 2026-11-24T14:30:00-07:00',
    )
    plan_key: str = Field("dry-needling", min_length=1, max_length=60)
    consent_method: Literal["verbal", "written", "web"] = "verbal"
    therapist_name: str | None = Field(None, max_length=120, description="default: you")
    dry_run: bool = Field(False, description="plan and show the messages; save nothing")


class PlannedMessageOut(BaseModel):
    id: int | None = Field(description="null in a dry run")
    step: str
    channel: str
    due_at: datetime = Field(description="in the patient's time zone")
    status: str
    reason: str | None


class EnrollmentSummary(BaseModel):
    id: int
    patient_id: int
    patient_name: str
    plan_key: str
    status: str
    therapist_name: str
    therapist_id: int | None
    session_end: datetime
    created_at: datetime


class EnrollmentOut(BaseModel):
    id: int | None = Field(description="null in a dry run")
    patient_id: int | None = Field(description="null in a dry run for a new patient")
    status: str = Field(description="active, paused, cancelled, or dry_run")
    dry_run: bool
    plan_key: str
    therapist_name: str
    therapist_id: int | None
    session_end: datetime
    messages: list[PlannedMessageOut]
    shares_contact_with: list[str] = Field(
        default_factory=list,
        description="first names of the other patients who use this patient's mobile or email"
        " (a family): replies to that number go to whoever was messaged last",
    )


# patients and messages -------------------------------------------------------------------


class MessageOut(BaseModel):
    id: int
    enrollment_id: int
    patient_id: int
    step: str
    channel: str
    status: str
    due_at: datetime = Field(description="in the patient's time zone, like every time here")
    sent_at: datetime | None
    delivered_at: datetime | None
    reason: str | None = Field(description="why it was skipped, cancelled or failed")
    attempts: int


class ReplyOut(BaseModel):
    id: int
    channel: str
    text: str
    kind: str
    score: int | None
    received_at: datetime


class FlagOut(BaseModel):
    id: int
    patient_id: int
    reason: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None


class PatientOut(BaseModel):
    id: int
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    language: str
    time_zone: str
    channel: str
    opted_out: list[str] = Field(description="channels the patient opted out of")
    created_at: datetime


class PatientTimeline(PatientOut):
    consent_at: datetime
    consent_method: str
    enrollments: list[EnrollmentSummary]
    messages: list[MessageOut]
    replies: list[ReplyOut]
    flags: list[FlagOut]


class ContactFix(Body):
    phone: str | None = Field(None, min_length=1, max_length=40)
    email: str | None = Field(None, min_length=1, max_length=254)


class ContactFixed(BaseModel):
    patient: PatientOut
    resent: int = Field(description="how many failed messages go out again, now")


# admin -----------------------------------------------------------------------------------


class ClinicSettingsIn(Body):
    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(min_length=1, max_length=40)
    time_zone: str = Field(min_length=1, max_length=64)
    alert_email: str = Field("", max_length=254)
    quiet_hours_start: str = Field("21:00", max_length=5, description="HH:MM, local")
    quiet_hours_end: str = Field("08:00", max_length=5, description="HH:MM, local")
    cap_per_day: int | None = Field(None, ge=1, le=100)
    cap_per_week: int | None = Field(None, ge=1, le=700)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            return check_time_zone(value)
        except InvalidContact as exc:
            raise ValueError(str(exc)) from None

    @field_validator("alert_email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            return normalize_email(value) if value.strip() else ""
        except InvalidContact as exc:
            raise ValueError(str(exc)) from None

    @field_validator("quiet_hours_start", "quiet_hours_end")
    @classmethod
    def _wall_time(cls, value: str) -> str:
        return parse_wall_time(value).strftime("%H:%M")


class ClinicSettingsOut(BaseModel):
    name: str
    phone: str
    time_zone: str
    alert_email: str
    quiet_hours_start: str
    quiet_hours_end: str
    cap_per_day: int | None
    cap_per_week: int | None
    updated_at: datetime


class PlanStepData(Body):
    """One step, as in templates/plans/*.toml: an `offset`, or a `day` and an `at` time."""

    key: str = Field(min_length=1, max_length=60)
    message: str = Field(min_length=1, max_length=60, description="message template key")
    offset: str | None = Field(None, max_length=20, description='after the session: "30m"')
    day: int | None = Field(None, ge=0, le=60, description="days after the session day")
    at: str | None = Field(None, max_length=5, description='local time that day: "19:00"')
    not_sooner_than: str = Field("0m", max_length=20)
    max_lateness: str = Field("12h", max_length=20)
    channels: list[Channel] = Field(list(Channel), min_length=1, max_length=2)
    checkin: bool = False
    send_in_quiet_hours_if_session_ends_before: str | None = Field(
        None,
        max_length=5,
        description='offset steps: in quiet hours, still send at its time after a session that ended before this local time: "23:00"',
    )


class PlanData(Body):
    MULTILINE = frozenset({"description"})
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=2000)
    steps: list[PlanStepData] = Field(min_length=1, max_length=30)


class PlanStepOut(BaseModel):
    key: str
    message: str
    offset: str | None = None
    day: int | None = None
    at: str | None = None
    not_sooner_than: str
    max_lateness: str
    channels: list[str]
    checkin: bool
    send_in_quiet_hours_if_session_ends_before: str | None = None


class PlanOut(BaseModel):
    key: str
    name: str
    description: str
    updated_at: datetime
    steps: list[PlanStepOut]


class UserIn(Body):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=120)
    role: Literal["admin", "therapist"] = "therapist"
    password: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: int | None
    detail: dict[str, Any]
