"""What every transport shares: one error type, and the message as a transport sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class TransportError(Exception):
    """A send that did not go out. `permanent`: trying again cannot help.

    `reason` is in our own words (never the provider's text, which may echo the number).
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        code: str | None = None,
        retry_after: float | None = None,
        opted_out: bool = False,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after  # seconds, from the provider's Retry-After
        self.opted_out = opted_out  # the provider says this recipient unsubscribed
        # The request may have gone through (a read timeout): ask the provider before retrying.
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class Outgoing:
    message_id: int
    channel: str  # sms | email
    to: str
    text: str
    subject: str = ""
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    status_callback_url: str | None = None


class Transport(Protocol):
    name: str

    def send(self, outgoing: Outgoing) -> str:
        """Send now; return the provider's id for the message. Raises TransportError."""
        ...

    def find_sent(self, outgoing: Outgoing, since: datetime) -> str | None:
        """The provider's id if this exact message already went out after `since`, else None.

        Used after a worker died mid-send, before anything is sent again. Transports
        that cannot tell (SMTP) return None; emails then go again with the same Message-ID.
        """
        ...
