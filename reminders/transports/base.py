"""What every transport shares: one error type, and the message as a transport sees it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

# Called by a transport just before the point of no return (Twilio's POST, SMTP's DATA): it
# raises ClaimLost when the message is no longer this worker's to send.
GoAhead = Callable[[], None]


# A look-up reaches back this much before the first attempt: our clock and the provider's
# may differ.
LOOK_UP_SKEW = timedelta(minutes=2)


class TransportError(Exception):
    """A send that did not go out, and what the transport knows of why, so that no code
    outside a transport knows a provider's error codes:

    - `permanent`: trying again cannot help;
    - `ambiguous`: the request may have gone through (a read timeout): ask the provider first;
    - `fall_back`: this contact point cannot get it: the step may go by another channel;
    - `opted_out`: the provider says this recipient unsubscribed (never a reason to fall back).

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
        fall_back: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after  # seconds, from the provider's Retry-After
        self.opted_out = opted_out
        self.ambiguous = ambiguous
        self.fall_back = fall_back


class MaybeSent(TransportError):
    """The provider may have the message and cannot be asked (an SMTP timeout or a dropped
    connection after the final DATA dot): it counts as sent, marked unsure, never sent again.
    A second copy is worse than an honest "unsure"."""

    def __init__(self, reason: str, *, provider_id: str) -> None:
        super().__init__(reason, ambiguous=True)
        self.provider_id = provider_id


class ClaimLost(Exception):
    """The message is no longer this worker's (the reaper or another worker took it over)."""


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
    # Whether `find_sent` can tell: SMTP cannot, so an email whose fate is unknown counts as
    # sent (unsure) rather than going twice.
    can_look_up: bool

    def send(self, outgoing: Outgoing, *, go_ahead: GoAhead | None = None) -> str:
        """Send now; return the provider's id for the message. Raises TransportError (MaybeSent
        when it may have gone out), or ClaimLost from `go_ahead`, called just before the point
        of no return."""
        ...

    def find_sent(self, outgoing: Outgoing, since: datetime) -> str | None:
        """The provider's id if this exact message went out after `since` (real UTC), else None.
        Raises TransportError when the provider cannot be asked right now.

        Used before anything whose fate is unknown is sent again. Transports that cannot
        tell (`can_look_up` false) return None.
        """
        ...
