"""A pledge and its payments (bank transfer or online), the receiver's queue of transfers to confirm,
the pledge API, and the pages' JSON twins. Every rule is in the services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State, UploadFile
from litestar.params import FromPath, FromQuery, JSONBody

from market.core import clock
from market.core.access import SIGNED_IN, Identity, member
from market.core.errors import Invalid, InvalidFields
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.web import (
    PAGE_SIZE,
    CursorParam,
    Db,
    User,
    done,
    page,
    keyset_pager,
    redirect,
    require_confirmation,
)
from market.funding.payments import online
from market.funding.pledges import services as pledges
from market.funding.pledges.models import (
    OfflinePaymentInput,
    Payment,
    PaymentQueue,
    Pledge,
    PledgeInput,
    PledgeList,
    PledgeStatus,
    PledgeView,
)
from market.storage import services as files

SIGNED_IN_OPT = {"access": SIGNED_IN}
FUNDERS_OPT = {"access": member(N_("funders"), "funder")}


def _online(request: Request) -> bool:
    return bool(request.app.state.payments.online)


async def _pledge_context(request: Request, conn: asyncpg.Connection, identity: Identity,
                          pledge_id: int) -> dict[str, Any]:
    """What the pledge page's template reads, all of it from the one view."""
    view = await pledges.pledge_view(conn, identity, pledge_id, _online(request))
    return {"pledge": view, "payments": view.payments, "pending": view.pending, "trail": view.trail,
            "is_funder": view.is_funder, "is_receiver": view.is_receiver, "online": view.online, "bank": view.bank,
            "paid": request.query_params.get("paid") == "1", "pay_days": pledges.PAY_DAYS}


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
        return _queue_context(request, await pledges.payment_queue(conn, identity, limit=PAGE_SIZE))

    return await form_step(request, conn, "funding/payments.html", action, context=context)


