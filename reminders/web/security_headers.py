"""Security headers on every response, as one pure ASGI middleware.

Headers a route has set itself are left as they are. Page scripts are static files under
/static, so script-src is 'self' alone: an injected inline script does not run.
Every HTML page and every /api response carries patient data: Cache-Control: no-store.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline';"
    " script-src 'self'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc load Swagger UI and ReDoc from jsDelivr, with an inline script.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly;"
    " style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com;"
    " font-src 'self' https://fonts.gstatic.com;"
    " script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; worker-src 'self' blob:;"
    " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    def __init__(
        self, app: ASGIApp, *, production: bool, docs_paths: Iterable[str | None] = ()
    ) -> None:
        self.app = app
        self.production = production
        self.docs_paths = {path for path in docs_paths if path}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path in self.docs_paths else CSP
        api = path == "/api" or path.startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next(
                    (value for name, value in headers if name.lower() == b"content-type"), b""
                )
                wanted = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", csp.encode()),
                ]
                if self.production:
                    wanted.append((b"strict-transport-security", HSTS.encode()))
                if api or content_type.lower().startswith(b"text/html"):
                    wanted.append((b"cache-control", b"no-store"))
                headers += [(name, value) for name, value in wanted if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
