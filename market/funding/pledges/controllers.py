"""Funding's pages: a pledge and its payments (bank transfer or online), the receiver's queue of
transfers to confirm, and Stripe's webhook. Every rule is in the services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
import structlog
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State, UploadFile
from litestar.params import FromPath

from market.core import clock
from market.core.access import PUBLIC, SIGNED_IN, Identity, member
from market.core.errors import Invalid, InvalidFields
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.web import (
    Db,
    Offset,
    User,
    page,
    paged,
    redirect,
)
from market.funding.payments import online
from market.funding.payments.gateways import BadSignature
from market.funding.pledges import services as pledges
from market.funding.pledges.models import OfflinePaymentInput, PaymentQueue
from market.storage import services as files

SIGNED_IN_OPT = {"access": SIGNED_IN}
FUNDERS_OPT = {"access": member(N_("funders"), "funder")}
log = structlog.get_logger(__name__)


def _online(request: Request) -> bool:
    return bool(request.app.state.payments.online)


async def _pledge_context(request: Request, conn: asyncpg.Connection, identity: Identity,
                          pledge_id: int) -> dict[str, Any]:
    """What the pledge page's template reads, all of it from the one view."""
    view = await pledges.pledge_view(conn, identity, pledge_id, _online(request))
    return {"pledge": view, "payments": view.payments, "pending": view.pending, "trail": view.trail,
            "is_funder": view.is_funder, "is_receiver": view.is_receiver, "online": view.online, "bank": view.bank,
            "paid": request.query_params.get("paid") == "1"}


async def _pledge_form(request: Request, conn: asyncpg.Connection, identity: Identity, pledge_id: int,
                       action: Callable[[dict[str, Any]], Awaitable[Response]]) -> Response:
    """A form on the pledge page: on a refusal, the page again with the problem."""
    async def context() -> dict[str, Any]:
        return await _pledge_context(request, conn, identity, pledge_id)

    return await form_step(request, conn, "funding/pledge.html", action, context=context)


async def _queue_form(request: Request, conn: asyncpg.Connection, identity: Identity,
                      action: Callable[[dict[str, Any]], Awaitable[Response]]) -> Response:
    """A decision on the transfers page: on a refusal, the page again with the problem."""
    async def context() -> dict[str, Any]:
        return _queue_context(request, await pledges.payment_queue(conn, identity), 0)

    return await form_step(request, conn, "funding/payments.html", action, context=context)


def _queue_context(request: Request, view: PaymentQueue, offset: int) -> dict[str, Any]:
    waiting, pages = paged(request, view.waiting, offset)
    return {"waiting": waiting, "pager": pages, "may_decide": view.may_decide}


async def _receipt_file(request: Request, conn: asyncpg.Connection, identity: Identity) -> str | None:
    """The uploaded bank receipt, stored as a private file of the funder's organisation."""
    upload = (await request.form()).get("receipt")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    state: State = request.app.state
    data = await upload.read(state.settings.max_upload_bytes + 1)
    stored = await files.store(conn, state.storage, state.settings, identity, data, upload.filename)
    return str(stored.id)


class PledgePages(Controller):
    include_in_schema = False

    @get("/pledges/{pledge_id:int}", opt=SIGNED_IN_OPT)
    async def show(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        return page(request, "funding/pledge.html", errors={}, form={"paid_on": clock.today().isoformat()},
                    **await _pledge_context(request, conn, identity, pledge_id))

    @post("/pledges/{pledge_id:int}/transfer", opt=FUNDERS_OPT)
    async def transfer(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            receipt = await _receipt_file(request, conn, identity)
            try:
                data = msgspec.convert({"bank_reference": str(form.get("bank_reference", "")).strip(),
                                        "paid_on": form.get("paid_on", ""), "receipt_file": receipt},
                                       OfflinePaymentInput, strict=False)
            except msgspec.ValidationError:
                raise InvalidFields([Invalid("Give the bank's reference for the transfer and the date it was made.",
                                             field="bank_reference")]) from None
            await pledges.record_offline(conn, identity, pledge_id, data)
            return redirect(f"/pledges/{pledge_id}")

        return await _pledge_form(request, conn, identity, pledge_id, action)

    @post("/pledges/{pledge_id:int}/checkout", opt=FUNDERS_OPT)
    async def checkout(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        state = request.app.state

        async def action(_: dict[str, Any]) -> Response:
            return redirect(await online.begin_checkout(state.pool, state.payments, identity, pledge_id,
                                                        state.settings.base_url))

        return await _pledge_form(request, conn, identity, pledge_id, action)

    @post("/payments/{payment_id:int}/check", opt=FUNDERS_OPT)
    async def check(self, request: Request, conn: Db, identity: User, payment_id: FromPath[int]) -> Response:
        state = request.app.state
        pledge_id = await pledges.pledge_of_payment(conn, payment_id)

        async def action(_: dict[str, Any]) -> Response:
            await online.check_payment(state.pool, state.payments, identity, payment_id)
            return redirect(f"/pledges/{pledge_id}")

        return await _pledge_form(request, conn, identity, pledge_id, action)

    @post("/pledges/{pledge_id:int}/cancel", opt=FUNDERS_OPT)
    async def cancel(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        async def action(_: dict[str, Any]) -> Response:
            await pledges.cancel(conn, identity, pledge_id)
            return redirect(f"/pledges/{pledge_id}")

        return await _pledge_form(request, conn, identity, pledge_id, action)

    @post("/pledges/{pledge_id:int}/refund", opt=SIGNED_IN_OPT)
    async def refund(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        state = request.app.state

        async def action(form: dict[str, Any]) -> Response:
            await pledges.refund(conn, identity, pledge_id, str(form.get("reason", "")))
            # Money paid online goes back online, once this request's transaction has committed.
            return redirect(f"/pledges/{pledge_id}", background=BackgroundTask(online.send_refunds, state.pool,
                                                                               state.payments))

        return await _pledge_form(request, conn, identity, pledge_id, action)

    @get("/payments", opt=SIGNED_IN_OPT)
    async def queue(self, request: Request, conn: Db, identity: User, offset: Offset = 0) -> Response:
        return page(request, "funding/payments.html", errors={},
                    **_queue_context(request, await pledges.payment_queue(conn, identity), offset))

    @post("/payments/{payment_id:int}/confirm", opt=SIGNED_IN_OPT)
    async def confirm(self, request: Request, conn: Db, identity: User, payment_id: FromPath[int]) -> Response:
        async def action(_: dict[str, Any]) -> Response:
            await pledges.confirm_payment(conn, identity, payment_id)
            return redirect("/payments")

        return await _queue_form(request, conn, identity, action)

    @post("/payments/{payment_id:int}/reject", opt=SIGNED_IN_OPT)
    async def reject(self, request: Request, conn: Db, identity: User, payment_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await pledges.reject_payment(conn, identity, payment_id, str(form.get("reason", "")))
            return redirect("/payments")

        return await _queue_form(request, conn, identity, action)


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
