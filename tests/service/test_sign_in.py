"""Signing in: argon2 passwords, rate-limited failures, CSRF on every form, cookie flags.
Through the web app in this process, on SQLite and PostgreSQL, with real Redis."""

from __future__ import annotations

from factories import PASSWORD, new_user
from in_process import InProcessWeb, login_form, web_client
from sqlalchemy import select

from reminders.models import AuditEvent, User
from reminders.web.app import create_app


def test_it_signs_in_with_a_hashed_password_and_a_safe_cookie(stack: InProcessWeb) -> None:
    _, email = new_user(stack, "therapist", "Sam Chen")
    with web_client(stack) as client:
        csrf = login_form(client)
        done = client.post(
            "/login", data={"email": email.upper(), "password": PASSWORD, "csrf": csrf}
        )
        assert done.status_code == 303 and done.headers["location"] == "/enroll"
        cookie = done.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert client.get("/enroll").status_code == 200
    with stack.session() as session:
        stored = session.scalars(select(User.password_hash).where(User.email == email)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_it_locks_an_account_after_five_wrong_passwords(stack: InProcessWeb) -> None:
    _, email = new_user(stack, "therapist", "Sam Chen")
    with web_client(stack) as client:
        csrf = login_form(client)
        codes = [
            client.post(
                "/login", data={"email": email, "password": f"wrong-{i}", "csrf": csrf}
            ).status_code
            for i in range(5)
        ]
        locked = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
    assert codes == [401] * 5
    assert locked.status_code == 429 and "Too many failed attempts" in locked.text
    with stack.session() as session:
        failed = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "login.failed")
        ).all()
    mine = [detail for detail in failed if detail.get("email") == email]
    assert len(mine) == 5
    assert all(detail["address"] == "127.0.0.1" for detail in mine)
    assert not any("wrong-" in str(detail) for detail in mine)  # never the password


def test_it_refuses_forms_without_the_csrf_token_and_changes_nothing(stack: InProcessWeb) -> None:
    _, email = new_user(stack, "therapist", "Sam Chen")
    with web_client(stack) as client:
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 403
        csrf = login_form(client)
        client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
        forged = client.post(
            "/enroll",
            data={
                "first_name": "Maya",
                "phone": "403-555-0142",
                "action": "save",
                "csrf": "forged",
            },
        )
        api = client.post("/api/enrollments", json={"first_name": "Maya"})
    assert forged.status_code == 403 and api.status_code == 403
    assert stack.messages() == []


def test_it_sends_pages_to_sign_in_and_scripts_a_401(stack: InProcessWeb) -> None:
    with web_client(stack) as client:
        page = client.get("/patients", headers={"Accept": "text/html"})
        api = client.get("/api/messages")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert api.status_code == 401 and api.json() == {"detail": "Sign in first."}


def test_it_signs_in_and_still_limits_guessing_while_redis_is_down(stack: InProcessWeb) -> None:
    # Given a web app whose Redis cannot be reached
    _, email = new_user(stack, "therapist", "Sam Chen")
    settings = stack.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with stack.client(app=create_app(settings)) as client:
        # When the therapist signs in, they get in
        csrf = login_form(client)
        done = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
        assert done.status_code == 303
        client.cookies.clear()

        # And someone guessing their password is still stopped after five tries
        csrf = login_form(client)
        codes = [
            client.post(
                "/login", data={"email": email, "password": f"wrong-{i}", "csrf": csrf}
            ).status_code
            for i in range(6)
        ]
    assert codes == [401] * 5 + [429]
