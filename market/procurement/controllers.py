"""Needs and projects: the needs list and the project list, with their JSON twins."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from market.core.access import PUBLIC, SIGNED_IN, member
from market.core.errors import Conflict, Invalid, InvalidFields
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.money import yuan_to_fen
from market.core.validation import parse
from market.core.web import (
    PAGE_SIZE,
    Db,
    MaybeUser,
    User,
    form_data,
    in_form_terms,
    page,
    pager,
    redirect,
)
from market.funding.resources import services as resources
from market.matching import candidates as matching
from market.places.services import jurisdictions
from market.procurement import needs as service
from market.procurement import workflow
from market.procurement.models import Decision, Need, NeedInput, Project, ProjectInput

PUBLIC_OPT = {"access": PUBLIC}
SIGNED_IN_OPT = {"access": SIGNED_IN}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
NeedStatus = Literal["open", "declined", "withdrawn", "approved"]
NeedAction = Literal["withdraw", "decline", "reopen"]
Place = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]
Category = Annotated[str | None, QueryParameter(pattern=r"^[0-9]{2}(\.[0-9]{2})?$")]
Query = Annotated[str | None, QueryParameter(max_length=100)]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]


async def _context(conn: asyncpg.Connection) -> dict[str, Any]:
    places = await jurisdictions(conn)
    return {"places": places, "place_by_id": {p.id: p for p in places},
            "communities": [p for p in places if p.level == "community"]}


def _project_form(form: dict[str, Any]) -> ProjectInput:
    """The page asks for the budget in yuan; the rest of the system counts fen."""
    data = {k: v for k, v in form.items() if k not in ("budget_yuan", "need_ids")}
    data["need_ids"] = [v for v in form.get("need_ids", []) if v]
    if "budget_yuan" in form:
        try:
            data["budget_fen"] = yuan_to_fen(str(form["budget_yuan"]))
        except ValueError:
            raise InvalidFields([Invalid("Enter the budget in yuan, such as 80000 or 12500.50.",
                                         field="budget_yuan")]) from None
    return parse(data, ProjectInput)


class NeedPages(Controller):
    include_in_schema = False

    @get("/needs", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, place: Place = None, status: FromQuery[NeedStatus | None] = None,
                    category: Category = None, q: Query = None, offset: Offset = 0) -> Response:
        found = await service.list_needs(conn, jurisdiction_id=place, status=status, category=category, q=q,
                                         limit=PAGE_SIZE, offset=offset)
        total = await service.count_needs(conn, jurisdiction_id=place, status=status, category=category, q=q)
        return page(request, "procurement/needs.html", needs=found, pager=pager(request, offset, PAGE_SIZE, total, len(found)),
            filters={"place": place, "status": status, "category": category or "", "q": q or ""},
            **await _context(conn))

    @get("/needs/new", opt=SIGNED_IN_OPT)
    async def new(self, request: Request, conn: Db, identity: User) -> Response:
        return page(request, "procurement/need_new.html", form={"community_id": identity.community_id}, errors={},
                    **await _context(conn))

    @post("/needs/new", opt=SIGNED_IN_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            need_id = await service.raise_need(conn, identity, parse(form, NeedInput))
            return redirect(f"/needs/{need_id}")
        return await form_step(request, conn, "procurement/need_new.html", action, **await _context(conn))

    @get("/needs/{need_id:int}", opt=PUBLIC_OPT)
    async def detail(self, request: Request, conn: Db, identity: MaybeUser, need_id: FromPath[int]) -> Response:
        return await self._detail(request, conn, identity, need_id)

    async def _detail(self, request: Request, conn: asyncpg.Connection, identity: Any, need_id: int,
                      status: int = 200, errors: dict[str, str] | None = None) -> Response:
        need = await service.get_need(conn, need_id)
        raised_by = await conn.fetchval("select raised_by from needs where id = $1", need_id)
        is_raiser = identity is not None and identity.user_id == raised_by
        is_buyer = await service.covers(conn, identity, need.community_id)
        actions = [t for t in workflow.NEED_TRANSITIONS if t.source == need.status and t.action != "approve"
                   and ((t.by == "raiser" and is_raiser) or (t.by == "buyer" and is_buyer))]
        suggested = (await conn.fetchrow("select id, code, name_zh, name_en from catalogue_entries where id = $1",
                                         need.suggested_entry_id) if need.suggested_entry_id else None)
        supported = identity is not None and bool(await conn.fetchval(
            "select 1 from need_supports where need_id = $1 and user_id = $2", need_id, identity.user_id))
        return page(request, "procurement/need.html", status=status, need=need, is_raiser=is_raiser,
                    is_buyer=is_buyer, actions=actions, suggested=suggested, supported=supported,
                    errors=errors or {}, **await _context(conn))

    @post("/needs/{need_id:int}/support", opt=SIGNED_IN_OPT)
    async def support(self, request: Request, conn: Db, identity: User, need_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                await service.support(conn, identity, need_id)
        except (Invalid, Conflict) as exc:
            return await self._detail(request, conn, identity, need_id, exc.status, {"_": exc.text()})
        return redirect(f"/needs/{need_id}")

    @post("/needs/{need_id:int}/{action:str}", opt=SIGNED_IN_OPT)
    async def change(self, request: Request, conn: Db, identity: User, need_id: FromPath[int],
                     action: FromPath[NeedAction]) -> Response:
        try:
            async with conn.transaction():
                await service.change_need(conn, identity, need_id, action, parse(await form_data(request), Decision))
        except (Invalid, Conflict) as exc:
            return await self._detail(request, conn, identity, need_id, exc.status,
                                      exc.field_errors() or {"_": exc.text()})
        return redirect(f"/needs/{need_id}")


class ListsPage(Controller):
    include_in_schema = False

    @get("/lists", opt=PUBLIC_OPT)
    async def lists(self, request: Request, conn: Db, place: Place = None, category: Category = None) -> Response:
        """三张清单: the needs list matched against the resources list gives the project list (seed 003)."""
        open_needs = await service.list_needs(conn, jurisdiction_id=place, status="open", category=category, limit=20)
        projects = await service.list_projects(conn, jurisdiction_id=place, category=category, limit=20)
        offered = await resources.list_resources(conn, None, place=place, category=category[:2] if category else None,
                                                 limit=20)
        categories = await conn.fetch(
            "select distinct e.code, e.name_zh, e.name_en from catalogue_entries e join catalogue_versions v "
            "on v.id = e.version_id and v.status = 'published' where e.level = 'category' order by e.code")
        return page(request, "procurement/lists.html", needs=open_needs, projects=projects, resources=offered,
                    categories=categories, filters={"place": place, "category": category or ""},
                    **await _context(conn))


class ProjectPages(Controller):
    include_in_schema = False

    @get("/projects", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, place: Place = None, category: Category = None,
                    offset: Offset = 0) -> Response:
        projects = await service.list_projects(conn, jurisdiction_id=place, category=category, limit=PAGE_SIZE,
                                               offset=offset)
        total = await service.count_projects(conn, jurisdiction_id=place, category=category)
        entries = {r["id"]: r for r in await conn.fetch(
            "select id, code, name_zh, name_en from catalogue_entries where id = any($1)",
            [p.catalogue_entry_id for p in projects])}
        return page(request, "procurement/projects.html", projects=projects, entries=entries,
                    pager=pager(request, offset, PAGE_SIZE, total, len(projects)),
                    filters={"place": place, "category": category or ""}, **await _context(conn))

    @get("/projects/{project_id:int}", opt=PUBLIC_OPT)
    async def detail(self, request: Request, conn: Db, identity: MaybeUser, project_id: FromPath[int]) -> Response:
        project = await service.get_project(conn, project_id)
        may_match = await matching.may_see(conn, identity, project.jurisdiction_id)
        entry = await conn.fetchrow("select * from catalogue_entries where id = $1", project.catalogue_entry_id)
        buyer = await conn.fetchrow("select id, name_zh, name_en from organisations where id = $1", project.buyer_id)
        needs = [await service.get_need(conn, n) for n in project.need_ids]
        return page(request, "procurement/project.html", project=project, entry=entry, buyer=buyer, needs=needs,
                    may_match=may_match and project.status == "approved", **await _context(conn))

    @get("/projects/new", opt=BUYERS_OPT)
    async def new(self, request: Request, conn: Db, identity: User) -> Response:
        need_ids = [int(n) for n in request.query_params.getall("need", []) if n.isdigit()][:50]
        needs = [await service.get_need(conn, n) for n in need_ids]
        place = needs[0].community_id if needs else await conn.fetchval(
            "select jurisdiction_id from organisations where id = $1", identity.org_id)
        form = {"jurisdiction_id": place, "need_ids": [n.id for n in needs],
                "title_zh": needs[0].title if len(needs) == 1 else "",
                "catalogue_entry_id": needs[0].suggested_entry_id if needs else None}
        return await self._form(request, conn, identity, form, {}, needs)

    async def _form(self, request: Request, conn: asyncpg.Connection, identity: Any, form: dict[str, Any],
                    errors: dict[str, str], needs: list[Need], status: int = 200) -> Response:
        place = form.get("jurisdiction_id")
        items = await service.catalogue_items_for(conn, int(place)) if str(place or "").isdigit() else []
        return page(request, "procurement/project_new.html", status=status, form=form, errors=errors, needs=needs,
                    items=items, **await _context(conn))

    @post("/projects/new", opt=BUYERS_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        form = dict(await form_data(request))
        form["need_ids"] = (await request.form()).getall("need_ids") if "need_ids" in form else []
        try:
            async with conn.transaction():
                project_id = await service.create_project(conn, identity, _project_form(form))
        except Invalid as exc:
            needs = [await service.get_need(conn, int(n)) for n in form["need_ids"] if str(n).isdigit()]
            return await self._form(request, conn, identity, form, in_form_terms(exc, {"budget_yuan": "budget_fen"}),
                                    needs, exc.status)
        return redirect(f"/projects/{project_id}")


class NeedApi(Controller):
    path = "/api"
    tags = ["needs and projects"]

    @get("/needs", opt=PUBLIC_OPT, summary="The needs list (需求清单)")
    async def needs(self, conn: Db, place: Place = None, status: FromQuery[NeedStatus | None] = None, category: Category = None,
                    q: Query = None, limit: Limit = 50, offset: Offset = 0) -> list[Need]:
        return await service.list_needs(conn, jurisdiction_id=place, status=status, category=category, q=q,
                                        limit=limit, offset=offset)

    @post("/needs", opt=SIGNED_IN_OPT, status_code=201, summary="Raise a need")
    async def raise_need(self, conn: Db, identity: User, data: JSONBody[NeedInput]) -> Need:
        return await service.get_need(conn, await service.raise_need(conn, identity, data))

    @get("/needs/{need_id:int}", opt=PUBLIC_OPT, summary="A need")
    async def need(self, conn: Db, need_id: FromPath[int]) -> Need:
        return await service.get_need(conn, need_id)

    @post("/needs/{need_id:int}/support", opt=SIGNED_IN_OPT, summary="Support a need (once per person)")
    async def support(self, conn: Db, identity: User, need_id: FromPath[int]) -> dict[str, int]:
        return {"supporters": await service.support(conn, identity, need_id)}

    @post("/needs/{need_id:int}/{action:str}", opt=SIGNED_IN_OPT, summary="Withdraw, decline or reopen a need")
    async def change(self, conn: Db, identity: User, need_id: FromPath[int], action: FromPath[NeedAction],
                     data: JSONBody[Decision]) -> dict[str, str]:
        return {"status": await service.change_need(conn, identity, need_id, action, data)}

    @get("/projects", opt=PUBLIC_OPT, summary="The project list (项目清单)")
    async def projects(self, conn: Db, place: Place = None, category: Category = None, limit: Limit = 50,
                       offset: Offset = 0) -> list[Project]:
        return await service.list_projects(conn, jurisdiction_id=place, category=category, limit=limit, offset=offset)

    @post("/projects", opt=BUYERS_OPT, status_code=201, summary="Approve a project (立项) from needs")
    async def create_project(self, conn: Db, identity: User, data: JSONBody[ProjectInput]) -> Project:
        return await service.get_project(conn, await service.create_project(conn, identity, data))

    @get("/projects/{project_id:int}", opt=PUBLIC_OPT, summary="A project")
    async def project(self, conn: Db, project_id: FromPath[int]) -> Project:
        return await service.get_project(conn, project_id)
