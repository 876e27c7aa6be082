"""The therapist's patient pages in a real browser at 1280 and 390 px: search by name, phone
in any format or email; paging past 100; the time zone list; the confirmation after enrolling;
"Cancel remaining" asking first; the timeline showing what the patient actually received."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser import browser_page, make_user, sign_in
from playwright.sync_api import Page, expect
from stack import Deployment

from reminders.models import Patient

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py

EDMONTON = ZoneInfo("America/Edmonton")
NOW = datetime(2026, 11, 24, 14, 5, tzinfo=EDMONTON)


def patients(stack: Deployment, *people: tuple[str, str, str | None, str | None]) -> None:
    """Patients (first, last, phone in E.164, email), added in this order."""
    with stack.session() as session:
        for first, last, phone, email in people:
            session.add(
                Patient(
                    first_name=first,
                    last_name=last,
                    phone=phone,
                    email=email,
                    language="en",
                    time_zone="America/Edmonton",
                    channel="sms" if phone else "email",
                    consent_at=NOW,
                    consent_method="verbal",
                    consent_recorded_by="sam@bowriver.example",
                    created_at=NOW,
                )
            )


def search(page: Page, base: str, text: str) -> list[str]:
    page.goto(f"{base}/patients")
    page.get_by_label("Find a patient by name, phone or email").fill(text)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/patients?q=*")
    return page.get_by_role("table", name="patients").get_by_role("link").all_inner_texts()


@pytest.mark.parametrize("width", [1280, 390])
def test_it_finds_a_patient_by_name_phone_in_any_format_or_email(
    stack: Deployment, width: int
) -> None:
    # Given two patients
    patients(
        stack,
        ("Maya", "Okafor", "+14035550142", "maya.okafor@example.com"),
        ("Hugo", "Martel", "+15875550199", "hugo@example.org"),
    )
    email = make_user(stack, "therapist", "Sam Chen")
    with browser_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        base = stack.web_url()
        sign_in(page, base, email)

        # When the therapist searches by the number as the patient says it, in any format
        # Then Maya is found, and only her
        assert search(page, base, "403.555.0142") == ["Maya Okafor"]
        assert search(page, base, "(403) 555-0142") == ["Maya Okafor"]
        assert search(page, base, "+1 403 555 0142") == ["Maya Okafor"]
        # And by the last digits, part of the email, or part of the name in any case
        assert search(page, base, "0199") == ["Hugo Martel"]
        assert search(page, base, "MAYA.OKAFOR@") == ["Maya Okafor"]
        assert search(page, base, "okaf") == ["Maya Okafor"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        # And a search that finds nobody says so
        page.get_by_label("Find a patient by name, phone or email").fill("780-555-0000")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("status")).to_contain_text("No patient matches")


@pytest.mark.parametrize("width", [1280, 390])
def test_it_pages_through_the_patients_to_the_101st(stack: Deployment, width: int) -> None:
    # Given 101 patients, Patient 001 added first
    patients(stack, *(("Patient", f"{n:03d}", None, f"p{n}@example.com") for n in range(1, 102)))
    email = make_user(stack, "therapist", "Sam Chen")
    with browser_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, stack.web_url(), email)

        # When the therapist opens the list
        page.goto(f"{stack.web_url()}/patients")

        # Then it says how many there are, newest first, and a page at a time
        expect(page.get_by_role("status")).to_have_text("Patients 1–50 of 101.")
        links = page.get_by_role("table", name="patients").get_by_role("link")
        assert links.first.inner_text() == "Patient 101" and links.count() == 50

        # When they go to the next page, and the next
        pages = page.get_by_role("navigation", name="Pages")
        pages.get_by_role("link", name="Next").click()
        expect(page.get_by_role("status")).to_have_text("Patients 51–100 of 101.")
        pages.get_by_role("link", name="Next").click()

        # Then the 101st patient (the first added) is there, alone on the last page
        expect(page.get_by_role("status")).to_have_text("Patients 101–101 of 101.")
        assert links.all_inner_texts() == ["Patient 001"]
        expect(pages).to_contain_text("Page 3 of 3")
        assert pages.get_by_role("link", name="Next").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1280, 390])
def test_the_time_zone_is_a_list_of_places_and_refuses_est(stack: Deployment, width: int) -> None:
    email = make_user(stack, "therapist", "Sam Chen")
    stack.set_clock(NOW)
    with browser_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, stack.web_url(), email)

        # Given the enroll form: the time zone is the clinic's, with a list of places to search
        zone = page.get_by_label("Time zone")
        assert zone.input_value() == "America/Edmonton"
        options = page.locator(f"datalist#{zone.get_attribute('list')} option")
        values = options.evaluate_all("os => os.map(o => o.value)")
        assert "America/Vancouver" in values and "America/St_Johns" in values
        assert "EST" not in values and len(values) > 300

        # When the therapist types the abbreviation EST and enrolls
        page.get_by_label("First name").fill("Maya")
        page.get_by_label("Mobile phone").fill("(403) 555-0142")
        zone.fill("EST")
        page.get_by_role("button", name="Enroll").click()

        # Then they are told to choose a place, what they typed is kept, and nothing is saved
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text('time zone "EST" is an abbreviation, not a place')
        expect(alert).to_contain_text("America/Toronto")
        assert page.get_by_label("First name").input_value() == "Maya"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert stack.messages() == []


def test_it_confirms_the_enrollment_shows_what_was_sent_and_asks_before_cancelling(
    stack: Deployment,
) -> None:
    email = make_user(stack, "therapist", "Sam Chen")
    stack.set_clock(NOW)
    with browser_page() as page:
        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, stack.web_url(), email)

        # When a therapist enrolls a patient in Vancouver
        page.get_by_label("First name").fill("Maya")
        page.get_by_label("Last name").fill("Okafor")
        page.get_by_label("Mobile phone").fill("(403) 555-0142")
        page.get_by_label("Time zone").fill("America/Vancouver")
        page.get_by_label("Session ended (clinic time)").fill("2026-11-24T14:00")
        page.get_by_role("button", name="Enroll").click()
        page.wait_for_url("**/patients/*")

        # Then the page confirms it, with the first message's time in her zone
        notice = page.get_by_role("status").first
        expect(notice).to_contain_text("Maya Okafor is enrolled in")
        expect(notice).to_contain_text("5 messages planned; the first goes out Tue Nov 24, 13:30")

        # When the first text has gone out
        stack.set_clock(NOW + timedelta(minutes=26))
        sent = stack.twilio.wait_for(1, timeout=30)[0]
        stack.wait_until(lambda: stack.messages(status="sent"), what="the first text sent")
        page.reload()

        # Then the timeline shows the text she received, by text, sent
        first_row = page.get_by_role("table", name="timeline").locator("tr").nth(1)
        row = first_row.inner_text()
        assert sent["body"].splitlines()[0] in row
        assert "Text" in row and "sent" in row and "after-session" not in row

        # When they press "Cancel remaining" and answer No to the question
        question = "Cancel the 4 messages not yet sent to Maya Okafor? This cannot be undone."
        page.get_by_role("button", name="Cancel remaining").click()
        asked = page.get_by_role("alertdialog", name=question)
        asked.get_by_role("button", name="Not now").click()

        # Then nothing is cancelled
        expect(asked).to_have_count(0)
        assert "cancelled" not in {m.status for m in stack.messages()}

        # When they press it again and answer yes
        page.get_by_role("button", name="Cancel remaining").click()
        asked.get_by_role("button", name="Yes, go ahead").click()
        page.get_by_text("(cancelled)").wait_for()
    assert sorted(m.status for m in stack.messages()) == ["cancelled"] * 4 + ["sent"]
