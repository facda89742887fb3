"""Catalogue pages and their JSON twins: the public catalogue and search, and a bureau's drafts."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter

from market.catalogue import services as catalogue
from market.catalogue import views
from market.catalogue.models import (
    FoundItems,
    NewVersion,
    PublishedVersions,
    VersionWithEntries,
)
from market.core.access import PUBLIC, member
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.validation import parse
from market.core.web import CursorParam, Db, MaybeUser, User, done, keyset_pager, page, redirect, uploaded_bytes

PUBLIC_OPT = {"access": PUBLIC}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
Format = Literal["csv", "xlsx"]
Action = Literal["publish", "retire"]
CATALOGUE_DONE = {"publish": "catalogue_published", "retire": "catalogue_retired"}
Query = Annotated[str | None, QueryParameter(max_length=100)]
CategoryCode = Annotated[str | None, QueryParameter(pattern=r"^[0-9]{2}(\.[0-9]{2})?$")]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]


def _shown(view: msgspec.Struct) -> dict[str, Any]:
    return msgspec.structs.asdict(view)


class CataloguePages(Controller):
    include_in_schema = False

    @get("/catalogue", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, q: Query = None, category: CategoryCode = None,
                    cursor: CursorParam = None) -> Response:
        view = await views.index(conn, q, category, cursor)
        return page(request, "catalogue/index.html", **_shown(view),
                    pager=keyset_pager(request, view.results, len(view.results.items)) if view.results else None)

    @get("/catalogue/versions/{version_id:int}", opt=PUBLIC_OPT)
    async def version(self, request: Request, conn: Db, identity: MaybeUser, version_id: FromPath[int]) -> Response:
        return page(request, "catalogue/version.html", problems=[], errors={},
                    **_shown(await views.version_page(conn, identity, version_id)))

    @get("/catalogue/items/{entry_id:int}", opt=PUBLIC_OPT)
    async def item(self, request: Request, conn: Db, identity: MaybeUser, entry_id: FromPath[int]) -> Response:
        return page(request, "catalogue/item.html", **_shown(await views.item_page(conn, identity, entry_id)))

    @get("/catalogue/versions/{version_id:int}/export/{fmt:str}", opt={**PUBLIC_OPT, "shows": "file"})
    async def export(self, conn: Db, identity: MaybeUser, version_id: FromPath[int], fmt: FromPath[Format]) -> Response:
        name, data = await catalogue.export(conn, identity, version_id, fmt)
        media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
                 else "text/csv; charset=utf-8")
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    @get("/catalogue/manage", opt=BUYERS_OPT)
    async def manage(self, request: Request, conn: Db, identity: User) -> Response:
        return page(request, "catalogue/manage.html", form={}, errors={},
                    **_shown(await views.manage(conn, identity)))

    @post("/catalogue/versions", opt=BUYERS_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            version_id = await catalogue.create_version(conn, identity, parse(form, NewVersion))
            return done(f"/catalogue/versions/{version_id}", "catalogue_draft_created")

        async def context() -> dict[str, Any]:
            return _shown(await views.manage(conn, identity))
        return await form_step(request, conn, "catalogue/manage.html", action, context=context)

    @post("/catalogue/versions/{version_id:int}/import", opt=BUYERS_OPT)
    async def import_file(self, request: Request, conn: Db, identity: User, version_id: FromPath[int]) -> Response:
        async def context() -> dict[str, Any]:
            return {"problems": [], **_shown(await views.version_page(conn, identity, version_id))}

        async def action(form: dict[str, Any]) -> Response:
            data = await uploaded_bytes(request)
            outcome = await catalogue.import_or_problems(conn, identity, version_id, data)
            if isinstance(outcome, list):
                return page(request, "catalogue/version.html", status=400, form=form, errors={},
                            **{**await context(), "problems": outcome})
            return redirect(f"/catalogue/versions/{version_id}?imported={outcome}")
        return await form_step(request, conn, "catalogue/version.html", action, context=context, form={})

    @post("/catalogue/versions/{version_id:int}/delete", opt=BUYERS_OPT)
    async def delete_draft(self, conn: Db, identity: User, version_id: FromPath[int]) -> Response:
        await catalogue.delete_draft(conn, identity, version_id)
        return done("/catalogue/manage", "catalogue_draft_deleted")

    @post("/catalogue/versions/{version_id:int}/{action:str}", opt=BUYERS_OPT)
    async def change_status(self, request: Request, conn: Db, identity: User, version_id: FromPath[int],
                            action: FromPath[Action]) -> Response:
        async def step(form: dict[str, Any]) -> Response:
            await catalogue.change_status(conn, identity, version_id, action)
            return done(f"/catalogue/versions/{version_id}", CATALOGUE_DONE[action])

        async def context() -> dict[str, Any]:
            return {"problems": [], **_shown(await views.version_page(conn, identity, version_id))}
        return await form_step(request, conn, "catalogue/version.html", step, context=context)


class CatalogueApi(Controller):
    path = "/api/catalogue"
    tags = ("catalogue",)

    @get("/", opt=PUBLIC_OPT, summary="The public catalogue: catalogues in force and, given `q` or `category`, "
                                       "the items found")
    async def index(self, conn: Db, q: Query = None, category: CategoryCode = None,
                    cursor: CursorParam = None) -> views.Index:
        return await views.index(conn, q, category, cursor)

    @get("/manage", opt=BUYERS_OPT, summary="My bureau's catalogues, drafts included")
    async def manage(self, conn: Db, identity: User) -> views.Manage:
        return await views.manage(conn, identity)

    @get("/versions", opt=PUBLIC_OPT, summary="Published catalogues, the latest first, a page at a time")
    async def published(self, conn: Db, cursor: CursorParam = None, limit: Limit = 50) -> PublishedVersions:
        return await catalogue.published_page(conn, cursor=cursor, limit=limit)

    @get("/versions/{version_id:int}", opt=PUBLIC_OPT,
         summary="A catalogue version: its entries, as a tree too, and what its bureau may do with it now")
    async def version(self, conn: Db, identity: MaybeUser, version_id: FromPath[int]) -> views.VersionPage:
        return await views.version_page(conn, identity, version_id)

    @get("/items", opt=PUBLIC_OPT, summary="Search the items of published catalogues")
    async def search(self, conn: Db, q: Query = None, category: CategoryCode = None, limit: Limit = 50,
                     cursor: CursorParam = None) -> FoundItems:
        return await catalogue.search_items(conn, q=q, category=category, limit=limit, cursor=cursor)

    @get("/items/{entry_id:int}", opt=PUBLIC_OPT, summary="A catalogue item and the version it belongs to")
    async def item(self, conn: Db, identity: MaybeUser, entry_id: FromPath[int]) -> views.ItemPage:
        return await views.item_page(conn, identity, entry_id)

    @post("/versions", opt=BUYERS_OPT, status_code=201, summary="Start a draft catalogue (bureaus)")
    async def create(self, conn: Db, identity: User, data: JSONBody[NewVersion]) -> VersionWithEntries:
        version_id = await catalogue.create_version(conn, identity, data)
        return await catalogue.get_version(conn, identity, version_id)

    @post("/versions/{version_id:int}/import", opt=BUYERS_OPT, summary="Replace a draft's entries from a CSV or XLSX file")
    async def import_file(self, request: Request, conn: Db, identity: User, version_id: FromPath[int],
                          data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
                          ) -> dict[str, int]:
        upload = await uploaded_bytes(request)
        return {"entries": await catalogue.import_file(conn, identity, version_id, upload)}

    @post("/versions/{version_id:int}/{action:str}", opt=BUYERS_OPT, summary="Publish or retire a catalogue")
    async def change_status(self, conn: Db, identity: User, version_id: FromPath[int],
                            action: FromPath[Action]) -> dict[str, str]:
        return {"status": await catalogue.change_status(conn, identity, version_id, action)}

    @delete("/versions/{version_id:int}", opt=BUYERS_OPT, status_code=204, summary="Delete a draft")
    async def delete_draft(self, conn: Db, identity: User, version_id: FromPath[int]) -> None:
        await catalogue.delete_draft(conn, identity, version_id)
