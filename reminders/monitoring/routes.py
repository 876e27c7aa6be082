"""`/healthz` and `/metrics`: what an operator's probes and Prometheus ask."""

from __future__ import annotations

import secrets
from typing import Annotated

import redis
from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from reminders.broker import require_redis
from reminders.config import ConfigurationError, Settings, get_settings
from reminders.db import get_engine, session_scope
from reminders.monitoring import health, heartbeat, metrics
from reminders.monitoring.backlog import read_backlog

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> JSONResponse:
    """Status ok, or degraded (503) with a plain reason for each check that is not ok."""
    settings = get_settings()
    state = {"database": _database(), "redis": _redis(settings)}
    state["scheduler"] = (
        _scheduler(settings) if state["redis"] == health.OK else "unknown (no Redis)"
    )
    state["workers"] = state["backlog"] = "unknown (no database)"
    if state["database"] == health.OK:
        try:
            with session_scope() as session:
                backlog = read_backlog(session)
        except SQLAlchemyError:
            pass  # it went away since the check above: "unknown" says so
        else:
            state["workers"] = health.workers_state(backlog)
            state["backlog"] = health.backlog_state(backlog)
    reasons = [f"{check}: {said}" for check, said in state.items() if said != health.OK]
    return JSONResponse(
        {"status": "degraded" if reasons else "ok", **state, "reasons": reasons},
        status_code=503 if reasons else 200,
    )


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
    """The deployment's series in Prometheus text format (no personal data in any label)."""
    settings = get_settings()
    if not settings.metrics_token:
        if settings.environment == "production":
            return JSONResponse(
                {"detail": "Metrics are off: set METRICS_TOKEN and scrape with a bearer token."},
                status_code=403,
            )
    elif not secrets.compare_digest(
        (authorization or "").encode(), f"Bearer {settings.metrics_token}".encode()
    ):
        return JSONResponse(
            {"detail": "Metrics need Authorization: Bearer METRICS_TOKEN."},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Response(metrics.render(settings), media_type=CONTENT_TYPE_LATEST)


def _database() -> str:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure here is the answer, not an error
        return f"unavailable ({type(exc).__name__})"
    return health.OK


def _redis(settings: Settings) -> str:
    try:
        require_redis(settings.redis_url)
    except ConfigurationError:
        return "unavailable"
    return health.OK


def _scheduler(settings: Settings) -> str:
    try:
        return health.scheduler_state(heartbeat.seconds_since_tick(settings))
    except (redis.RedisError, OSError):
        return "unknown (Redis did not answer)"
