"""Email over SMTP (plain, STARTTLS or TLS, optional auth), multipart text + HTML."""

from __future__ import annotations

import re
import smtplib
import ssl
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

from reminders.transports.base import Outgoing, TransportError


class SmtpTransport:
    name = "smtp"

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
        self.security, self.timeout = security, timeout

    def send(self, outgoing: Outgoing) -> str:
        email = build_email(outgoing, self.sender)
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise _by_code(code, "the mail server refused the address") from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, "the mail server refused the message") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(
                f"could not reach the mail server ({type(exc).__name__})"
            ) from None
        return str(email["Message-ID"])

    def find_sent(self, outgoing: Outgoing, since: datetime) -> str | None:
        return None  # SMTP cannot be asked; a resend keeps the same Message-ID

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp


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
