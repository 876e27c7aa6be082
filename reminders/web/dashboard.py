"""The first page after signing in: messages today and this week, replies, open flags, and
how patients are doing (reminders.reports.outcomes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminders import clock
from reminders.clinic import clinic_rules
from reminders.models import Enrollment, Flag, Message, Reply
from reminders.reports.outcomes import (
    MINIMAL_IMPORTANT_CHANGE,
    WINDOW,
    CheckInScore,
    Outcomes,
    outcomes,
)
from reminders.request_context import CurrentUser, SessionDep
from reminders.vocabulary import WENT_OUT, MessageStatus, ReplyKind
from reminders.web.pages import staff_page

router = APIRouter(tags=["dashboard"])
SHOWN = (
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.UNDELIVERED,
    MessageStatus.FAILED,
    MessageStatus.SKIPPED,
    MessageStatus.CANCELLED,
    MessageStatus.SCHEDULED,
)


def _counts(session: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Messages due in [since, until), by status: what went out, and what is still to go."""
    rows = session.execute(
        select(Message.status, func.count())
        .where(Message.due_at >= since, Message.due_at < until)
        .group_by(Message.status)
    ).all()
    return {status: count for status, count in rows}


CHART_WIDTH = 340  # viewBox units; the SVG scales to its box (CSS .chart: width 100%)
LABEL_WIDTH = 100  # the longest status, "undelivered", at 13 units is about 80
BAR_SPACE = 190  # leaves room after the longest bar for a count of five digits
ROW = 22


def _chart(counts: dict[str, int], what: str) -> dict[str, object]:
    """What templates/staff/bars.html draws: a bar per status, scaled to the largest."""
    top = max(counts.values(), default=0) or 1
    bars = [
        {
            "status": status,
            "count": counts.get(status, 0),
            "width": BAR_SPACE * counts.get(status, 0) // top,
            "y": i * ROW,
        }
        for i, status in enumerate(SHOWN)
    ]
    return {
        "what": what,
        "bars": bars,
        "width": CHART_WIDTH,
        "height": len(SHOWN) * ROW,
        "label_width": LABEL_WIDTH,
    }


RECENT = timedelta(days=30)  # the reply rate's window: what the clinic does now, at any volume


def _checkins_answered(session: Session, *, since: datetime) -> tuple[int, int]:
    """Check-ins sent that were due since `since`, and how many of them got an answer: the
    first from the (checkin, status, due_at) index, the second from the replies received
    since then, so the cost follows the window's check-ins and replies, not the table."""
    sent = (Message.checkin.is_(True), Message.status.in_(WENT_OUT))
    checkins = session.scalar(select(func.count()).where(Message.due_at >= since, *sent)) or 0
    answered = (
        session.scalar(
            select(func.count(func.distinct(Reply.checkin_message_id)))
            .join(Message, Message.id == Reply.checkin_message_id)
            .where(Reply.received_at >= since, Message.due_at >= since, *sent)
        )
        or 0
    )
    return checkins, answered


def _scores_since(session: Session, since: datetime) -> list[CheckInScore]:
    """Every pain score sent after the session of an enrollment made since `since`, with the
    session's end, in one query; reminders.reports.outcomes sorts them into days."""
    rows = session.execute(
        select(Enrollment.patient_id, Enrollment.session_end, Reply.received_at, Reply.score)
        .join(Reply, Reply.patient_id == Enrollment.patient_id)
        .where(
            Enrollment.created_at >= since,
            Reply.kind == ReplyKind.SCORE,
            Reply.score.is_not(None),
            Reply.received_at >= Enrollment.session_end,
        )
    ).tuples()
    return [CheckInScore(p, end, at, score) for p, end, at, score in rows if score is not None]


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _outcomes(found: Outcomes) -> dict[str, Any]:
    """The values templates/staff/outcomes.html shows."""
    share = found.improved_share
    return dict(
        window_days=WINDOW.days,
        change=MINIMAL_IMPORTANT_CHANGE,
        medians=[
            {
                "label": b.label,
                "days": f"{b.start:g} to under {b.end:g} days after the session",
                "median": None if b.median is None else _number(b.median),
                "patients": b.patients,
            }
            for b in found.medians
        ],
        share=None if share is None else f"{round(100 * share)}%",
        improved=found.improved,
        compared=found.compared,
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(user: CurrentUser, session: SessionDep) -> HTMLResponse:
    zone = ZoneInfo(clinic_rules(session).time_zone)
    local = clock.now(session).astimezone(zone)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = today + timedelta(days=1)  # local wall-clock arithmetic: right across DST too
    week = today - timedelta(days=today.weekday())
    next_week = week + timedelta(days=7)
    checkins, answered = _checkins_answered(session, since=local - RECENT)
    open_flags = (
        session.scalar(select(func.count()).select_from(Flag).where(Flag.closed_at.is_(None))) or 0
    )
    rate = f"{100 * answered // checkins}%" if checkins else "no check-ins yet"
    return staff_page(
        "dashboard.html",
        title="Dashboard",
        role=user.role,
        name=user.name,
        today=_chart(_counts(session, today, tomorrow), "Messages due today"),
        week=_chart(_counts(session, week, next_week), "Messages due this week"),
        recent_days=RECENT.days,
        rate=rate,
        answered=answered,
        checkins=checkins,
        open_flags=open_flags,
        **_outcomes(outcomes(_scores_since(session, local - WINDOW))),
    )
