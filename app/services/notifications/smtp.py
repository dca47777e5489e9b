"""One e-mail over SMTP, with nothing but the standard library.

`BACKHAUL_SMTP_URL` says where and how:

| scheme | default port | transport |
| --- | --- | --- |
| `smtp://` | 25 | plain: a relay on the same network, or the dev mail catcher of `backhaul run` |
| `smtp+starttls://` | 587 | upgraded with STARTTLS before any password is sent; a server that cannot is refused |
| `smtps://` | 465 | TLS from the first byte |

A user and password in the URL (percent-encoded) are sent with AUTH. Every connection has a timeout: the
worker thread holds the outbox row's lock while it talks to the server, so a server that hangs must not
hold either for long.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

TIMEOUT = 20.0  # seconds, per socket operation
_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class NotConfigured(RuntimeError):
    """No SMTP server is configured: mail waits in the outbox (and is retried) until one is."""


@dataclass(frozen=True)
class Server:
    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str | None) -> Server:
        if not url:
            raise NotConfigured("no SMTP server configured: set BACKHAUL_SMTP_URL")
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _PORTS or not parts.hostname:
            raise NotConfigured(f"BACKHAUL_SMTP_URL must be smtp://, smtp+starttls:// or smtps://host[:port], "
                                f"got {scheme or '(no scheme)'}://…")
        return cls(scheme=scheme, host=parts.hostname, port=parts.port or _PORTS[scheme],
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)

    def __str__(self) -> str:  # for logs and banners: never the password
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def build_message(*, sender: str, to: str, subject: str, text: str, html: str | None = None,
                  message_id: str | None = None,
                  attachments: Sequence[tuple[str, str, bytes]] = ()) -> EmailMessage:
    """A text/plain message, multipart/alternative with an HTML part when there is one, multipart/mixed
    with files when there are `attachments` ((file name, content type, content) each).

    A fixed `message_id` (one per outbox row) lets a receiving server drop the duplicate that an
    at-least-once sender can, rarely, produce.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, _, subtype = content_type.partition(";")[0].strip().partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def send(message: EmailMessage, url: str | None, *, timeout: float = TIMEOUT) -> None:
    """Deliver `message` to the server of `url`; raises OSError or smtplib.SMTPException on failure."""
    server = Server.from_url(url)
    with _connect(server, timeout) as smtp:
        if server.username:
            smtp.login(server.username, server.password or "")
        smtp.send_message(message)


def _connect(server: Server, timeout: float) -> smtplib.SMTP:
    if server.scheme == "smtps":
        return smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=ssl.create_default_context())
    smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
    if server.scheme == "smtp+starttls":
        try:
            smtp.starttls(context=ssl.create_default_context())
        except BaseException:
            smtp.close()
            raise
    return smtp


def is_permanent(exc: BaseException) -> bool:
    """The recipient or the message was refused with a 5xx: a retry would be refused the same way.

    A refused login or sender address is a fault of our configuration, not of the message: those are
    retried, so that the mail survives the fix.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500
