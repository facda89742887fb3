"""Stripe's webhook: the payment service's word on online payments and refunds."""

from __future__ import annotations

import structlog
from litestar import Controller, Request, Response, post

from market.core.access import PUBLIC
from market.funding.payments import online
from market.funding.payments.gateways import BadSignature

log = structlog.get_logger(__name__)


class StripeWebhook(Controller):
    include_in_schema = False

    @post("/stripe/webhook", opt={"access": PUBLIC}, status_code=200)
    async def receive(self, request: Request) -> Response:
        """Stripe's deliveries: verified by signature (no session, no CSRF token), applied once."""
        state = request.app.state
        payload = await request.body()
        try:
            event = state.payments.verify(payload, request.headers.get("stripe-signature"))
        except BadSignature as exc:
            log.warning("stripe.webhook_refused", reason=str(exc))
            return Response({"error": "bad signature"}, status_code=400)
        outcome = await online.record_event(state.pool, event, "webhook")
        return Response({"received": event["id"], "outcome": outcome}, status_code=200)
