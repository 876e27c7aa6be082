"""One's own account: the profile page, changing one's password from it, and the way back in
after forgetting a password (a temporary one from an admin)."""

from __future__ import annotations

import re
import uuid

import httpx
from browser import PASSWORD, browser_page, csrf_in, sign_in, signed_in_client
from factories import new_user
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


def test_it_keeps_the_profile_form_honest_about_a_wrong_current_password(
    stack: Deployment,
) -> None:
    # Given an admin on their account page
    _, email = new_user(stack, "admin", "Ada Admin")
    with signed_in_client(stack, email) as client:
        shown = client.get("/account")
        assert shown.status_code == 200
        assert "Admin" in shown.text and email in shown.text
        assert 'action="/account/password"' in shown.text

        # When they send the form with a wrong current password
        refused = client.post(
            "/account/password",
            data={
                "csrf": csrf_in(shown.text),
                "current": "not-my-password",
                "new": NEW_PASSWORD,
                "again": NEW_PASSWORD,
            },
        )

    # Then nothing changes and the page says why
    assert refused.status_code == 400
    assert "That is not your current password." in refused.text
    with signed_in_client(stack, email) as client:  # the old password still works
        assert client.get("/account").status_code == 200


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


def test_the_forgot_password_page_is_the_same_whatever_email_is_asked_about(
    stack: Deployment,
) -> None:
    _, email = new_user(stack, "therapist", "Sam Chen")
    with httpx.Client(base_url=stack.web_url(), timeout=20) as client:
        plain = client.get("/login/forgot")
        known = client.get("/login/forgot", params={"email": email})
        unknown = client.get("/login/forgot", params={"email": "nobody@bowriver.example"})
        posted = client.post("/login/forgot", data={"email": email})
    assert plain.status_code == known.status_code == unknown.status_code == 200
    assert plain.text == known.text == unknown.text
    assert email not in plain.text
    assert posted.status_code == 405  # there is nothing to send
    assert not re.search(r"<form[^>]*>", plain.text)


def test_the_audit_log_reads_in_the_clinics_time_and_in_words(stack: Deployment) -> None:
    # Given an admin who just signed in (which the audit log records)
    _, email = new_user(stack, "admin", "Ada Admin")
    with signed_in_client(stack, email) as client:
        # When they open the audit log
        page = client.get("/admin/audit")

    # Then each row says when in the clinic's zone, and what in words, not in codes
    assert page.status_code == 200
    assert "in the clinic's time (America/Edmonton)" in page.text
    stamp = r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d[^"]*">\w{3} \w{3} \d\d, \d\d:\d\d</time>'
    assert re.search(stamp, page.text)
    assert "<td>user created</td>" in page.text and "<td>login</td>" in page.text
    assert "user.created" not in page.text
