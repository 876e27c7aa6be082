"""No request body over 64 KiB is read by the web app, even one that does not declare its length.

Through the real web process: a 5 MB chunked body (no Content-Length) to a webhook, a form
and the API each gets a 413 as soon as it goes over, and the process does not grow with it.
(Declared lengths, and a body just under the limit: tests/service/test_declared_body_limits.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
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
