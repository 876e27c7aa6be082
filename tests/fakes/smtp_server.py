"""A fake SMTP server (aiosmtpd) on 127.0.0.1 running in a background thread.

Plain SMTP only (no STARTTLS / implicit TLS). With ``username``/``password`` it advertises
``AUTH PLAIN LOGIN`` without TLS and requires authentication before ``MAIL FROM`` (530);
wrong credentials get 535. Without them AUTH is not offered.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import socket
import threading
from collections import deque
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Literal, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Stage = Literal["MAIL", "RCPT", "DATA"]


class ReceivedEmail(EmailMessage):
    """An accepted message (parsed with ``email.policy.default``) plus its SMTP envelope."""

    mail_from: str
    rcpt_tos: list[str]
    received_at: datetime
    authenticated_as: str | None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeSmtp:
    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.host = "127.0.0.1"
        self.username, self.password = username, password
        self._lock = threading.Condition()
        self._messages: list[ReceivedEmail] = []
        self._failures: dict[Stage, deque[str]] = {s: deque() for s in ("MAIL", "RCPT", "DATA")}
        self._delays: dict[Stage, deque[float]] = {s: deque() for s in ("MAIL", "RCPT", "DATA")}
        self._drops = 0
        self._commands: list[Stage] = []
        self._controller: Controller | None = None
        self._port: int | None = None

    # lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeSmtp:
        assert self._controller is None, "FakeSmtp already started"
        options: dict[str, Any] = {"enable_SMTPUTF8": True}
        if self.username is not None:
            options |= {"auth_require_tls": False, "authenticator": self._authenticate}
        for attempt in range(5):  # the port may be taken between probing and binding
            port = _free_port()
            controller = Controller(_Handler(self), hostname=self.host, port=port, **options)
            try:
                controller.start()
            except OSError as error:
                controller.stop(no_assert=True)
                if error.errno != errno.EADDRINUSE or attempt == 4:
                    raise
                continue
            self._controller, self._port = controller, port
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = self._port = None

    def __enter__(self) -> FakeSmtp:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._port is not None, "FakeSmtp not started"
        return self._port

    # recording & control --------------------------------------------------------------
    @property
    def messages(self) -> list[ReceivedEmail]:
        with self._lock:
            return list(self._messages)

    def fail_next(self, code: int, text: str, times: int = 1, on: Stage = "DATA") -> None:
        """Answer the next ``times`` ``on`` commands (MAIL, RCPT or DATA) with ``code text``.

        E.g. ``fail_next(451, "4.3.0 Try again later")`` or ``fail_next(550, "5.1.1 No such
        user", on="RCPT")``. Rejected messages are not recorded.
        """
        with self._lock:
            self._failures[on].extend([f"{code} {text}"] * times)

    def answer_late_next(self, seconds: float, on: Stage = "DATA", times: int = 1) -> None:
        """Hold the answer to the next ``times`` ``on`` commands for ``seconds`` (after a
        client's timeout, say). On DATA the message is accepted and recorded first: a client
        that gives up does not know it arrived."""
        with self._lock:
            self._delays[on].extend([seconds] * times)

    def drop_after_data_next(self, times: int = 1) -> None:
        """Accept and record the next ``times`` messages, then drop the connection unanswered."""
        with self._lock:
            self._drops += times

    @property
    def commands(self) -> list[Stage]:
        """Every MAIL, RCPT and DATA command received, in order (answered or not yet)."""
        with self._lock:
            return list(self._commands)

    def wait_for_command(self, stage: Stage, count: int = 1, timeout: float = 5.0) -> None:
        with self._lock:
            if not self._lock.wait_for(lambda: self._commands.count(stage) >= count, timeout):
                raise AssertionError(f"FakeSmtp: no {stage} command #{count} within {timeout}s")

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._commands.clear()
            self._drops = 0
            for stage in ("MAIL", "RCPT", "DATA"):
                self._failures[stage].clear()
                self._delays[stage].clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedEmail]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(
                    f"FakeSmtp: expected at least {count} message(s) within {timeout}s, "
                    f"got {len(self._messages)}"
                )
            return list(self._messages)

    # called from the server thread ----------------------------------------------------
    def _take_failure(self, stage: Stage) -> str | None:
        with self._lock:
            self._commands.append(stage)
            self._lock.notify_all()
            queue = self._failures[stage]
            return queue.popleft() if queue else None

    async def _answer(self, server: SMTP, stage: Stage, answer: str) -> str:
        """``answer``, late or never, as told."""
        with self._lock:
            delay = self._delays[stage].popleft() if self._delays[stage] else 0.0
            drop = stage == "DATA" and self._drops > 0
            self._drops -= drop
        if drop:
            cast(asyncio.Transport, server.transport).abort()  # connection_lost cancels us
            await asyncio.Event().wait()
        if delay > 0:
            await asyncio.sleep(delay)  # a client gone meanwhile cancels this handler
        return answer

    def _record(self, envelope: Envelope, session: Session) -> None:
        content = cast(bytes, envelope.original_content or envelope.content or b"")
        login = getattr(session.auth_data, "login", None)
        parser = BytesParser(_class=ReceivedEmail, policy=policy.default)
        received = cast(ReceivedEmail, parser.parsebytes(content))
        received.mail_from = envelope.mail_from or ""
        received.rcpt_tos = list(envelope.rcpt_tos)
        received.received_at = datetime.now(UTC)
        received.authenticated_as = login.decode() if isinstance(login, bytes) else None
        with self._lock:
            self._messages.append(received)
            self._lock.notify_all()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.username is not None
            and self.password is not None
            and hmac.compare_digest(data.login, self.username.encode())
            and hmac.compare_digest(data.password, self.password.encode())
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


class _Handler:
    def __init__(self, fake: FakeSmtp) -> None:
        self.fake = fake

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.fake.username is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if failure := self.fake._take_failure("MAIL"):
            return failure
        envelope.mail_from, envelope.mail_options = address, list(options)
        return await self.fake._answer(server, "MAIL", "250 OK")

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if failure := self.fake._take_failure("RCPT"):
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return await self.fake._answer(server, "RCPT", "250 OK")

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if failure := self.fake._take_failure("DATA"):
            return failure
        self.fake._record(envelope, session)
        return await self.fake._answer(server, "DATA", "250 Message accepted for delivery")
