"""Funding's JSON API: pledges, offline payments, allocation, and refunds.
Every rule is in the services; these routes only say who may knock."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from market.core.access import SIGNED_IN, member
from market.core.i18n import N_
from market.core.web import Db, User
from market.funding.pledges import services as pledges
from market.funding.pledges.models import (
    OfflinePaymentInput,
    Payment,
    PaymentQueue,
    Pledge,
    PledgeInput,
    PledgeView,
)

SIGNED_IN_OPT = {"access": SIGNED_IN}
FUNDERS_OPT = {"access": member(N_("funders"), "funder")}


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

    @get("/pledges", opt=FUNDERS_OPT, summary="Your organisation's pledges")
    async def mine(self, conn: Db, identity: User) -> list[Pledge]:
        return await pledges.of_funder(conn, identity)

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

    @get("/payments", opt=SIGNED_IN_OPT, summary="The transfers page: transfers to your organisation awaiting its word")
    async def queue(self, conn: Db, identity: User) -> PaymentQueue:
        return await pledges.payment_queue(conn, identity)

    @get("/payments/to-confirm", opt=SIGNED_IN_OPT, summary="Transfers to your organisation awaiting confirmation")
    async def to_confirm(self, conn: Db, identity: User) -> list[Payment]:
        return await pledges.payments_to_decide(conn, identity)

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
