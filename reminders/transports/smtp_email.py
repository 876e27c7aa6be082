"""Email over SMTP (plain, STARTTLS or TLS, optional auth), multipart text + HTML.

Every send has one overall deadline (SMTP_TIMEOUT_SECONDS across every step, not per step),
so that it ends well within the sending lease. Once the final DATA dot has gone out, the
server may have the message: a timeout or a dropped connection from then on is MaybeSent
(counted as sent, marked unsure, never sent again), not a failure to retry.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
import time
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING

from reminders.transports.base import GoAhead, MaybeSent, Outgoing, TransportError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

MAYBE_ACCEPTED = "the mail server may have accepted it (no answer after the message)"


class SmtpTransport:
    name = "smtp"
    can_look_up = False  # SMTP cannot be asked whether a message arrived

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        security: str = "starttls",
        timeout: float = 20.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.security = security
        self.timeout = timeout  # seconds, for the whole conversation

    def send(self, outgoing: Outgoing, *, go_ahead: GoAhead | None = None) -> str:
        email = build_email(outgoing, self.sender)
        provider_id = str(email["Message-ID"])
        tls = ssl.create_default_context() if self.security != "none" else None
        session = MailSession(
            deadline=time.monotonic() + self.timeout,
            go_ahead=go_ahead,
            implicit_tls=tls if self.security == "tls" else None,
        )
        try:
            session.connect(self.host, self.port)
            if self.security == "starttls":
                session.starttls(context=tls)
            if self.username:
                session.login(self.username, self.password)
            session.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise _by_code(code, "the mail server refused the address") from None
        except smtplib.SMTPResponseException as exc:
            if session.accepted:  # a refused QUIT after the message was taken changes nothing
                return provider_id
            raise _by_code(exc.smtp_code, "the mail server refused the message") from None
        except (smtplib.SMTPException, OSError) as exc:
            if session.accepted:
                return provider_id
            if session.dot_sent:
                raise MaybeSent(MAYBE_ACCEPTED, provider_id=provider_id) from None
            raise TransportError(
                f"could not reach the mail server ({type(exc).__name__})"
            ) from None
        finally:
            session.hang_up()
        return provider_id

    def find_sent(self, outgoing: Outgoing, since: datetime) -> str | None:
        return None  # SMTP cannot be asked (can_look_up is false)


class MailSession(smtplib.SMTP):
    """One SMTP conversation under one deadline (time.monotonic()), which knows whether the
    final DATA dot went out (`dot_sent`) and whether the server then took it (`accepted`).

    Every write and every reply gets what is left of the deadline as its socket timeout;
    `go_ahead` runs just before DATA, the point of no return.
    """

    def __init__(
        self,
        *,
        deadline: float,
        go_ahead: GoAhead | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__()
        self.deadline, self.go_ahead, self.implicit_tls = deadline, go_ahead, implicit_tls
        self.dot_sent = self.accepted = False

    def time_left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the send took longer than SMTP_TIMEOUT_SECONDS")
        if self.sock is not None:
            self.sock.settimeout(left)
        return left

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # (typeshed leaves out this hook, the one smtplib.SMTP_SSL overrides the same way)
        sock: socket.socket = super()._get_socket(host, port, self.time_left())  # type: ignore[misc]
        if self.implicit_tls is not None:
            return self.implicit_tls.wrap_socket(sock, server_hostname=host)
        return sock

    def send(self, s: ReadableBuffer | str) -> None:
        self.time_left()
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        self.time_left()
        return super().getreply()

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        if self.go_ahead is not None:
            self.go_ahead()  # raises ClaimLost: nothing has been handed over yet
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        content = msg.encode("ascii") if isinstance(msg, str) else bytes(msg)
        content = re.sub(rb"(?m)^\.", b"..", content)  # RFC 5321 dot-stuffing
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        self.send(content + b".\r\n")
        self.dot_sent = True  # from here on, the server may have it
        code, reply = self.getreply()
        self.accepted = code == 250
        return code, reply

    def hang_up(self) -> None:
        """QUIT politely after a message went through, then close, whatever happens."""
        if self.accepted and self.sock is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.docmd("QUIT")
        self.close()


# Headers we write ourselves (from, to, subject, date) are folded and encoded by the email
# package as usual; protocol headers set as raw text are sent exactly as given ("none").
POLICY = policy.default.clone(refold_source="none")
# A protocol header fit to send as it is: printable ASCII on one line (no header injection).
PLAIN_HEADER = re.compile(r"[\x20-\x7e]+")
MAX_LINE = 998  # RFC 5322: a line is never longer than this, with or without folding
BETWEEN_ITEMS = re.compile(r"(?<=>)\s*,\s*(?=<)")  # the comma between two `<...>` items


def build_email(outgoing: Outgoing, sender: str) -> EmailMessage:
    email = EmailMessage(policy=POLICY)
    email["From"] = sender
    email["To"] = outgoing.to
    email["Subject"] = outgoing.subject
    email["Date"] = formatdate(localtime=False)
    for name, value in outgoing.headers.items():
        if PLAIN_HEADER.fullmatch(value):
            email.set_raw(name, protocol_header(name, value))
        else:
            email[name] = value
    email.set_content(outgoing.text)
    if outgoing.html:
        email.add_alternative(outgoing.html, subtype="html")
    return email


def protocol_header(name: str, value: str) -> str:
    """A protocol header's value as sent: unchanged, so that `List-Unsubscribe` arrives as
    RFC 2369's `<https://...>` and not as an RFC 2047 encoded-word, which is what the email
    package makes of a long header it folds (mail clients then find no unsubscribe link).

    A value too long for one line is folded only after the commas between `<...>` items, so
    no URI is ever split.
    """
    if len(name) + 2 + len(value) <= MAX_LINE:
        return value
    return ",\r\n ".join(BETWEEN_ITEMS.split(value))


def _by_code(code: int, reason: str) -> TransportError:
    permanent = 500 <= code < 600
    return TransportError(f"{reason} ({code})", permanent=permanent, code=str(code))
