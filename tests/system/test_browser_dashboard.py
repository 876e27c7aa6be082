"""The dashboard in a real browser at 1280 and 390 px: reached from the menu, and its charts
fit their boxes, with no number running into a label or the next chart."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser import browser_page, make_user, sign_in
from playwright.sync_api import Locator
from stack import Deployment

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return found


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


@pytest.mark.parametrize("width", [390, 1280])
def test_the_dashboard_charts_fit_their_boxes(stack: Deployment, width: int) -> None:
    # Given a few patients with messages due today and this week
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    for n in range(3):
        stack.enroll(phone=f"403-555-01{n}3", channel="sms", session_end=SESSION_END)
    email = make_user(stack, "therapist", "Sam Chen")

    with browser_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, stack.web_url(), email)

        # When the therapist goes to the dashboard from the menu
        page.goto(f"{stack.web_url()}/patients")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
        page.get_by_role("heading", name="Dashboard").wait_for()

        # Then each chart lies inside its box, and so do its labels, bars and numbers
        charts = page.locator("section svg.chart")
        assert charts.count() == 2
        for i in range(2):
            chart = charts.nth(i)
            section = box(chart.locator("xpath=.."))
            chart_box = box(chart)
            assert chart_box["width"] > 200, chart_box
            assert inside(chart_box, section), (chart_box, section)
            texts = chart.locator("text")
            for n in range(texts.count()):
                assert inside(box(texts.nth(n)), chart_box), texts.nth(n).inner_html()
            # And every label ends before the bars begin
            labels = [box(texts.nth(n)) for n in range(0, texts.count(), 2)]
            bar_left = box(chart.locator("rect").first)["x"]
            assert all(label["x"] + label["width"] < bar_left for label in labels)
        assert "sent 0, delivered 0" in (charts.first.get_attribute("aria-label") or "")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
