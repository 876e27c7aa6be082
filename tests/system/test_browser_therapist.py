"""A therapist between two patients: sign in, enroll, check the plan, watch the timeline."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser import browser_page, make_user, sign_in
from stack import Deployment

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py

EDMONTON = ZoneInfo("America/Edmonton")
NOW = datetime(2026, 11, 24, 14, 5, tzinfo=EDMONTON)


def test_it_lets_a_therapist_enroll_a_patient_and_see_the_timeline(
    stack: Deployment, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # Given a therapist account, five minutes after a session
    email = make_user(stack, "therapist", "Sam Chen")
    stack.set_clock(NOW)
    base = stack.web_url()

    with browser_page() as page:
        # When they sign in, fill the form with the keyboard and preview
        sign_in(page, base, email)
        assert page.url.endswith("/enroll")
        page.get_by_label("First name").fill("Maya")
        page.get_by_label("Last name").fill("Okafor")
        page.get_by_label("Mobile phone").fill("(403) 555-0142")
        page.get_by_label("Session ended (clinic time)").fill("2026-11-24T14:00")
        page.get_by_role("button", name="Preview messages").click()

        # Then the planned messages show at local times, and nothing is saved yet
        planned = page.get_by_role("table", name="planned messages")
        assert "Tue Nov 24, 14:30" in planned.inner_text()
        assert "next-morning" in planned.inner_text()
        assert stack.messages() == []

        # When they enroll
        page.get_by_role("button", name="Enroll").click()
        page.wait_for_url("**/patients/*")

        # Then the patient's timeline lists the five texts, scheduled
        timeline = page.get_by_role("table", name="timeline").inner_text()
        assert timeline.count("scheduled") == 5
        page.screenshot(path=str(tmp_path / "timeline.png"))

        # And once the first text has gone out, the timeline says so
        stack.set_clock(NOW + timedelta(minutes=26))
        stack.twilio.wait_for(1, timeout=30)
        stack.wait_until(lambda: any(m.status == "sent" for m in stack.messages()), what="sent")
        page.reload()
        assert "sent" in page.get_by_role("table", name="timeline").inner_text()

        # And pausing is one button away, recorded on the enrollment
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Resume").wait_for()
        assert "paused" in page.content()
    assert {m.channel for m in stack.messages()} == {"sms"}
    assert stack.twilio.messages[0]["to"] == "+14035550142"


def test_it_shows_a_clear_error_and_saves_nothing_for_a_bad_phone(stack: Deployment) -> None:
    email = make_user(stack, "therapist", "Sam Chen")
    stack.set_clock(NOW)
    with browser_page() as page:
        sign_in(page, stack.web_url(), email)
        page.get_by_label("First name").fill("Maya")
        page.get_by_label("Mobile phone").fill("555")
        page.get_by_role("button", name="Enroll").click()
        assert "phone number is not a valid number" in page.get_by_role("alert").inner_text()
        assert page.get_by_label("First name").input_value() == "Maya"  # what was typed is kept
    assert stack.messages() == []


def test_it_shows_each_texts_segments_in_the_enroll_preview(stack: Deployment) -> None:
    # Given a therapist enrolling Anaïs, who reads French, by text and email
    email = make_user(stack, "therapist", "Sam Chen")
    stack.set_clock(NOW)
    with browser_page() as page:
        sign_in(page, stack.web_url(), email)
        page.get_by_label("First name").fill("Anaïs")
        page.get_by_label("Mobile phone").fill("(403) 555-0142")
        page.get_by_label("Email").fill("anais@example.com")
        page.get_by_label("Send by").select_option("both")
        page.get_by_label("Language").select_option("fr")
        page.get_by_label("Session ended (clinic time)").fill("2026-11-24T14:00")

        # When they preview the messages
        page.get_by_role("button", name="Preview messages").click()
        planned = page.get_by_role("table", name="planned messages")
        planned.wait_for()  # the preview is a new page: read it once it has loaded
        header = planned.locator("th").all_inner_texts()
        rows = [row.locator("td").all_inner_texts() for row in planned.locator("tr").all()[1:]]

    # Then each text shows its segments, in GSM-7 (her name goes as Anais), and no email does
    size = header.index("Text size")
    texts = [row[size] for row in rows if row[2] == "sms"]
    emails = [row[size] for row in rows if row[2] == "email"]
    assert len(texts) == 5 and len(emails) == 5
    assert all(re.fullmatch(r"[1-9] segments? \(GSM-7\)", text) for text in texts), texts
    assert emails == [""] * 5
    assert stack.messages() == []
