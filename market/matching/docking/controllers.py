"""Docking's pages and JSON twins: rolling docking (runs, pins and bans, accepting a suggestion,
a foundation's pledge) and accepting a fair's docking. The pages render the views `docking_views`
builds; every rule is in `rolling` and `dockings`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from market.core.access import Identity, member
from market.core.forms import Context, form_step
from market.core.i18n import N_
from market.core.money import parse_yuan
from market.core.validation import parse
from market.core.web import Config, Db, User, done, page
from market.matching.docking import views as docking_views
from market.matching.docking import dockings, rolling
from market.matching.fairs import services as fairs
from market.matching.docking.dockings import Docking, DockingInput
from market.matching.docking.rolling import Rolling, RuleInput
from market.matching.scoring.weights import configured as configured_weights

RULE_DONE = {"pin": "docking_pinned", "ban": "docking_banned", "clear": "docking_rule_cleared"}

OWNERS_OPT = {"access": member(N_("buyers and funders"), "buyer", "funder")}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
TERMS_YUAN = {"amount_yuan": "amount_fen"}
RunId = Annotated[int | None, QueryParameter(ge=1)]


def terms_from_form(form: dict[str, Any]) -> DockingInput:
    amount = parse_yuan(str(form.get("amount_yuan", "")), field="amount_yuan")
    return parse({"amount_fen": amount, "service_start": form.get("service_start"),
                  "service_end": form.get("service_end"), "service_place": form.get("service_place")}, DockingInput)


def _terms_form(terms: DockingInput) -> dict[str, Any]:
    """The terms as the form shows them: yuan and ISO dates."""
    return {"amount_yuan": f"{terms.amount_fen // 100}.{terms.amount_fen % 100:02d}",
            "service_start": terms.service_start.isoformat(), "service_end": terms.service_end.isoformat(),
            "service_place": terms.service_place}


def _docking_context(conn: asyncpg.Connection, identity: Identity, run_id: int | None = None) -> Context:
    async def context() -> Mapping[str, Any]:
        return msgspec.structs.asdict(await docking_views.docking_page(conn, identity, run_id))
    return context


def _terms_context(view: docking_views.TermsForm, action: str) -> dict[str, Any]:
    """The accepting form's page, less the form itself."""
    return {**msgspec.structs.asdict(view), "action": action}


def _show_terms(request: Request, view: docking_views.TermsForm) -> Response:
    return page(request, "matching/docking_form.html", **_terms_context(view, request.url.path),
                form=_terms_form(view.terms), errors={})


