"""What every API router shares: size limits, id and paging parameters, saving, errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from starlette.types import Message, Receive

from reminders.api.schemas import Problem
from reminders.body_limit import MAX_BODY, refusal
from reminders.models import User

T = TypeVar("T")
MAX_ID = 2_147_483_647  # an id beyond this is in no table (and overflows PostgreSQL's integer)

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500, description="at most this many")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="skip this many")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text}
    for code, text in (
        (400, "The body is not JSON"),
        (401, "Not signed in, or the token is invalid"),
        (403, "Not allowed for this role, or the CSRF token is missing"),
        (404, "No such record"),
        (409, "Conflicts with the current state"),
        (413, "Request body over 64 KiB"),
        (422, "Invalid input: what is wrong, field by field"),
        (503, "The database is busy or unavailable"),
    )
}


def limited_body(max_bytes: int) -> type[APIRoute]:
    """A route class that refuses a request body over `max_bytes` with a JSON 413, reading no
    more; refuses JSON that could not be stored or echoed (a lone surrogate, nesting that
    exhausts the parser) with a 422; and answers invalid input with a 422 that does not echo
    the input."""

    class LimitedBody(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handle = super().get_route_handler()

            async def limited(request: Request) -> Response:
                declared = request.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    return too_large(max_bytes)
                if request.method not in ("GET", "HEAD", "OPTIONS"):
                    body = bytearray()  # counted as it comes: a chunked body declares no length
                    async for chunk in request.stream():
                        body += chunk
                        if len(body) > max_bytes:
                            return too_large(max_bytes)
                    if (refused := _not_text(bytes(body))) is not None:
                        return JSONResponse({"detail": refused}, status_code=422)
                    request = Request(request.scope, _replay(bytes(body)))
                try:
                    return await handle(request)
                except RequestValidationError as exc:
                    return invalid(exc)

            return limited

    return LimitedBody


LimitedBody = limited_body(MAX_BODY)


def api_router(tag: str) -> APIRouter:
    """The router of one part of the JSON API: under /api, bodies capped at MAX_BODY, and the
    error answers every route documents."""
    return APIRouter(prefix="/api", tags=[tag], responses=ERRORS, route_class=LimitedBody)


def _not_text(body: bytes) -> str | None:
    """What is wrong with JSON that parses but could not be stored or echoed back, if anything."""
    if not body:
        return None
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except RecursionError:
        return "The request body is nested too deeply."
    except UnicodeEncodeError:
        return "The request body contains text that is not valid Unicode (a lone surrogate)."
    except ValueError:
        return None  # not JSON: the route answers that with its own 422
    return None


def problems(
    errors: Sequence[Any], *, names: Mapping[str, str] | None = None, skip: int = 1
) -> list[str]:
    """One line per problem ("first_name: String should have at most 80 characters"), at most
    ten, never echoing the value. `skip` drops the leading parts of each location ("body");
    `names` renames fields (a form's own names)."""
    lines = []
    for error in list(errors)[:10]:
        if error.get("type") == "json_invalid":
            lines.append("body: is not valid JSON")
            continue
        where = [str(part) for part in error.get("loc", ())]
        field = ".".join(where[skip:]) if len(where) > skip else "".join(where) or "body"
        field = (names or {}).get(field, field)
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        lines.append(f"{field}: {message}")
    return lines


def invalid(exc: RequestValidationError) -> Response:
    """422 with one line per problem ("first_name: String should have at most 80 characters"),
    never echoing what was sent: it may be a patient's number, or text that cannot be encoded."""
    content = json.dumps({"detail": "; ".join(problems(exc.errors()))}, ensure_ascii=True)
    return Response(content, status_code=422, media_type="application/json")


def too_large(max_bytes: int) -> Response:
    body, content_type = refusal(max_bytes, "/api")
    return Response(body, status_code=413, media_type=content_type.decode())


def _replay(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def problem(status: int, detail: str) -> HTTPException:
    return HTTPException(status_code=status, detail=detail)


def actor(user: User) -> str:
    """Who did it, as the audit log records it."""
    return user.email[:120]


def saved(session: Session, result: T) -> T:
    """Commit now, so that the answer is only sent once the change is in the database.

    The request's session would otherwise commit after the response has gone out: a client
    could read before the write lands, and the next request would wait on this one's locks
    (signing in with a token writes too, so reads end here as well). Build `result` before
    calling: nothing can be loaded from the session afterwards.
    """
    try:
        session.commit()
    except IntegrityError:
        raise problem(409, "Someone changed this at the same time. Reload and try again.") from None
    except OperationalError:
        raise problem(503, "The database is busy or unavailable. Try again shortly.") from None
    return result
