"""Contract pages (HTML and PDF) and their JSON twins."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody

from market.core.access import PUBLIC, SIGNED_IN, member
from market.core.errors import Conflict, Invalid
from market.core.i18n import N_
from market.core.web import (
    Config,
    Db,
    MaybeUser,
    User,
    done,
    form_data,
    form_errors,
    page,
    redirect,
    require_confirmation,
)
from market.funding import disbursements
from market.procurement import contracts
from market.procurement.contracts import Contract, Milestones

PUBLIC_OPT = {"access": PUBLIC}
SIGNED_IN_OPT = {"access": SIGNED_IN}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}


class ContractPages(Controller):
    include_in_schema = False

    async def _page(self, request: Request, conn: Db, identity: MaybeUser, contract_id: int, status: int = 200,
                    errors: dict[str, str] | None = None, template: str = "procurement/contract.html",
                    **context: object) -> Response:
        contract = await contracts.get(conn, identity, contract_id)
        row = await conn.fetchrow("select buyer_id, provider_id from contracts where id = $1", contract_id)
        side = None
        if identity is not None and identity.acts_for_verified:
            side = {row["buyer_id"]: "buyer", row["provider_id"]: "provider"}.get(identity.org_id)
        states = await disbursements.milestone_states(conn, contract_id, request.app.state.settings.milestone_early_days)
        return page(request, template, status=status, contract=contract, side=side, states=states,
                    can_sign=side is not None and (contract.status, side) in contracts.SIGNING, errors=errors or {},
                    just_accepted=next((m for m in states if str(m.position) == request.query_params.get("accepted")
                                        and m.accepted_at is not None), None), **context)

    @get("/contracts/{contract_id:int}", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, identity: MaybeUser, contract_id: FromPath[int]) -> Response:
        return await self._page(request, conn, identity, contract_id)

    @get("/contracts/{contract_id:int}/pdf", opt=PUBLIC_OPT)
    async def pdf(self, conn: Db, identity: MaybeUser, settings: Config, contract_id: FromPath[int]) -> Response:
        contract = await contracts.get(conn, identity, contract_id)
        return Response(contracts.render_pdf(contract, settings.timezone), media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="contract-{contract.id}.pdf"'})

    @post("/calls/{call_id:int}/contract", opt=BUYERS_OPT)
    async def generate(self, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        return redirect(f"/contracts/{await contracts.generate(conn, identity, call_id)}")

    @post("/awards/{award_id:int}/contract", opt=BUYERS_OPT)
    async def generate_for_award(self, conn: Db, identity: User, award_id: FromPath[int]) -> Response:
        return redirect(f"/contracts/{await contracts.generate_for_award(conn, identity, award_id)}")

    @post("/contracts/{contract_id:int}/sign", opt=SIGNED_IN_OPT)
    async def sign(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int]) -> Response:
        try:
            require_confirmation(await form_data(request), "sign")
            async with conn.transaction():
                await contracts.sign(conn, identity, contract_id)
        except (Invalid, Conflict) as exc:
            return await self._page(request, conn, identity, contract_id, exc.status, form_errors(exc))
        return done(f"/contracts/{contract_id}", "signed")

    @get("/contracts/{contract_id:int}/milestones/{position:int}/accept", opt=BUYERS_OPT)
    async def confirm_accept(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int],
                             position: FromPath[int]) -> Response:
        """Accepting pays money that does not come back: the buyer sees what it pays first."""
        return await self._page(request, conn, identity, contract_id, template="procurement/milestone_accept.html",
                                position=position)

    @post("/contracts/{contract_id:int}/milestones/{position:int}/accept", opt=BUYERS_OPT)
    async def accept(self, request: Request, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                     position: FromPath[int]) -> Response:
        if (await request.form()).get("confirm") != "yes":
            return redirect(f"/contracts/{contract_id}/milestones/{position}/accept")
        try:
            async with conn.transaction():
                await disbursements.accept_milestone(conn, identity, contract_id, position,
                                                     settings.milestone_early_days)
        except Conflict as exc:
            return await self._page(request, conn, identity, contract_id, exc.status, {"_": exc.text()})
        return redirect(f"/contracts/{contract_id}?accepted={position}#milestones")


class ContractApi(Controller):
    path = "/api"
    tags = ["contracts"]

    @post("/calls/{call_id:int}/contract", opt=BUYERS_OPT, status_code=201,
          summary="Prepare the contract from the standard template after the notice period")
    async def generate(self, conn: Db, identity: User, call_id: FromPath[int]) -> Contract:
        return await contracts.get(conn, identity, await contracts.generate(conn, identity, call_id))

    @post("/awards/{award_id:int}/contract", opt=BUYERS_OPT, status_code=201,
          summary="Prepare the contract of a proposal funded by a review batch, after the batch's notice period")
    async def generate_for_award(self, conn: Db, identity: User, award_id: FromPath[int]) -> Contract:
        return await contracts.get(conn, identity, await contracts.generate_for_award(conn, identity, award_id))

    @get("/contracts/{contract_id:int}", opt=PUBLIC_OPT, summary="A contract (public once signed by both)")
    async def show(self, conn: Db, identity: MaybeUser, contract_id: FromPath[int]) -> Contract:
        return await contracts.get(conn, identity, contract_id)

    @put("/contracts/{contract_id:int}/milestones", opt=BUYERS_OPT, summary="Set the milestones of an unsigned contract")
    async def milestones(self, conn: Db, identity: User, contract_id: FromPath[int],
                         data: JSONBody[Milestones]) -> Contract:
        await contracts.set_milestones(conn, identity, contract_id, data)
        return await contracts.get(conn, identity, contract_id)

    @post("/contracts/{contract_id:int}/sign", opt=SIGNED_IN_OPT, status_code=201, summary="Sign for your side")
    async def sign(self, conn: Db, identity: User, contract_id: FromPath[int]) -> dict[str, str]:
        return {"status": await contracts.sign(conn, identity, contract_id)}
