"""The patients list: find a patient by name, phone (any format) or email, a page at a time."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import phonenumbers
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from reminders.config import get_settings
from reminders.models import Patient
from reminders.request_context import CurrentUser, SessionDep
from reminders.web.pages import page
from reminders.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_QUERY = 120


def _phone(text: str, region: str) -> str | None:
    """The E.164 number a search looks like ("(403) 555-0142", "403.555.0142", "+1 403..."),
    or None. Any possible number is matched, landlines too: this only finds, never sends."""
    if sum(c.isdigit() for c in text) < 7 or re.search(r"[^\d\s().+\-]", text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def matching(text: str, *, region: str) -> ColumnElement[bool]:
    """Patients whose name, phone or email matches what was typed (any case)."""
    wanted = " ".join(text.split()).lower()
    full_name = func.lower(Patient.first_name + " " + Patient.last_name)
    found = [
        full_name.contains(wanted, autoescape=True),
        func.lower(Patient.email).contains(wanted, autoescape=True),
    ]
    if (e164 := _phone(text, region)) is not None:
        found.append(Patient.phone == e164)
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 4 and not re.search(r"[^\d\s().+\-]", text):
        found.append(Patient.phone.contains(digits, autoescape=True))  # the last digits
    return or_(*found)


def find(session: Session, text: str, *, page_number: int) -> tuple[list[Patient], int]:
    """One page of the patients matching `text` (everyone when blank), newest first; and how
    many match in all."""
    query = select(Patient)
    if text.strip():
        query = query.where(matching(text, region=get_settings().phone_region))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Patient.id.desc()).limit(PAGE_SIZE).offset((page_number - 1) * PAGE_SIZE)
    )
    return list(rows), int(total)


def _link(q: str, page_number: int) -> str:
    values = {"q": q} if q else {}
    if page_number > 1:
        values["page"] = str(page_number)
    return "/patients" + (f"?{urlencode(values)}" if values else "")


@router.get("/patients", response_class=HTMLResponse)
def patients_page(
    user: CurrentUser,
    session: SessionDep,
    q: str = "",
    page_number: str = Query("1", alias="page"),
) -> HTMLResponse:
    """Find a patient by name, phone or email."""
    q = q[:MAX_QUERY]
    number = int(page_number) if page_number.isdigit() and 0 < len(page_number) < 7 else 1
    number = max(number, 1)
    patients, total = find(session, q, page_number=number)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    first = (number - 1) * PAGE_SIZE + 1
    body = render(
        "patients.html",
        q=q,
        patients=patients,
        total=total,
        shown=(first, first + len(patients) - 1),
        number=number,
        pages=pages,
        previous=_link(q, number - 1) if number > 1 else None,
        next=_link(q, number + 1) if number < pages else None,
    )
    return page("Patients", body, role=user.role)
