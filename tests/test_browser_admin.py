"""An admin edits a template in the browser: live preview, segment count, publish, next message."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from browser import browser_page, make_user, sign_in
from playwright.sync_api import expect
from stack import Deployment

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
NEW_SMS = "{{ clinic_name }}: Hi {{ first_name }}, new words from the admin. Reply STOP to opt out."


def test_it_lets_an_admin_edit_preview_and_publish_a_template(stack: Deployment) -> None:
    # Given an admin on the after-session English template
    email = make_user(stack, "admin", "Ada Admin")
    with browser_page() as page:
        sign_in(page, stack.web_url(), email)
        page.goto(f"{stack.web_url()}/admin/templates/after-session/en")
        sms = page.get_by_label("SMS", exact=True)
        page.wait_for_function("document.getElementById('sms').value.length > 0")
        page.wait_for_function("document.getElementById('sms-cost').textContent.includes('GSM-7')")
        # The after-session text carries the 911 line: two GSM-7 segments
        assert "GSM-7, 2 segment(s)" in page.locator("#sms-cost").inner_text()

        # When they type a much longer text with a character outside GSM-7
        sms.fill(NEW_SMS + " Merci, à bientôt " * 4)

        # Then the preview and the segment count follow as they type
        page.wait_for_function("document.getElementById('sms-cost').textContent.includes('UCS-2')")
        assert "Hi Alexandra, new words from the admin" in page.locator("#preview-sms").inner_text()
        cost = page.locator("#sms-cost").inner_text()
        assert "UCS-2" in cost and "segment(s)" in cost and "1 segment(s)" not in cost

        # When they settle on the new text, save the draft and publish it
        sms.fill(NEW_SMS)
        page.wait_for_function("document.getElementById('sms-cost').textContent.includes('GSM-7')")
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_function("document.getElementById('status').textContent.includes('saved')")
        # (publishing asks first: "Not now" leaves the draft a draft)
        page.get_by_role("button", name="Publish draft").click()
        question = page.get_by_role("alertdialog", name="Publish this draft?")
        question.get_by_role("button", name="Not now").click()
        expect(question).to_be_hidden()
        page.get_by_role("button", name="Publish draft").click()
        question.get_by_role("button", name="Yes, publish").click()
        page.wait_for_function(
            "document.getElementById('status').textContent.includes('Published')"
        )

    # Then the next patient enrolled gets the new words
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(phone="403-555-0123", channel="sms", session_end=SESSION_END)
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    body = stack.twilio.wait_for(1, timeout=30)[0]["body"]
    assert (
        body
        == "Bow River Physiotherapy: Hi Alexandra, new words from the admin. Reply STOP to opt out."
    )


def test_it_refuses_template_pages_to_a_therapist(stack: Deployment) -> None:
    email = make_user(stack, "therapist", "Sam Chen")
    with browser_page() as page:
        sign_in(page, stack.web_url(), email)
        response = page.goto(f"{stack.web_url()}/admin/templates/after-session/en")
        assert response is not None and response.status == 403
        assert "Only an admin" in page.content()
