"""CSV exports of patients, messages and check-in scores: for admins, between two dates in
clinic time, formula-looking cells made harmless, every download audited."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from factories import new_user
from in_process import signed_in_client
from sqlalchemy import select
from stack import Deployment
from test_outcomes import add_scores

from reminders.models import AuditEvent, Enrollment, Patient

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)  # the clock's "today"
EARLIER = SESSION_END - timedelta(days=40)  # outside the default last 30 days
FORMULA = '=HYPERLINK("http://evil.example","Click")'


def rows_of(response: httpx.Response) -> list[list[str]]:
    assert response.text.startswith("\ufeff")  # spreadsheets read the file as UTF-8
    return list(csv.reader(io.StringIO(response.text[1:])))


def exports_audited(stack: Deployment) -> list[AuditEvent]:
    with stack.session() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "export.downloaded"))
        )


def enroll_two(stack: Deployment) -> tuple[int, int]:
    """A patient seen 40 days ago, and one seen today whose first name looks like a
    formula; their enrollment ids."""
    stack.set_clock(EARLIER + timedelta(minutes=5))
    earlier = stack.enroll(phone="403-555-0101", first_name="Élodie", session_end=EARLIER)
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    today = stack.enroll(phone="403-555-0102", first_name="Sam", session_end=SESSION_END)
    with stack.session() as session:
        patient = session.get_one(Patient, session.get_one(Enrollment, today).patient_id)
        patient.first_name = FORMULA
    return earlier, today


@pytest.fixture
def admin(stack: Deployment) -> str:
    return new_user(stack, "admin", "Ada Admin")[1]


def test_it_downloads_the_last_30_days_of_patients_with_formulas_made_harmless(
    stack: Deployment, admin: str
) -> None:
    # Given a patient seen 40 days ago and one today with a formula for a first name
    enroll_two(stack)

    # When an admin downloads the patients with no dates chosen
    with signed_in_client(stack, admin) as client:
        found = client.get("/exports/patients.csv")

    # Then it is a file to save, not to keep in a cache, named for its dates
    assert found.status_code == 200
    assert found.headers["content-type"] == "text/csv; charset=utf-8"
    assert found.headers["content-disposition"] == (
        'attachment; filename="patients-2026-10-26-to-2026-11-24.csv"'
    )
    assert found.headers["cache-control"] == "no-store"
    # And it lists today's patient only, the formula and the + of the mobile escaped
    header, *rows = rows_of(found)
    assert header[:5] == ["patient_id", "first_name", "last_name", "mobile", "email"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["first_name"] == "'" + FORMULA
    assert row["last_name"] == "Tremblay"
    assert row["mobile"] == "'+14035550102"
    assert row["last_session_in_dates"] == "2026-11-24T14:00:00-07:00"
    # And the download is in the audit log: what, how many, which dates, and nobody's name
    (event,) = exports_audited(stack)
    assert (event.actor, event.subject_type, event.subject_id) == (admin, "export", None)
    assert event.detail == {
        "kind": "patients",
        "rows": 1,
        "date_from": "2026-10-26",
        "date_to": "2026-11-24",
    }


def test_the_dates_choose_the_rows_in_clinic_time(stack: Deployment, admin: str) -> None:
    # Given the same two patients
    earlier, _ = enroll_two(stack)

    with signed_in_client(stack, admin) as client:
        # When the admin asks for the day 40 days ago only
        day = EARLIER.date().isoformat()
        one_day = client.get("/exports/patients.csv", params={"from": day, "to": day})
        # And for both days
        both = client.get(
            "/exports/patients.csv", params={"from": day, "to": SESSION_END.date().isoformat()}
        )
        # And for the messages of the earlier patient's session day
        messages = client.get("/exports/messages.csv", params={"from": day, "to": day})

    # Then each holds the patients seen on those days
    assert [r[2] for r in rows_of(one_day)[1:]] == ["Tremblay"]
    assert [r[1] for r in rows_of(one_day)[1:]] == ["Élodie"]
    assert len(rows_of(both)) == 3
    # And the messages are the ones due that day on the clinic's clock, in clinic time
    header, *rows = rows_of(messages)
    expected = [
        m
        for m in stack.messages(enrollment_id=earlier)
        if m.due_at.astimezone(EDMONTON).date() == EARLIER.date()
    ]
    assert expected and [int(r[0]) for r in rows] == [m.id for m in expected]
    assert header[:7] == ["message_id", "patient_id", "enrollment_id", "step", "channel",
                          "check_in", "status"]  # fmt: skip
    # (mid-October: summer time, six hours behind UTC, not seven as in November)
    assert all(r[header.index("due_at")].endswith("-06:00") for r in rows)
    assert [e.detail["rows"] for e in exports_audited(stack)] == [1, 2, len(expected)]


def test_it_downloads_check_in_scores(stack: Deployment, admin: str) -> None:
    # Given a patient who answered 4, then "worse", then 2
    _, today = enroll_two(stack)
    add_scores(stack, today, (20 / 24, 4), (30 / 24, None), (70 / 24, 2))
    with stack.session() as session:
        patient_id = session.get_one(Enrollment, today).patient_id

    # When the admin downloads the scores of the week after the session
    with signed_in_client(stack, admin) as client:
        found = client.get("/exports/scores.csv", params={"from": "2026-11-24", "to": "2026-11-30"})

    # Then the two scores are there, in clinic time
    header, *rows = rows_of(found)
    assert header == ["reply_id", "patient_id", "check_in_message_id", "channel",
                      "received_at", "score"]  # fmt: skip
    assert [(r[1], r[4], r[5]) for r in rows] == [
        (str(patient_id), "2026-11-25T10:00:00-07:00", "4"),
        (str(patient_id), "2026-11-27T12:00:00-07:00", "2"),
    ]
    assert exports_audited(stack)[0].detail["kind"] == "scores"


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"from": "2026-13-01"}, "The start date is not a date like 2026-11-24."),
        ({"to": "yesterday"}, "The end date is not a date like 2026-11-24."),
        ({"to": "2026-11-24" * 50}, "The end date is not a date like 2026-11-24."),
        ({"from": "0001-01-01"}, "The start date must be between 2000 and 2099."),
        (
            {"from": "2026-11-20", "to": "2026-11-10"},
            "The end date is before the start date: choose an end on or after it.",
        ),
    ],
)
def test_a_date_it_cannot_use_gets_a_page_saying_why(
    stack: Deployment, admin: str, params: dict[str, str], problem: str
) -> None:
    stack.set_clock(SESSION_END)
    with signed_in_client(stack, admin) as client:
        found = client.get("/exports/patients.csv", params=params)
    assert found.status_code == 400
    assert found.headers["content-type"].startswith("text/html")
    assert f'<p class="error" id="date-problem" role="alert">{problem}</p>' in found.text
    assert exports_audited(stack) == []


def test_a_therapist_is_told_why_exports_are_for_admins(stack: Deployment) -> None:
    # Given a therapist and a patient
    enroll_two(stack)
    _, therapist = new_user(stack, "therapist")

    with signed_in_client(stack, therapist) as client:
        dashboard = client.get("/")
        form = client.get("/exports")
        download = client.get("/exports/patients.csv")

    # Then the dashboard offers no export, and the pages refuse, saying why
    assert "/exports" not in dashboard.text
    for refused in (form, download):
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
        assert "Only admins can download exports." in refused.text
        assert "Health Information Act" in refused.text
        assert "Tremblay" not in refused.text
    assert exports_audited(stack) == []


def test_an_admin_finds_the_exports_from_the_dashboard(stack: Deployment, admin: str) -> None:
    stack.set_clock(SESSION_END)
    with signed_in_client(stack, admin) as client:
        dashboard = client.get("/")
        form = client.get("/exports")
        unknown = client.get("/exports/everything.csv")
    assert '<a href="/exports">' in dashboard.text
    # The form is filled with the last 30 days, one button per file
    assert 'name="from" type="date" value="2026-10-26"' in form.text
    assert 'name="to" type="date" value="2026-11-24"' in form.text
    assert re.findall(r'formaction="(/exports/\w+\.csv)"', form.text) == [
        "/exports/patients.csv",
        "/exports/messages.csv",
        "/exports/scores.csv",
    ]
    assert unknown.status_code == 404
    assert exports_audited(stack) == []
