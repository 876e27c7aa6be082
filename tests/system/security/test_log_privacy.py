"""No patient's name, number, email, message or link token in any process's log, at DEBUG.

Everything goes through the real web app, worker and scheduler (LOG_LEVEL=DEBUG), on
SQLite and PostgreSQL; then every line they wrote is searched. PostgreSQL enforces column
lengths, so there the oversized values end in database errors: the path by which
SQLAlchemy's `[parameters: ...]` once printed a whole patient.
"""

from __future__ import annotations

import re
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from browser import create_user
from stack import Deployment
from twilio.request_validator import RequestValidator

from reminders.models import Message

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
PUBLIC = "https://clinic.example"
PASSWORD = "a-long-password-1"
TOO_LONG_CONSENT = "verbal-and-in-writing!"  # 22 characters; the column holds 20


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    phone: str  # as typed
    e164: str
    email: str

    def secrets(self) -> list[str]:
        digits = self.e164[2:]
        return [
            self.first_name,
            self.last_name,
            self.phone,
            self.e164,
            digits,  # also inside %2B-encoded query strings
            self.phone[-8:],  # "555-0188" as typed
            self.email,
            self.email.split("@")[0],
        ]


ENROLLED = Person(
    "Wilhelmina", "Zoltowski", "(403) 555-0188", "+14035550188", "wil.zoltowski@example.com"
)
REFUSED = Person(
    "Ottoline", "Brackenbury", "587-555-0142", "+15875550142", "o.brackenbury@example.com"
)
BROKEN = Person(
    "Ignatius", "Featherstone", "780.555.0163", "+17805550163", "iggy.feather@example.com"
)
REPLY = "Pain 4 today, stiff after shovelling the driveway"
UNSTORABLE_REPLY = "Still sore from sledging down the coulee"


def test_it_keeps_every_patient_detail_out_of_every_log(own_stack: Deployment) -> None:
    # Given a deployment whose web app, worker and scheduler all log at DEBUG
    stack = own_stack
    at_debug_level(stack)
    stack.set_clock(SESSION_END + timedelta(minutes=5))

    with therapist(stack) as browser:
        # When a therapist enrolls a patient through the web form
        enrolled = browser.post("/enroll", data=form(browser, ENROLLED))
        assert enrolled.status_code == 303, enrolled.text

        # And Twilio is slow to answer the first text, so the worker looks it up by number
        stack.twilio.delay_next(3.0)
        stack.set_clock(SESSION_END + timedelta(minutes=31))
        sms = stack.twilio.wait_for(1, timeout=30)[0]
        email = stack.smtp.wait_for(1, timeout=30)[0]
        stack.wait_until(lambda: first_messages_sent(stack), what="the first text and email sent")

        # And the patient opens the email's unsubscribe link, and replies to the text
        unsubscribe = email["List-Unsubscribe"].strip("<>")
        assert httpx.get(local(stack, unsubscribe), timeout=10).status_code == 200
        answer = text_in(stack, ENROLLED.e164, REPLY)
        assert answer.status_code == 200, answer.text

        # And the therapist searches for the patient by last name
        assert browser.get("/patients", params={"q": ENROLLED.last_name}).status_code == 200

        # And a second patient's enrollment is refused by the API (422)
        refused = api_enroll(stack, REFUSED, channel="carrier-pigeon")
        assert refused.status_code == 422, refused.text

        # And values too long for their columns reach the database (500s on PostgreSQL)
        broken = browser.post("/enroll", data=form(browser, BROKEN, consent=TOO_LONG_CONSENT))
        unstorable = text_in(stack, ENROLLED.e164, UNSTORABLE_REPLY, sid="SM" + "0" * 80)

    server_errors = [r.status_code for r in (broken, unstorable)].count(500)
    stack.wait_until(
        lambda: stack.logs().count("Exception in ASGI application") >= server_errors,
        what="the server errors logged",
    )
    for label in list(stack.processes):  # every line written and flushed before reading
        stack.kill(label, signal.SIGTERM)

    # Then no name, number, email, message, reply or token appears in any of them
    logs = stack.logs()
    secrets = [
        *ENROLLED.secrets(),
        *REFUSED.secrets(),
        *BROKEN.secrets(),
        unsubscribe.rsplit("/", 1)[1],
        "shovelling",
        "driveway",
        "coulee",
        *phrases(sms["body"] or ""),
        *phrases(email.get_body(("plain",)).get_content()),
        str(email["Subject"]),
        *phrases(twiml_message(answer)),
    ]
    leaked = sorted({secret for secret in secrets if secret.lower() in logs.lower()})
    assert leaked == [], f"in the logs of {stack.logdir}: {leaked}"

    # And every process did log, at DEBUG, with access lines that keep method and status
    for label in ("web", "worker", "scheduler"):
        assert "DEBUG" in (stack.logdir / f"{label}.log").read_text(), f"{label} not at DEBUG"
    assert '"GET /patients HTTP/1.1" 200' in logs
    assert '"GET /unsubscribe/… HTTP/1.1" 200' in logs
    assert '"POST /enroll HTTP/1.1" 303' in logs
    assert "reminders.deliver" in logs


