"""Docking's pages and JSON twins: rolling docking (runs, pins and bans, accepting a suggestion,
a foundation's pledge) and accepting a fair's docking. Every rule is in `rolling` and `dockings`."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from market.core.access import Identity, member
from market.core.errors import Conflict, Invalid, NotFound
from market.core.i18n import N_
from market.core.money import parse_yuan
from market.core.validation import parse
from market.core.web import (
    Config,
    Db,
    User,
    form_data,
    form_errors,
    in_form_terms,
    localized,
    page,
    redirect,
)
from market.matching import dockings, fairs, rolling
from market.matching.dockings import Docking, DockingInput
from market.matching.rolling import Rolling, RuleInput
from market.matching.weights import configured as configured_weights
from market.procurement.contracts import services as contracts

OWNERS_OPT = {"access": member(N_("buyers and funders"), "buyer", "funder")}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
TERMS_YUAN = {"amount_yuan": "amount_fen"}
RunId = Annotated[int | None, QueryParameter(ge=1)]


def terms_from_form(form: dict[str, Any]) -> DockingInput:
    amount = parse_yuan(str(form.get("amount_yuan", "")), field="amount_yuan")
    return parse({"amount_fen": amount, "service_start": form.get("service_start"),
                  "service_end": form.get("service_end"), "service_place": form.get("service_place")}, DockingInput)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


async def rolling_page(request: Request, conn: asyncpg.Connection, identity: Identity, run_id: int | None = None,
                       status: int = 200, errors: dict[str, str] | None = None) -> Response:
    found = await rolling.view(conn, identity, run_id)
    return page(request, "matching/docking.html", status=status, rolling=found,
                projects=[(w.project_id, localized(w, "title")) for w in found.waiting],
                providers=await provider_choices(conn), errors=errors or {},
                readable_contracts=await contracts.readable(conn, identity, [s.docking.contract_id for s in
                                                                             found.run.suggestions if s.docking]
                                                             if found.run else []))


async def provider_choices(conn: asyncpg.Connection) -> list[tuple[int, str]]:
    """Verified providers for a <select>, named in the page's language."""
    return [(r["id"], localized(r)) for r in await conn.fetch(
        "select id, name_zh, name_en from organisations where kind = 'provider' and status = 'verified' order by id")]


async def terms_page(request: Request, conn: asyncpg.Connection, action: str, project_id: int, provider: str,
                     score: float | None, form: dict[str, Any], status: int = 200,
                     errors: dict[str, str] | None = None, suggestion: rolling.Suggestion | None = None) -> Response:
    project = await conn.fetchrow("select id, title_zh, title_en from projects where id = $1", project_id)
    if project is None:
        raise NotFound()
    budget, pledged = await dockings.project_money(conn, project_id)
    return page(request, "matching/docking_form.html", status=status, project=project, provider=provider,
                score=score, budget=budget, pledged=pledged, action=action, form=form, errors=errors or {},
                suggestion=suggestion)


def _terms_form(terms: DockingInput) -> dict[str, Any]:
    return {"amount_yuan": _yuan(terms.amount_fen), "service_start": terms.service_start.isoformat(),
            "service_end": terms.service_end.isoformat(), "service_place": terms.service_place}


