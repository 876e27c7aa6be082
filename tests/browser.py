"""Headless Chromium (Debian's package) driven by Playwright, for tests that use the pages."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from factories import PASSWORD, new_user
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


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Chromium is required for browser tests: apt-get install chromium (see .ci/run)",
            pytrace=False,
        )
    return found


@contextmanager
def browser_page(bypass_csp: bool = True) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            # Playwright's own waits (wait_for_function) evaluate code in the page, which the
            # app's Content-Security-Policy forbids; the app's scripts still run under it, and
            # tests of the policy itself pass bypass_csp=False.
            page = browser.new_page(
                viewport={"width": 1024, "height": 768}, bypass_csp=bypass_csp
            )  # a tablet held sideways
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


def cli_with_input(stack: Deployment, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`reminders ARGS` as stack.cli runs it, with `stdin` as its standard input."""
    return subprocess.run(
        [sys.executable, "-m", "reminders", *args],
        env=stack.env,
        cwd=stack.logdir,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def create_user(
    stack: Deployment, email: str, name: str, role: str, password: str = PASSWORD
) -> subprocess.CompletedProcess[str]:
    """`reminders users create`, the password piped in (never in the command line)."""
    return cli_with_input(
        stack,
        password + "\n",
        *("users", "create", "--email", email, "--name", name, "--role", role, "--password-stdin"),
    )


def make_user(stack: Deployment, role: str, name: str) -> str:
    """A new account with a unique email (made in this process); returns the email."""
    return new_user(stack, role, name)[1]


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/login"))
