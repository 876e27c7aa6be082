"""The open flags page in a real browser at 1280 and 390 px: most urgent first, one entry per
reply with all its reasons, who wrote and when, a call link, and closing with a note."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser import browser_page, make_user, sign_in
from in_process import signed_in_client
from playwright.sync_api import expect
from sqlalchemy import select
from stack import Deployment

from reminders.models import Flag, Patient, Reply

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py

EDMONTON = ZoneInfo("America/Edmonton")
NOW = datetime(2026, 11, 25, 11, 0, tzinfo=EDMONTON)


def a_patient(stack: Deployment, first: str, last: str, phone: str) -> int:
    with stack.session() as session:
        patient = Patient(
            first_name=first,
            last_name=last,
            phone=phone,
            email=None,
            language="en",
            time_zone="America/Edmonton",
            channel="sms",
            consent_at=NOW - timedelta(days=1),
            consent_method="verbal",
            consent_recorded_by="sam@bowriver.example",
            created_at=NOW - timedelta(days=1),
        )
        session.add(patient)
        session.flush()
        return patient.id


def a_flagged_reply(
    stack: Deployment,
    patient_id: int,
    text: str,
    kind: str,
    reasons: list[str],
    at: datetime,
    score: int | None = None,
    from_address: str | None = None,
) -> int:
    with stack.session() as session:
        reply = Reply(
            patient_id=patient_id,
            channel="sms",
            from_address=from_address,
            received_at=at,
            text=text,
            kind=kind,
            score=score,
        )
        session.add(reply)
        session.flush()
        for reason in reasons:
            session.add(Flag(patient_id=patient_id, reply_id=reply.id, reason=reason, opened_at=at))
        return reply.id


@pytest.mark.parametrize("width", [1280, 390])
def test_it_lists_flags_by_urgency_one_per_reply_and_closes_one_with_a_note(
    stack: Deployment, width: int, tmp_path: Path
) -> None:
    # Given, oldest first: a score that rose by 2, a 9 that rose by 4 (two reasons, one
    # reply), and, last, an emergency texted from another number than the patient's
    stack.set_clock(NOW)
    rose = a_patient(stack, "Rosa", "Diaz", "+14035550101")
    high = a_patient(stack, "Hugo", "Martel", "+14035550102")
    chest = a_patient(stack, "Chloe", "Nguyen", "+14035550103")
    a_flagged_reply(
        stack,
        rose,
        "5",
        "score",
        ["score rose by 2 since the last answer"],
        NOW - timedelta(hours=3),
        5,
    )
    a_flagged_reply(
        stack,
        high,
        "9 today",
        "score",
        ["score 8 or more", "score rose by 4 since the last answer"],
        NOW - timedelta(hours=2),
        9,
    )
    a_flagged_reply(
        stack,
        chest,
        "my chest hurts when I breathe",
        "emergency",
        ["possible red flag"],
        NOW - timedelta(minutes=10),
        from_address="+15875550177",
    )
    email = make_user(stack, "therapist", "Sam Chen")

    with browser_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, stack.web_url(), email)

        # When the therapist opens the flags from the menu
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Open flags").click()
        entries = page.get_by_role("list", name="open flags").locator("> li")
        entries.first.wait_for()

        # Then the emergency comes first, in red, then the worsening, then the score change
        assert entries.count() == 3
        names = [entries.nth(i).locator(".flag-patient").inner_text() for i in range(3)]
        assert names == ["Chloe Nguyen", "Hugo Martel", "Rosa Diaz"]
        levels = [entries.nth(i).locator(".badge").inner_text() for i in range(3)]
        assert levels == ["Emergency", "Worsening", "Score change"]
        red = entries.first.locator(".badge").evaluate("e => getComputedStyle(e).backgroundColor")
        assert red == "rgb(160, 0, 0)"
        others = [
            entries.nth(i).locator(".badge").evaluate("e => getComputedStyle(e).backgroundColor")
            for i in (1, 2)
        ]
        assert "rgb(160, 0, 0)" not in others

        # And each entry shows the reply, its time in clinic time and every reason at once
        first = entries.first.inner_text()
        assert "my chest hurts when I breathe" in first and "Wed Nov 25, 10:50" in first
        assert entries.nth(1).locator(".reasons li").all_inner_texts() == [
            "score 8 or more",
            "score rose by 4 since the last answer",
        ]

        # And calling the patient is one tap, to the number the emergency came from
        call = entries.first.get_by_role("link", name="Call Chloe Nguyen")
        assert call.get_attribute("href") == "tel:+15875550177"
        box = call.bounding_box()
        assert box is not None and box["height"] >= 44
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(tmp_path / f"flags-{width}.png"), full_page=True)

        # When they close the emergency with a note
        entries.first.get_by_label("Note (optional)").fill("Called: sent to emergency")
        entries.first.get_by_role("button", name="Close").click()

        # Then it is gone from the list, and the others stay
        # (the address stays /flags, so wait for the list itself to change)
        expect(page.locator(".flag-patient")).to_have_text(["Hugo Martel", "Rosa Diaz"])

        # And Hugo's own page shows his open flag the same way, and the closed one nowhere
        page.get_by_role("link", name="Hugo Martel", exact=True).click()
        page.get_by_role("heading", name="Open flags").wait_for()
        mine = page.get_by_role("list", name="open flags").locator("> li")
        assert mine.count() == 1
        assert mine.locator(".reasons li").count() == 2

    # And the note is kept with who closed it
    with stack.session() as session:
        closed = session.scalars(select(Flag.closed_by).where(Flag.patient_id == chest)).all()
    assert closed == ["Sam Chen: Called: sent to emergency"]


def test_it_closes_every_flag_of_a_reply_at_once_and_refuses_a_note_too_long(
    stack: Deployment,
) -> None:
    stack.set_clock(NOW)
    high = a_patient(stack, "Hugo", "Martel", "+14035550102")
    a_flagged_reply(
        stack,
        high,
        "9",
        "score",
        ["score 8 or more", "score rose by 4 since the last answer"],
        NOW - timedelta(hours=1),
        9,
    )
    email = make_user(stack, "therapist", "Sam Chen")
    with signed_in_client(stack, email) as client:
        page = client.get("/flags").text
        action = re.findall(r'action="(/flags/\d+/close)"', page)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert len(action) == 1 and csrf is not None
        too_long = client.post(action[0], data={"csrf": csrf.group(1), "note": "x" * 200})
        assert too_long.status_code == 400 and "The note is too long" in too_long.text
        with stack.session() as session:
            assert session.scalars(select(Flag.closed_at)).all() == [None, None]
        done = client.post(action[0], data={"csrf": csrf.group(1), "note": "fine"})
        assert done.status_code == 303
    with stack.session() as session:
        assert session.scalars(select(Flag.closed_by)).all() == ["Sam Chen: fine"] * 2