class DockingPages(Controller):
    include_in_schema = False

    @get("/docking", opt=OWNERS_OPT)
    async def index(self, request: Request, conn: Db, identity: User, run: RunId = None) -> Response:
        return await rolling_page(request, conn, identity, run)

    @post("/docking/runs", opt=OWNERS_OPT)
    async def run(self, request: Request, conn: Db, identity: User, settings: Config) -> Response:
        try:
            async with conn.transaction():
                run_id = await rolling.run(conn, identity, configured_weights(settings))
        except (Invalid, Conflict) as exc:
            return await rolling_page(request, conn, identity, None, exc.status, form_errors(exc))
        return redirect(f"/docking?run={run_id}")

    @post("/docking/rules", opt=OWNERS_OPT)
    async def rule(self, request: Request, conn: Db, identity: User, settings: Config) -> Response:
        form = await form_data(request)
        try:
            async with conn.transaction():
                await rolling.set_rule(conn, identity, parse(form, RuleInput), configured_weights(settings))
        except (Invalid, Conflict) as exc:
            return await rolling_page(request, conn, identity, None, exc.status, form_errors(exc))
        return redirect("/docking#rules")

    @get("/docking/runs/{run_id:int}/projects/{project_id:int}/accept", opt=BUYERS_OPT)
    async def accept_form(self, request: Request, conn: Db, identity: User, run_id: FromPath[int],
                          project_id: FromPath[int]) -> Response:
        suggestion = await _suggested(conn, identity, run_id, project_id)
        terms = await dockings.terms(conn, project_id, suggestion.price_fen)
        return await terms_page(request, conn, request.url.path, project_id, suggestion.provider_name,
                                suggestion.score, _terms_form(terms), suggestion=suggestion)

    @post("/docking/runs/{run_id:int}/projects/{project_id:int}/accept", opt=BUYERS_OPT)
    async def accept(self, request: Request, conn: Db, identity: User, settings: Config, run_id: FromPath[int],
                     project_id: FromPath[int]) -> Response:
        form = await form_data(request)
        try:
            async with conn.transaction():
                call_id = await rolling.accept(conn, identity, run_id, project_id, terms_from_form(form),
                                               configured_weights(settings), settings.timezone)
        except (Invalid, Conflict) as exc:
            suggestion = await _suggested(conn, identity, run_id, project_id)
            return await terms_page(request, conn, request.url.path, project_id, suggestion.provider_name,
                                    suggestion.score, form, exc.status, in_form_terms(exc, TERMS_YUAN), suggestion)
        return redirect(f"/calls/{call_id}#award")

    @post("/docking/runs/{run_id:int}/projects/{project_id:int}/pledge", opt=OWNERS_OPT)
    async def pledge(self, request: Request, conn: Db, identity: User, run_id: FromPath[int],
                     project_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                pledge_id = await rolling.pledge(conn, identity, run_id, project_id)
        except (Invalid, Conflict) as exc:
            return await rolling_page(request, conn, identity, run_id, exc.status, form_errors(exc))
        return redirect(f"/pledges/{pledge_id}")

    @get("/fairs/{fair_id:int}/dockings/{project_id:int}", opt=BUYERS_OPT)
    async def fair_form(self, request: Request, conn: Db, fair_id: FromPath[int],
                        project_id: FromPath[int]) -> Response:
        item = await fairs.docked_item(conn, fair_id, project_id)
        terms = await dockings.terms(conn, project_id)
        return await terms_page(request, conn, request.url.path, project_id, localized(item, "provider_name") or "",
                                None, _terms_form(terms))

    @post("/fairs/{fair_id:int}/dockings/{project_id:int}", opt=BUYERS_OPT)
    async def fair_accept(self, request: Request, conn: Db, identity: User, settings: Config,
                          fair_id: FromPath[int], project_id: FromPath[int]) -> Response:
        form = await form_data(request)
        try:
            async with conn.transaction():
                call_id = await fairs.accept_docking(conn, identity, fair_id, project_id, terms_from_form(form),
                                                     configured_weights(settings), settings.timezone)
        except (Invalid, Conflict) as exc:
            item = await fairs.docked_item(conn, fair_id, project_id)
            return await terms_page(request, conn, request.url.path, project_id,
                                    localized(item, "provider_name") or "", None, form, exc.status,
                                    in_form_terms(exc, TERMS_YUAN))
        return redirect(f"/calls/{call_id}#award")


async def _suggested(conn: asyncpg.Connection, identity: Identity, run_id: int, project_id: int) -> rolling.Suggestion:
    """The run's suggestion for the project, which must name a provider to be accepted."""
    suggestion = await rolling.suggestion(conn, identity, run_id, project_id)
    if suggestion.provider_id is None:
        raise NotFound()
    return suggestion


class DockingApi(Controller):
    path = "/api"
    tags = ["matching"]

    @get("/docking", opt=OWNERS_OPT,
         summary="Rolling docking: the projects waiting for a provider, your pins and bans, and a run's suggestions "
                 "(the latest unless `run` is given)")
    async def index(self, conn: Db, identity: User, run: RunId = None) -> Rolling:
        return await rolling.view(conn, identity, run)

    @post("/docking/runs", opt=OWNERS_OPT, status_code=201,
          summary="Score the waiting projects and solve the docking problem now; the run is kept")
    async def run(self, conn: Db, identity: User, settings: Config) -> Rolling:
        return await rolling.view(conn, identity, await rolling.run(conn, identity, configured_weights(settings)))

    @get("/docking/runs/{run_id:int}/instance", opt=OWNERS_OPT,
         summary="A run's input to the solver, as `market match solve INPUT.json` reads it, to check the run")
    async def instance(self, conn: Db, identity: User, run_id: FromPath[int]) -> dict[str, Any]:
        return await rolling.instance(conn, identity, run_id)

    @post("/docking/rules", opt=OWNERS_OPT, status_code=201,
          summary="Pin a provider to a waiting project, ban the pair, or clear what was set; the next run obeys")
    async def rule(self, conn: Db, identity: User, settings: Config, data: JSONBody[RuleInput]) -> Rolling:
        await rolling.set_rule(conn, identity, data, configured_weights(settings))
        return await rolling.view(conn, identity)

    @post("/docking/runs/{run_id:int}/projects/{project_id:int}/accept", opt=BUYERS_OPT, status_code=201,
          summary="Accept a run's provider for your project: the docking is published for notice (the project's "
                  "buyer)")
    async def accept(self, conn: Db, identity: User, settings: Config, run_id: FromPath[int],
                     project_id: FromPath[int], data: JSONBody[DockingInput]) -> Docking:
        call_id = await rolling.accept(conn, identity, run_id, project_id, data, configured_weights(settings), settings.timezone)
        return await _docking_of(conn, call_id)

    @post("/docking/runs/{run_id:int}/projects/{project_id:int}/pledge", opt=OWNERS_OPT, status_code=201,
          summary="Pledge what your own run suggested your organisation give to a project (funders)")
    async def pledge(self, conn: Db, identity: User, run_id: FromPath[int], project_id: FromPath[int]) -> dict[str, int]:
        return {"pledge_id": await rolling.pledge(conn, identity, run_id, project_id)}

    @post("/fairs/{fair_id:int}/dockings/{project_id:int}", opt=BUYERS_OPT, status_code=201,
          summary="After a fair, accept the docking of your project with the provider it was docked with")
    async def fair_accept(self, conn: Db, identity: User, settings: Config, fair_id: FromPath[int],
                          project_id: FromPath[int], data: JSONBody[DockingInput]) -> Docking:
        call_id = await fairs.accept_docking(conn, identity, fair_id, project_id, data, configured_weights(settings),
                                             settings.timezone)
        return await _docking_of(conn, call_id)


async def _docking_of(conn: asyncpg.Connection, call_id: int) -> Docking:
    docking = await dockings.of_call(conn, call_id)
    if docking is None:
        raise NotFound()
    return docking
