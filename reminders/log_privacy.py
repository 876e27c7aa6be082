"""Keeping patients out of the logs, at any LOG_LEVEL (DESIGN.md, "Security and privacy").

Three leaks this closes, each found in real logs:
- access lines: a query string names a patient (`/patients?q=Anders`), and an email link's
  path carries a signed token that acts as the patient (`/checkin/<token>`);
- libraries that log request URLs at DEBUG: urllib3 prints Twilio look-ups, which filter
  by the patient's number (`?To=%2B1403...`);
- database errors: SQLAlchemy's `[parameters: ...]`, hidden by the engine (reminders.db).
"""

from __future__ import annotations

import logging
import re

# Paths whose next segment is a signed token (reminders.web.email_links).
TOKEN_ROUTES = ("unsubscribe", "checkin")
_TOKEN_AFTER_ROUTE = re.compile(rf"(/(?:{'|'.join(TOKEN_ROUTES)})/)[^/]+")
# Any segment shaped like an itsdangerous token (payload.timestamp.signature), on any route:
# a link added later is masked before anyone remembers to list it above.
_SIGNED_TOKEN = re.compile(r"(?<=/)[\w-]{4,}\.[\w-]{4,}\.[\w-]{16,}(?=/|$)")
MASK = "…"

# Loggers that write URLs, headers or bodies of outgoing requests at INFO or DEBUG.
QUIET_LOGGERS = (
    "urllib3",  # requests' pool: every URL, with the query string (Twilio look-ups)
    "requests",
    "twilio",  # twilio.http_client: every request's URL, query and headers at INFO
    "httpx",
    "httpcore",
    "python_multipart",  # form parsing at DEBUG (sizes only today; bodies are one change away)
    "multipart",
)


def private_path(path: str) -> str:
    """A request path fit for a log: no query string, and no token in its place."""
    path = path.partition("?")[0]
    path = _TOKEN_AFTER_ROUTE.sub(rf"\1{MASK}", path)
    return _SIGNED_TOKEN.sub(MASK, path)


class PrivateAccessLog(logging.Filter):
    """Rewrites the path in uvicorn's access records, keeping method, status and the rest.

    uvicorn logs `'%s - "%s %s HTTP/%s" %d'` with (client, method, path with query,
    version, status) as record.args; its own formatter reads them too. Every text argument
    that is a path is rewritten, so a reordering in a later uvicorn still cannot leak.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                private_path(arg) if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True


def quiet_libraries() -> None:
    """Hold the chatty HTTP libraries at WARNING, whatever the root level (LOG_LEVEL=DEBUG
    must help debugging without printing patients' numbers)."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def protect_access_log() -> None:
    """Install the filter on uvicorn's access logger (once; a filter on the logger holds
    whichever handler ends up writing the records)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PrivateAccessLog) for f in access.filters):
        access.addFilter(PrivateAccessLog())


def install() -> None:
    """Everything above, for a process whose logging we configure (web, scheduler, worker)."""
    quiet_libraries()
    protect_access_log()


def configure(level: str) -> None:
    """One format for our processes, at LOG_LEVEL, with everything above: no level, DEBUG
    included, writes a patient's name, number, message or link token. Does nothing to a
    root logger that has handlers already (a second call, or a test runner's)."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(processName)s %(name)s %(levelname)s %(message)s",
    )
    install()
