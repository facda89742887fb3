"""Outgoing mail behind one interface: SMTP, or a local directory of .eml files (the default)."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Protocol

import structlog

from market.core.settings import Settings

log = structlog.get_logger(__name__)


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


def _message(sender: str, to: str, subject: str, body: str) -> Message:
    """A plain-text message in UTF-8. Built the older way (compat32's MIMEText and Header): the newer
    EmailMessage folds a Chinese subject through its header parser, 1.5 ms a message against 0.3, in
    the app process's event loop, which on a city sent fifty reminders every half minute."""
    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = formataddr(parseaddr(sender), charset="utf-8")
    msg["To"] = to
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]
    msg["Message-ID"] = f"<{uuid.uuid4()}@market>"
    return msg


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _send(self, msg: Message) -> None:
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
