"""An admin changes the clinic's settings, adds a therapist and edits a plan, in the browser."""

from __future__ import annotations

import json
import uuid

import pytest
from browser import browser_page, make_user, sign_in
from sqlalchemy import select
from stack import Deployment

from reminders.models import AftercarePlan, ClinicSettings, User

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py


def test_it_lets_an_admin_set_caps_add_a_user_and_change_a_plan(stack: Deployment) -> None:
    email = make_user(stack, "admin", "Ada Admin")
    therapist = f"new-{uuid.uuid4().hex[:8]}@bowriver.example"
    with browser_page() as page:
        sign_in(page, stack.web_url(), email)

        # When the admin turns on a one-a-day cap
        page.goto(f"{stack.web_url()}/admin/settings")
        page.wait_for_function("document.getElementById('name').value.length > 0")
        page.get_by_label("At most this many messages a day per patient (empty: no cap)").fill("1")
        page.get_by_role("button", name="Save settings").click()
        page.get_by_text("Saved.").wait_for()

        # And a bad time zone is refused with a clear message
        page.get_by_label("Time zone (IANA, e.g. America/Edmonton)").fill("Mars/Base")
        page.get_by_role("button", name="Save settings").click()
        page.wait_for_function(
            "document.getElementById('status').textContent.includes('Mars/Base')"
        )

        # When they add a therapist <b>with markup</b> in the name
        page.goto(f"{stack.web_url()}/admin/users")
        page.get_by_label("Email").fill(therapist)
        page.get_by_label("Name").fill("<b>Kim</b> Lee")
        page.get_by_label("First password (at least 12 characters)").fill("another-long-password")
        page.get_by_role("button", name="Add user").click()
        page.get_by_text(f"Added {therapist}.").wait_for()
        assert (
            "<b>Kim</b> Lee" in page.get_by_role("table", name="users").inner_text()
        )  # shown, not run

        # When they move the same-evening message to 18:30
        page.goto(f"{stack.web_url()}/admin/plans/dry-needling")
        page.wait_for_function("document.getElementById('plan').value.includes('same-evening')")
        page.get_by_text("Advanced: edit as JSON").click()
        plan = json.loads(page.get_by_label("Plan (JSON)").input_value())
        next(s for s in plan["steps"] if s["key"] == "same-evening")["at"] = "18:30"
        page.get_by_label("Plan (JSON)").fill(json.dumps(plan))
        page.get_by_role("button", name="Save plan").click()
        page.get_by_text("Saved.").wait_for()

    # Then each change is in the database
    with stack.session() as session:
        settings = session.get(ClinicSettings, 1)
        assert (
            settings is not None
            and settings.cap_per_day == 1
            and settings.time_zone == "America/Edmonton"
        )
        assert (
            session.scalars(select(User.role).where(User.email == therapist)).one() == "therapist"
        )
        steps = (
            session.scalars(select(AftercarePlan).where(AftercarePlan.key == "dry-needling"))
            .one()
            .steps
        )
        assert next(s for s in steps if s.key == "same-evening").at_time == "18:30"
