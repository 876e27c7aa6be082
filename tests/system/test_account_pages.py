"""One's own account in a browser: the profile page, changing one's password from it, and the
way back in after forgetting a password (a temporary one from an admin). (The same pages'
forms and answers without a browser: tests/service/test_account_and_audit_pages.py.)"""

from __future__ import annotations

import uuid

import httpx
from browser import PASSWORD, browser_page, sign_in
from factories import new_user
from in_process import csrf_in, signed_in_client
from playwright.sync_api import expect
from stack import Deployment

from reminders import clock
from reminders.accounts import deactivate
from reminders.models import User

NEW_PASSWORD = "heron-lantern-37-quartz"


def test_it_shows_who_is_signed_in_and_changes_their_password_from_the_menu(
    stack: Deployment,
) -> None:
    # Given a therapist signed in
    _, email = new_user(stack, "therapist", "Sam Chen")
    with browser_page() as page:
        sign_in(page, stack.web_url(), email)

        # When they open their account from the menu
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Your account").click()

        # Then it shows their name, email and role, and marks where they are in the menu
        expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
        details = page.locator("dl.account")
        expect(details).to_contain_text("Sam Chen")
        expect(details).to_contain_text(email)
        expect(details).to_contain_text("Therapist")
        current = page.get_by_role("link", name="Your account")
        expect(current).to_have_attribute("aria-current", "page")

        # When they change their password there
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password (at least").fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()

        # Then it is set, and they are still signed in
        expect(page.get_by_role("status")).to_contain_text("Your new password is set")
        page.get_by_role("link", name="Continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Enroll a patient")

    # And the new password signs them in, the old one no longer does
    with signed_in_client(stack, email, NEW_PASSWORD) as client:
        assert client.get("/account").status_code == 200
    with httpx.Client(base_url=stack.web_url(), timeout=20) as client:
        csrf = csrf_in(client.get("/login").text)
        old = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
    assert old.status_code == 401


def test_the_sign_in_page_leads_to_how_to_get_a_temporary_password(stack: Deployment) -> None:
    # Given two admins (one of them no longer active) and a therapist
    tag = uuid.uuid4().hex[:6]
    new_user(stack, "admin", f"Priya Admin {tag}")
    gone_id, _ = new_user(stack, "admin", f"Former Admin {tag}")
    new_user(stack, "therapist", f"Theo Therapist {tag}")
    with stack.session() as session:
        gone = session.get(User, gone_id)
        assert gone is not None
        deactivate(session=session, user=gone, now=clock.now(session), actor="test")

    # When someone who forgot their password follows the link on the sign-in page
    with browser_page() as page:
        page.goto(f"{stack.web_url()}/login")
        page.get_by_role("link", name="Forgot your password?").click()

        # Then it explains how to get a temporary password, naming the active admins only
        expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
        main = page.get_by_role("main")
        expect(main).to_contain_text("temporary password")
        expect(main).to_contain_text("Reset password")
        admins = page.locator("ul.admins li").all_inner_texts()
        assert f"Priya Admin {tag}" in admins
        assert f"Former Admin {tag}" not in admins
        assert f"Theo Therapist {tag}" not in admins
        # And it asks for nothing, so it can tell nobody whether an email has an account
        expect(main.locator("input")).to_have_count(0)
        page.get_by_role("link", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
