"""Security headers on every answer, no caching of patient data, and production's stricter
settings: a long SECRET_KEY, the API docs hidden unless asked for, task time limits."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from browser import browser_page, make_user, sign_in
from in_process import signed_in_client
from playwright.sync_api import expect
from stack import Deployment

from reminders.config import ConfigurationError, Settings

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def test_every_answer_has_the_security_headers(stack: Deployment) -> None:
    url = stack.web_url()
    for path, html in (("/login", True), ("/healthz", False), ("/api/enrollments", False)):
        answer = httpx.get(f"{url}{path}", headers={"accept": "text/html"}, timeout=10)
        for name, value in COMMON.items():
            assert answer.headers[name] == value, (path, name)
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "default-src 'self'" in csp and "base-uri 'none'" in csp
        assert "strict-transport-security" not in answer.headers  # development
        if html or path.startswith("/api/"):
            assert answer.headers["cache-control"] == "no-store", path
    # The 413 of the body limit too
    refused = httpx.post(f"{url}/login", content=b"a" * 70_000, timeout=10)
    assert refused.status_code == 413 and refused.headers["x-frame-options"] == "DENY"


# --- production settings -------------------------------------------------------------------

PRODUCTION = {
    "REMINDERS_ENV": "production",
    "SMS_TRANSPORT": "twilio",
    "EMAIL_TRANSPORT": "smtp",
    "CLINIC_ALERT_EMAIL": "alerts@bowriver.example",
}


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in list(os.environ):
        if name.startswith(("REMINDERS_", "SECRET_KEY", "TASK_", "API_DOCS", "SMTP_", "TWILIO_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def test_production_refuses_a_secret_key_under_32_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="SECRET_KEY must be at least 32 bytes"):
        settings(monkeypatch, **PRODUCTION, SECRET_KEY="s" * 31)
    assert settings(monkeypatch, **PRODUCTION, SECRET_KEY="s" * 32).secret_key == "s" * 32
    # Development keeps working with anything
    assert settings(monkeypatch, SECRET_KEY="short").secret_key == "short"


def test_task_time_limits_must_outlast_the_transports(monkeypatch: pytest.MonkeyPatch) -> None:
    default = settings(monkeypatch)
    assert (default.task_soft_time_limit, default.task_time_limit) == (60.0, 90.0)
    with pytest.raises(ConfigurationError, match="TASK_SOFT_TIME_LIMIT"):
        settings(monkeypatch, TASK_SOFT_TIME_LIMIT="20")  # SMTP's timeout is 20 s
    with pytest.raises(ConfigurationError, match="TASK_SOFT_TIME_LIMIT"):
        settings(monkeypatch, TWILIO_TIMEOUT_SECONDS="61")
    with pytest.raises(ConfigurationError, match="TASK_TIME_LIMIT must be over"):
        settings(monkeypatch, TASK_SOFT_TIME_LIMIT="60", TASK_TIME_LIMIT="60")
    chosen = settings(monkeypatch, TASK_SOFT_TIME_LIMIT="30", TASK_TIME_LIMIT="45")
    assert (chosen.task_soft_time_limit, chosen.task_time_limit) == (30.0, 45.0)


PROBE = """
from fastapi.testclient import TestClient
from reminders.web.app import app
client = TestClient(app)
print(" ".join(str(client.get(p).status_code) for p in ("/docs", "/redoc", "/openapi.json")))
print(client.get("/healthz").headers.get("strict-transport-security", "-"))
"""


def probe_docs(tmp_path: Path, **env: str) -> list[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REMINDERS_", "SECRET_KEY", "API_DOCS", "TWILIO_", "SMTP_"))
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, "DATABASE_URL": f"sqlite:///{tmp_path / 'docs.db'}", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_production_hides_the_api_docs_unless_asked(tmp_path: Path) -> None:
    production = {**PRODUCTION, "SECRET_KEY": "x" * 40}
    hidden = probe_docs(tmp_path, **production)
    assert hidden[0] == "404 404 404"
    assert hidden[1].startswith("max-age=")  # HSTS in production only
    assert probe_docs(tmp_path, **production, API_DOCS="true")[0] == "200 200 200"
    development = probe_docs(tmp_path)
    assert development == ["200 200 200", "-"]


# --- no inline script ------------------------------------------------------------------------

STAFF_PAGES = [
    "/enroll",
    "/patients",
    "/flags",
    "/",
    "/account",
    "/account/password",
    "/login/forgot",
    "/admin/templates",
    "/admin/templates/after-session",
    "/admin/settings",
    "/admin/users",
    "/admin/plans",
    "/admin/plans/dry-needling",
    "/admin/audit",
]


def test_pages_carry_no_inline_script_and_the_policy_allows_none(stack: Deployment) -> None:
    email = make_user(stack, "admin", "Ada Admin")
    with signed_in_client(stack, email) as client:
        sources: set[str] = set()
        for path in STAFF_PAGES:
            answer = client.get(path)
            assert answer.status_code == 200, path
            script_src = next(
                part.strip()
                for part in answer.headers["content-security-policy"].split(";")
                if part.strip().startswith("script-src")
            )
            assert script_src == "script-src 'self'", path
            tags = re.findall(r"<script\b[^>]*>", answer.text)
            for tag in tags:
                found = re.fullmatch(r'<script src="(/static/[a-z-]+\.js)">', tag)
                assert found, (path, tag)
                sources.add(found.group(1))
            assert answer.text.count("</script>") == len(tags), path  # nothing between the tags
        assert {"/static/api.js", "/static/message-editor.js", "/static/users.js"} <= sources
        for source in sources:
            script = client.get(source)
            assert script.status_code == 200, source
            assert "javascript" in script.headers["content-type"]


def test_a_plan_key_in_the_address_cannot_become_script(stack: Deployment) -> None:
    email = make_user(stack, "admin", "Ada Admin")
    with signed_in_client(stack, email) as client:
        answer = client.get('/admin/plans/x"><img src=x onerror=alert(1)>')
    assert answer.status_code == 200
    assert "<img" not in answer.text
    # the key is one attribute's value, its quote and brackets escaped (&#34; or &quot;)
    assert re.search(
        r'data-key="x&(#34|quot);&gt;&lt;img src=x onerror=alert\(1\)&gt;"', answer.text
    )


def test_the_admin_pages_work_under_the_policy_in_a_real_browser(stack: Deployment) -> None:
    email = make_user(stack, "admin", "Ada Admin")
    with browser_page(bypass_csp=False) as page:
        refused: list[str] = []
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        sign_in(page, stack.web_url(), email)
        # The settings page's script fills the form from the API
        page.goto(f"{stack.web_url()}/admin/settings")
        expect(page.get_by_label("Clinic name")).not_to_have_value("", timeout=15_000)
        # The message editor's scripts preview the text as it loads, the email in a frame
        page.goto(f"{stack.web_url()}/admin/templates/after-session")
        expect(page.locator("#sms-cost-fr")).to_contain_text("segments", timeout=15_000)
        expect(page.frame_locator("#preview-html-en").get_by_text("Hi Alexandra,")).to_be_visible()
    assert refused == []
