"""No request body over 64 KiB is read by the web app, whether it declares its length or not.

Through the real web process: a 5 MB chunked body (no Content-Length) to a webhook, a form
and the API each gets a 413 as soon as it goes over, and the process does not grow with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stack import Deployment

FIVE_MB = 5 * 1024 * 1024
PATHS = ["/twilio/inbound", "/login", "/enroll", "/api/enrollments"]


def chunked(total: int, chunk: int = 16 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"a" * chunk
        sent += chunk


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def test_chunked_bodies_over_the_limit_are_refused_everywhere(stack: Deployment) -> None:
    url = stack.web_url()
    pid = stack.processes["web"].pid
    with httpx.Client(base_url=url, timeout=30) as client:
        client.get("/healthz")
        before = rss_bytes(pid)
        for path in PATHS:
            for _ in range(3):
                answer = client.post(
                    path,
                    content=chunked(FIVE_MB),
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
                assert answer.status_code == 413, (path, answer.status_code)
                assert "content-length" not in answer.request.headers
                assert answer.headers["content-type"].startswith(
                    "application/json" if path.startswith("/api/") else "text/plain"
                )
                assert b"aaaa" not in answer.content and len(answer.content) < 200
        assert rss_bytes(pid) - before < 50 * 1024 * 1024
        # The app still answers afterwards
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("path", PATHS)
def test_a_declared_length_over_the_limit_is_refused_at_once(stack: Deployment, path: str) -> None:
    answer = httpx.post(
        f"{stack.web_url()}{path}",
        content=b"a" * (64 * 1024 + 1),
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert answer.status_code == 413
    if path.startswith("/api/"):
        assert answer.json() == {"detail": "The request body is over 64 KiB."}
    else:
        assert answer.text == "Request body too large (over 64 KiB).\n"


def test_a_body_just_under_the_limit_still_reaches_the_route(stack: Deployment) -> None:
    # An unsigned webhook of 64 KiB is read and refused by the route itself (403), not here
    answer = httpx.post(
        f"{stack.web_url()}/twilio/inbound",
        content=chunked(64 * 1024, 8 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert answer.status_code == 403
