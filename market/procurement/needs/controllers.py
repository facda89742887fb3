"""Needs and projects: their lists and pages, with their JSON twins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from market.core.access import PUBLIC, SIGNED_IN, member
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.validation import parse
from market.core.web import (
    PAGE_SIZE,
    CursorParam,
    Db,
    MaybeUser,
    User,
    browsed_place,
    done,
    form_data,
    keyset_pager,
    page,
    place_id,
)
from market.places import services as places
from market.procurement.needs import services as service
from market.procurement.needs.forms import project_from_form
from market.procurement.needs.models import (
    Decision,
    Need,
    NeedInput,
    NeedPage,
    Project,
    ProjectInput,
    ProjectPage,
)
from market.procurement.needs.views import (
    NeedView,
    ProjectView,
    need_view,
    project_view,
)

PUBLIC_OPT = {"access": PUBLIC}
SIGNED_IN_OPT = {"access": SIGNED_IN}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
FORM = {"shows": "form"}
NeedStatus = Literal["open", "declined", "withdrawn", "approved"]
NeedAction = Literal["withdraw", "decline", "reopen"]
NEED_DONE = {"withdraw": "need_withdrawn", "decline": "need_declined", "reopen": "need_reopened"}
Place = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]
Category = Annotated[str | None, QueryParameter(pattern=r"^[0-9]{2}(\.[0-9]{2})?$")]
Query = Annotated[str | None, QueryParameter(max_length=100)]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]


async def _form_places(request: Request, conn: asyncpg.Connection, field: str, value: Any,
                       leaf: str | None) -> dict[str, Any]:
    """A form's place field, a level at a time (places.form_picker): the picker and the choices."""
    shown, offered = await places.form_picker(conn, value=place_id(value), browse=await browsed_place(request),
                                              leaf=leaf)
    return {"place_picker": shown, "place_choices": offered, "place_field": field}


async def _list_places(conn: asyncpg.Connection, place: int | None, shown: list[int]) -> dict[str, Any]:
    """A list's place filter (one level at a time) and the names of the places its rows show."""
    return {"place_picker": await places.picker(conn, place), "place_by_id": await places.named(conn, shown)}