def at_debug_level(stack: Deployment) -> None:
    """Restart the worker and scheduler with LOG_LEVEL=DEBUG (the web app starts with it)."""
    stack.env["LOG_LEVEL"] = "DEBUG"
    for label in ("worker", "scheduler"):
        stack.kill(label, signal.SIGTERM)
    stack.start_process("worker", "worker", "--concurrency", "2")  # no --loglevel: LOG_LEVEL
    stack.start_process("scheduler", "scheduler")


def new_therapist(stack: Deployment) -> str:
    """A new therapist account (users outlive a test); returns its email."""
    email = f"therapist-{uuid.uuid4().hex[:10]}@bowriver.example"
    made = create_user(stack, email, "Sam Chen", "therapist")
    assert made.returncode == 0, made.stderr
    return email


@contextmanager
def therapist(stack: Deployment) -> Iterator[httpx.Client]:
    """A signed-in therapist's browser session (cookie and CSRF), as an httpx client."""
    email = new_therapist(stack)
    with httpx.Client(base_url=stack.web_url(), timeout=20) as client:
        csrf = hidden(client.get("/login").text, "csrf")
        done = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
        assert done.status_code == 303, done.text
        yield client


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def form(browser: httpx.Client, person: Person, *, consent: str = "verbal") -> dict[str, str]:
    """The enrollment form as a therapist fills it in and presses Enroll."""
    page = browser.get("/enroll").text
    return {
        "csrf": hidden(page, "csrf"),
        "form_id": hidden(page, "form_id"),
        "first_name": person.first_name,
        "last_name": person.last_name,
        "phone": person.phone,
        "email": person.email,
        "channel": "both",
        "language": "en",
        "time_zone": "America/Edmonton",
        "session_end": SESSION_END.strftime("%Y-%m-%dT%H:%M"),
        "plan": "dry-needling",
        "consent": consent,
        "action": "save",
    }


def api_enroll(stack: Deployment, person: Person, **changes: str) -> httpx.Response:
    """An enrollment posted by a therapist's script (bearer token) to the JSON API."""
    token = stack.cli("users", "token", "--email", new_therapist(stack)).stdout.strip()
    body = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "phone": person.phone,
        "email": person.email,
        "channel": "both",
        "session_end": SESSION_END.isoformat(),
        **changes,
    }
    return httpx.post(
        stack.web_url() + "/api/enrollments",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    )


def text_in(stack: Deployment, sender: str, body: str, *, sid: str = "") -> httpx.Response:
    """A patient's text, posted and signed as Twilio does (see tests/system/test_two_way.py)."""
    path = "/twilio/inbound"
    form = {
        "From": sender,
        "To": "+15875550100",
        "Body": body,
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
    }
    signature = RequestValidator(stack.twilio.auth_token).compute_signature(PUBLIC + path, form)
    return httpx.post(
        stack.web_url() + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=20
    )


def local(stack: Deployment, link: str) -> str:
    """An email link (built on PUBLIC_BASE_URL) pointed at the local web app."""
    assert link.startswith(PUBLIC), link
    return stack.web_url() + link[len(PUBLIC) :]


def first_messages_sent(stack: Deployment) -> bool:
    sent: list[Message] = [m for m in stack.messages() if m.status == "sent"]
    return {m.channel for m in sent} == {"sms", "email"}


def twiml_message(response: httpx.Response) -> str:
    """The text our webhook answered the patient with ("" when it answered nothing)."""
    found = re.search(r"<Message>(.*?)</Message>", response.text, re.DOTALL)
    return found.group(1) if found else ""


def phrases(text: str, size: int = 4) -> list[str]:
    """Every run of `size` words: a message body leaks if any of them is in a log."""
    words = text.split()
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
