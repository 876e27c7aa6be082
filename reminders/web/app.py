"""The web app: a status page and /healthz.

Email links and Twilio webhooks live in their own routers; the therapist and admin
pages and the JSON API come with the web issue.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import func, select, text

from reminders.broker import require_redis
from reminders.config import ConfigurationError, get_settings
from reminders.db import get_engine, session_scope
from reminders.models import Message
from reminders.web import email_links, twilio_hooks
from reminders.web.pages import page

app = FastAPI(title="Aftercare reminders", version="0.1.0")
app.include_router(email_links.router)
app.include_router(twilio_hooks.router)


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