class DockingPages(Controller):
    include_in_schema = False

    @get("/docking", opt=OWNERS_OPT)
    async def index(self, request: Request, conn: Db, identity: User, run: RunId = None) -> Response:
        view = await docking_views.docking_page(conn, identity, run)
        return page(request, "matching/docking.html", **msgspec.structs.asdict(view), errors={})

    @post("/docking/runs", opt=OWNERS_OPT)
    async def run(self, request: Request, conn: Db, identity: User, settings: Config) -> Response:
        async def run(_: dict[str, Any]) -> Response:
            return done(f"/docking?run={await rolling.run(conn, identity, configured_weights(settings))}#run", "docking_run")
        return await form_step(request, conn, "matching/docking.html", run, context=_docking_context(conn, identity))

    @post("/docking/rules", opt=OWNERS_OPT)
    async def rule(self, request: Request, conn: Db, identity: User, settings: Config) -> Response:
        # The form names a provider by name or code (a city has 16,000 of them: too many for a list); the
        # buttons beside a run's suggestions send the provider's id.
        matches: list[tuple[int, str]] = []

        async def set_rule(form: dict[str, Any]) -> Response:
            rule = parse({**{k: v for k, v in form.items() if k != "provider"},
                          "provider_id": await dockings.provider_in_form(conn, form, matches)}, RuleInput)
            await rolling.set_rule(conn, identity, rule, configured_weights(settings))
            return done("/docking#rules", RULE_DONE[rule.rule])

        async def context() -> Mapping[str, Any]:
            return {**msgspec.structs.asdict(await docking_views.docking_page(conn, identity)),
                    "provider_matches": matches}
        return await form_step(request, conn, "matching/docking.html", set_rule, context=context,
                               fields={"provider": "provider_id"})

    @get("/docking/runs/{run_id:int}/projects/{project_id:int}/accept", opt={**BUYERS_OPT, "shows": "form"})
    async def accept_form(self, request: Request, conn: Db, identity: User, run_id: FromPath[int],
                          project_id: FromPath[int]) -> Response:
        return _show_terms(request, await docking_views.run_terms_form(conn, identity, run_id, project_id))

    @post("/docking/runs/{run_id:int}/projects/{project_id:int}/accept", opt=BUYERS_OPT)
    async def accept(self, request: Request, conn: Db, identity: User, settings: Config, run_id: FromPath[int],
                     project_id: FromPath[int]) -> Response:
        async def accept(form: dict[str, Any]) -> Response:
            call_id = await rolling.accept(conn, identity, run_id, project_id, terms_from_form(form),
                                           configured_weights(settings), settings.timezone)
            return done(f"/calls/{call_id}#award", "run_docking_published")

        async def context() -> Mapping[str, Any]:
            return _terms_context(await docking_views.run_terms_form(conn, identity, run_id, project_id),
                                  request.url.path)
        return await form_step(request, conn, "matching/docking_form.html", accept, context=context,
                               fields=TERMS_YUAN)

    @post("/docking/runs/{run_id:int}/projects/{project_id:int}/pledge", opt=OWNERS_OPT)
    async def pledge(self, request: Request, conn: Db, identity: User, run_id: FromPath[int],
                     project_id: FromPath[int]) -> Response:
        async def pledge(_: dict[str, Any]) -> Response:
            return done(f"/pledges/{await rolling.pledge(conn, identity, run_id, project_id)}", "pledge_made")
        return await form_step(request, conn, "matching/docking.html", pledge,
                               context=_docking_context(conn, identity, run_id))

    @get("/fairs/{fair_id:int}/dockings/{project_id:int}", opt={**BUYERS_OPT, "shows": "form"})
    async def fair_form(self, request: Request, conn: Db, fair_id: FromPath[int],
                        project_id: FromPath[int]) -> Response:
        return _show_terms(request, await docking_views.fair_terms_form(conn, fair_id, project_id))

    @post("/fairs/{fair_id:int}/dockings/{project_id:int}", opt=BUYERS_OPT)
    async def fair_accept(self, request: Request, conn: Db, identity: User, settings: Config,
                          fair_id: FromPath[int], project_id: FromPath[int]) -> Response:
        async def accept(form: dict[str, Any]) -> Response:
            call_id = await fairs.accept_docking(conn, identity, fair_id, project_id, terms_from_form(form),
                                                 configured_weights(settings), settings.timezone)
            return done(f"/calls/{call_id}#award", "docking_published")

        async def context() -> Mapping[str, Any]:
            return _terms_context(await docking_views.fair_terms_form(conn, fair_id, project_id), request.url.path)
        return await form_step(request, conn, "matching/docking_form.html", accept, context=context,
                               fields=TERMS_YUAN)


class DockingApi(Controller):
    path = "/api"
    tags = ["matching"]

    @get("/docking", opt=OWNERS_OPT,
         summary="Rolling docking: the projects waiting for a provider, your pins and bans, and a run's suggestions "
                 "(the latest unless `run` is given), with the choices of the pin-or-ban form")
    async def index(self, conn: Db, identity: User, run: RunId = None) -> docking_views.DockingPage:
        return await docking_views.docking_page(conn, identity, run)

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
        call_id = await rolling.accept(conn, identity, run_id, project_id, data, configured_weights(settings),
                                       settings.timezone)
        return await docking_views.accepted(conn, call_id)

    @post("/docking/runs/{run_id:int}/projects/{project_id:int}/pledge", opt=OWNERS_OPT, status_code=201,
          summary="Pledge what your own run suggested your organisation give to a project (funders)")
    async def pledge(self, conn: Db, identity: User, run_id: FromPath[int],
                     project_id: FromPath[int]) -> dict[str, int]:
        return {"pledge_id": await rolling.pledge(conn, identity, run_id, project_id)}

    @post("/fairs/{fair_id:int}/dockings/{project_id:int}", opt=BUYERS_OPT, status_code=201,
          summary="After a fair, accept the docking of your project with the provider it was docked with")
    async def fair_accept(self, conn: Db, identity: User, settings: Config, fair_id: FromPath[int],
                          project_id: FromPath[int], data: JSONBody[DockingInput]) -> Docking:
        call_id = await fairs.accept_docking(conn, identity, fair_id, project_id, data, configured_weights(settings),
                                             settings.timezone)
        return await docking_views.accepted(conn, call_id)
