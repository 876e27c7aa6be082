"""The patient's check-in pages in a real browser, as a French-speaking patient sees them on a
phone (390 px) and on a computer (1280 px): their language, the clinic's name, big buttons,
and a confirmation of what was recorded."""

from __future__ import annotations

import pytest
from browser import browser_page
from security.test_patient_links import checkin_email, replies
from stack import Deployment

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py


@pytest.mark.parametrize("width", [390, 1280])
def test_it_shows_a_french_patient_a_french_check_in_with_big_buttons(
    stack: Deployment, width: int
) -> None:
    # Given a French-speaking patient's check-in email
    message, (page_link, *_) = checkin_email(stack, language="fr")

    with browser_page() as page:
        # When they open it in a browser this wide
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(page_link)

        # Then the page is marked French, asks in French and names the clinic
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.get_by_role("heading", level=1).inner_text() == (
            "Comment va votre douleur aujourd'hui?"
        )
        assert page.get_by_text("Bow River Physiotherapy").first.is_visible()
        assert page.get_by_text("Appelez le 911").is_visible()

        # And the 11 buttons fill the width of their form, each at least 44 px tall
        buttons = page.locator("form.scale button")
        assert buttons.count() == 11
        form = page.locator("form.scale").bounding_box()
        assert form is not None
        for n in range(11):
            box = buttons.nth(n).bounding_box()
            assert box is not None and box["height"] >= 44, (n, box)
            assert box["width"] >= form["width"] - 1, (n, box, form)
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        # When they tap 3
        buttons.nth(3).click()

        # Then the page confirms in French what was recorded
        page.get_by_text("Vous avez répondu 3 sur 10.").wait_for()
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.get_by_role("heading", level=1).inner_text() == "Merci"
        assert "Bow River Physiotherapy" in page.locator("main").inner_text()
    assert replies(stack) == [("email", 3, message.id)]
