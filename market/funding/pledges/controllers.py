"""Funding's pages: a pledge and its payments (bank transfer or online), the receiver's queue of
transfers to confirm, and Stripe's webhook. Every rule is in the services."""

from __future__ import annotations

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
from market.core.errors import Conflict, Invalid, InvalidFields, NotFound, Unavailable
from market.core.i18n import N_
from market.core.web import (
    Db,
    Offset,
    User,
    form_data,
    form_errors,
    page,
    paged,
    redirect,
)
from market.funding.payments import online
from market.funding.payments.gateways import BadSignature
from market.funding.pledges import services as pledges
from market.funding.pledges.models import OfflinePaymentInput
from market.organisations import services as organisations
from market.storage import services as files

SIGNED_IN_OPT = {"access": SIGNED_IN}
FUNDERS_OPT = {"access": member(N_("funders"), "funder")}
log = structlog.get_logger(__name__)


async def pledge_page(request: Request, conn: asyncpg.Connection, identity: Identity, pledge_id: int,
                      status: int = 200, errors: dict[str, str] | None = None,
                      form: dict[str, Any] | None = None) -> Response:
    pledge = await pledges.get(conn, identity, pledge_id)
    raw = await conn.fetchrow("select * from pledges where id = $1", pledge_id)
    is_funder = identity.acts_for_verified and identity.org_id == pledge.funder_id
    receiver = await pledges.receiver_of(conn, raw)
    is_receiver = (identity.acts_for_verified and identity.org_id == receiver
                   and identity.role in pledges.RECEIVER_ROLES)
    payments = await pledges.payments_of(conn, pledge_id)
    return page(request, "funding/pledge.html", status=status, pledge=pledge, payments=payments,
                pending=next((p for p in payments if p.status == "pending"), None),
                trail=await pledges.trail(conn, pledge_id), is_funder=is_funder, is_receiver=is_receiver,
                online=request.app.state.payments.online, errors=errors or {},
                bank=await organisations.bank_account(conn, receiver) if is_funder and receiver else None,
                form={"paid_on": clock.today().isoformat(), **(form or {})}, paid=request.query_params.get("paid") == "1")


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
        return await pledge_page(request, conn, identity, pledge_id)

    @post("/pledges/{pledge_id:int}/transfer", opt=FUNDERS_OPT)
    async def transfer(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        form = await form_data(request)
        try:
            async with conn.transaction():
                receipt = await _receipt_file(request, conn, identity)
                data = msgspec.convert({"bank_reference": str(form.get("bank_reference", "")).strip(),
                                        "paid_on": form.get("paid_on", ""), "receipt_file": receipt},
                                       OfflinePaymentInput, strict=False)
                await pledges.record_offline(conn, identity, pledge_id, data)
        except msgspec.ValidationError:
            exc = InvalidFields([Invalid("Give the bank's reference for the transfer and the date it was made.",
                                         field="bank_reference")])
            return await pledge_page(request, conn, identity, pledge_id, 400, form_errors(exc), form)
        except (Invalid, Conflict) as exc:
            return await pledge_page(request, conn, identity, pledge_id, exc.status, form_errors(exc), form)
        return redirect(f"/pledges/{pledge_id}")

    @post("/pledges/{pledge_id:int}/checkout", opt=FUNDERS_OPT)
    async def checkout(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        state = request.app.state
        try:
            url = await online.begin_checkout(state.pool, state.payments, identity, pledge_id,
                                              state.settings.base_url)
        except (Unavailable, Conflict) as exc:
            return await pledge_page(request, conn, identity, pledge_id, exc.status, form_errors(exc))
        return redirect(url)

    @post("/payments/{payment_id:int}/check", opt=FUNDERS_OPT)
    async def check(self, request: Request, conn: Db, identity: User, payment_id: FromPath[int]) -> Response:
        state = request.app.state
        pledge_id = await conn.fetchval("select pledge_id from payments where id = $1", payment_id)
        if pledge_id is None:
            raise NotFound()
        try:
            await online.check_payment(state.pool, state.payments, identity, payment_id)
        except Unavailable as exc:
            return await pledge_page(request, conn, identity, pledge_id, exc.status, form_errors(exc))
        return redirect(f"/pledges/{pledge_id}")

    @post("/pledges/{pledge_id:int}/cancel", opt=FUNDERS_OPT)
    async def cancel(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                await pledges.cancel(conn, identity, pledge_id)
        except Conflict as exc:
            return await pledge_page(request, conn, identity, pledge_id, exc.status, form_errors(exc))
        return redirect(f"/pledges/{pledge_id}")

    @post("/pledges/{pledge_id:int}/refund", opt=SIGNED_IN_OPT)
    async def refund(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        form = await form_data(request)
        try:
            async with conn.transaction():
                await pledges.refund(conn, identity, pledge_id, str(form.get("reason", "")))
        except (Invalid, Conflict) as exc:
            return await pledge_page(request, conn, identity, pledge_id, exc.status, form_errors(exc), form)
        state = request.app.state
        # Money paid online goes back online, once this request's transaction has committed.
        return redirect(f"/pledges/{pledge_id}", background=BackgroundTask(online.send_refunds, state.pool,
                                                                           state.payments))

    @get("/payments", opt=SIGNED_IN_OPT)
    async def queue(self, request: Request, conn: Db, identity: User, offset: Offset = 0) -> Response:
        return await _queue_page(request, conn, identity, offset=offset)

    @post("/payments/{payment_id:int}/confirm", opt=SIGNED_IN_OPT)
    async def confirm(self, request: Request, conn: Db, identity: User, payment_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                await pledges.confirm_payment(conn, identity, payment_id)
        except Conflict as exc:
            return await _queue_page(request, conn, identity, exc.status, form_errors(exc))
        return redirect("/payments")

    @post("/payments/{payment_id:int}/reject", opt=SIGNED_IN_OPT)
    async def reject(self, request: Request, conn: Db, identity: User, payment_id: FromPath[int]) -> Response:
        form = await form_data(request)
        try:
            async with conn.transaction():
                await pledges.reject_payment(conn, identity, payment_id, str(form.get("reason", "")))
        except (Invalid, Conflict) as exc:
            return await _queue_page(request, conn, identity, exc.status, form_errors(exc))
        return redirect("/payments")


async def _queue_page(request: Request, conn: asyncpg.Connection, identity: Identity, status: int = 200,
                      errors: dict[str, str] | None = None, offset: int = 0) -> Response:
    waiting, pages = paged(request, await pledges.payments_to_decide(conn, identity), offset)
    return page(request, "funding/payments.html", status=status, errors=errors or {}, waiting=waiting, pager=pages,
                may_decide=identity.acts_for_verified and identity.role in pledges.RECEIVER_ROLES)


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
