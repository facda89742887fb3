"""The contract page (the contract, where each of its milestones and evaluations stands, and what a
failed evaluation led to), accepting a milestone, the buyer's decisions after a failed evaluation
(a rectification deadline, a re-evaluation, the end of the contract), a provider's scorecard, and
their JSON twins. The rules are in `delivery.services`, `delivery.ending` and `delivery.scorecard`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter

import msgspec
from litestar.params import JSONBody

from market.core.access import PUBLIC, Identity, member
from market.core.errors import Invalid, InvalidFields
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.web import (
    PAGE_SIZE,
    Config,
    CursorParam,
    Db,
    MaybeUser,
    User,
    done,
    keyset_pager,
    page,
    redirect,
    require_confirmation,
)
from market.delivery import ending, listing, rounds, scorecard
from market.delivery import services as delivery
from market.delivery.models import ContractList, ContractView, EndInput, RectifyInput
from market.delivery.scorecard import Scorecard
from market.procurement.contracts.controllers import register_contract_page

PUBLIC_OPT = {"access": PUBLIC}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
# An organisation's own contracts: for those who sign for a buyer or a provider (listing.READERS).
PARTIES_OPT = {"access": member(N_("buyers and social organisations"), "buyer", "provider",
                                roles=set(listing.READERS))}
Side = Literal["buyer", "provider"]
ListStatus = Literal["draft", "buyer_signed", "provider_signed", "in_delivery", "rectifying", "ended", "completed"]
Query = Annotated[str | None, QueryParameter(max_length=100)]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
CONTRACT_TEMPLATE = "delivery/contract.html"
RECTIFY_TEMPLATE = "delivery/rectify.html"
END_TEMPLATE = "delivery/end.html"
DECIDE_TEMPLATE = "delivery/decide.html"


def _rectify_input(form: dict[str, Any]) -> RectifyInput:
    try:
        return msgspec.convert({"rectify_by": str(form.get("rectify_by", "")).strip(),
                                "note": str(form.get("note", ""))}, RectifyInput, strict=False)
    except msgspec.ValidationError:
        raise InvalidFields([Invalid("Give the date by which the provider must have put it right.",
                                     field="rectify_by")]) from None


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

    @get("/contracts", opt=PARTIES_OPT)
    async def index(self, request: Request, conn: Db, identity: User, side: FromQuery[Side | None] = None,
                    status: FromQuery[ListStatus | None] = None, q: Query = None,
                    cursor: CursorParam = None) -> Response:
        found = await listing.contract_list(conn, identity, side=side, status=status, q=q, cursor=cursor,
                                            limit=PAGE_SIZE)
        return page(request, "delivery/contracts.html", listing=found,
                    pager=keyset_pager(request, found, len(found.items)),
                    filters={"side": found.side, "status": status or "", "q": q or ""})

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

    @get("/contracts/{contract_id:int}/rectify", opt={**BUYERS_OPT, "shows": "form"})
    async def rectify_form(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int]) -> Response:
        return page(request, RECTIFY_TEMPLATE, errors={}, form={},
                    **await _context(request, conn, identity, contract_id))

    @post("/contracts/{contract_id:int}/rectify", opt=BUYERS_OPT)
    async def rectify(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await ending.rectify(conn, identity, contract_id, _rectify_input(form))
            return done(f"/contracts/{contract_id}#delivery", "rectification_set")

        async def context() -> Mapping[str, Any]:
            return await _context(request, conn, identity, contract_id)

        return await form_step(request, conn, RECTIFY_TEMPLATE, action, context=context)

    @post("/contracts/{contract_id:int}/reevaluate", opt=BUYERS_OPT)
    async def reevaluate(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int]) -> Response:
        async def action(_: dict[str, Any]) -> Response:
            panel_id = await ending.reevaluate(conn, identity, contract_id)
            return done(f"/panels/{panel_id}", "reevaluation_ordered")

        async def context() -> Mapping[str, Any]:
            return await _context(request, conn, identity, contract_id)

        return await form_step(request, conn, CONTRACT_TEMPLATE, action, context=context)

    @post("/contracts/{contract_id:int}/evaluations/{stage:str}/open", opt=BUYERS_OPT)
    async def open_round(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int],
                         stage: FromPath[str]) -> Response:
        async def action(_: dict[str, Any]) -> Response:
            panel_id = await rounds.open_round(conn, identity, contract_id, stage)
            return done(f"/panels/{panel_id}", "round_opened")

        async def context() -> Mapping[str, Any]:
            return await _context(request, conn, identity, contract_id)

        return await form_step(request, conn, CONTRACT_TEMPLATE, action, context=context)

    @get("/contracts/{contract_id:int}/evaluations/{stage:str}/decide", opt={**BUYERS_OPT, "shows": "form"})
    async def decide_form(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int],
                          stage: FromPath[str]) -> Response:
        """Deciding closes the panel for good: the buyer sees the verdict first, and ticks a box."""
        return page(request, DECIDE_TEMPLATE, errors={}, form={}, stage=stage,
                    **await _context(request, conn, identity, contract_id))

    @post("/contracts/{contract_id:int}/evaluations/{stage:str}/decide", opt=BUYERS_OPT)
    async def decide(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int],
                     stage: FromPath[str]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            require_confirmation(form, "decide")
            await rounds.decide_round(conn, identity, contract_id, stage,
                                      request.app.state.settings.rectification_days)
            return done(f"/contracts/{contract_id}#evaluations", "round_decided")

        async def context() -> Mapping[str, Any]:
            return {"stage": stage, **await _context(request, conn, identity, contract_id)}

        return await form_step(request, conn, DECIDE_TEMPLATE, action, context=context)

    @get("/contracts/{contract_id:int}/end", opt={**BUYERS_OPT, "shows": "form"})
    async def end_form(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int]) -> Response:
        """Ending cannot be undone: the buyer sees what it means first, and ticks a box."""
        return page(request, END_TEMPLATE, errors={}, form={}, **await _context(request, conn, identity, contract_id))

    @post("/contracts/{contract_id:int}/end", opt=BUYERS_OPT)
    async def end(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            require_confirmation(form, "end")
            await ending.end(conn, identity, contract_id, EndInput(reason=str(form.get("reason", ""))))
            return done(f"/contracts/{contract_id}#delivery", "contract_ended")

        async def context() -> Mapping[str, Any]:
            return await _context(request, conn, identity, contract_id)

        return await form_step(request, conn, END_TEMPLATE, action, context=context)


class ScorecardPages(Controller):
    include_in_schema = False

    @get("/organisations/{org_id:int}/scorecard", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, identity: MaybeUser, org_id: FromPath[int]) -> Response:
        return page(request, "delivery/scorecard.html", card=await scorecard.scorecard(conn, identity, org_id))


class ScorecardApi(Controller):
    path = "/api"
    tags = ("organisations",)

    @get("/organisations/{org_id:int}/scorecard", opt=PUBLIC_OPT,
         summary="A provider's scorecard: its finished delivery evaluations, late and unfiled reports, contracts "
                 "ended, its summary grade, and (for its members and the platform) the catalogue items it is "
                 "barred from")
    async def show(self, conn: Db, identity: MaybeUser, org_id: FromPath[int]) -> Scorecard:
        return await scorecard.scorecard(conn, identity, org_id)


class ContractApi(Controller):
    path = "/api"
    tags = ("contracts",)

    @get("/contracts", opt=PARTIES_OPT,
         summary="Your organisation's contracts (我的合同) on one side, newest first: as buyer for a buyer, as "
                 "provider for a social organisation, unless `side` asks for the other")
    async def index(self, conn: Db, identity: User, side: FromQuery[Side | None] = None,
                    status: FromQuery[ListStatus | None] = None, q: Query = None, limit: Limit = 50,
                    cursor: CursorParam = None) -> ContractList:
        return await listing.contract_list(conn, identity, side=side, status=status, q=q, cursor=cursor, limit=limit)

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

    @post("/contracts/{contract_id:int}/rectify", opt=BUYERS_OPT, status_code=201,
          summary="After a failed evaluation, give the provider until a date to put it right")
    async def rectify(self, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                      data: JSONBody[RectifyInput]) -> ContractView:
        await ending.rectify(conn, identity, contract_id, data)
        return await delivery.contract_view(conn, identity, contract_id, settings.milestone_early_days)

    @post("/contracts/{contract_id:int}/reevaluate", opt=BUYERS_OPT, status_code=201,
          summary="After a rectification, order a new evaluation of the failed stage (a new panel to form)")
    async def reevaluate(self, conn: Db, identity: User, contract_id: FromPath[int]) -> dict[str, int]:
        return {"panel_id": await ending.reevaluate(conn, identity, contract_id)}

    @post("/contracts/{contract_id:int}/evaluations/{stage:str}/open", opt=BUYERS_OPT, status_code=201,
          summary="Open the mid-term or final evaluation: a panel scoring the contract's indicator system")
    async def open_round(self, conn: Db, identity: User, contract_id: FromPath[int],
                         stage: FromPath[str]) -> dict[str, int]:
        return {"panel_id": await rounds.open_round(conn, identity, contract_id, stage)}

    @post("/contracts/{contract_id:int}/evaluations/{stage:str}/decide", opt=BUYERS_OPT, status_code=201,
          summary="Decide an evaluation once every consensus score is in: its panel closes and its verdict stands")
    async def decide(self, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                     stage: FromPath[str]) -> ContractView:
        await rounds.decide_round(conn, identity, contract_id, stage, settings.rectification_days)
        return await delivery.contract_view(conn, identity, contract_id, settings.milestone_early_days)

    @post("/contracts/{contract_id:int}/end", opt=BUYERS_OPT, status_code=201,
          summary="After a failed evaluation, end the contract with a reason; what was not paid goes back")
    async def end(self, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                  data: JSONBody[EndInput]) -> ContractView:
        await ending.end(conn, identity, contract_id, data)
        return await delivery.contract_view(conn, identity, contract_id, settings.milestone_early_days)
