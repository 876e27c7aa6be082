"""The outcomes panel and the CSV export in a real browser at 390 and 1280 px: the panel is
on the dashboard and fits the screen; an admin reaches the export from it and gets the file."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser import browser_page, make_user, sign_in
from stack import Deployment
from test_browser_dashboard import box, inside
from test_outcomes import add_scores

from reminders.models import Enrollment, Patient

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)


@pytest.mark.parametrize("width", [390, 1280])
def test_the_outcomes_panel_fits_and_the_export_downloads(
    stack: Deployment, width: int, tmp_path: Path
) -> None:
    # Given two patients who answered on days 1 and 7, one with a formula for a last name
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    first = stack.enroll(phone="403-555-0101", first_name="Ana", session_end=SESSION_END)
    second = stack.enroll(phone="403-555-0102", first_name="Ben", session_end=SESSION_END)
    add_scores(stack, first, (1, 6), (7, 3))
    add_scores(stack, second, (1, 7), (7, 6))
    with stack.session() as session:
        session.get_one(Patient, session.get_one(Enrollment, second).patient_id).last_name = "-2+3"
    stack.set_clock(SESSION_END + timedelta(days=8))
    email = make_user(stack, "admin", "Ada Admin")

    with browser_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, stack.web_url(), email)
        page.get_by_role("heading", name="Dashboard").wait_for()

        # Then the outcomes panel shows the medians and the share improving, inside the page
        panel = page.get_by_role("region", name="Outcomes")
        panel.wait_for()
        assert panel.is_visible()
        day_7 = panel.locator(".outcome").filter(has_text="Median pain, day 7")
        assert "4.5 out of 10, over 2 patients" in day_7.inner_text()
        assert "50% (1 of 2 patients" in panel.inner_text()
        panel_box = box(panel)
        assert panel_box["x"] >= 0 and panel_box["x"] + panel_box["width"] <= width
        figures = panel.locator(".outcome")
        assert figures.count() == 4
        for n in range(figures.count()):
            assert inside(box(figures.nth(n)), panel_box), figures.nth(n).inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        # When the admin follows the export link and downloads the patients
        page.get_by_role("link", name="Download patients, messages or check-in scores").click()
        page.get_by_role("heading", name="CSV exports").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        with page.expect_download() as download:
            page.get_by_role("button", name="Download patients").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)

    # Then the file lists both, the formula-looking name made text
    assert saved.name == "patients-2026-11-03-to-2026-12-02.csv"
    header, *rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    names = sorted((r[header.index("first_name")], r[header.index("last_name")]) for r in rows)
    assert names == [("Ana", "Tremblay"), ("Ben", "'-2+3")]
