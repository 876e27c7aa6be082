"""No request body over 64 KiB is read by the web app: a declared Content-Length over the limit
is refused at once, on a webhook, a form and the API, and a body just under it still reaches
its route. Through the web app in this process. (A 5 MB chunked body to the real web process,
which must not grow with it: tests/system/security/test_body_limits.py.)"""

from __future__ import annotations

import pytest
from in_process import InProcessWeb, web_client
from security.test_body_limits import PATHS, chunked


@pytest.mark.parametrize("path", PATHS)
def test_a_declared_length_over_the_limit_is_refused_at_once(
    stack: InProcessWeb, path: str
) -> None:
    with web_client(stack) as client:
        answer = client.post(
            path,
            content=b"a" * (64 * 1024 + 1),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 413
    if path.startswith("/api/"):
        assert answer.json() == {"detail": "The request body is over 64 KiB."}
    else:
        assert answer.text == "Request body too large (over 64 KiB).\n"


def test_a_body_just_under_the_limit_still_reaches_the_route(stack: InProcessWeb) -> None:
    # An unsigned webhook of 64 KiB is read and refused by the route itself (403), not here
    with web_client(stack) as client:
        answer = client.post(
            "/twilio/inbound",
            content=chunked(64 * 1024, 8 * 1024),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 403
