"""Sessions that really end, passwords people can change and admins can reset, and API tokens
that expire and can be revoked one by one: through the real `reminders web` process and CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from browser import (
    PASSWORD,
    browser_page,
    cli_with_input,
    create_user,
    csrf_in,
    make_user,
    sign_in,
    signed_in_client,
)
from factories import new_token
from sqlalchemy import select, update
from stack import Deployment

from reminders.models import ApiToken, AuditEvent, User

COOKIE = "reminders_session"
PAGE = {"Accept": "text/html"}
NEW_PASSWORD = "Kettle-Harbour-91-Quince"


def user_id(stack: Deployment, email: str) -> int:
    with stack.session() as session:
        return session.scalars(select(User.id).where(User.email == email)).one()


def events(stack: Deployment, action: str, subject_id: int | None = None) -> list[AuditEvent]:
    with stack.session() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        if subject_id is not None:
            query = query.where(AuditEvent.subject_id == subject_id)
        return list(session.scalars(query.order_by(AuditEvent.id)))


def replayed(stack: Deployment, cookie: str) -> httpx.Client:
    """A client with nothing but a copy of someone's session cookie."""
    return httpx.Client(base_url=stack.web_url(), cookies={COOKIE: cookie}, timeout=20)


def signed_in(client: httpx.Client) -> bool:
    return client.get("/api/tokens").status_code == 200


def token_for(stack: Deployment, email: str, *extra: str) -> str:
    """`reminders users token`, for the tests of its options (a subprocess costs seconds)."""
    made = stack.cli("users", "token", "--email", email, *extra)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def bearer(stack: Deployment, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=stack.web_url(), headers={"Authorization": f"Bearer {token}"}, timeout=20
    )


def admin_client(stack: Deployment) -> httpx.Client:
    return bearer(stack, new_token(stack, make_user(stack, "admin", "Ada Admin")))


# signing out --------------------------------------------------------------------------


def test_it_refuses_a_replayed_cookie_after_sign_out(stack: Deployment) -> None:
    # Given a therapist signed in, and a copy of their session cookie
    email = make_user(stack, "therapist", "Sam Chen")
    with signed_in_client(stack, email) as client:
        copy = client.cookies[COOKIE]
        assert client.get("/patients", headers=PAGE).status_code == 200

        # When they sign out with the Sign out button (a POST carrying the CSRF token)
        csrf = csrf_in(client.get("/logout").text)
        done = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/login"

    # Then the copied cookie opens nothing: pages send it to sign in, the API says 401
    with replayed(stack, copy) as thief:
        page = thief.get("/admin/users", headers=PAGE, follow_redirects=False)
        patients = thief.get("/patients", headers=PAGE, follow_redirects=False)
        api = thief.get("/api/messages")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert patients.status_code == 303 and patients.headers["location"] == "/login"
    assert api.status_code == 401 and api.json() == {"detail": "Sign in first."}
    # And the sign-out is in the audit log
    assert [e.actor for e in events(stack, "logout", user_id(stack, email))] == [email]


