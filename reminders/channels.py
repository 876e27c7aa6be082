"""The ways a message reaches a patient, and what each one needs.

For each channel: which of the patient's details reaches them on it, how that contact point
is keyed (an opt-out belongs to it, whoever asked), what staff call it, which parts of a
message template write it, and whether it is counted in SMS segments. Which transport sends it
is configured in `reminders.transports`.

A new channel (WhatsApp through Twilio, say) is a word in `vocabulary.Channel` and a migration
for its CHECK, an entry here, a transport, and its template parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func

from reminders.vocabulary import Channel, ContactChoice


@dataclass(frozen=True)
class ChannelRules:
    channel: Channel
    patient_field: str  # the Patient attribute holding its contact point
    contact: str  # that contact point, in words: "mobile number"
    label: str  # the channel, in words on a page: "Text"
    parts: tuple[str, ...]  # the template parts that write a message on it
    segmented: bool  # counted in SMS segments (caps, the send rate, the preview)
    any_case: bool  # the contact point is one address in any case (email)

    def key(self, address: str) -> str:
        """An address as opt-outs and sharing key it."""
        return address.strip().lower() if self.any_case else address

    def address_of(self, patient: object) -> str | None:
        """Where a message on this channel reaches `patient` (a Patient) now, keyed, or None."""
        raw: str | None = getattr(patient, self.patient_field)
        return self.key(raw) if raw else None


SMS = ChannelRules(
    Channel.SMS,
    patient_field="phone",
    contact="mobile number",
    label="Text",
    parts=("sms",),
    segmented=True,
    any_case=False,
)
EMAIL = ChannelRules(
    Channel.EMAIL,
    patient_field="email",
    contact="email address",
    label="Email",
    parts=("email_subject", "email_text", "email_html"),
    segmented=False,
    any_case=True,
)
CHANNELS: dict[Channel, ChannelRules] = {rules.channel: rules for rules in (SMS, EMAIL)}
# What a patient may choose on the enroll form: each channel, or all of them.
CHOICES: dict[str, tuple[Channel, ...]] = {
    **{ContactChoice(channel): (channel,) for channel in Channel},
    ContactChoice.BOTH: tuple(Channel),
}
TEMPLATE_PARTS = tuple(part for rules in CHANNELS.values() for part in rules.parts)


def rules_for(channel: str) -> ChannelRules:
    return CHANNELS[Channel(channel)]


def address_on(patient_table: Any, channel: Any) -> ColumnElement[str | None]:
    """`ChannelRules.address_of` as SQL, for a channel value or column."""

    def keyed(rules: ChannelRules) -> Any:
        column = getattr(patient_table, rules.patient_field)
        return func.lower(column) if rules.any_case else column

    return case(*((channel == rules.channel, keyed(rules)) for rules in CHANNELS.values()))


def reached_at(patient_table: Any, channel: str, address: str) -> ColumnElement[bool]:
    """Patients whose current contact point on `channel` is `address` (keyed)."""
    rules = rules_for(channel)
    column = getattr(patient_table, rules.patient_field)
    return (func.lower(column) if rules.any_case else column) == rules.key(address)
