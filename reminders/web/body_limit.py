"""Request body limits for the whole web app, counted while the body arrives.

A pure ASGI middleware, so nothing (form parsing, JSON, a route) reads more than MAX_BODY
bytes: a declared Content-Length over it is refused before the app runs, and a chunked body
(no Content-Length) is counted chunk by chunk and refused as soon as it goes over. The answer
is a short plain 413 that echoes nothing of the request.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024
_REFUSAL = b"Request body too large (over 64 KiB).\n"


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(send)
            return
        # The body is read here, counted chunk by chunk, before the app sees any of it: so
        # every route answers 413 alike (even one that would refuse a stranger before reading),
        # and at most `max_bytes` of it is ever held.
        buffered: list[Message] = []
        received = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break  # the client went away: the app hears it as usual
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await _refuse(send)
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


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(_REFUSAL)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _REFUSAL, "more_body": False})
