"""Every staff and patient page, at 1280 px (a computer) and 390 px (a phone), checked with
axe-core's WCAG rules (tests/vendor/axe-core): no serious or critical violation (contrast,
labels, names, landmarks...), and nothing wider than the screen.

Each page is also saved as a picture under docs/screenshots/ (NAME-WIDTH.png, overwritten on
every run), for the README's tour of the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser import browser_page, sign_in
from factories import new_user
from playwright.sync_api import Page, expect
from sqlalchemy import select
from stack import Deployment
from test_browser_flags import a_flagged_reply

from reminders.links import CHECKIN, UNSUBSCRIBE, make_token
from reminders.models import Enrollment, Message, User

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)  # a Tuesday
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=EDMONTON)
ADMIN_EMAIL = "ada.okafor@bowriver.example"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
AXE = (Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js").read_text()
SERIOUS = ("serious", "critical")
# Known, and to be fixed where the page is being rewritten (reminders/web/admin_pages.py and
# static/template-editor.js, in another branch): the template editor's scrolling plain-text
# preview cannot be reached with the keyboard (it wants tabindex="0").
KNOWN: set[tuple[str, str]] = set()  # (page, axe rule) a known problem excuses; none today
RUN_AXE = """async () => {
  const found = await axe.run(document, {resultTypes: ["violations"]});
  return found.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    where: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


@dataclass(frozen=True)
class Visit:
    name: str  # the screenshot's name
    path: str
    then: Callable[[Page], None] | None = None  # what a person does on it first


def _preview(page: Page) -> None:
    page.get_by_label("First name").fill("Maya")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Mobile phone").fill("(403) 555-0142")
    page.get_by_role("button", name="Preview messages").click()
    page.get_by_role("table", name="planned messages").wait_for()


def _send_answer(page: Page) -> None:
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**/checkin/*")
    page.get_by_role("heading", level=1).wait_for()


def _unsubscribe(page: Page) -> None:
    page.get_by_role("button", name="Unsubscribe").click()
    page.wait_for_load_state()


def _patient_with_a_story(stack: Deployment) -> tuple[int, int, int]:
    """Maya, enrolled by text and email after a session three days ago: her pain scores, an
    emergency reply still flagged, her check-in email. Returns (patient, check-in message,
    any email message) ids."""
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    enrollment_id = stack.enroll(
        first_name="Maya",
        last_name="Okafor",
        phone="403-555-0142",
        email="maya.okafor@example.org",
        channel="both",
        session_end=SESSION_END,
    )
    stack.set_clock(NOW)
    with stack.session() as session:
        patient_id = session.get_one(Enrollment, enrollment_id).patient_id
        emails = select(Message).where(
            Message.enrollment_id == enrollment_id, Message.channel == "email"
        )
        checkin = session.scalars(emails.where(Message.checkin.is_(True))).first()
        any_email = session.scalars(emails).first()
        assert checkin is not None and any_email is not None
        ids = (patient_id, checkin.id, any_email.id)
    for day, score in ((1, 6), (2, 5)):  # pain scores, no flag
        a_flagged_reply(
            stack, patient_id, str(score), "score", [], SESSION_END + timedelta(days=day), score
        )
    a_flagged_reply(
        stack,
        patient_id,
        "chest pain and short of breath since this morning",
        "other",
        ["possible red flag"],
        NOW - timedelta(hours=1),
    )
    return ids


def _admin(stack: Deployment) -> str:
    with stack.session() as session:
        if session.scalar(select(User.id).where(User.email == ADMIN_EMAIL)) is not None:
            return ADMIN_EMAIL
    return new_user(stack, "admin", "Ada Okafor", email=ADMIN_EMAIL)[1]


def _check(page: Page, visit: Visit, width: int) -> list[str]:
    """The page's serious and critical axe violations, and whether it is wider than the
    screen; saves its picture."""
    page.wait_for_load_state("networkidle")  # the admin pages fill themselves from the API
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / f"{visit.name}-{width}.png"), full_page=True)
    problems = []
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > width:
        problems.append(f"{visit.name} at {width} px: the page is {wide} px wide")
    page.add_script_tag(content=AXE)
    for v in page.evaluate(RUN_AXE):
        if v["impact"] in SERIOUS and (visit.name, v["id"]) not in KNOWN:
            problems.append(
                f"{visit.name} at {width} px: {v['id']} ({v['impact']}) {v['help']}: {v['where']}"
            )
    return problems


# Both databases serve the same pages: this runs against one.
@pytest.mark.parametrize("deployment", ["postgresql"], indirect=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_passes_axe_at_a_computer_and_a_phone_width(
    stack: Deployment, width: int
) -> None:
    # Given a patient with scores, an open emergency flag and a check-in email; and an admin
    patient_id, checkin_id, email_id = _patient_with_a_story(stack)
    admin = _admin(stack)
    checkin = make_token("test-secret", CHECKIN, checkin_id)
    unsubscribe = make_token("test-secret", UNSUBSCRIBE, email_id)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    anonymous = [
        Visit("sign-in", "/login"),
        Visit("forgot-password", "/login/forgot"),
        Visit("patient-check-in", f"/checkin/{checkin}"),
        Visit("patient-check-in-confirm", f"/checkin/{checkin}?score=3"),
        Visit("patient-check-in-sent", f"/checkin/{checkin}?score=3", _send_answer),
        Visit("patient-link-problem", "/checkin/not-a-real-link"),
        Visit("patient-unsubscribe", f"/unsubscribe/{unsubscribe}"),
        Visit("patient-unsubscribed", f"/unsubscribe/{unsubscribe}", _unsubscribe),
    ]
    staff = [
        Visit("dashboard", "/"),
        Visit("enroll", "/enroll"),
        Visit("enroll-preview", "/enroll", _preview),
        Visit("patients", "/patients"),
        Visit("patient", f"/patients/{patient_id}"),
        Visit("open-flags", "/flags"),
        Visit("exports", "/exports"),
        Visit("account", "/account"),
        Visit("change-password", "/account/password"),
        Visit("sign-out", "/logout"),
        Visit("admin-templates", "/admin/templates"),
        Visit("admin-template-editor", "/admin/templates/after-session/en"),
        Visit("admin-plans", "/admin/plans"),
        Visit("admin-plan-editor", "/admin/plans/dry-needling"),
        Visit("admin-settings", "/admin/settings"),
        Visit("admin-users", "/admin/users"),
        Visit("admin-audit", "/admin/audit"),
    ]
    problems: list[str] = []
    base = stack.web_url()
    with browser_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        # When each page is opened (and used, where that shows more of it)
        for visit in anonymous:
            page.goto(base + visit.path)
            if visit.then is not None:
                visit.then(page)
            problems += _check(page, visit, width)
        sign_in(page, base, admin)
        for visit in staff:
            page.goto(base + visit.path)
            if visit.then is not None:
                visit.then(page)
            problems += _check(page, visit, width)

    # Then axe finds nothing serious on any of them, and none is wider than the screen
    assert not problems, "\n".join(problems)
