"""Outgoing mail behind one interface: SMTP, or a local directory of .eml files (the default)."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import structlog

from market.core.settings import Settings

log = structlog.get_logger(__name__)


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4()}@market>"
    msg.set_content(body)
    return msg


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _send(self, msg: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=20) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
            smtp.send_message(msg)

    async def send(self, to: str, subject: str, body: str) -> None:
        await asyncio.to_thread(self._send, _message(self.settings.mail_from, to, subject, body))
        log.info("mail.sent", to=to, subject=subject)


class DirectoryMailer:
    """Writes each message to $MARKET_DATA_DIR/mail, so a machine with no mail server still works."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    async def send(self, to: str, subject: str, body: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{uuid.uuid4()}.eml"
        path.write_bytes(bytes(_message(self.sender, to, subject, body)))
        log.info("mail.saved", to=to, subject=subject, path=str(path))


def mailer_from_settings(settings: Settings) -> Mailer:
    if settings.mail_backend == "smtp":
        return SmtpMailer(settings)
    return DirectoryMailer(settings.data_dir / "mail", settings.mail_from)
