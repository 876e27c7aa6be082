"""Headless Chromium (Debian's package) driven by Playwright, for tests that use the pages."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, sync_playwright
from stack import Deployment

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "a-long-password-1"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Chromium is required for browser tests: apt-get install chromium (see .ci/run)",
            pytrace=False,
        )
    return found


@contextmanager
def browser_page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(
                viewport={"width": 1024, "height": 768}
            )  # a tablet held sideways
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


def make_user(stack: Deployment, role: str, name: str) -> str:
    """A new account with a unique email; returns the email."""
    email = f"{role}-{uuid.uuid4().hex[:10]}@bowriver.example"
    made = stack.cli(
        "users", "create", "--email", email, "--name", name, "--role", role, "--password", PASSWORD
    )
    assert made.returncode == 0, made.stderr
    return email


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/login"))
