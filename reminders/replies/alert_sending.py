"""Sending one clinic alert (or the patient's follow-up) now: tried again within seconds on
a transient error, and, when a text's fate was unclear, looked up at Twilio before it is
sent again."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from reminders import clock
from reminders.sending import send_rate
from reminders.transports import Outgoing, TransportError, transport_for
from reminders.transports.base import LOOK_UP_SKEW

log = logging.getLogger("reminders.replies.alerts")  # one log for the alerts, as before
RETRY_PAUSES = (1.0, 4.0)  # seconds between the three tries of one alert


def in_words(error: TransportError) -> str:
    """A failed channel in our own words (never the provider's, which may echo an address)."""
    outcome = "refused for good" if error.permanent else "failed for now"
    return f"{outcome} ({error.code})" if error.code else outcome


def send_alert(reply_id: int, item: Outgoing, what: str = "alert") -> TransportError | None:
    """Send one alert, trying again within seconds on a transient error: it must not wait
    for the reaper's next pass, which only queues alerts lost or failed a minute on. An unsure
    failure (a timeout after the request went out) is tried again too: for an emergency, a
    second alert costs less than none; but a text is first looked up at Twilio, after the
    pause, and not sent again when it is there. Returns the last error, or None once it went out."""
    started = clock.real_now()
    unsure = False
    for attempt, pause in enumerate((*RETRY_PAUSES, 0.0), start=1):
        try:
            if unsure and went_out(item, started):
                log.warning("reply %s: %s %s had gone out after all", reply_id, item.channel, what)
            else:
                transport_for(item.channel).send(item)
            # Counted after it went (never before: a slow Redis must not hold an alert back),
            # so that held reminders make room.
            send_rate.count_sent(item.channel, item.text)
            return None
        except TransportError as exc:
            final = attempt > len(RETRY_PAUSES) or exc.permanent
            log.error(
                "reply %s: %s %s failed, attempt %s (%s)%s",
                reply_id,
                item.channel,
                what,
                attempt,
                exc.code,
                "" if final else "; trying again",
            )
            if final:
                return exc
            unsure = exc.ambiguous
            time.sleep(pause)
    raise AssertionError("unreachable: the last attempt is final")


def went_out(item: Outgoing, since: datetime) -> bool:
    """Whether an alert whose send was unclear is at the provider after all. When it cannot
    be asked (email), or the look-up fails, it is sent again: for an emergency, a second
    alert costs less than none."""
    transport = transport_for(item.channel)
    if not transport.can_look_up:
        return False
    try:
        return transport.find_sent(item, since - LOOK_UP_SKEW) is not None
    except TransportError:
        return False