def _queue_context(request: Request, view: PaymentQueue) -> dict[str, Any]:
    return {"queue": view, "pager": keyset_pager(request, view, len(view.items))}


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
            return done(f"/pledges/{pledge_id}", "transfer_recorded")

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
            return done(f"/pledges/{pledge_id}", "payment_checked")

        return await _pledge_form(request, conn, identity, pledge_id, action)

    @post("/pledges/{pledge_id:int}/cancel", opt=FUNDERS_OPT)
    async def cancel(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        async def action(_: dict[str, Any]) -> Response:
            await pledges.cancel(conn, identity, pledge_id)
            return done(f"/pledges/{pledge_id}", "pledge_cancelled")

        return await _pledge_form(request, conn, identity, pledge_id, action)

    @post("/pledges/{pledge_id:int}/refund", opt=SIGNED_IN_OPT)
    async def refund(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> Response:
        state = request.app.state

        async def action(form: dict[str, Any]) -> Response:
            await pledges.refund(conn, identity, pledge_id, str(form.get("reason", "")))
            # Money paid online goes back online, once this request's transaction has committed.
            return done(f"/pledges/{pledge_id}", "pledge_refunded",
                        background=BackgroundTask(online.send_refunds, state.pool, state.payments))

        return await _pledge_form(request, conn, identity, pledge_id, action)

    @get("/payments", opt=SIGNED_IN_OPT)
    async def queue(self, request: Request, conn: Db, identity: User, cursor: CursorParam = None) -> Response:
        return page(request, "funding/payments.html", errors={},
                    **_queue_context(request, await pledges.payment_queue(conn, identity, cursor=cursor,
                                                                          limit=PAGE_SIZE)))

    @post("/payments/{payment_id:int}/confirm", opt=SIGNED_IN_OPT)
    async def confirm(self, request: Request, conn: Db, identity: User, payment_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            # Confirming books the money and issues a receipt: it is not undone.
            require_confirmation(form, f"payment-{payment_id}")
            await pledges.confirm_payment(conn, identity, payment_id)
            return done("/payments", "payment_confirmed")

        return await _queue_form(request, conn, identity, action)

    @post("/payments/{payment_id:int}/reject", opt=SIGNED_IN_OPT)
    async def reject(self, request: Request, conn: Db, identity: User, payment_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await pledges.reject_payment(conn, identity, payment_id, str(form.get("reason", "")))
            return done("/payments", "payment_rejected")

        return await _queue_form(request, conn, identity, action)


class Reason(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)]


class Allocation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project_id: Annotated[int, msgspec.Meta(ge=1)]


class FundingApi(Controller):
    path = "/api"
    tags = ("funding",)

    @post("/pledges", opt=FUNDERS_OPT, status_code=201, summary="Pledge money to a project, a need or a fund")
    async def create(self, conn: Db, identity: User, data: JSONBody[PledgeInput]) -> Pledge:
        return await pledges.get(conn, identity, await pledges.create(conn, identity, data))

    @get("/pledges", opt=FUNDERS_OPT, summary="Your organisation's pledges, newest first, of one `status` if given")
    async def mine(self, conn: Db, identity: User, status: FromQuery[PledgeStatus | None] = None,
                   cursor: CursorParam = None) -> PledgeList:
        return await pledges.pledge_list(conn, identity, status=status, cursor=cursor, limit=PAGE_SIZE)

    @get("/pledges/{pledge_id:int}", opt=SIGNED_IN_OPT,
         summary="A pledge (its funder's and its receiver's), its payments and where its money went")
    async def show(self, request: Request, conn: Db, identity: User, pledge_id: FromPath[int]) -> PledgeView:
        return await pledges.pledge_view(conn, identity, pledge_id, bool(request.app.state.payments.online))

    @post("/pledges/{pledge_id:int}/offline-payments", opt=FUNDERS_OPT, status_code=201,
          summary="Record a bank transfer, with its receipt, for the receiver to confirm")
    async def pay_offline(self, conn: Db, identity: User, pledge_id: FromPath[int],
                          data: JSONBody[OfflinePaymentInput]) -> Payment:
        return await pledges.get_payment(conn, identity, await pledges.record_offline(conn, identity, pledge_id, data))

    @post("/pledges/{pledge_id:int}/cancel", opt=FUNDERS_OPT, status_code=201, summary="Cancel a pledge not yet paid")
    async def cancel(self, conn: Db, identity: User, pledge_id: FromPath[int]) -> Pledge:
        await pledges.cancel(conn, identity, pledge_id)
        return await pledges.get(conn, identity, pledge_id)

    @get("/payments", opt=SIGNED_IN_OPT,
         summary="The transfers page: transfers to your organisation awaiting its word, the longest waiting first")
    async def queue(self, conn: Db, identity: User, cursor: CursorParam = None) -> PaymentQueue:
        return await pledges.payment_queue(conn, identity, cursor=cursor, limit=PAGE_SIZE)

    @post("/payments/{payment_id:int}/confirm", opt=SIGNED_IN_OPT, status_code=201,
          summary="Confirm that a transfer arrived (the receiver's administrators and finance staff)")
    async def confirm(self, conn: Db, identity: User, payment_id: FromPath[int]) -> Payment:
        await pledges.confirm_payment(conn, identity, payment_id)
        return await pledges.get_payment(conn, identity, payment_id)

    @post("/payments/{payment_id:int}/reject", opt=SIGNED_IN_OPT, status_code=201,
          summary="Reject a transfer that did not arrive, with the reason")
    async def reject(self, conn: Db, identity: User, payment_id: FromPath[int], data: JSONBody[Reason]) -> Payment:
        await pledges.reject_payment(conn, identity, payment_id, data.reason)
        return await pledges.get_payment(conn, identity, payment_id)

    @post("/pledges/{pledge_id:int}/allocate", opt=SIGNED_IN_OPT, status_code=201,
          summary="Allocate a paid fund pledge to a project (the fund's owner)")
    async def allocate(self, conn: Db, identity: User, pledge_id: FromPath[int],
                       data: JSONBody[Allocation]) -> Pledge:
        await pledges.allocate(conn, identity, pledge_id, data.project_id)
        return await pledges.get(conn, identity, pledge_id)

    @post("/pledges/{pledge_id:int}/refund", opt=SIGNED_IN_OPT, status_code=201,
          summary="Return a pledge's money to its funder (none of it paid out yet)")
    async def refund(self, conn: Db, identity: User, pledge_id: FromPath[int], data: JSONBody[Reason]) -> Pledge:
        await pledges.refund(conn, identity, pledge_id, data.reason)
        return await pledges.get(conn, identity, pledge_id)
