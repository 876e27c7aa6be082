"""The web app. For now: a status page, /healthz, and the email unsubscribe link.

The therapist and admin pages, the JSON API and the Twilio webhooks come with the web
and two-way messaging issues.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import func, select, text

from reminders import clock
from reminders.broker import require_redis
from reminders.config import ConfigurationError, get_settings
from reminders.db import get_engine, session_scope
from reminders.links import UNSUBSCRIBE, BadLink, read_token
from reminders.models import AuditEvent, Message, OptOut

app = FastAPI(title="Aftercare reminders", version="0.1.0")

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
table{{border-collapse:collapse}}td,th{{padding:.25rem .75rem;border-bottom:1px solid #ccc;text-align:left}}
button{{font-size:1rem;padding:.5rem 1rem}}</style></head><body><h1>{title}</h1>{body}</body></html>"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=escape(title), body=body), status_code=status)


@app.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    """Message counts by status: a placeholder until the therapist pages land."""
    with session_scope() as session:
        counts = session.execute(
            select(Message.status, func.count()).group_by(Message.status)
        ).all()
    rows = "".join(f"<tr><td>{escape(s)}</td><td>{n}</td></tr>" for s, n in sorted(counts))
    return page(
        "Aftercare reminders", f"<table><tr><th>status</th><th>messages</th></tr>{rows}</table>"
    )


@app.get("/healthz")
def healthz() -> JSONResponse:
    """The database and Redis, each "ok" or what is wrong; 503 when either is down."""
    state: dict[str, Any] = {}
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        state["database"] = "ok"
    except Exception as exc:  # any failure here is the answer, not an error
        state["database"] = f"unavailable ({type(exc).__name__})"
    try:
        require_redis(get_settings().redis_url)
        state["redis"] = "ok"
    except ConfigurationError:
        state["redis"] = "unavailable"
    healthy = all(v == "ok" for v in state.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **state}, status_code=200 if healthy else 503
    )


@app.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str) -> HTMLResponse:
    """Confirm before unsubscribing: mail scanners follow GET links, people press buttons."""
    try:
        read_token(get_settings().secret_key, UNSUBSCRIBE, token)
    except BadLink as exc:
        return page("Link problem", f"<p>{escape(str(exc))}</p>", status=400)
    body = (
        "<p>Stop aftercare emails from the clinic?</p>"
        f'<form method="post" action="/unsubscribe/{escape(token)}"><button type="submit">Unsubscribe</button></form>'
    )
    return page("Unsubscribe", body)


@app.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(token: str) -> HTMLResponse:
    """RFC 8058 one-click unsubscribe, and the button above; honoured at once."""
    try:
        message_id = read_token(get_settings().secret_key, UNSUBSCRIBE, token)
    except BadLink as exc:
        return page("Link problem", f"<p>{escape(str(exc))}</p>", status=400)
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None:
            return page("Link problem", "<p>This link is not valid.</p>", status=400)
        now = clock.now(session)
        active = session.scalar(
            select(OptOut.id).where(
                OptOut.patient_id == message.patient_id,
                OptOut.channel == "email",
                OptOut.opted_in_at.is_(None),
            )
        )
        if active is None:
            session.add(
                OptOut(
                    patient_id=message.patient_id,
                    channel="email",
                    source="email-link",
                    opted_out_at=now,
                )
            )
            session.add(
                AuditEvent(
                    at=now,
                    actor="patient",
                    action="opt_out",
                    subject_type="patient",
                    subject_id=message.patient_id,
                    detail={"channel": "email"},
                )
            )
    return page("Unsubscribed", "<p>You will get no more aftercare emails from us.</p>")
