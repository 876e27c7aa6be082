"""A patient's pain chart in a real browser at 1280 and 390 px: one point per check-in score
over the days since the session, the 2-point rise marked, inside its box."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser import browser_page, make_user, sign_in
from stack import Deployment
from test_browser_dashboard import box, inside

from reminders.models import Enrollment, Reply

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)


@pytest.mark.parametrize("width", [1280, 390])
def test_it_charts_the_pain_scores_and_marks_a_two_point_rise(
    stack: Deployment, width: int
) -> None:
    # Given a patient who answered 4 on day 1, 6 on day 3 (up 2) and 5 on day 7
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    enrollment_id = stack.enroll(phone="403-555-0142", channel="sms", session_end=SESSION_END)
    with stack.session() as session:
        patient_id = session.get_one(Enrollment, enrollment_id).patient_id
        for day, score in ((1, 4), (3, 6), (7, 5)):
            session.add(
                Reply(
                    patient_id=patient_id,
                    channel="sms",
                    received_at=SESSION_END + timedelta(days=day),
                    text=str(score),
                    kind="score",
                    score=score,
                )
            )
    email = make_user(stack, "therapist", "Sam Chen")

    with browser_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, stack.web_url(), email)

        # When the therapist opens the patient's page
        page.goto(f"{stack.web_url()}/patients/{patient_id}")
        chart = page.get_by_role("img", name="Pain scores since the session")

        # Then the chart has the three scores, in words too, with the rise of 2 marked
        label = chart.get_attribute("aria-label")
        assert label == ("Pain scores since the session: day 1.0: 4; day 3.0: 6 (up 2); day 7.0: 5")
        dots = [box(chart.locator("circle.score").nth(n)) for n in range(3)]
        assert dots[0]["x"] < dots[1]["x"] < dots[2]["x"]  # later days to the right
        assert dots[1]["y"] < dots[2]["y"] < dots[0]["y"]  # 6 above 5 above 4
        assert chart.locator("circle.change").count() == 1
        assert abs(box(chart.locator("circle.change"))["x"] - dots[1]["x"]) < 8
        assert "+2" in chart.locator("text").all_text_contents()

        # And it fits its box
        assert inside(box(chart), box(chart.locator("xpath=..")))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
