"""An admin edits a message in the browser, on a laptop and on a phone: both languages side by
side (stacked on a phone), the French text and the English email as structured text, the
phone preview and segment count, the words changed, a bad placeholder refused next to its
field, publishing after a question; then patients get exactly what was published."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser import browser_page, make_user, sign_in
from playwright.sync_api import Page, expect
from stack import Deployment

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
FRENCH_SMS = (
    "{{ clinic_name }} : Bonjour {{ first_name }}, buvez de l'eau et bougez doucement. "
    "Répondez ARRET pour vous désabonner."
)
FRENCH_TEXT = (
    "Bow River Physiotherapy : Bonjour Alexandra, buvez de l'eau et bougez doucement. "
    "Répondez ARRET pour vous désabonner."
)
ENGLISH_EMAIL = """Hi {{ first_name }},

Thanks for coming in today. Some soreness is normal for 1 to 3 days:

- drink water
- move gently

[Tell us how you feel]({{ checkin_url }})

Trouble breathing or chest pain? **Call 911.**

Unsubscribe: {{ unsubscribe_url }}"""


def side_by_side(page: Page) -> bool:
    english = page.locator("#locale-en").bounding_box()
    french = page.locator("#locale-fr").bounding_box()
    assert english is not None and french is not None
    return french["x"] > english["x"] + english["width"] - 1 and french["y"] == english["y"]


@pytest.mark.parametrize("width", [1280, 390], ids=["laptop", "phone"])
def test_it_lets_an_admin_edit_both_languages_see_the_changes_and_publish(
    stack: Deployment, width: int
) -> None:
    # Given an admin on the after-session message
    email = make_user(stack, "admin", "Ada Admin")
    with browser_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, stack.web_url(), email)
        page.goto(f"{stack.web_url()}/admin/templates/after-session/fr")
        french_sms = page.get_by_label("French SMS", exact=True)
        expect(french_sms).not_to_have_value("")
        expect(page.locator("#sms-cost-fr")).to_contain_text("GSM-7")
        # Both languages side by side on a laptop, one under the other on a phone, no sideways scroll
        assert side_by_side(page) is (width == 1280)
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        # When they type a long French text, the count follows; then they settle on a short one
        french_sms.fill(FRENCH_SMS + " Merci et à bientôt." * 4)
        expect(page.locator("#sms-cost-fr")).to_contain_text("2 segments")
        french_sms.fill(FRENCH_SMS)
        expect(page.locator("#sms-cost-fr")).to_contain_text("GSM-7: 1 segment.")
        expect(page.locator("#preview-sms-fr")).to_have_text(FRENCH_TEXT)
        # ...and see the words changed since the published version
        changes = page.locator("#changes-fr")
        expect(changes).to_contain_text(re.compile(r"SMS: \d+ words added, \d+ removed"))
        expect(changes.locator("ins").first).to_be_visible()
        expect(changes.locator("ins", has_text="buvez")).to_have_count(1)

        # When they write the English email as structured text
        english = page.locator("#locale-en")
        english.get_by_role("button", name="Write it as structured text").click()
        english_email = page.get_by_label("English email", exact=True)
        english_email.fill(ENGLISH_EMAIL)

        # Then the phone preview shows the email as a patient gets it
        email_preview = page.frame_locator("#preview-html-en")
        link = email_preview.get_by_role("link", name="Tell us how you feel")
        expect(link).to_have_attribute("href", "https://clinic.example/c/sample-token")
        expect(email_preview.get_by_role("listitem")).to_have_text(["drink water", "move gently"])
        expect(page.locator("#preview-text-en")).to_contain_text(
            "- drink water\n- move gently\n\nTell us how you feel (https://clinic.example/c/sample-token)"
        )
        expect(page.locator("#changes-en")).to_contain_text(re.compile(r"Email: \d+ words added"))

        # When they type a placeholder that does not exist, it is said next to the field
        french_sms.fill(FRENCH_SMS.replace("first_name", "firstname"))
        expect(page.locator("#sms-problems-fr")).to_contain_text("{{ firstname }}")
        expect(french_sms).to_have_attribute("aria-invalid", "true")
        # ...saving it is refused by the server, publishing is not offered, nothing changes
        page.get_by_role("button", name="Save drafts").click()
        expect(page.locator("#status")).to_contain_text("The French draft was not saved")
        page.get_by_role("button", name="Publish", exact=True).click()
        expect(page.locator("#status")).to_contain_text("Not published: fix the problems")
        expect(page.get_by_role("alertdialog")).to_be_hidden()
        french_sms.fill(FRENCH_SMS)
        expect(page.locator("#sms-problems-fr")).to_be_hidden()
        expect(french_sms).to_have_attribute("aria-invalid", "false")

        # When they publish: the question says what changes, in words; "Not now" changes nothing
        page.get_by_role("button", name="Publish", exact=True).click()
        question = page.get_by_role("alertdialog", name="Publish these changes?")
        expect(question).to_contain_text(re.compile(r"English: .*Email: \d+ words added"))
        expect(question).to_contain_text(re.compile(r"French: SMS: \d+ words added, \d+ removed"))
        question.get_by_role("button", name="Not now").click()
        expect(question).to_be_hidden()
        expect(page.locator("#version-fr")).to_have_text("Published: version 1.")
        page.get_by_role("button", name="Publish", exact=True).click()
        question.get_by_role("button", name="Yes, publish").click()
        expect(page.locator("#status")).to_have_text("Published English v2 and French v2.")
        expect(page.locator("#version-fr")).to_have_text("Published: version 2.")
        expect(page.locator("#changes-fr")).to_contain_text("SMS: no change")
        # the email stays structured text when it is opened again
        page.reload()
        expect(english_email).to_have_value(ENGLISH_EMAIL)

    # Then the next patients get what was published: the French text, the English email
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(phone="403-555-0123", channel="sms", language="fr", session_end=SESSION_END)
    stack.enroll(email="pat@example.com", channel="email", session_end=SESSION_END)
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    assert stack.twilio.wait_for(1, timeout=30)[0]["body"] == FRENCH_TEXT
    sent = stack.smtp.wait_for(1, timeout=30)[0]
    text = sent.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = sent.get_body(("html",)).get_content()
    unsubscribe = sent["List-Unsubscribe"].strip("<>")
    checkin = re.search(r"Tell us how you feel \((https://\S+)\)", text)
    assert checkin is not None, text
    assert text.strip() == (
        "Hi Alexandra,\n\nThanks for coming in today. Some soreness is normal for 1 to 3 days:"
        "\n\n- drink water\n- move gently\n\n"
        f"Tell us how you feel ({checkin.group(1)})\n\n"
        "Trouble breathing or chest pain? Call 911.\n\n"
        f"Unsubscribe: {unsubscribe}"
    )
    assert f'<a href="{checkin.group(1)}" style=' in html
    assert "<strong>Call 911.</strong>" in html and '<html lang="en">' in html
    assert html.count("<li ") == 2 and f'href="{unsubscribe}"' in html


def test_it_refuses_template_pages_to_a_therapist(stack: Deployment) -> None:
    email = make_user(stack, "therapist", "Sam Chen")
    with browser_page() as page:
        sign_in(page, stack.web_url(), email)
        response = page.goto(f"{stack.web_url()}/admin/templates/after-session")
        assert response is not None and response.status == 403
        assert "Only an admin" in page.content()
