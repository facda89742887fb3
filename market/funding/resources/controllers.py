"""The resources list (资源清单): its pages and JSON twins. The rules are in `funding.resources`."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from market.core.access import PUBLIC, Identity, member
from market.core.errors import Invalid, InvalidFields
from market.core.forms import form_step
from market.core.i18n import N_, gettext
from market.core.money import yuan_to_fen
from market.core.validation import parse
from market.core.web import (PAGE_SIZE, CursorParam, Db, MaybeUser, User, browsed_place, done, form_data, keyset_pager,
                             page, place_id)
from market.funding.resources import services as resources
from market.funding.resources.models import (
    BENEFICIARY_GROUP_NAMES,
    RESOURCE_KIND_NAMES,
    BeneficiaryGroup,
    Resource,
    ResourceFits,
    ResourceInput,
    ResourceKind,
    ResourceList,
    ResourceView,
)
from market.places import services as places

PUBLIC_OPT = {"access": PUBLIC}
EDITORS_OPT = {"access": member(N_("funders"), "funder", roles=set(resources.EDITOR_ROLES))}
Place = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]
Category = Annotated[str | None, QueryParameter(pattern=r"^[0-9]{2}$")]
Funder = Annotated[int | None, QueryParameter(ge=1, le=2**62)]
Query = Annotated[str | None, QueryParameter(max_length=100)]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
# The page's filter form sends "any" as an empty value, which the API's types rightly refuse.
AnyKind = Annotated[str | None, QueryParameter(pattern=f"^({'|'.join(RESOURCE_KIND_NAMES)})?$")]
AnyCategory = Annotated[str | None, QueryParameter(pattern=r"^([0-9]{2})?$")]
AnyPlace = Annotated[str | None, QueryParameter(pattern=r"^([0-9]{1,9})?$")]
AnyGroup = Annotated[str | None, QueryParameter(pattern=f"^({'|'.join(BENEFICIARY_GROUP_NAMES)})?$")]
AnyFunder = Annotated[str | None, QueryParameter(pattern=r"^([0-9]{1,18})?$")]
MULTI = ("categories", "jurisdiction_ids", "beneficiary_groups")
TEXT = ("kind", "title", "description", "quantity", "available_from", "available_until", "conditions")


def resource_from_form(form: dict[str, Any], multi: dict[str, list[str]]) -> ResourceInput:
    """The form asks for money in yuan; the rest of the system counts fen."""
    data: dict[str, Any] = {k: form[k] for k in TEXT if k in form}
    data.update(multi)
    data["private"] = form.get("private") == "true"
    if "amount_yuan" in form:
        try:
            data["amount_fen"] = yuan_to_fen(str(form["amount_yuan"]))
        except ValueError:
            raise InvalidFields([Invalid("Enter the amount in yuan, such as 80000 or 12500.50.",
                                         field="amount_yuan")]) from None
    return parse(data, ResourceInput)


def form_of(resource: Resource) -> dict[str, Any]:
    form: dict[str, Any] = {k: getattr(resource, k) for k in TEXT}
    form.update({k: [str(v) for v in getattr(resource, k)] for k in MULTI})
    form["private"] = "true" if resource.private else ""
    if resource.amount_fen is not None:
        form["amount_yuan"] = f"{resource.amount_fen / 100:.2f}"
    return form


async def _names(conn: asyncpg.Connection) -> dict[str, Any]:
    """What the pages need to name kinds, groups and categories."""
    categories = await resources.categories(conn)
    return {"categories": categories,
            "category_by_code": {c["code"]: c for c in categories}, "kind_names": RESOURCE_KIND_NAMES,
            "kind_choices": [(k, gettext(v)) for k, v in RESOURCE_KIND_NAMES.items()],
            "group_names": BENEFICIARY_GROUP_NAMES}


async def _form_names(request: Request, conn: asyncpg.Connection, chosen: list[str]) -> dict[str, Any]:
    """A resource's form: the names, and the places to prefer: those already chosen, and those of
    the level the form shows (places.form_picker), each a box to tick."""
    shown, offered = await places.form_picker(conn, value=None, browse=await browsed_place(request))
    ticked = await places.named(conn, [int(j) for j in chosen if place_id(j) is not None])
    return {"place_picker": shown, "place_choices": list(ticked.values()) + [p for p in offered if p.id not in ticked],
            **await _names(conn)}


class ResourcePages(Controller):
    include_in_schema = False

    @get("/resources", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, identity: MaybeUser, kind: AnyKind = None,
                    category: AnyCategory = None, place: AnyPlace = None, group: AnyGroup = None,
                    funder: AnyFunder = None, q: Query = None, cursor: CursorParam = None) -> Response:
        place_chosen = int(place) if place else None
        funder_chosen = int(funder) if funder else None
        filters = {"kind": kind or "", "category": category or "", "place": place_chosen,
                   "group": group or "", "funder": funder_chosen, "q": q or ""}
        view = await resources.resource_list(
            conn, identity, kind=kind or None, category=category or None, place=place_chosen, group=group or None,
            funder=funder_chosen, q=q, limit=PAGE_SIZE, cursor=cursor)
        return page(request, "funding/resources.html", resources=view.resources, filters=filters,
                    pager=keyset_pager(request, view, len(view.resources)), can_list=view.can_list,
                    place_picker=await places.picker(conn, place_chosen),
                    **await _names(conn))

    async def _detail_context(self, conn: asyncpg.Connection, identity: Identity | None,
                              resource_id: int) -> dict[str, Any]:
        view = await resources.resource_view(conn, identity, resource_id)
        return {"resource": view, "editable": view.editable,
                "place_by_id": await places.named(conn, view.jurisdiction_ids), **await _names(conn)}

    @get("/resources/{resource_id:int}", opt=PUBLIC_OPT)
    async def detail(self, request: Request, conn: Db, identity: MaybeUser, resource_id: FromPath[int]) -> Response:
        return page(request, "funding/resource.html", errors={},
                    **await self._detail_context(conn, identity, resource_id))

    async def _form(self, request: Request, conn: asyncpg.Connection, form: dict[str, Any],
                    resource_id: int | None) -> Response:
        return page(request, "funding/resource_form.html", form=form, errors={}, resource_id=resource_id,
                    **await _form_names(request, conn, form.get("jurisdiction_ids") or []))

    async def _submit(self, request: Request, conn: asyncpg.Connection, identity: Identity,
                      resource_id: int | None) -> Response:
        raw = await request.form()
        multi = {k: [str(v) for v in raw.getall(k, []) if str(v).strip()] for k in MULTI}

        async def action(form: dict[str, Any]) -> Response:
            data = resource_from_form(form, multi)
            if resource_id is None:
                return done(f"/resources/{await resources.create(conn, identity, data)}",
                            "resource_listed_private" if data.private else "resource_listed")
            await resources.update(conn, identity, resource_id, data)
            return done(f"/resources/{resource_id}", "resource_saved")

        async def context() -> dict[str, Any]:
            return await _form_names(request, conn, multi["jurisdiction_ids"])

        # The service names the amount in fen; the form asks for yuan.
        return await form_step(request, conn, "funding/resource_form.html", action, context=context,
                               fields={"amount_yuan": "amount_fen"}, form={**await form_data(request), **multi},
                               resource_id=resource_id)

    @get("/resources/new", opt={**EDITORS_OPT, "shows": "form"})
    async def new(self, request: Request, conn: Db) -> Response:
        return await self._form(request, conn, {"kind": "money"}, None)

    @post("/resources/new", opt=EDITORS_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        return await self._submit(request, conn, identity, None)

    @get("/resources/{resource_id:int}/edit", opt={**EDITORS_OPT, "shows": "form"})
    async def edit_form(self, request: Request, conn: Db, identity: User, resource_id: FromPath[int]) -> Response:
        await resources.owned(conn, identity, resource_id)
        return await self._form(request, conn, form_of(await resources.get(conn, identity, resource_id)), resource_id)

    @post("/resources/{resource_id:int}/edit", opt=EDITORS_OPT)
    async def edit(self, request: Request, conn: Db, identity: User, resource_id: FromPath[int]) -> Response:
        return await self._submit(request, conn, identity, resource_id)

    @post("/resources/{resource_id:int}/withdraw", opt=EDITORS_OPT)
    async def withdraw(self, request: Request, conn: Db, identity: User, resource_id: FromPath[int]) -> Response:
        async def action(_: dict[str, Any]) -> Response:
            await resources.withdraw(conn, identity, resource_id)
            return done(f"/resources/{resource_id}", "resource_withdrawn")

        async def context() -> dict[str, Any]:
            return await self._detail_context(conn, identity, resource_id)

        return await form_step(request, conn, "funding/resource.html", action, context=context)


class ResourceApi(Controller):
    path = "/api"
    tags = ("resources",)

    @get("/resources", opt=PUBLIC_OPT,
         summary="The resources list (资源清单): what funders offer, whether more follow, and whether you may list one")
    async def index(self, conn: Db, identity: MaybeUser, kind: FromQuery[ResourceKind | None] = None,
                    category: Category = None, place: Place = None, group: FromQuery[BeneficiaryGroup | None] = None,
                    funder: Funder = None, q: Query = None, limit: Limit = 50, cursor: CursorParam = None) -> ResourceList:
        return await resources.resource_list(conn, identity, kind=kind, category=category, place=place, group=group,
                                             funder=funder, q=q, limit=limit, cursor=cursor)

    @post("/resources", opt=EDITORS_OPT, status_code=201, summary="List a resource (a funder's administrators and staff)")
    async def create(self, conn: Db, identity: User, data: JSONBody[ResourceInput]) -> Resource:
        return await resources.get(conn, identity, await resources.create(conn, identity, data))

    @get("/resources/{resource_id:int}", opt=PUBLIC_OPT,
         summary="A resource, and whether you may change or withdraw it")
    async def show(self, conn: Db, identity: MaybeUser, resource_id: FromPath[int]) -> ResourceView:
        return await resources.resource_view(conn, identity, resource_id)

    @put("/resources/{resource_id:int}", opt=EDITORS_OPT, summary="Change a resource (all of it)")
    async def update(self, conn: Db, identity: User, resource_id: FromPath[int],
                     data: JSONBody[ResourceInput]) -> Resource:
        await resources.update(conn, identity, resource_id, data)
        return await resources.get(conn, identity, resource_id)

    @post("/resources/{resource_id:int}/withdraw", opt=EDITORS_OPT, status_code=201,
          summary="Withdraw a resource: off the public list, kept for its funder")
    async def withdraw(self, conn: Db, identity: User, resource_id: FromPath[int]) -> Resource:
        await resources.withdraw(conn, identity, resource_id)
        return await resources.get(conn, identity, resource_id)

    @get("/needs/{need_id:int}/resources", opt=PUBLIC_OPT,
         summary="Public resources that suit a need's category and place, best fit first, each with the reason")
    async def for_need(self, conn: Db, need_id: FromPath[int], cursor: CursorParam = None,
                       limit: Annotated[int, QueryParameter(ge=1, le=200)] = PAGE_SIZE) -> ResourceFits:
        return await resources.for_need(conn, need_id, cursor=cursor, limit=limit)
