"""The payment service behind one small interface, chosen by settings.

`OfflineGateway` (the default) takes no online payments: funders pay by bank transfer and the
receiver confirms it, so the product runs with no keys at all. `StripeGateway` adds Stripe
Checkout with card, Alipay and WeChat Pay. Every call that changes something at Stripe carries an
idempotency key made from our own row, so a retry after a timeout never charges or refunds twice.
"""

from __future__ import annotations

import json
import warnings
from datetime import datetime
from typing import Any, Protocol

import msgspec
import stripe

from market.core.errors import Unavailable
from market.core.settings import Settings

# stripe's HTTPXClient hands httpx the encoded form as `data=`, which httpx 0.28 deprecates; not ours to fix.
warnings.filterwarnings("ignore", "Use 'content=<...>' to upload raw bytes", DeprecationWarning)

PAYMENT_METHOD_TYPES = ["card", "alipay", "wechat_pay"]
# How old a signed webhook may be: an older one is a replay.
WEBHOOK_TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """A webhook whose signature does not verify (forged, altered, replayed late, or unsigned)."""


class Checkout(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: int
    pledge_id: int
    amount_fen: int
    currency: str
    description: str
    success_url: str
    cancel_url: str


class Session(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    url: str | None
    status: str  # open, complete or expired
    payment_status: str  # paid or unpaid
    payment_intent: str | None


class PaymentGateway(Protocol):
    online: bool

    async def checkout(self, order: Checkout) -> Session: ...

    async def session(self, session_id: str) -> Session: ...

    async def refund(self, refund_id: int, payment_intent: str, amount_fen: int) -> str: ...

    def verify(self, payload: bytes, signature: str | None) -> dict[str, Any]: ...

    async def events_since(self, since: datetime) -> list[dict[str, Any]]: ...


class OfflineGateway:
    """No online payments: bank transfers only."""

    online = False

    async def checkout(self, order: Checkout) -> Session:
        raise Unavailable("Online payment is not set up here; pay by bank transfer.")

    async def session(self, session_id: str) -> Session:
        raise Unavailable("Online payment is not set up here; pay by bank transfer.")

    async def refund(self, refund_id: int, payment_intent: str, amount_fen: int) -> str:
        raise Unavailable("Online payment is not set up here; pay by bank transfer.")

    def verify(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        raise BadSignature("online payment is not set up")

    async def events_since(self, since: datetime) -> list[dict[str, Any]]:
        return []


def _session(obj: Any) -> Session:
    return Session(id=obj.id, url=obj.url, status=obj.status, payment_status=obj.payment_status,
                   payment_intent=obj.payment_intent)


class StripeGateway:
    online = True

    def __init__(self, api_key: str, webhook_secret: str | None, api_base: str | None = None,
                 timeout_seconds: float = 10.0, retries: int = 2) -> None:
        # Retries are safe: every mutating request carries our idempotency key.
        self.client = stripe.StripeClient(
            api_key, base_addresses={"api": api_base} if api_base else {},
            http_client=stripe.HTTPXClient(timeout=timeout_seconds, allow_sync_methods=True),
            max_network_retries=retries)
        self.webhook_secret = webhook_secret

    @staticmethod
    async def _call(method: Any, *args: Any) -> Any:
        try:
            return await method(*args)
        except stripe.StripeError as exc:
            # A refusal of our own request (4xx) is a bug to see in the logs; to the user, as for an outage,
            # it means: nothing happened at Stripe, try again later.
            raise Unavailable("The payment service could not be reached (%(reason)s); nothing was charged or "
                              "refunded. Try again in a moment.", reason=type(exc).__name__) from exc

    async def checkout(self, order: Checkout) -> Session:
        reference = {"payment_id": str(order.payment_id), "pledge_id": str(order.pledge_id)}
        params = {
            "mode": "payment",
            "line_items": [{"price_data": {"currency": order.currency.lower(), "unit_amount": order.amount_fen,
                                           "product_data": {"name": order.description[:250]}},
                            "quantity": 1}],
            "payment_method_types": PAYMENT_METHOD_TYPES,
            "payment_method_options": {"wechat_pay": {"client": "web"}},
            "client_reference_id": f"payment-{order.payment_id}",
            "metadata": reference,
            "payment_intent_data": {"metadata": reference},
            "success_url": order.success_url,
            "cancel_url": order.cancel_url,
        }
        created = await self._call(self.client.v1.checkout.sessions.create_async, params,
                                   {"idempotency_key": f"market-checkout-payment-{order.payment_id}"})
        return _session(created)

    async def session(self, session_id: str) -> Session:
        return _session(await self._call(self.client.v1.checkout.sessions.retrieve_async, session_id))

    async def refund(self, refund_id: int, payment_intent: str, amount_fen: int) -> str:
        params = {"payment_intent": payment_intent, "amount": amount_fen,
                  "metadata": {"payment_refund_id": str(refund_id)}}
        made = await self._call(self.client.v1.refunds.create_async, params,
                                {"idempotency_key": f"market-refund-{refund_id}"})
        return made.id

    def verify(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        if not self.webhook_secret:
            raise BadSignature("no webhook secret is set")
        try:
            stripe.WebhookSignature.verify_header(payload, signature, self.webhook_secret,
                                                  WEBHOOK_TOLERANCE_SECONDS)
            event = json.loads(payload)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise BadSignature(str(exc)) from None
        if not isinstance(event, dict) or not str(event.get("id", "")).startswith("evt_"):
            raise BadSignature("not an event")
        return event

    async def events_since(self, since: datetime) -> list[dict[str, Any]]:
        """Every event created since `since`, oldest first."""
        async def fetch_all() -> list[dict[str, Any]]:
            page = await self.client.v1.events.list_async({"created": {"gte": int(since.timestamp())}, "limit": 100})
            return [event.to_dict() async for event in page.auto_paging_iter()]

        events = await self._call(fetch_all)
        return sorted(events, key=lambda e: (e["created"], e["id"]))


def gateway_from_settings(settings: Settings) -> PaymentGateway:
    if settings.payment_backend == "stripe":
        assert settings.stripe_api_key  # load_settings refuses the stripe backend without one
        return StripeGateway(settings.stripe_api_key, settings.stripe_webhook_secret, settings.stripe_api_base,
                             settings.stripe_timeout_seconds, settings.stripe_retries)
    return OfflineGateway()
