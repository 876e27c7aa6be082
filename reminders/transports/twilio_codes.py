"""What Twilio's error codes mean for a patient's message: the only place that knows them.

A code says whether trying again can help (`permanent`), whether the step should go by email
instead (`fall_back`: the number cannot get texts, or the carrier gave up on it), and whether
the patient unsubscribed at the carrier (`opted_out`: STOP, which is never a reason to email).
"""

from __future__ import annotations

from dataclasses import dataclass

STOPPED = 21610  # the patient texted STOP to our sender: Twilio refuses every text to them
PERMANENT_CODES = {
    21211: "invalid phone number",
    21612: "this number cannot be reached by SMS from our sender",
    21614: "not a mobile number",
    STOPPED: "the patient unsubscribed at the carrier (STOP)",
    30004: "message blocked by the carrier",
    30005: "unknown or inactive number",
    30006: "landline or unreachable carrier",
    30007: "carrier filtered the message",
}
TRANSIENT_CODES = {
    20429: "Twilio rate limit",
    30001: "queue overflow",
    30003: "handset unreachable",
}
# Reported undelivered after the carrier's own retries: the phone stayed off or out of reach
# (30003) or the carrier's queue overflowed (30001). Nothing resends a text later, so the
# step goes by email, as for a number that can never get texts.
GAVE_UP = (30001, 30003)


@dataclass(frozen=True)
class Meaning:
    reason: str  # in our words
    permanent: bool
    fall_back: bool
    opted_out: bool


def meaning(code: int | None) -> Meaning | None:
    """What a known code means when Twilio refuses a message; None for a code we do not know."""
    if code in PERMANENT_CODES:
        assert code is not None
        stopped = code == STOPPED
        return Meaning(PERMANENT_CODES[code], True, fall_back=not stopped, opted_out=stopped)
    if code in TRANSIENT_CODES:
        assert code is not None
        return Meaning(TRANSIENT_CODES[code], False, fall_back=False, opted_out=False)
    return None


def undelivered(error_code: str) -> Meaning:
    """What a status callback's ErrorCode means for a text reported undelivered or failed."""
    code = int(error_code) if error_code.isdigit() else None
    known = meaning(code)
    if code is None:
        return Meaning("not delivered", False, fall_back=False, opted_out=False)
    if known is None:
        return Meaning(f"carrier error {code}", False, fall_back=False, opted_out=False)
    gave_up = code in GAVE_UP
    return Meaning(known.reason, True, known.fall_back or gave_up, known.opted_out)
