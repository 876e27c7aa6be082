"""Twilio webhooks: inbound texts and delivery status callbacks, both signed.

The signature (X-Twilio-Signature) is checked with twilio-python's RequestValidator
against the public URL Twilio called. Bad or missing: 403 and nothing changes.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.background import BackgroundTasks
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from reminders import clock
from reminders.api.common import Id
from reminders.config import get_settings
from reminders.db import session_scope
from reminders.replies.inbound import receive_sms
from reminders.sending import send_rate
from reminders.sending.delivery_status import record_status
from reminders.vocabulary import Channel

router = APIRouter(prefix="/twilio", tags=["twilio"])
log = logging.getLogger(__name__)


async def _signed_form(request: Request) -> dict[str, str] | None:
    """The posted form if Twilio signed it, else None. (Bodies over 64 KiB, declared or
    chunked, never get here: reminders.body_limit refuses them for the whole app.)"""
    form = {key: str(value) for key, value in (await request.form()).items()}
    settings = get_settings()
    base = settings.public_base_url.rstrip("/")
    url = (
        f"{base}{request.url.path}" + (f"?{request.url.query}" if request.url.query else "")
        if base
        else str(request.url)
    )
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.twilio_auth_token or not RequestValidator(settings.twilio_auth_token).validate(
        url, form, signature
    ):
        return None
    return form


# Twilio's ids are 34 characters and its numbers E.164; a signed form with longer ones is cut
# to what the columns hold rather than lose the text (an emergency must still be answered).
SID, ADDRESS = 64, 64


@router.post("/inbound")
async def inbound(request: Request) -> Response:
    """A patient's text: recorded, acted on, and answered in the response at once."""
    form = await _signed_form(request)
    if form is None:
        return Response("invalid signature", status_code=403, media_type="text/plain")
    with session_scope() as session:
        outcome = receive_sms(
            session,
            from_number=form.get("From", "")[:ADDRESS],
            body=form.get("Body", "")[:1600],
            provider_id=form.get("MessageSid", "")[:SID] or None,
            opt_out_type=form.get("OptOutType", ""),
            now=clock.now(session),
        )
    log.info("inbound reply %s recorded", outcome.reply_id)
    twiml = MessagingResponse()
    # The patient's answer goes back first, whatever the send rate; then the clinic alert is
    # queued, and only then is the answer counted against the rate (Redis slow or down must
    # never delay either).
    after = BackgroundTasks()
    if outcome.alert and outcome.reply_id is not None:
        after.add_task(_alert, outcome.reply_id)
    if outcome.answer:
        twiml.message(outcome.answer)
        after.add_task(send_rate.count_sent, Channel.SMS, outcome.answer)
    return Response(str(twiml), media_type="application/xml", background=after)


@router.post("/status/{message_id}")
async def status(message_id: Id, request: Request) -> Response:
    """Delivery status for one of our texts; unknown ids get 200 so Twilio stops retrying."""
    form = await _signed_form(request)
    if form is None:
        return Response("invalid signature", status_code=403, media_type="text/plain")
    with session_scope() as session:
        result = record_status(
            session,
            message_id=message_id,
            status=form.get("MessageStatus", ""),
            provider_id=form.get("MessageSid", "")[:SID],
            error_code=form.get("ErrorCode", ""),
            now=clock.now(session),
        )
    log.info("status callback for message %s: %s", message_id, result)
    return Response(status_code=200)


def _alert(reply_id: int) -> None:
    """Queue the clinic alert now; if Redis is down, send it from here rather than lose it."""
    from reminders.replies import alerts
    from reminders.tasks.alerts import alert_clinic

    try:
        alert_clinic.apply_async((reply_id,), expires=3600, retry=False)
    except Exception:
        log.warning(
            "reply %s: could not queue the clinic alert; sending it from the web process", reply_id
        )
        alerts.alert_clinic(reply_id)
