"""The contract page (the contract and where each of its milestones stands), accepting a milestone,
and their JSON twins. The rules are in `delivery.services`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from market.core.access import PUBLIC, Identity, member
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.web import Config, Db, MaybeUser, User, page, redirect
from market.delivery import services as delivery
from market.delivery.models import ContractView
from market.procurement.contracts.controllers import register_contract_page

PUBLIC_OPT = {"access": PUBLIC}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
CONTRACT_TEMPLATE = "delivery/contract.html"


def _accepted(request: Request) -> int | None:
    value = request.query_params.get("accepted", "")
    return int(value) if value.isdigit() else None


async def _context(request: Request, conn: Db, identity: Identity | None, contract_id: int) -> Mapping[str, Any]:
    """What the contract page's template reads, all of it from the one view."""
    view = await delivery.contract_view(conn, identity, contract_id, request.app.state.settings.milestone_early_days,
                                        _accepted(request))
    return {"contract": view, "side": view.side, "states": view.states, "can_sign": view.can_sign,
            "just_accepted": view.just_accepted}


register_contract_page(CONTRACT_TEMPLATE, _context)


class ContractPages(Controller):
    include_in_schema = False

    @get("/contracts/{contract_id:int}", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, identity: MaybeUser, contract_id: FromPath[int]) -> Response:
        return page(request, CONTRACT_TEMPLATE, errors={}, **await _context(request, conn, identity, contract_id))

    @get("/contracts/{contract_id:int}/milestones/{position:int}/accept", opt={**BUYERS_OPT, "shows": "form"})
    async def confirm_accept(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int],
                             position: FromPath[int]) -> Response:
        """Accepting pays money that does not come back: the buyer sees what it pays first."""
        return page(request, "delivery/milestone_accept.html", position=position, errors={},
                    **await _context(request, conn, identity, contract_id))

    @post("/contracts/{contract_id:int}/milestones/{position:int}/accept", opt=BUYERS_OPT)
    async def accept(self, request: Request, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                     position: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            if form.get("confirm") != "yes":
                return redirect(f"/contracts/{contract_id}/milestones/{position}/accept")
            await delivery.accept_milestone(conn, identity, contract_id, position, settings.milestone_early_days)
            return redirect(f"/contracts/{contract_id}?accepted={position}#milestones")

        async def context() -> Mapping[str, Any]:
            return await _context(request, conn, identity, contract_id)

        return await form_step(request, conn, CONTRACT_TEMPLATE, action, context=context)


class ContractApi(Controller):
    path = "/api"
    tags = ("contracts",)

    @get("/contracts/{contract_id:int}", opt=PUBLIC_OPT,
         summary="A contract (public once signed by both) and where each of its milestones stands")
    async def show(self, conn: Db, identity: MaybeUser, settings: Config, contract_id: FromPath[int],
                   accepted: FromQuery[int | None] = None) -> ContractView:
        return await delivery.contract_view(conn, identity, contract_id, settings.milestone_early_days, accepted)

    @post("/contracts/{contract_id:int}/milestones/{position:int}/accept", opt=BUYERS_OPT, status_code=201,
          summary="Accept a milestone; a payment milestone pays the provider its share")
    async def accept(self, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                     position: FromPath[int]) -> dict[str, int]:
        return {"paid_fen": await delivery.accept_milestone(conn, identity, contract_id, position,
                                                            settings.milestone_early_days)}