class NeedPages(Controller):
    include_in_schema = False

    @get("/needs", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, place: Place = None, status: FromQuery[NeedStatus | None] = None,
                    category: Category = None, q: Query = None, cursor: CursorParam = None) -> Response:
        found = await service.need_page(conn, jurisdiction_id=place, status=status, category=category, q=q,
                                        cursor=cursor, limit=PAGE_SIZE)
        return page(request, "procurement/needs.html", needs=found.items,
                    pager=keyset_pager(request, found, len(found.items)),
            filters={"place": place, "status": status, "category": category or "", "q": q or ""},
            **await _list_places(conn, place, [n.community_id for n in found.items]))

    @get("/needs/new", opt=SIGNED_IN_OPT | FORM)
    async def new(self, request: Request, conn: Db, identity: User) -> Response:
        return page(request, "procurement/need_new.html", form={"community_id": identity.community_id}, errors={},
                    **await _form_places(request, conn, "community_id", identity.community_id, "community"))

    @post("/needs/new", opt=SIGNED_IN_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            need_id = await service.raise_need(conn, identity, parse(form, NeedInput))
            return done(f"/needs/{need_id}", "need_raised")
        sent = await form_data(request)
        return await form_step(request, conn, "procurement/need_new.html", action,
                               **await _form_places(request, conn, "community_id", sent.get("community_id"),
                                                    "community"))

    @get("/needs/{need_id:int}", opt=PUBLIC_OPT)
    async def detail(self, request: Request, conn: Db, identity: MaybeUser, need_id: FromPath[int]) -> Response:
        return page(request, "procurement/need.html", errors={}, **_shown(await need_view(conn, identity, need_id)))

    async def _step(self, request: Request, conn: asyncpg.Connection, identity: Any, need_id: int,
                    action: Callable[[dict[str, Any]], Awaitable[Response]]) -> Response:
        async def context() -> dict[str, Any]:
            return _shown(await need_view(conn, identity, need_id))
        return await form_step(request, conn, "procurement/need.html", action, context=context)

    @post("/needs/{need_id:int}/support", opt=SIGNED_IN_OPT)
    async def support(self, request: Request, conn: Db, identity: User, need_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await service.support(conn, identity, need_id)
            return done(f"/needs/{need_id}", "need_supported")
        return await self._step(request, conn, identity, need_id, action)

    @post("/needs/{need_id:int}/{action:str}", opt=SIGNED_IN_OPT)
    async def change(self, request: Request, conn: Db, identity: User, need_id: FromPath[int],
                     action: FromPath[NeedAction]) -> Response:
        async def change(form: dict[str, Any]) -> Response:
            await service.change_need(conn, identity, need_id, action, parse(form, Decision))
            return done(f"/needs/{need_id}", NEED_DONE[action])
        return await self._step(request, conn, identity, need_id, change)


def _shown(view: NeedView | ProjectView) -> dict[str, Any]:
    """A view as the page's names: a need view is the need itself, with what the page adds."""
    if isinstance(view, NeedView):
        return {"need": view, **{name: getattr(view, name) for name in view.__struct_fields__
                                  if name not in Need.__struct_fields__}}
    return {name: getattr(view, name) for name in view.__struct_fields__}


class ProjectPages(Controller):
    include_in_schema = False

    @get("/projects", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, place: Place = None, category: Category = None,
                    q: Query = None, cursor: CursorParam = None) -> Response:
        found = await service.project_page(conn, jurisdiction_id=place, category=category, q=q, cursor=cursor,
                                           limit=PAGE_SIZE)
        entries = await service.entries_of(conn, [p.catalogue_entry_id for p in found.items])
        return page(request, "procurement/projects.html", projects=found.items, entries=entries,
                    pager=keyset_pager(request, found, len(found.items)),
                    filters={"place": place, "category": category or "", "q": q or ""},
                    **await _list_places(conn, place, [p.jurisdiction_id for p in found.items]))

    @get("/projects/{project_id:int}", opt=PUBLIC_OPT)
    async def detail(self, request: Request, conn: Db, identity: MaybeUser, project_id: FromPath[int]) -> Response:
        return page(request, "procurement/project.html", **_shown(await project_view(conn, identity, project_id)))

    @get("/projects/new", opt=BUYERS_OPT | FORM)
    async def new(self, request: Request, conn: Db, identity: User) -> Response:
        need_ids = [int(n) for n in request.query_params.getall("need", []) if n.isdigit()][:50]
        needs = await service.needs_of(conn, need_ids)
        place = needs[0].community_id if needs else await service.area_of(conn, identity.org_id)
        form = {"jurisdiction_id": place, "need_ids": [n.id for n in needs],
                "title_zh": needs[0].title if len(needs) == 1 else "",
                "catalogue_entry_id": needs[0].suggested_entry_id if needs else None}
        return await self._form(request, conn, identity, form, {}, needs)

    async def _form(self, request: Request, conn: asyncpg.Connection, identity: Any, form: dict[str, Any],
                    errors: dict[str, str], needs: list[Need]) -> Response:
        return page(request, "procurement/project_new.html", form=form, errors=errors,
                    **await _project_form_context(request, conn, form, needs))

    @post("/projects/new", opt=BUYERS_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        form = dict(await form_data(request))
        form["need_ids"] = (await request.form()).getall("need_ids") if "need_ids" in form else []

        async def action(form: dict[str, Any]) -> Response:
            return done(f"/projects/{await service.create_project(conn, identity, project_from_form(form))}",
                        "project_created")

        async def context() -> dict[str, Any]:
            needs = await service.needs_of(conn, [int(n) for n in form["need_ids"] if str(n).isdigit()])
            return await _project_form_context(request, conn, form, needs)
        return await form_step(request, conn, "procurement/project_new.html", action, context=context, form=form,
                               fields={"budget_yuan": "budget_fen"})


async def _project_form_context(request: Request, conn: asyncpg.Connection, form: dict[str, Any],
                                needs: list[Need]) -> dict[str, Any]:
    place = form.get("jurisdiction_id")
    chosen = place_id(place)
    items = await service.catalogue_items_for(conn, chosen) if chosen is not None else []
    return {"needs": needs, "items": items,
            **await _form_places(request, conn, "jurisdiction_id", place, None)}


class NeedApi(Controller):
    path = "/api"
    tags = ["needs and projects"]

    @get("/needs", opt=PUBLIC_OPT, summary="The needs list (需求清单)")
    async def needs(self, conn: Db, place: Place = None, status: FromQuery[NeedStatus | None] = None, category: Category = None,
                    q: Query = None, limit: Limit = 50, cursor: CursorParam = None) -> NeedPage:
        return await service.need_page(conn, jurisdiction_id=place, status=status, category=category, q=q,
                                       cursor=cursor, limit=limit)

    @post("/needs", opt=SIGNED_IN_OPT, status_code=201, summary="Raise a need")
    async def raise_need(self, conn: Db, identity: User, data: JSONBody[NeedInput]) -> Need:
        return await service.get_need(conn, await service.raise_need(conn, identity, data))

    @get("/needs/{need_id:int}", opt=PUBLIC_OPT,
         summary="A need as its page shows it: the need, its place, and what you may do with it")
    async def need(self, conn: Db, identity: MaybeUser, need_id: FromPath[int]) -> NeedView:
        return await need_view(conn, identity, need_id)

    @post("/needs/{need_id:int}/support", opt=SIGNED_IN_OPT, summary="Support a need (once per person)")
    async def support(self, conn: Db, identity: User, need_id: FromPath[int]) -> dict[str, int]:
        return {"supporters": await service.support(conn, identity, need_id)}

    @post("/needs/{need_id:int}/{action:str}", opt=SIGNED_IN_OPT, summary="Withdraw, decline or reopen a need")
    async def change(self, conn: Db, identity: User, need_id: FromPath[int], action: FromPath[NeedAction],
                     data: JSONBody[Decision]) -> dict[str, str]:
        return {"status": await service.change_need(conn, identity, need_id, action, data)}

    @get("/projects", opt=PUBLIC_OPT, summary="The project list (项目清单)")
    async def projects(self, conn: Db, place: Place = None, category: Category = None, q: Query = None,
                       limit: Limit = 50, cursor: CursorParam = None) -> ProjectPage:
        return await service.project_page(conn, jurisdiction_id=place, category=category, q=q, cursor=cursor,
                                          limit=limit)

    @post("/projects", opt=BUYERS_OPT, status_code=201, summary="Approve a project (立项) from needs")
    async def create_project(self, conn: Db, identity: User, data: JSONBody[ProjectInput]) -> Project:
        return await service.get_project(conn, await service.create_project(conn, identity, data))

    @get("/projects/{project_id:int}", opt=PUBLIC_OPT,
         summary="A project as its page shows it: the project, its buyer, item, needs and place")
    async def project(self, conn: Db, identity: MaybeUser, project_id: FromPath[int]) -> ProjectView:
        return await project_view(conn, identity, project_id)
