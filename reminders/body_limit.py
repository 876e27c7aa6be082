"""Request body limits for the whole web app, counted while the body arrives.

A pure ASGI middleware, so nothing (form parsing, JSON, a route) reads more than the limit:
a declared Content-Length over it is refused before the app runs, and a chunked body (no
Content-Length) is counted chunk by chunk and refused as soon as it goes over. The limit is
MAX_BODY (64 KiB) except under a few path prefixes given their own (the template editor takes
up to 1 MiB). The answer is a short 413 that echoes nothing of the request: JSON
(`{"detail": ...}`) under /api, as every other API error, plain text elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024


class BodyLimit:
    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.larger.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.limit_for(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit, path)
            return
        # The body is read here, counted chunk by chunk, before the app sees any of it: so
        # every route answers 413 alike (even one that would refuse a stranger before reading),
        # and at most `limit` bytes of it are ever held.
        buffered: list[Message] = []
        received = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break  # the client went away: the app hears it as usual
            received += len(message.get("body", b""))
            if received > limit:
                await _refuse(send, limit, path)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def refusal(limit: int, path: str) -> tuple[bytes, bytes]:
    """The 413's body and content type for a request to `path` over `limit` bytes."""
    if path == "/api" or path.startswith("/api/"):
        detail = f"The request body is over {limit // 1024} KiB."
        return json.dumps({"detail": detail}).encode(), b"application/json"
    return f"Request body too large (over {limit // 1024} KiB).\n".encode(), (
        b"text/plain; charset=utf-8"
    )


async def _refuse(send: Send, limit: int, path: str) -> None:
    body, content_type = refusal(limit, path)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
