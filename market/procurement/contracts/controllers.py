"""Preparing and signing contracts, the contract as a PDF, and the JSON routes that do the same.
The contract page itself shows how delivery is going, so market.delivery serves it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody

from market.core.access import PUBLIC, SIGNED_IN, Identity, member
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.web import (
    Config,
    Db,
    MaybeUser,
    User,
    done,
    require_confirmation,
)
from market.procurement.contracts import pdf
from market.procurement.contracts import services as contracts
from market.procurement.contracts.models import Contract, Milestones

PUBLIC_OPT = {"access": PUBLIC}
SIGNED_IN_OPT = {"access": SIGNED_IN}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}

# The contract page (its template and what it shows), which delivery, a layer above, registers at
# import: the signing form here shows that page again, with the problem, when a signature is refused.
PageContext = Callable[[Request, Db, Identity | None, int], Awaitable[Mapping[str, Any]]]
CONTRACT_PAGE: dict[str, Any] = {}


def register_contract_page(template: str, context: PageContext) -> None:
    CONTRACT_PAGE.update(template=template, context=context)


class ContractPages(Controller):
    include_in_schema = False

    @get("/contracts/{contract_id:int}/pdf", opt={**PUBLIC_OPT, "shows": "pdf"})
    async def pdf(self, conn: Db, identity: MaybeUser, settings: Config, contract_id: FromPath[int]) -> Response:
        contract = await contracts.get(conn, identity, contract_id)
        return Response(pdf.render_pdf(contract, settings.timezone, settings.report_grace_days), media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="contract-{contract.id}.pdf"'})

    @post("/calls/{call_id:int}/contract", opt=BUYERS_OPT)
    async def generate(self, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        return done(f"/contracts/{await contracts.generate(conn, identity, call_id)}", "contract_generated")

    @post("/awards/{award_id:int}/contract", opt=BUYERS_OPT)
    async def generate_for_award(self, conn: Db, identity: User, award_id: FromPath[int]) -> Response:
        return done(f"/contracts/{await contracts.generate_for_award(conn, identity, award_id)}", "contract_generated")

    @post("/contracts/{contract_id:int}/sign", opt=SIGNED_IN_OPT)
    async def sign(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            require_confirmation(form, "sign")
            await contracts.sign(conn, identity, contract_id)
            return done(f"/contracts/{contract_id}", "signed")

        async def context() -> Mapping[str, Any]:
            return await CONTRACT_PAGE["context"](request, conn, identity, contract_id)

        return await form_step(request, conn, CONTRACT_PAGE["template"], action, context=context)


class ContractApi(Controller):
    path = "/api"
    tags = ("contracts",)

    @post("/calls/{call_id:int}/contract", opt=BUYERS_OPT, status_code=201,
          summary="Prepare the contract from the standard template after the notice period")
    async def generate(self, conn: Db, identity: User, call_id: FromPath[int]) -> Contract:
        return await contracts.get(conn, identity, await contracts.generate(conn, identity, call_id))

    @post("/awards/{award_id:int}/contract", opt=BUYERS_OPT, status_code=201,
          summary="Prepare the contract of a proposal funded by a review batch, after the batch's notice period")
    async def generate_for_award(self, conn: Db, identity: User, award_id: FromPath[int]) -> Contract:
        return await contracts.get(conn, identity, await contracts.generate_for_award(conn, identity, award_id))

    @put("/contracts/{contract_id:int}/milestones", opt=BUYERS_OPT, summary="Set the milestones of an unsigned contract")
    async def milestones(self, conn: Db, identity: User, contract_id: FromPath[int],
                         data: JSONBody[Milestones]) -> Contract:
        await contracts.set_milestones(conn, identity, contract_id, data)
        return await contracts.get(conn, identity, contract_id)

    @post("/contracts/{contract_id:int}/sign", opt=SIGNED_IN_OPT, status_code=201, summary="Sign for your side")
    async def sign(self, conn: Db, identity: User, contract_id: FromPath[int]) -> dict[str, str]:
        return {"status": await contracts.sign(conn, identity, contract_id)}
