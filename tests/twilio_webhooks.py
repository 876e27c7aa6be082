"""Texts from patients as Twilio posts them to the web app: signed with X-Twilio-Signature for
the public URL Twilio called, to the in-process app or the `reminders web` process alike."""

from __future__ import annotations

import uuid

import httpx
from in_process import web_client
from stack import FROM_NUMBER, Deployment
from twilio.request_validator import RequestValidator

PUBLIC = "https://clinic.example"  # PUBLIC_BASE_URL in the stack's settings
PHONE = "+14035550123"


def post_signed(
    stack: Deployment, path: str, form: dict[str, str], *, sign: bool = True
) -> httpx.Response:
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = RequestValidator(stack.twilio.auth_token).compute_signature(
            PUBLIC + path, form
        )
    with web_client(stack) as client:
        return client.post(path, data=form, headers=headers)


def text_in(stack: Deployment, body: str, *, sender: str = PHONE, **extra: str) -> httpx.Response:
    form = {
        "From": sender,
        "To": FROM_NUMBER,
        "Body": body,
        "MessageSid": "SM" + uuid.uuid4().hex,
        **extra,
    }
    return post_signed(stack, "/twilio/inbound", form)


def answered(response: httpx.Response) -> str:
    """The text of the TwiML answer ("" for none)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    start = response.text.find("<Message>")
    return "" if start < 0 else response.text[start + 9 : response.text.find("</Message>")]
