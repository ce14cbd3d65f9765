"""Sending email: SMTP in production, a local outbox folder in development and tests."""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from farm.settings import Settings


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    sent_at: str = ""


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


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

    def messages(self, to: str | None = None) -> list[Mail]:
        """Newest first."""
        if not self.folder.exists():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json"), reverse=True):
            data = json.loads(path.read_text(encoding="utf-8"))
            if to is None or data["to"] == to:
                found.append(Mail(**data))
        return found


class SmtpMailer:
    def __init__(self, settings: Settings):
        self.settings = settings

    def _send_now(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=30) as smtp:
            smtp.starttls(context=ssl.create_default_context())
            if self.settings.smtp_user:
                smtp.login(self.settings.smtp_user, str(self.settings.smtp_password))
            smtp.send_message(message)

    async def send(self, mail: Mail) -> None:
        await asyncio.to_thread(self._send_now, mail)


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(settings)
    return OutboxMailer(settings.outbox_dir)
