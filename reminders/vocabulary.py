"""The words the service's records are made of: a message's state, a channel, what a reply
said, how a delivery attempt ended. Each is a StrEnum, so a value is stored and shown as its
plain word ("sent", "sms") and the database refuses any other (CHECK constraints, migration
0013). The allowed moves between message states are in `reminders.sending.transitions`."""

from __future__ import annotations

from enum import StrEnum


class MessageStatus(StrEnum):
    """DESIGN.md, "Message states"."""

    SCHEDULED = "scheduled"  # waiting for its time
    QUEUED = "queued"  # handed to the broker; a worker will claim it
    SENDING = "sending"  # a worker holds it and is calling the provider
    RETRY_WAIT = "retry_wait"  # a send failed for now; it is tried again later
    SENT = "sent"  # the provider has it
    DELIVERED = "delivered"  # the provider says the phone or mailbox has it
    UNDELIVERED = "undelivered"  # the provider says it could not be delivered
    FAILED = "failed"  # could not be sent
    CANCELLED = "cancelled"  # the enrollment was cancelled, or the patient opted out
    SKIPPED = "skipped"  # not sent on purpose (too late, a cap, no address)


WAITING = (MessageStatus.SCHEDULED, MessageStatus.RETRY_WAIT)  # the dispatcher picks these
PENDING = (*WAITING, MessageStatus.QUEUED)  # not yet in a worker's hands
UNSENT = (*PENDING, MessageStatus.SENDING)  # not yet with the provider
WENT_OUT = (MessageStatus.SENT, MessageStatus.DELIVERED)  # what a patient has received
FINAL = (
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.UNDELIVERED,
    MessageStatus.FAILED,
    MessageStatus.CANCELLED,
    MessageStatus.SKIPPED,
)
NOT_SENT = (MessageStatus.FAILED, MessageStatus.CANCELLED, MessageStatus.SKIPPED)


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class ContactChoice(StrEnum):
    """How a patient chose to be reached: one channel, or every one."""

    SMS = Channel.SMS.value
    EMAIL = Channel.EMAIL.value
    BOTH = "both"


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # its messages wait until it is resumed
    CANCELLED = "cancelled"  # its messages not yet sent never will be


class TemplateStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # the one version new messages are written from
    RETIRED = "retired"  # published once; messages pinned to it still use it


class ReplyKind(StrEnum):
    """What a patient's reply says (reminders.replies reads it)."""

    SCORE = "score"  # a 0-10 pain score
    EMERGENCY = "emergency"  # a red-flag symptom: the 911 answer and a clinic alert
    WORSE = "worse"
    BETTER = "better"
    HELP = "help"
    OPT_OUT = "opt_out"  # STOP and its synonyms
    OPT_IN = "opt_in"  # START
    UNCLEAR_STOP = "unclear_stop"  # "stop" in a sentence: asked, not acted on
    OTHER = "other"


class AttemptOutcome(StrEnum):
    """How one call to a transport ended (reminders.sending.send_claim)."""

    IN_FLIGHT = "in_flight"  # claimed; nothing handed to the provider yet
    HANDED_OVER = "handed_over"  # the provider may have it: never sent again blindly
    UNSURE = "unsure"  # possibly accepted; counts as sent
    SENT = "sent"
    TRANSIENT = "transient"  # failed for now
    PERMANENT = "permanent"  # trying again cannot help
    LOST = "lost"  # the worker died before handing it over; the reaper took it back
    SUPERSEDED = "superseded"  # another attempt settled the message first


OPEN_OUTCOMES = (AttemptOutcome.IN_FLIGHT, AttemptOutcome.HANDED_OVER, AttemptOutcome.UNSURE)


class NoticeStatus(StrEnum):
    """A clinic alert's or a staff digest's state: the row is its own claim."""

    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


def check_constraint(column: str, words: type[StrEnum]) -> str:
    """The SQL of a CHECK that `column` holds one of `words`."""
    listed = ", ".join(f"'{word.value}'" for word in words)
    return f"{column} IN ({listed})"
