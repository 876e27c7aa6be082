"""Reproductions from the security review: the web enroll form applies the same rules as the
API, and a page's id out of range is a clear answer, not a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from browser import PASSWORD, make_user
from in_process import login_form
from stack import Deployment

EDMONTON = ZoneInfo("America/Edmonton")
VANCOUVER = ZoneInfo("America/Vancouver")
NOW = datetime(2026, 11, 24, 17, 40, tzinfo=EDMONTON)  # a Tuesday


@pytest.fixture
def therapist(stack: Deployment) -> Iterator[httpx.Client]:
    stack.set_clock(NOW)
    email = make_user(stack, "therapist", "Sam Chen")
    with httpx.Client(base_url=stack.web_url(), timeout=10) as client:
        client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf": login_form(client)}
        )
        yield client


def form(client: httpx.Client, **fields: str) -> dict[str, str]:
    page = client.get("/enroll").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    return {
        "csrf": csrf.group(1),
        "first_name": "Anders",
        "last_name": "Lund",
        "phone": "403-555-0142",
        "email": "",
        "channel": "sms",
        "language": "en",
        "time_zone": "America/Edmonton",
        "session_end": "2026-11-24T17:30",
        "plan": "dry-needling",
        "consent": "verbal",
        "action": "save",
        **fields,
    }


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("consent", "REFUSED", "consent: Input should be"),
        ("consent", "x" * 22, "consent: Input should be"),
        ("first_name", "Anders\r\nBcc: someone", "control characters"),
        ("last_name", "Lund\tX", "control characters"),
    ],
)
def test_it_refuses_what_the_api_refuses_and_writes_nothing(
    stack: Deployment, therapist: httpx.Client, field: str, value: str, says: str
) -> None:
    # When the form is sent with a value the API would refuse
    response = therapist.post("/enroll", data=form(therapist, **{field: value}))

    # Then the page says what is wrong, and no patient or message was written
    assert response.status_code == 400
    assert says in response.text
    assert stack.messages() == []


def test_it_reads_the_session_end_in_clinic_time_for_a_patient_elsewhere(
    stack: Deployment, therapist: httpx.Client
) -> None:
    # Given a Vancouver patient whose session ended at 17:30 clinic (Edmonton) time
    response = therapist.post(
        "/enroll",
        data=form(therapist, time_zone="America/Vancouver", session_end="2026-11-24T17:30"),
        follow_redirects=False,
    )
    assert response.status_code == 303

    # Then the first text is due 30 minutes later: 18:00 Edmonton, 17:00 in Vancouver
    first = next(m for m in stack.messages() if m.step_key == "after-session")
    assert first.due_at.astimezone(EDMONTON) == datetime(2026, 11, 24, 18, 0, tzinfo=EDMONTON)
    assert first.due_at.astimezone(VANCOUVER).hour == 17
    assert first.due_at - NOW < timedelta(hours=1)


@pytest.mark.parametrize("path", ["/patients/99999999999", "/patients/0", "/patients/-1"])
def test_it_answers_an_id_out_of_range_without_a_server_error(
    therapist: httpx.Client, path: str
) -> None:
    response = therapist.get(path)
    assert response.status_code in (404, 422)
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "path", ["/patients/1?enrolled=99999999999999999999", "/patients/1?enrolled=-3"]
)
def test_an_out_of_range_number_in_a_page_address_is_refused_plainly(
    stack: Deployment, therapist: httpx.Client, path: str
) -> None:
    response = therapist.get(path)
    assert response.status_code in (404, 422)
    assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
