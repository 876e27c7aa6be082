"""One's own account and the audit log, through the web app in this process on SQLite and
PostgreSQL: the profile form with a wrong current password, the forgot-password page that
tells nobody whether an email has an account, the audit log in the clinic's time and in
words. (In a browser: tests/system/test_account_pages.py.)"""

from __future__ import annotations

import re

from factories import new_user
from in_process import InProcessWeb, csrf_in, signed_in_client, web_client

NEW_PASSWORD = "heron-lantern-37-quartz"


def test_it_keeps_the_profile_form_honest_about_a_wrong_current_password(
    stack: InProcessWeb,
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


def test_the_forgot_password_page_is_the_same_whatever_email_is_asked_about(
    stack: InProcessWeb,
) -> None:
    _, email = new_user(stack, "therapist", "Sam Chen")
    with web_client(stack) as client:
        plain = client.get("/login/forgot")
        known = client.get("/login/forgot", params={"email": email})
        unknown = client.get("/login/forgot", params={"email": "nobody@bowriver.example"})
        posted = client.post("/login/forgot", data={"email": email})
    assert plain.status_code == known.status_code == unknown.status_code == 200
    assert plain.text == known.text == unknown.text
    assert email not in plain.text
    assert posted.status_code == 405  # there is nothing to send
    assert not re.search(r"<form[^>]*>", plain.text)


def test_the_audit_log_reads_in_the_clinics_time_and_in_words(stack: InProcessWeb) -> None:
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
