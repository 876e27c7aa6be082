"""A fake Twilio REST Messages API (2010-04-01) served on 127.0.0.1 from a daemon thread.

Point the official SDK at it with ``client.api.base_url = fake.base_url``. Dates are RFC 2822
in GMT. List filters ``DateSent``, ``DateSent<`` and ``DateSent>`` are inclusive and use only
the ``YYYY-MM-DD`` part of the value, like Twilio (the SDK sends ``%Y-%m-%dT%H:%M:%SZ`` built
from the datetime as given, without converting it to UTC). Lists are newest first.

Reading ``Retry-After`` through the SDK: ``TwilioRestException`` has ``.status`` and ``.code``
but no headers. Build the client with ``TwilioHttpClient(request_hooks={"response": [hook]})``:
requests calls ``hook(response, **kwargs)`` in the calling thread with the raw
``requests.Response``, so the hook can keep ``response.headers.get("Retry-After")`` (e.g. in a
``threading.local``) for the code that catches the exception. The default ``TwilioHttpClient``
also keeps the last response at ``client.http_client._test_only_last_response.headers``
(private, and shared by all threads using that client).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import secrets
import sys
import threading
from collections import deque
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, TypedDict
from urllib.parse import parse_qs, urlencode, urlsplit

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€\f")
_MESSAGES = {20003: "Authenticate", 20404: "The requested resource was not found",
             20429: "Too Many Requests", 20500: "Internal Server Error",
             21211: "Invalid 'To' Phone Number",
             21610: "Attempt to send to unsubscribed recipient"}  # fmt: skip
_CODES = {401: 20003, 404: 20404, 429: 20429, 500: 20500}
_PAGING = ("Page", "PageSize", "PageToken")


class _Fields(TypedDict):
    to: str | None
    from_: str | None
    messaging_service_sid: str | None
    body: str | None
    status_callback: str | None
    received_at: datetime


class RecordedMessage(_Fields):  # a created message: ``to`` and ``body`` are always set
    sid: str


class RecordedRequest(_Fields):  # a create attempt, any outcome, with the status/code returned
    status: int
    code: int | None


class _Failure(NamedTuple):
    status: int
    code: int | None
    message: str
    retry_after: int | None


def num_segments(body: str) -> int:
    """SMS segments as Twilio counts them: GSM-7 (160/153 septets) or UCS-2 (70/67 units)."""
    if all(c in _GSM7 or c in _GSM7_EXT for c in body):
        units, single, multi = sum(2 if c in _GSM7_EXT else 1 for c in body), 160, 153
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / multi)


class FakeTwilio:
    def __init__(self, account_sid: str | None = None, auth_token: str | None = None) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.response_delay: float = 0.0  # seconds every create response is delayed
        self._lock = threading.Condition()
        self._messages: list[RecordedMessage] = []
        self._requests: list[RecordedRequest] = []
        self._failures: deque[_Failure] = deque()
        self._delays: deque[float] = deque()
        self._late: deque[float] = deque()
        self._failing_look_ups = 0
        self._look_ups: list[dict[str, str]] = []
        self._drops = 0
        self.connections = 0  # connections clients opened since the last reset (keep-alive reuse)
        self._stopping = threading.Event()
        self._server: _Server | None = None

    def start(self) -> FakeTwilio:
        assert self._server is None, "FakeTwilio already started"
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._stopping.set()  # wakes delayed responses
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeTwilio not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[RecordedMessage]:
        with self._lock:
            return [RecordedMessage(**m) for m in self._messages]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [RecordedRequest(**r) for r in self._requests]

    def fail_next(
        self,
        status: int,
        code: int | None = None,
        message: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` authenticated create requests with this error.

        ``code`` defaults to Twilio's code for the status (401→20003, 404→20404, 429→20429,
        500→20500), else it is left out of the body and the SDK reports ``code == status``.
        """
        code = code if code is not None else _CODES.get(status)
        text = message or _MESSAGES.get(code or 0) or HTTPStatus(status).phrase
        with self._lock:
            self._failures.extend([_Failure(status, code, text, retry_after)] * times)

    def drop_next(self, times: int = 1) -> None:
        """Close the connection on the next ``times`` create requests without answering or
        recording them (a connection reset on the way)."""
        with self._lock:
            self._drops += times

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Delay the next ``times`` create responses; the request is recorded before."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def create_late_next(self, seconds: float, times: int = 1) -> None:
        """Create the next ``times`` messages only ``seconds`` after their request arrived, then
        answer (a client with a shorter timeout has given up by then): the request is recorded
        at once, the message when it is created."""
        with self._lock:
            self._late.extend([seconds] * times)

    def fail_next_look_ups(self, times: int = 1) -> None:
        """Answer the next ``times`` list requests (look-ups) with 500 (Twilio error 20500)."""
        with self._lock:
            self._failing_look_ups += times

    @property
    def look_ups(self) -> list[dict[str, str]]:
        """The query of every list request, failed ones included, in order."""
        with self._lock:
            return [dict(q) for q in self._look_ups]

    def reset(self) -> None:
        with self._lock:
            for queue in (self._messages, self._requests, self._failures, self._delays):
                queue.clear()
            self._late.clear()
            self._look_ups.clear()
            self.response_delay = 0.0
            self._drops = self._failing_look_ups = self.connections = 0

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedMessage]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(
                    f"FakeTwilio: expected at least {count} message(s) within {timeout}s, "
                    f"got {len(self._messages)}"
                )
        return self.messages

    # request handling, called from server threads
    def _take_drop(self) -> bool:
        with self._lock:
            if self._drops <= 0:
                return False
            self._drops -= 1
            return True

    def _create(
        self, form: dict[str, str], authorized: bool
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        fields = _Fields(
            to=form.get("To"), from_=form.get("From"), body=form.get("Body"),
            messaging_service_sid=form.get("MessagingServiceSid"),
            status_callback=form.get("StatusCallback"), received_at=datetime.now(UTC),
        )  # fmt: skip
        with self._lock:
            if not authorized:
                failure: _Failure | None = _Failure(401, 20003, _MESSAGES[20003], None)
            else:
                failure = self._failures.popleft() if self._failures else None
            if failure is None and not fields["to"]:
                failure = _Failure(400, 21604, "A 'To' phone number is required.", None)
            elif failure is None and not (fields["from_"] or fields["messaging_service_sid"]):
                failure = _Failure(400, 21603, "A 'From' phone number is required.", None)
            elif failure is None and not fields["body"]:
                failure = _Failure(400, 21602, "Message body is required.", None)
            status, code = (failure.status, failure.code) if failure else (201, None)
            self._requests.append(RecordedRequest(**fields, status=status, code=code))
            headers, delay = {}, self._delays.popleft() if self._delays else self.response_delay
            late = self._late.popleft() if self._late and failure is None else 0.0
            if failure is not None:
                payload = self._error(status, code, failure.message)
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
            elif not late:
                payload = self._add(RecordedMessage(**fields, sid="SM" + secrets.token_hex(16)))
        if late:  # Twilio still working on it when the client gives up
            self._stopping.wait(late)
            fields["received_at"] = datetime.now(UTC)
            with self._lock:
                payload = self._add(RecordedMessage(**fields, sid="SM" + secrets.token_hex(16)))
        if delay > 0:  # recorded first: a client that gives up still has "sent" the message
            self._stopping.wait(delay)
        return status, payload, headers

    def _add(self, message: RecordedMessage) -> dict[str, Any]:
        """Record a created message (the lock held) and return its resource."""
        self._messages.append(message)
        self._lock.notify_all()
        return self._resource(message)

    def _list(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        lo, hi = date.min, date.max
        for key in ("DateSent", "DateSent>", "DateSent<"):
            if key in query:
                try:
                    day = date.fromisoformat(query[key][:10])
                except ValueError:
                    return 400, self._error(400, 20001, f"Invalid {key}: {query[key]!r}")
                lo, hi = (day if key != "DateSent<" else lo), (day if key != "DateSent>" else hi)
        size, page = max(1, min(int(query.get("PageSize", 50)), 1000)), int(query.get("Page", 0))
        with self._lock:
            self._look_ups.append(dict(query))
            if self._failing_look_ups > 0:
                self._failing_look_ups -= 1
                return 500, self._error(500, 20500, _MESSAGES[20500])
            found = [
                m for m in reversed(self._messages)
                if query.get("To", m["to"]) == m["to"]
                and query.get("From", m["from_"]) == m["from_"]
                and lo <= m["received_at"].date() <= hi
            ]  # fmt: skip
        filters = {k: v for k, v in query.items() if k not in _PAGING}
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json?"

        def uri(number: int) -> str:
            return base + urlencode({**filters, "PageSize": size, "Page": number})

        chunk, start = found[page * size : (page + 1) * size], page * size
        return 200, {
            "messages": [self._resource(m) for m in chunk],
            "start": start, "end": start + max(len(chunk) - 1, 0), "page": page,
            "page_size": size, "uri": uri(page), "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if len(found) > start + size else None,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
        }  # fmt: skip

    def _fetch(self, sid: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            found = [self._resource(m) for m in self._messages if m["sid"] == sid]
        return (200, found[0]) if found else (404, self._error(404, 20404, _MESSAGES[20404]))

    def _resource(self, m: RecordedMessage) -> dict[str, Any]:
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{m['sid']}"
        stamp = format_datetime(m["received_at"])
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": m["body"],
            "date_created": stamp, "date_sent": stamp, "date_updated": stamp,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": m["from_"], "messaging_service_sid": m["messaging_service_sid"],
            "num_media": "0", "num_segments": str(num_segments(m["body"] or "")),
            "price": None, "price_unit": "USD", "sid": m["sid"], "status": "queued",
            "subresource_uris": {"media": uri + "/Media.json"}, "to": m["to"], "uri": uri + ".json",
        }  # fmt: skip

    @staticmethod
    def _error(status: int, code: int | None, message: str) -> dict[str, Any]:
        body: dict[str, Any] = {"message": message, "status": status}
        if code is not None:
            body |= {"code": code, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        return body

    def _authorized(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return False
        expected = f"{self.account_sid}:{self.auth_token}".encode()
        return scheme.lower() == "basic" and hmac.compare_digest(given, expected)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a worker opening 32 connections at once would see
    # the rest wait a second for a SYN retry, as Twilio's own servers never make it wait.
    request_queue_size = 128
    fake: FakeTwilio

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client gone away is normal
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API does: every answer has a length
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def version_string(self) -> str:
        return "FakeTwilio"

    def setup(self) -> None:
        super().setup()
        with self.server.fake._lock:
            self.server.fake.connections += 1

    def log_message(self, format: str, *args: Any) -> None:  # never log numbers or bodies
        pass

    def do_GET(self) -> None:
        fake, url, get = self.server.fake, urlsplit(self.path), self.command == "GET"
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        prefix = f"/2010-04-01/Accounts/{fake.account_sid}/Messages"
        headers: dict[str, str] = {}
        authorized = fake._authorized(self.headers.get("Authorization"))
        if not get and url.path == prefix + ".json" and fake._take_drop():
            self.close_connection = True
            return
        if not get and url.path == prefix + ".json":
            status, payload, headers = fake._create(form, authorized)
        elif not authorized:
            status, payload = 401, fake._error(401, 20003, _MESSAGES[20003])
        elif get and url.path == prefix + ".json":
            status, payload = fake._list(query)
        elif get and url.path.startswith(prefix + "/") and url.path.endswith(".json"):
            status, payload = fake._fetch(url.path[len(prefix) + 1 : -len(".json")])
        else:
            message = f"The requested resource {url.path} was not found"
            status, payload = 404, fake._error(404, 20404, message)
        if not authorized:
            headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET
