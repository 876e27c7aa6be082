"""An admin edits an aftercare plan in the browser at 1280 and 390 px: one row per step (when,
channels, maximum lateness), add, move, save and reload; the API's problems shown in words;
the JSON under "Advanced" kept in step with the form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser import browser_page, make_user, sign_in
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select
from stack import Deployment

from reminders.models import AftercarePlan, PlanStep

pytestmark = pytest.mark.postgresql_only  # pages in a browser: tests/conftest.py


def open_plan(page: Page, stack: Deployment, width: int = 1280) -> None:
    email = make_user(stack, "admin", "Ada Admin")
    sign_in(page, stack.web_url(), email)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{stack.web_url()}/admin/plans/dry-needling")
    expect(step(page, 1, "after-session")).to_be_visible()


def step(page: Page, position: int, key: str) -> Locator:
    return page.get_by_role("group", name=f"Step {position}: {key}", exact=True)


def saved_steps(stack: Deployment) -> list[PlanStep]:
    with stack.session() as session:
        plan = session.scalars(
            select(AftercarePlan).where(AftercarePlan.key == "dry-needling")
        ).one()
        steps = list(plan.steps)
        session.expunge_all()
        return steps


@pytest.mark.parametrize("width", [1280, 390])
def test_it_saves_a_changed_step_and_an_added_moved_step_and_shows_them_after_a_reload(
    stack: Deployment, width: int, tmp_path: Path
) -> None:
    with browser_page() as page:
        # Given an admin on the dry-needling plan
        open_plan(page, stack, width)
        first = step(page, 1, "after-session")
        expect(first.get_by_label("Time after the session ends")).to_have_value("30m")
        expect(first.get_by_label("Maximum lateness")).to_have_value("3h")
        expect(first.get_by_label("Even in quiet hours if the session ended before")).to_have_value(
            "23:00"
        )
        expect(
            step(page, 2, "same-evening").get_by_label("At (patient's local time)")
        ).to_have_value("19:00")

        # When they send the first message 45 minutes after, by SMS only
        first.get_by_label("Time after the session ends").fill("45m")
        first.get_by_label("Email").uncheck()

        # And add a step: the day-7 message again on day 14 at 09:00, by email, a day late at most
        page.get_by_role("button", name="Add a step").click()
        added = step(page, 6, "after-session-2")
        expect(added.get_by_label("Message")).to_be_focused()
        added.get_by_label("Message").select_option("day-7")
        added = step(page, 6, "day-7-2")
        expect(added.get_by_label("When")).to_have_value("day")
        added.get_by_label("Day after the session").fill("14")
        added.get_by_label("At (patient's local time)").fill("09:00")
        added.get_by_label("SMS").uncheck()
        added.get_by_label("Maximum lateness").fill("1d")
        added.get_by_label("Asks for a pain score").check()

        # And move it above the day-7 step
        added.get_by_role("button", name="Move up").click()
        moved = step(page, 5, "day-7-2")
        expect(moved.get_by_role("button", name="Move up")).to_be_focused()
        expect(step(page, 6, "day-7")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(tmp_path / f"plan-editor-{width}.png"), full_page=True)

        page.get_by_role("button", name="Save plan").click()
        expect(page.locator("#status")).to_have_text("Saved.")

        # Then, after a reload, the form shows what was saved
        page.reload()
        first = step(page, 1, "after-session")
        expect(first.get_by_label("Time after the session ends")).to_have_value("45m")
        expect(first.get_by_label("SMS")).to_be_checked()
        expect(first.get_by_label("Email")).not_to_be_checked()
        moved = step(page, 5, "day-7-2")
        expect(moved).to_contain_text("Sends the message day-7")
        expect(moved.get_by_label("Day after the session")).to_have_value("14")
        expect(moved.get_by_label("At (patient's local time)")).to_have_value("09:00")
        expect(moved.get_by_label("Maximum lateness")).to_have_value("1d")
        expect(moved.get_by_label("SMS")).not_to_be_checked()
        expect(moved.get_by_label("Email")).to_be_checked()
        expect(moved.get_by_label("Asks for a pain score")).to_be_checked()
        expect(step(page, 6, "day-7")).to_be_visible()
        # and so does the JSON under "Advanced"
        page.get_by_text("Advanced: edit as JSON").click()
        shown = json.loads(page.get_by_label("Plan (JSON)").input_value())
        assert [s["key"] for s in shown["steps"]][4:] == ["day-7-2", "day-7"]

    # And the database holds the new order and values
    steps = saved_steps(stack)
    assert [s.key for s in steps] == [
        "after-session",
        "same-evening",
        "next-morning",
        "day-3",
        "day-7-2",
        "day-7",
    ]
    assert (steps[0].offset_seconds, steps[0].channels, steps[0].at_time) == (2700, "sms", "23:00")
    new = steps[4]
    assert (new.message_key, new.day, new.at_time, new.channels, new.checkin) == (
        "day-7",
        14,
        "09:00",
        "email",
        True,
    )
    assert new.max_lateness_seconds == 86400 and new.offset_seconds is None


def test_it_shows_the_apis_problems_in_words_and_saves_nothing(stack: Deployment) -> None:
    before = [(s.key, s.offset_seconds, s.channels) for s in saved_steps(stack)]
    with browser_page() as page:
        open_plan(page, stack)
        problems = page.locator("#problems")

        # When a step has no channel (the schema refuses it)
        evening = step(page, 2, "same-evening")
        evening.get_by_label("SMS").uncheck()
        evening.get_by_label("Email").uncheck()
        page.get_by_role("button", name="Save plan").click()

        # Then the problem names the step and the field in words
        expect(problems).to_have_text("Step 2 (same-evening), channels: choose at least one")
        expect(page.locator("#status")).to_contain_text("Nothing was saved")

        # When the channel is back but the first step is due "soon" (the plan's rules refuse it)
        evening.get_by_label("SMS").check()
        first = step(page, 1, "after-session")
        first.get_by_label("Time after the session ends").fill("soon")
        page.get_by_role("button", name="Save plan").click()

        # Then the problem says which step and why, with no raw JSON, and the field is marked
        expect(problems).to_have_text(
            "Step 1 (after-session): not a duration: 'soon' (use forms like 30m, 2h, 1h30m, 3d)"
        )
        assert "{" not in problems.inner_text() and "detail" not in problems.inner_text()
        expect(first.get_by_label("Time after the session ends")).to_have_attribute(
            "aria-invalid", "true"
        )
        expect(page.locator("#status")).to_contain_text("Nothing was saved")

    # And nothing was saved
    assert [(s.key, s.offset_seconds, s.channels) for s in saved_steps(stack)] == before


def test_it_keeps_the_advanced_json_and_the_form_in_step(stack: Deployment) -> None:
    with browser_page() as page:
        open_plan(page, stack)
        page.get_by_text("Advanced: edit as JSON").click()
        box = page.get_by_label("Plan (JSON)")

        # When the admin edits a row, the JSON follows
        step(page, 4, "day-3").get_by_label("Maximum lateness").fill("2d")
        plan = json.loads(box.input_value())
        assert plan["steps"][3]["max_lateness"] == "2d"

        # When they remove the day-7 step in the JSON, the form follows
        plan["steps"] = plan["steps"][:4]
        box.fill(json.dumps(plan))
        expect(page.get_by_role("group", name="Step 5: day-7")).to_have_count(0)
        expect(step(page, 4, "day-3").get_by_label("Maximum lateness")).to_have_value("2d")

        # And a half-typed JSON box is not saved
        box.fill('{"name": ')
        page.get_by_role("button", name="Save plan").click()
        expect(page.locator("#problems")).to_contain_text("not valid JSON")
        assert len(saved_steps(stack)) == 5

        # When they finish it and save, that plan is the one saved
        box.fill(json.dumps(plan))
        page.get_by_role("button", name="Save plan").click()
        expect(page.locator("#status")).to_have_text("Saved.")

    steps = saved_steps(stack)
    assert [s.key for s in steps] == ["after-session", "same-evening", "next-morning", "day-3"]
    assert steps[3].max_lateness_seconds == 2 * 86400


def test_the_plan_editor_works_under_the_content_security_policy(stack: Deployment) -> None:
    refused: list[str] = []
    with browser_page(bypass_csp=False) as page:
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        # The page's script draws the rows from the API, under script-src 'self'
        open_plan(page, stack)
        page.get_by_role("button", name="Add a step").click()
        expect(step(page, 6, "after-session-2").get_by_label("Message")).to_be_focused()
    assert refused == []
