"""Sessions that really end, passwords people can change and admins can reset, and API tokens
that can be revoked one by one, through the web app in this process on SQLite and PostgreSQL:
signing out, changing and resetting passwords, deactivating, tokens made and revoked through
the API, failed sign-ins in the audit log. (Through the command line and in a browser:
tests/system/security/test_sessions_and_tokens.py.)"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import httpx
from factories import PASSWORD, new_token, new_user
from in_process import InProcessWeb, csrf_in, signed_in_client, web_client
from sqlalchemy import select
from stack import Deployment

from reminders.models import AuditEvent, User

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
    client = web_client(stack)
    client.cookies.set(COOKIE, cookie)
    return client


def signed_in(client: httpx.Client) -> bool:
    return client.get("/api/tokens").status_code == 200


def bearer(stack: Deployment, token: str) -> httpx.Client:
    return web_client(stack, {"Authorization": f"Bearer {token}"})


def admin_client(stack: Deployment) -> httpx.Client:
    return bearer(stack, new_token(stack, new_user(stack, "admin", "Ada Admin")[1]))


# signing out --------------------------------------------------------------------------


def test_it_refuses_a_replayed_cookie_after_sign_out(stack: InProcessWeb) -> None:
    # Given a therapist signed in, and a copy of their session cookie
    _, email = new_user(stack, "therapist", "Sam Chen")
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
    stack: InProcessWeb,
) -> None:
    # Given a therapist signed in
    _, email = new_user(stack, "therapist", "Sam Chen")
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
    with web_client(stack) as stranger:
        away = stranger.get("/logout", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/login"


# changing and resetting passwords -------------------------------------------------------


def test_it_changes_a_password_and_ends_every_other_session(stack: InProcessWeb) -> None:
    # Given a therapist signed in on a laptop and on a tablet
    _, email = new_user(stack, "therapist", "Sam Chen")
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
    with web_client(stack) as client:
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
    stack: InProcessWeb,
) -> None:
    # Given a therapist signed in, and an admin
    _, email = new_user(stack, "therapist", "Sam Chen")
    therapist_id = user_id(stack, email)
    with signed_in_client(stack, email) as forgotten, admin_client(stack) as admin:
        # When the admin resets the therapist's password
        reset = admin.post(f"/api/users/{therapist_id}/reset-password")
        assert reset.status_code == 200, reset.text
        temporary = reset.json()["temporary_password"]

        # Then the therapist's session has ended, and their old password no longer works
        assert forgotten.get("/api/messages").status_code == 401
    with web_client(stack) as client:
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
        with web_client(stack) as other:
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


def test_it_ends_the_sessions_of_a_deactivated_user(stack: InProcessWeb) -> None:
    # Given a therapist signed in
    _, email = new_user(stack, "therapist", "Sam Chen")
    with signed_in_client(stack, email) as therapist, admin_client(stack) as admin:
        assert signed_in(therapist)

        # When an admin deactivates them
        off = admin.post(f"/api/users/{user_id(stack, email)}/deactivate")

        # Then their session is refused at once
        assert off.status_code == 200
        assert therapist.get("/api/messages").status_code == 401
    [event] = events(stack, "user.deactivated", user_id(stack, email))
    assert event.detail["sessions_ended"] == 1


# API tokens ----------------------------------------------------------------------------


def test_it_lets_only_the_owner_or_an_admin_see_and_revoke_a_token(stack: InProcessWeb) -> None:
    # Given two therapists with a token each, and an admin
    (_, sam), (_, kim) = (
        new_user(stack, "therapist", "Sam Chen"),
        new_user(stack, "therapist", "Kim Lee"),
    )
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


def test_it_makes_a_named_token_from_a_signed_in_session(stack: InProcessWeb) -> None:
    # Given a therapist signed in to the pages
    _, email = new_user(stack, "therapist", "Sam Chen")
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
    stack: InProcessWeb,
) -> None:
    # Given someone trying an email that is not an account's
    tried = f"Nobody-{uuid.uuid4().hex[:8]}@Example.com"
    with web_client(stack) as client:
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
