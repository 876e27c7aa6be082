"""Passwords admins reset and API tokens that expire and can be revoked, through the real
`reminders web` process, the CLI and a browser; passwords never in the command line. (The
rest, through the web app alone: tests/service/test_web_sessions_and_tokens.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from browser import (
    browser_page,
    cli_with_input,
    create_user,
    make_user,
    sign_in,
)
from factories import new_token
from in_process import csrf_in, signed_in_client
from sqlalchemy import select, update
from stack import Deployment
from test_web_sessions_and_tokens import NEW_PASSWORD, bearer, events, signed_in, user_id

from reminders.models import ApiToken, User


def token_for(stack: Deployment, email: str, *extra: str) -> str:
    """`reminders users token`, for the tests of its options (a subprocess costs seconds)."""
    made = stack.cli("users", "token", "--email", email, *extra)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


# resetting passwords -------------------------------------------------------------------


def test_it_resets_a_password_from_the_admin_users_page(stack: Deployment) -> None:
    # Given an admin on the users page, and a therapist who forgot their password
    admin = make_user(stack, "admin", "Ada Admin")
    email = make_user(stack, "therapist", "Sam Chen")
    with browser_page() as page:
        sign_in(page, stack.web_url(), admin)
        page.goto(f"{stack.web_url()}/admin/users")
        row = page.get_by_role("row").filter(has_text=email)
        # (the admin's own row has no Reset button: they change theirs at /account/password)
        assert page.get_by_role("row").filter(has_text=admin).get_by_role("button").count() == 0

        # When the admin clicks Reset password, and confirms
        row.get_by_role("button", name="Reset password").click()
        page.get_by_role("alertdialog", name=f"Give {email} a temporary password?").get_by_role(
            "button", name="Yes, go ahead"
        ).click()

        # Then the temporary password is shown once, and it signs the therapist in, to change it
        shown = page.get_by_text(f"Temporary password for {email}: ")
        shown.wait_for()
        temporary = shown.inner_text().split(": ", 1)[1].split(" ", 1)[0]
    with httpx.Client(base_url=stack.web_url(), timeout=20, follow_redirects=False) as client:
        csrf = csrf_in(client.get("/login").text)
        done = client.post("/login", data={"email": email, "password": temporary, "csrf": csrf})
    assert done.headers["location"] == "/account/password"


def test_it_resets_from_the_command_line_and_a_late_temporary_password_is_refused(
    stack: Deployment,
) -> None:
    # Given a therapist who forgot their password
    email = make_user(stack, "therapist", "Sam Chen")

    # When an admin resets it from the command line
    reset = stack.cli("users", "reset-password", "--email", email)

    # Then one line on stdout is the temporary password, and it signs in, to change it
    assert reset.returncode == 0, reset.stderr
    temporary = reset.stdout.strip()
    assert len(temporary.splitlines()) == 1 and "24 hours" not in temporary
    assert "must choose a new password" in reset.stderr
    with httpx.Client(base_url=stack.web_url(), timeout=20, follow_redirects=False) as client:
        csrf = csrf_in(client.get("/login").text)
        done = client.post("/login", data={"email": email, "password": temporary, "csrf": csrf})
    assert done.headers["location"] == "/account/password"

    # When a second reset's temporary password is used after it expired
    late = stack.cli("users", "reset-password", "--email", email).stdout.strip()
    with stack.session() as session:
        session.execute(
            update(User)
            .where(User.email == email)
            .values(temporary_password_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with httpx.Client(base_url=stack.web_url(), timeout=20) as client:
        csrf = csrf_in(client.get("/login").text)
        refused = client.post("/login", data={"email": email, "password": late, "csrf": csrf})

    # Then it is refused, saying to ask for a new one
    assert refused.status_code == 401 and "Ask an admin for a new one" in refused.text
    nobody = stack.cli("users", "reset-password", "--email", "nobody@bowriver.example")
    assert nobody.returncode == 2 and "no user with that email" in nobody.stderr


# passwords in the command line ---------------------------------------------------------


def test_it_creates_a_user_from_a_piped_password_that_never_shows_in_ps(
    stack: Deployment,
) -> None:
    # Given a new therapist's email, and a password to pipe in
    email = f"piped-{uuid.uuid4().hex[:8]}@bowriver.example"
    args = ["users", "create", "--email", email, "--name", "Pat Doe", "--password-stdin"]
    creating = subprocess.Popen(
        [sys.executable, "-m", "reminders", *args],
        env=stack.env,
        cwd=stack.logdir,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # When `ps` looks at the command while it is running (waiting for the password)
        def seen_by_ps() -> str:
            shown = subprocess.run(
                ["ps", "-ww", "-o", "args=", "-p", str(creating.pid)],
                capture_output=True,
                text=True,
            ).stdout
            return shown if "--password-stdin" in shown else ""

        shown = stack.wait_until(seen_by_ps, timeout=20, what="the command in ps")
        out, err = creating.communicate(NEW_PASSWORD + "\n", timeout=120)
    finally:
        if creating.poll() is None:
            creating.kill()
            creating.wait()

    # Then ps shows no password, the user is made, and the password signs in
    assert NEW_PASSWORD not in shown and email in shown
    assert creating.returncode == 0, err
    assert out.startswith("user ") and NEW_PASSWORD not in out + err
    with signed_in_client(stack, email, NEW_PASSWORD) as client:
        assert signed_in(client)


def test_it_refuses_a_password_in_the_command_line_and_weak_passwords(stack: Deployment) -> None:
    # When a password is given in the command line
    email = f"argv-{uuid.uuid4().hex[:8]}@bowriver.example"
    argv = stack.cli(
        "users", "create", "--email", email, "--name", "Pat Doe", "--password", NEW_PASSWORD
    )
    # Then it is refused in one line saying why, and no user is made
    assert argv.returncode == 2
    assert argv.stderr.count("\n") == 1 and "shows in `ps`" in argv.stderr
    assert "--password-stdin" in argv.stderr

    # When the piped password is twelve a's, or too short
    weak = create_user(stack, email, "Pat Doe", "therapist", "aaaaaaaaaaaa")
    short = create_user(stack, email, "Pat Doe", "therapist", "Kettle-91")
    # Then each is refused with a clear message
    assert weak.returncode == 2 and "password is too easy to guess" in weak.stderr
    assert short.returncode == 2 and "at least 12 characters" in short.stderr

    # When no password is piped in, and there is no terminal to ask at
    empty = cli_with_input(stack, "", "users", "create", "--email", email, "--name", "Pat Doe")
    assert empty.returncode == 2 and "--password-stdin" in empty.stderr
    with stack.session() as session:
        assert session.scalars(select(User).where(User.email == email)).all() == []


# API tokens ----------------------------------------------------------------------------


def test_it_lists_expires_and_revokes_api_tokens_one_by_one(stack: Deployment) -> None:
    # Given a therapist with three tokens, one lasting a single day
    email = make_user(stack, "therapist", "Sam Chen")
    nightly, backup, short = (
        new_token(stack, email, "nightly export"),
        new_token(stack, email, "backup"),
        token_for(stack, email, "--name", "one day", "--expires-in-days", "1"),  # the option
    )
    with bearer(stack, nightly) as by_nightly, bearer(stack, backup) as by_backup:
        listed = by_nightly.get("/api/tokens").json()
        # Then each is listed by name, with its expiry, and last used when it was used
        assert [t["name"] for t in listed] == ["one day", "backup", "nightly export"]
        ids = {t["name"]: t["id"] for t in listed}
        expires = {t["name"]: datetime.fromisoformat(t["expires_at"]) for t in listed}
        created = datetime.fromisoformat(listed[-1]["created_at"])
        assert timedelta(days=89) < expires["nightly export"] - created <= timedelta(days=90)
        assert expires["one day"] - datetime.fromisoformat(listed[0]["created_at"]) <= timedelta(
            days=1
        )
        assert listed[-1]["last_used_at"] is not None and listed[1]["last_used_at"] is None
        assert {t["status"] for t in listed} == {"active"}

        # When its owner revokes one (with another of their tokens)
        revoked = by_backup.delete(f"/api/tokens/{ids['nightly export']}")

        # Then that one gets 401, the others still work
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
        refused = by_nightly.get("/api/messages")
        assert refused.status_code == 401
        assert refused.json() == {"detail": "Invalid, expired or revoked API token."}
        assert by_backup.get("/api/messages").status_code == 200

    # When the one-day token's day is over
    with stack.session() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == ids["one day"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    # Then it gets 401 too
    with bearer(stack, short) as by_short:
        assert by_short.get("/api/messages").status_code == 401

    # And the command line shows each token's status, and revokes by id
    shown = stack.cli("users", "tokens", "--email", email, "--json")
    assert shown.returncode == 0, shown.stderr
    assert {t["name"]: t["status"] for t in json.loads(shown.stdout)} == {
        "one day": "expired",
        "backup": "active",
        "nightly export": "revoked",
    }
    gone = stack.cli("users", "revoke-token", str(ids["backup"]))
    assert gone.returncode == 0 and "revoked" in gone.stdout
    with bearer(stack, backup) as by_backup:
        assert by_backup.get("/api/messages").status_code == 401
    actions = [e.detail["token_id"] for e in events(stack, "token.revoked", user_id(stack, email))]
    assert actions == [ids["nightly export"], ids["backup"]]
