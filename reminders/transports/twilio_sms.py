"""SMS through Twilio's Messages API, with the official SDK.

Twilio's error codes are turned into TransportError in one place (`_classify`).
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from typing import Any

from requests.adapters import HTTPAdapter
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, ReadTimeout
from requests.utils import get_environ_proxies
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError
from urllib3.util import Timeout

from reminders.transports.base import GoAhead, Outgoing, TransportError
from reminders.transports.twilio_codes import TRANSIENT_CODES, meaning

# The SDK logs every request's URL and headers at INFO; our own log lines say what matters.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


class _RememberingHttpClient(TwilioHttpClient):
    """Keeps each thread's last response headers, so a 429's Retry-After can be honoured: the
    SDK's exception has none, and a worker's threads share this client."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mine = threading.local()

    @property
    def last_headers(self) -> dict[str, str]:
        return getattr(self._mine, "headers", {})

    def request(self, *args: Any, **kwargs: Any) -> Any:
        self._mine.headers = {}
        response = super().request(*args, **kwargs)
        self._mine.headers = dict(response.headers or {})
        return response


# A look-up reads the recipient's messages newest first, this many per request, and stops at
# the first one created before the attempt: usually one small request.
LOOK_UP_PAGE_SIZE = 20


class TwilioTransport:
    name = "twilio"
    can_look_up = True

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        api_base_url: str = "https://api.twilio.com",
        timeout: float = 15.0,
        connections: int = 10,
    ) -> None:
        """`timeout` (seconds) bounds connecting and, again, waiting for Twilio's answer: a
        send ends within twice that (Settings.worst_send_seconds), which is its only deadline
        under the worker's threads pool (Celery's time limits need prefork). `connections`:
        kept alive for this many sends at once, one per delivery a worker process runs."""
        base_url = api_base_url.rstrip("/")
        # requests would read proxy and CA settings from the environment on every send (~200
        # lookups); they are read once here instead, for the one host this client calls.
        self.http = _RememberingHttpClient(
            timeout=timeout, proxy=get_environ_proxies(base_url) or None
        )
        # One deadline for the whole request, not one per socket operation: urllib3 gives the
        # wait for the answer only what connecting left of `total` (cloned for every request).
        self.http.timeout = Timeout(connect=timeout, read=timeout, total=2 * timeout)
        assert self.http.session is not None  # pooled: connections kept alive
        # The SDK mounts a pool of min(32, cores + 4) for https only (and requests' 10 serve
        # http): with more threads than that, sends beyond it would each open a connection
        # (and a TLS handshake) and drop it after one request.
        pool = HTTPAdapter(pool_maxsize=connections)
        self.http.session.mount("https://", pool)
        self.http.session.mount("http://", pool)
        self.http.session.trust_env = False
        self.http.session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        self.client = Client(account_sid, auth_token, http_client=self.http)
        self.client.api.base_url = base_url
        # The SDK imports the Messages API on first use (~0.2 s): do it now, not between a
        # send's turn under the send rate and the request itself.
        _ = self.client.messages
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid

    def send(self, outgoing: Outgoing, *, go_ahead: GoAhead | None = None) -> str:
        sender: dict[str, str] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        extra = (
            {"status_callback": outgoing.status_callback_url}
            if outgoing.status_callback_url
            else {}
        )
        if go_ahead is not None:
            go_ahead()  # raises ClaimLost: this worker no longer holds the message
        try:
            created = self.client.messages.create(
                to=outgoing.to, body=outgoing.text, **sender, **extra
            )
        except TwilioRestException as exc:
            raise self._classify(exc) from None
        except ReadTimeout:
            raise TransportError("Twilio did not answer in time", ambiguous=True) from None
        except RequestsConnectionError as exc:
            raise TransportError(
                f"could not reach Twilio ({type(exc).__name__})", ambiguous=_may_have_arrived(exc)
            ) from None
        except (TwilioException, OSError) as exc:  # nothing was sent
            raise TransportError(f"could not reach Twilio ({type(exc).__name__})") from None
        return str(created.sid)

    def find_sent(self, outgoing: Outgoing, since: datetime) -> str | None:
        """Look the message up by recipient (and sender), newest first, by its exact body.

        No DateSent filter: a message Twilio accepted but still holds in its queue has no
        date_sent yet, and it is the one most likely to be in flight. Reading stops at the
        first message created before `since`, so the look-up covers exactly the time since.
        """
        filters: dict[str, Any] = {"to": outgoing.to}
        if self.from_number and not self.messaging_service_sid:
            filters["from_"] = self.from_number
        try:
            for message in self.client.messages.stream(**filters, page_size=LOOK_UP_PAGE_SIZE):
                created = message.date_created
                if created is not None and created < since:
                    return None
                if message.body == outgoing.text:
                    return str(message.sid)
        except (TwilioException, OSError) as exc:
            raise TransportError(
                f"could not look the message up at Twilio ({type(exc).__name__})"
            ) from None
        return None

    def _classify(self, exc: TwilioRestException) -> TransportError:
        code = exc.code if isinstance(exc.code, int) else None
        known = meaning(code)
        if known is not None and known.permanent:
            return TransportError(
                known.reason,
                permanent=True,
                code=str(code),
                opted_out=known.opted_out,
                fall_back=known.fall_back,
            )
        retry_after = _seconds(
            self.http.last_headers.get("Retry-After") or self.http.last_headers.get("retry-after")
        )
        if exc.status == 401 or code == 20003:
            # Our credentials, not the message: once an operator fixes them, it should go out.
            return TransportError(
                "Twilio refused our credentials (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)",
                code=str(code or exc.status),
                retry_after=retry_after,
            )
        if code in TRANSIENT_CODES or exc.status == 429 or exc.status >= 500:
            reason = TRANSIENT_CODES.get(code or 0, f"Twilio answered {exc.status}")
            return TransportError(reason, code=str(code or exc.status), retry_after=retry_after)
        # Other 4xx: the request itself is wrong (bad sender); sending it again won't help.
        return TransportError(
            f"Twilio refused the message (HTTP {exc.status})",
            permanent=True,
            code=str(code or exc.status),
            fall_back=True,  # the patient still gets the step, by email
        )


def _may_have_arrived(exc: RequestsConnectionError) -> bool:
    """A connection that failed to open sent nothing; one dropped after the request was
    written may have: the caller looks the message up before sending it again."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return not isinstance(exc, ConnectTimeout) and not isinstance(reason, NewConnectionError)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
