"""The demo's story: a sample patient enrolled at 09:00 once a worker is ready, whose week plays
in minutes, and who answers the check-ins as a patient might (a score, a worse day, then an
emergency), so the flags, the clinic alert and the pain chart all appear.

Only for `reminders up --demo` on a compressed clock with the console transports: the
patient's texts are recorded as the Twilio webhook records them (reminders.replies.inbound), and the
answers and the alert are printed like every other demo message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rich.console import Console
from sqlalchemy import select

from reminders import clock
from reminders.config import Settings
from reminders.db import session_scope
from reminders.enrolling.enrollment import EnrollmentRequest, enroll
from reminders.models import Enrollment, Message, Reply
from reminders.replies.inbound import receive_sms
from reminders.vocabulary import WENT_OUT, Channel

console = Console(stderr=True)

# What the demo patient texts back to each check-in, in order.
ANSWERS = (
    "6, still sore but moving better",
    "worse today, 8",
    "my chest feels tight and I can't get a full breath",
)


def story_start(settings: Settings) -> datetime:
    """09:00 today in clinic time: the story starts with a session that just ended."""
    local = clock.real_now().astimezone(ZoneInfo(settings.clinic_timezone))
    return local.replace(hour=9, minute=0, second=0, microsecond=0)


def worker_ready(settings: Settings, *, gone: Callable[[], bool], timeout: float = 120) -> bool:
    """Wait until a worker consumes our queue (asked through Celery's own control channel);
    False when `gone()` says to give up (the worker died, or the operator pressed Ctrl-C)."""
    from reminders.tasks import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not gone():
        queues = app.control.inspect(timeout=1.0).active_queues() or {}
        if any(q.get("name") == settings.task_queue for qs in queues.values() for q in qs):
            return True
    return False


def enroll_patient(settings: Settings, phone: str, email: str) -> int:
    """The demo patient, enrolled as their 08:59 session ends; returns the enrollment id."""
    with session_scope() as session:
        now = clock.now(session)
        request = EnrollmentRequest(
            first_name="Alex",
            last_name="Demo",
            phone=phone,
            email=email,
            channel="both",
            session_end=now - timedelta(minutes=1),
            therapist_name="Sam Chen",
            recorded_by="reminders demo",
        )
        enrollment = enroll(session, request, now=now, phone_region=settings.phone_region)
        return enrollment.id


def start_clock(settings: Settings, speed: float) -> None:
    with session_scope() as session:
        clock.set_clock(session, simulated=story_start(settings), speed=speed)


def play_replies(enrollment_id: int, stop: threading.Event) -> threading.Thread:
    """Answer each check-in text once it has gone out, in a thread that ends with `stop`."""

    def run() -> None:
        for answer in ANSWERS:
            while not stop.is_set() and not _reply_to_next_checkin(enrollment_id, answer):
                stop.wait(0.5)

    thread = threading.Thread(target=run, name="demo-patient", daemon=True)
    thread.start()
    return thread


def _reply_to_next_checkin(enrollment_id: int, text: str) -> bool:
    """Text `text` back if a check-in went out that has no answer yet; True when sent."""
    with session_scope() as session:
        enrollment = session.get_one(Enrollment, enrollment_id)
        answered = select(Reply.checkin_message_id).where(Reply.checkin_message_id.is_not(None))
        checkin = session.scalar(
            select(Message)
            .where(
                Message.enrollment_id == enrollment_id,
                Message.checkin.is_(True),
                Message.channel == Channel.SMS,
                Message.status.in_(WENT_OUT),
                Message.id.not_in(answered),
            )
            .order_by(Message.due_at)
            .limit(1)
        )
        phone = enrollment.patient.phone
        if checkin is None or phone is None:
            return False
        outcome = receive_sms(
            session,
            from_number=phone,
            body=text,
            provider_id=f"demo-{checkin.id}",
            opt_out_type="",
            now=clock.now(session),
        )
    console.print(f"demo patient texts back: {text!r}")
    if outcome.answer:
        console.print(f"  answered at once: {outcome.answer}")
    if outcome.alert and outcome.reply_id is not None:
        from reminders.tasks.alerts import alert_clinic

        alert_clinic.delay(outcome.reply_id)
    return True