def test_it_does_not_sign_out_on_a_get_nor_on_a_post_without_the_csrf_token(
    stack: Deployment,
) -> None:
    # Given a therapist signed in
    email = make_user(stack, "therapist", "Sam Chen")
    with signed_in_client(stack, email) as client:
        # When something makes their browser GET /logout (a link, a prefetch, an image)
        shown = client.get("/logout")

        # Then it only shows the Sign out button, and they are still signed in
        assert shown.status_code == 200 and "Sign out" in shown.text
        assert 'method="post" action="/logout"' in shown.text
        assert signed_in(client)

        # When another site makes it POST /logout without the form's token, or a wrong one
        bare = client.post("/logout", follow_redirects=False)
        forged = client.post("/logout", data={"csrf": "forged"}, follow_redirects=False)

        # Then both are refused, and they are still signed in
        assert bare.status_code == 403 and forged.status_code == 403
        assert signed_in(client)
    # And nobody signed out: someone not signed in is sent to sign in by GET /logout
    assert events(stack, "logout", user_id(stack, email)) == []
    with httpx.Client(base_url=stack.web_url(), timeout=20) as stranger:
        away = stranger.get("/logout", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/login"


# changing and resetting passwords -------------------------------------------------------


def test_it_changes_a_password_and_ends_every_other_session(stack: Deployment) -> None:
    # Given a therapist signed in on a laptop and on a tablet
    email = make_user(stack, "therapist", "Sam Chen")
    with signed_in_client(stack, email) as laptop, signed_in_client(stack, email) as tablet:
        laptop_before = laptop.cookies[COOKIE]
        form = laptop.get("/account/password")
        assert form.status_code == 200 and "Current password" in form.text
        csrf = csrf_in(form.text)

        def change(current: str, new: str, again: str | None = None) -> httpx.Response:
            data = {"csrf": csrf, "current": current, "new": new, "again": again or new}
            return laptop.post("/account/password", data=data)

        # When they get the current password wrong, type two different new ones, or a weak one
        wrong = change("not-my-password", NEW_PASSWORD)
        differ = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
        weak = change(PASSWORD, "aaaaaaaaaaaa")
        short = change(PASSWORD, "Kettle-91")

        # Then nothing changes, and each says why
        assert wrong.status_code == 400 and "not your current password" in wrong.text
        assert differ.status_code == 400 and "The two new passwords differ" in differ.text
        assert weak.status_code == 400 and "Password is too easy to guess" in weak.text
        assert short.status_code == 400 and "at least 12 characters" in short.text
        assert signed_in(tablet)

        # When they change it on the laptop
        done = change(PASSWORD, NEW_PASSWORD)

        # Then the laptop carries on, in a new session; the tablet is signed out
        assert done.status_code == 200, done.text
        assert "Every other browser signed in as you has been signed out" in done.text
        assert laptop.get("/enroll", headers=PAGE).status_code == 200
        assert tablet.get("/api/messages").status_code == 401
        tablet_page = tablet.get("/enroll", headers=PAGE, follow_redirects=False)
        assert tablet_page.headers["location"] == "/login"
    # And the laptop's cookie from before the change opens nothing either
    with replayed(stack, laptop_before) as old:
        assert old.get("/api/messages").status_code == 401
    # And only the new password signs in
    with httpx.Client(base_url=stack.web_url(), timeout=20) as client:
        csrf = csrf_in(client.get("/login").text)
        old_password = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf": csrf}
        )
        assert old_password.status_code == 401
    with signed_in_client(stack, email, NEW_PASSWORD) as client:
        assert signed_in(client)
    changed = events(stack, "user.password_changed", user_id(stack, email))
    assert [(e.actor, e.detail["sessions_ended"]) for e in changed] == [(email, 2)]


def test_it_resets_a_password_to_a_temporary_one_that_works_once_and_must_be_changed(
    stack: Deployment,
) -> None:
    # Given a therapist signed in, and an admin
    email = make_user(stack, "therapist", "Sam Chen")
    therapist_id = user_id(stack, email)
    with signed_in_client(stack, email) as forgotten, admin_client(stack) as admin:
        # When the admin resets the therapist's password
        reset = admin.post(f"/api/users/{therapist_id}/reset-password")
        assert reset.status_code == 200, reset.text
        temporary = reset.json()["temporary_password"]

        # Then the therapist's session has ended, and their old password no longer works
        assert forgotten.get("/api/messages").status_code == 401
    with httpx.Client(base_url=stack.web_url(), timeout=20, follow_redirects=False) as client:
        csrf = csrf_in(client.get("/login").text)
        old = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
        assert old.status_code == 401

        # When they sign in with the temporary password
        first = client.post("/login", data={"email": email, "password": temporary, "csrf": csrf})

        # Then they are sent to choose a new password, and can do nothing else first
        assert first.status_code == 303 and first.headers["location"] == "/account/password"
        assert client.get("/enroll", headers=PAGE).status_code == 403
        assert "Choose a new password first" in client.get("/api/messages").json()["detail"]
        form = client.get("/account/password")
        assert form.status_code == 200 and "temporary password" in form.text
        assert "Current password" not in form.text

        # And the temporary password does not work a second time
        with httpx.Client(base_url=stack.web_url(), timeout=20) as other:
            again = other.post(
                "/login",
                data={
                    "email": email,
                    "password": temporary,
                    "csrf": csrf_in(other.get("/login").text),
                },
            )
        assert again.status_code == 401 and "used already or has expired" in again.text

        # When they choose a new password (a weak one first)
        csrf = csrf_in(form.text)
        weak = client.post(
            "/account/password", data={"csrf": csrf, "new": "a" * 12, "again": "a" * 12}
        )
        done = client.post(
            "/account/password", data={"csrf": csrf, "new": NEW_PASSWORD, "again": NEW_PASSWORD}
        )

        # Then the weak one is refused, the new one set, and the pages open
        assert weak.status_code == 400 and "too easy to guess" in weak.text
        assert done.status_code == 200, done.text
        assert client.get("/enroll", headers=PAGE).status_code == 200
    with signed_in_client(stack, email, NEW_PASSWORD) as client:
        assert signed_in(client)
    [event] = events(stack, "user.password_reset", therapist_id)
    assert event.actor.startswith("admin-") and temporary not in json.dumps(event.detail)
    changed = events(stack, "user.password_changed", therapist_id)
    assert [e.detail["after_reset"] for e in changed] == [True]


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


