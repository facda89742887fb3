"""Sending a text message. Callers know only `SmsSender.send`; which adapter runs is a setting.

- `OutboxSender` (the default, MARKET_SMS_BACKEND=local) keeps each text in the `sms_outbox` table,
  inside the caller's transaction, so a machine with no SMS contract still works end to end.
- `HttpSender` (MARKET_SMS_BACKEND=http) posts to a provider's JSON API:
  ``POST {MARKET_SMS_API_URL}/v1/messages`` with ``Authorization: Bearer {MARKET_SMS_API_KEY}`` and
  the body ``{"to": "+8613812345678", "from": sender, "text": text}``; any 2xx answer with an ``id``
  is accepted, anything else is an error the reader is asked to retry after.

Neither adapter keeps the number: the outbox stores its keyed hash and its last four digits."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import urllib.error
import urllib.request
from typing import Protocol

import asyncpg
import structlog

from market.core.errors import Invalid, Unavailable
from market.core.settings import Settings

log = structlog.get_logger(__name__)

# A mainland mobile number: 11 digits starting 1[3-9], with +86 or 86 in front or not.
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


def normalise_phone(raw: str) -> str:
    """The number as +86 and its 11 digits; refused next to the `phone` field otherwise."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    match = _MOBILE.match(digits)
    if match is None:
        raise Invalid("Enter a mobile number of 11 digits, such as 13812345678.", field="phone")
    return "+86" + match.group(1)


def keyed_hash(settings: Settings, purpose: str, value: str) -> str:
    """An HMAC of a number or an address: the same value always gives the same hash, so one person
    can be told apart from another, but the value cannot be read back or guessed without the key.
    The key is derived from the secret key for this purpose alone."""
    key = hmac.new(settings.secret_key.encode(), f"market.sms.{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class SmsSender(Protocol):
    async def send(self, conn: asyncpg.Connection, to: str, text: str) -> None: ...


class OutboxSender:
    """Keeps the text in the database; a test or a developer reads it there."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, conn: asyncpg.Connection, to: str, text: str) -> None:
        await conn.execute("insert into sms_outbox (to_hash, to_tail, body) values ($1, $2, $3)",
                           keyed_hash(self.settings, "phone", to), to[-4:], text)
        log.info("sms.kept", to_tail=to[-4:])


class HttpSender:
    """A provider's JSON API (see the module's docstring for its shape)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _post(self, to: str, text: str) -> str:
        s = self.settings
        body = json.dumps({"to": to, "from": s.sms_sender, "text": text}).encode()
        request = urllib.request.Request(f"{(s.sms_api_url or '').rstrip('/')}/v1/messages", data=body, method="POST",
                                         headers={"Authorization": f"Bearer {s.sms_api_key}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=s.sms_timeout_seconds) as response:
                answer = json.loads(response.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("sms.failed", error=str(exc))
            raise Unavailable("The text message could not be sent just now. Please try again in a few minutes.") \
                from None
        message_id = answer.get("id") if isinstance(answer, dict) else None
        if not message_id:
            log.warning("sms.refused", answer=str(answer)[:200])
            raise Unavailable("The text message could not be sent just now. Please try again in a few minutes.")
        return str(message_id)

    async def send(self, conn: asyncpg.Connection, to: str, text: str) -> None:
        message_id = await asyncio.to_thread(self._post, to, text)
        log.info("sms.sent", to_tail=to[-4:], id=message_id)


def sender_from_settings(settings: Settings) -> SmsSender:
    if settings.sms_backend == "http":
        return HttpSender(settings)
    return OutboxSender(settings)


def check_settings(settings: Settings) -> list[str]:
    if settings.sms_backend == "http" and not (settings.sms_api_url and settings.sms_api_key):
        return ["MARKET_SMS_BACKEND=http needs MARKET_SMS_API_URL and MARKET_SMS_API_KEY"]
    return []
