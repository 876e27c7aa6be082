"""The database models; importing this module registers every table on Base.metadata."""

from reminders.models.alerts import ALERT_STATUSES, ClinicAlert
from reminders.models.audit import AuditEvent
from reminders.models.base import Base
from reminders.models.clinic import ClinicSettings, ClockSetting
from reminders.models.digests import DigestRun
from reminders.models.enrollments import Enrollment
from reminders.models.messages import FINAL, WAITING, DeliveryAttempt, Message
from reminders.models.patients import OptOut, Patient
from reminders.models.plans import AftercarePlan, PlanStep
from reminders.models.replies import Flag, Reply
from reminders.models.templates import MessageTemplate, TemplateVersion
from reminders.models.users import ROLES, ApiToken, User

__all__ = [
    "ALERT_STATUSES",
    "FINAL",
    "ROLES",
    "WAITING",
    "AftercarePlan",
    "ApiToken",
    "AuditEvent",
    "Base",
    "ClinicAlert",
    "ClinicSettings",
    "ClockSetting",
    "DeliveryAttempt",
    "DigestRun",
    "Enrollment",
    "Flag",
    "Message",
    "MessageTemplate",
    "OptOut",
    "Patient",
    "PlanStep",
    "Reply",
    "TemplateVersion",
    "User",
]
