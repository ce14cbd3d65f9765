"""Sending email: SMTP in production, a local outbox folder in development and tests.

A Mail carries what the recipient reads (subject, plain text, HTML, the QR codes the HTML shows
as inline images) and what the sender stamps (Date, Message-ID, List-Unsubscribe). One
function, `mime_message`, turns it into the MIME message both mailers keep or send:
multipart/alternative of the plain text and a multipart/related HTML part with its images."""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

from farm.qr import qr_png
from farm.settings import Settings


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str  # the plain-text part
    html: str = ""  # the HTML part; its images are `cid:<name>` of `images`
    images: dict[str, str] = field(default_factory=dict)  # cid -> the text of a QR code
    from_name: str = ""  # the sender's name, in the recipient's language
    message_id: str = ""  # <...@domain>; the same on every try of one message
    unsubscribe: str = ""  # bulk mail: the one-click unsubscribe link (RFC 8058)
    sent_at: str = ""


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


def sender_domain(settings: Settings) -> str:
    """The service's own mail domain (FARM_MAIL_FROM's), for Message-IDs."""
    return parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"


def mime_message(mail: Mail, *, mail_from: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    name, address = parseaddr(mail_from)
    username, _at, domain = address.partition("@")
    message["From"] = Address(name or mail.from_name, username, domain)
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = mail.message_id or f"<{uuid.uuid4().hex}@{domain or 'localhost'}>"
    if mail.unsubscribe:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.body)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
        if mail.images:
            html_part = message.get_payload()[1]
            for cid, text in mail.images.items():
                html_part.add_related(
                    qr_png(text), "image", "png", cid=f"<{cid}>", filename=f"{cid}.png"
                )
    return message


class OutboxMailer:
    """Writes each message as a JSON file; the development outbox page lists them."""

    def __init__(self, folder: Path):
        self.folder = folder

    async def send(self, mail: Mail) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC)
        record = asdict(mail) | {"sent_at": stamp.isoformat()}
        name = f"{stamp:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.json"
        (self.folder / name).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")

    def entries(self, to: str | None = None) -> list[tuple[str, Mail]]:
        """(name, mail), newest first."""
        if not self.folder.exists():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json"), reverse=True):
            data = json.loads(path.read_text(encoding="utf-8"))
            if to is None or data["to"] == to:
                found.append((path.stem, Mail(**data)))
        return found

    def messages(self, to: str | None = None) -> list[Mail]:
        """Newest first."""
        return [mail for _name, mail in self.entries(to)]

    def message(self, name: str) -> Mail | None:
        path = self.folder / f"{name}.json"
        if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
            return None
        return Mail(**json.loads(path.read_text(encoding="utf-8")))


STARTTLS, TLS, PLAIN = "starttls", "tls", "plain"
SMTP_SECURITIES = (STARTTLS, TLS, PLAIN)
DEFAULT_PORTS = {STARTTLS: 587, TLS: 465, PLAIN: 25}


class SmtpMailer:
    """One SMTP conversation a message: STARTTLS on the submission port (the default),
    implicit TLS (port 465, as QQ, 163 and Aliyun DirectMail offer), or plain to a relay on
    this host. The server's certificate is checked against the system's CAs, or
    FARM_SMTP_CA_FILE's."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.smtp_ca_file or None)

    def _send_now(self, mail: Mail) -> None:
        s = self.settings
        message = mime_message(mail, mail_from=s.mail_from, now=datetime.now(UTC))
        smtp: smtplib.SMTP
        if s.smtp_security == TLS:
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=30, context=self._tls())
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30)
        with smtp:
            if s.smtp_security == STARTTLS:
                smtp.starttls(context=self._tls())
            if s.smtp_user:
                smtp.login(s.smtp_user, str(s.smtp_password))
            smtp.send_message(message)

    async def send(self, mail: Mail) -> None:
        await asyncio.to_thread(self._send_now, mail)


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(settings)
    return OutboxMailer(settings.outbox_dir)