def test_it_ends_the_sessions_of_a_deactivated_user(stack: Deployment) -> None:
    # Given a therapist signed in
    email = make_user(stack, "therapist", "Sam Chen")
    with signed_in_client(stack, email) as therapist, admin_client(stack) as admin:
        assert signed_in(therapist)

        # When an admin deactivates them
        off = admin.post(f"/api/users/{user_id(stack, email)}/deactivate")

        # Then their session is refused at once
        assert off.status_code == 200
        assert therapist.get("/api/messages").status_code == 401
    [event] = events(stack, "user.deactivated", user_id(stack, email))
    assert event.detail["sessions_ended"] == 1


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


def test_it_lets_only_the_owner_or_an_admin_see_and_revoke_a_token(stack: Deployment) -> None:
    # Given two therapists with a token each, and an admin
    sam, kim = make_user(stack, "therapist", "Sam Chen"), make_user(stack, "therapist", "Kim Lee")
    sams, kims = new_token(stack, sam), new_token(stack, kim)
    with bearer(stack, sams) as as_sam, bearer(stack, kims) as as_kim, admin_client(stack) as admin:
        sams_id = as_sam.get("/api/tokens").json()[0]["id"]

        # When Kim tries to list or revoke Sam's token
        peek = as_kim.get("/api/tokens", params={"user_id": user_id(stack, sam)})
        steal = as_kim.delete(f"/api/tokens/{sams_id}")

        # Then Kim is refused and Sam's token still works
        assert peek.status_code == 403 and steal.status_code == 404
        assert as_sam.get("/api/messages").status_code == 200

        # When an admin lists Sam's tokens and revokes the token
        listed = admin.get("/api/tokens", params={"user_id": user_id(stack, sam)}).json()
        revoked = admin.delete(f"/api/tokens/{sams_id}")

        # Then it is refused from then on
        assert [t["id"] for t in listed] == [sams_id] and listed[0]["user_email"] == sam
        assert revoked.status_code == 200
        assert as_sam.get("/api/messages").status_code == 401

        # And a token cannot make another token
        assert as_kim.post("/api/tokens", json={"name": "more"}).status_code == 403


def test_it_makes_a_named_token_from_a_signed_in_session(stack: Deployment) -> None:
    # Given a therapist signed in to the pages
    email = make_user(stack, "therapist", "Sam Chen")
    with signed_in_client(stack, email) as client:
        # (the API needs the session's CSRF token, as every form carries it, in a header)
        header = {"X-CSRF-Token": csrf_in(client.get("/account/password").text)}

        # When they make a token without the CSRF header, and with it
        bare = client.post("/api/tokens", json={"name": "laptop script"})
        made = client.post(
            "/api/tokens", json={"name": "laptop script", "expires_in_days": 30}, headers=header
        )
        too_long = client.post(
            "/api/tokens", json={"name": "x", "expires_in_days": 400}, headers=header
        )

    # Then only the second is made, shown once, lasting 30 days, and it works
    assert bare.status_code == 403 and too_long.status_code == 422
    assert made.status_code == 201, made.text
    body = made.json()
    lasts = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])
    assert (body["name"], body["status"], lasts) == ("laptop script", "active", timedelta(days=30))
    with bearer(stack, body["token"]) as script:
        assert script.get("/api/messages").status_code == 200


# the audit log -------------------------------------------------------------------------


def test_it_audits_a_failed_sign_in_with_the_email_and_address_but_no_password(
    stack: Deployment,
) -> None:
    # Given someone trying an email that is not an account's
    tried = f"Nobody-{uuid.uuid4().hex[:8]}@Example.com"
    with httpx.Client(base_url=stack.web_url(), timeout=20) as client:
        csrf = csrf_in(client.get("/login").text)

        # When they sign in with a wrong password
        answer = client.post(
            "/login", data={"email": tried, "password": "guess-Hunter2-x", "csrf": csrf}
        )

    # Then the audit log has the email tried and where from, and never the password
    assert answer.status_code == 401
    mine = [e for e in events(stack, "login.failed") if e.detail.get("email") == tried.lower()]
    assert len(mine) == 1
    assert mine[0].detail["address"] == "127.0.0.1"
    assert "guess-Hunter2-x" not in json.dumps(mine[0].detail)
