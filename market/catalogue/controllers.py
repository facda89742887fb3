"""Catalogue pages and their JSON twins: the public catalogue and search, and a bureau's drafts."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter

from market.catalogue import services as catalogue
from market.catalogue import workflow
from market.catalogue.files import ImportRefused
from market.catalogue.models import NewVersion, StoredEntry, Version, VersionWithEntries
from market.core.access import PUBLIC, member
from market.core.errors import Invalid, NotFound
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.validation import parse
from market.core.web import Db, MaybeUser, User, page, redirect

PUBLIC_OPT = {"access": PUBLIC}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
Format = Literal["csv", "xlsx"]
Action = Literal["publish", "retire"]
Query = Annotated[str | None, QueryParameter(max_length=100)]
CategoryCode = Annotated[str | None, QueryParameter(pattern=r"^[0-9]{2}(\.[0-9]{2})?$")]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]


async def _uploaded_bytes(request: Request, limit: int) -> bytes:
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid("Choose a file to upload.", field="file")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise Invalid("The file is too large.", field="file")
    return data


def _tree(entries: list[StoredEntry]) -> list[dict[str, Any]]:
    """Categories with their sub-categories with their items, for display."""
    categories: list[dict[str, Any]] = []
    by_code: dict[str, dict[str, Any]] = {}
    for e in entries:
        node = {"entry": e, "children": []}
        by_code[e.code] = node
        (by_code[e.parent_code]["children"] if e.parent_code in by_code else categories).append(node)
    return categories


class CataloguePages(Controller):
    include_in_schema = False

    @get("/catalogue", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, q: Query = None, category: CategoryCode = None) -> Response:
        return page(request, "catalogue/index.html", catalogues=await catalogue.published(conn), q=q or "",
                    category=category or "", results=await catalogue.search_items(conn, q=q, category=category)
                    if (q or category) else None)

    @get("/catalogue/versions/{version_id:int}", opt=PUBLIC_OPT)
    async def version(self, request: Request, conn: Db, identity: MaybeUser, version_id: FromPath[int]) -> Response:
        return await self._version_page(request, conn, identity, version_id)

    async def _version_page(self, request: Request, conn: Db, identity: MaybeUser, version_id: int,
                            status: int = 200, **extra: Any) -> Response:
        version = await catalogue.get_version(conn, identity, version_id)
        owner = catalogue.owns(identity, version.buyer_id)
        return page(request, "catalogue/version.html", status=status, version=version, tree=_tree(version.entries),
                    owner=owner, actions=[t for t in workflow.TRANSITIONS if t.source == version.status] if owner else [],
                    problems=extra.pop("problems", []), errors=extra.pop("errors", {}), **extra)

    @get("/catalogue/items/{entry_id:int}", opt=PUBLIC_OPT)
    async def item(self, request: Request, conn: Db, identity: MaybeUser, entry_id: FromPath[int]) -> Response:
        version, entry = await catalogue.get_item(conn, identity, entry_id)
        if entry.level != "item":
            raise NotFound()
        return page(request, "catalogue/item.html", version=version, item=entry)

    @get("/catalogue/versions/{version_id:int}/export/{fmt:str}", opt=PUBLIC_OPT)
    async def export(self, conn: Db, identity: MaybeUser, version_id: FromPath[int], fmt: FromPath[Format]) -> Response:
        name, data = await catalogue.export(conn, identity, version_id, fmt)
        media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
                 else "text/csv; charset=utf-8")
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    @get("/catalogue/manage", opt=BUYERS_OPT)
    async def manage(self, request: Request, conn: Db, identity: User) -> Response:
        return page(request, "catalogue/manage.html", versions=await catalogue.versions_of(conn, identity),
                    form={}, errors={})

    @post("/catalogue/versions", opt=BUYERS_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            version_id = await catalogue.create_version(conn, identity, parse(form, NewVersion))
            return redirect(f"/catalogue/versions/{version_id}")
        return await form_step(request, conn, "catalogue/manage.html", action,
                               versions=await catalogue.versions_of(conn, identity))

    @post("/catalogue/versions/{version_id:int}/import", opt=BUYERS_OPT)
    async def import_file(self, request: Request, conn: Db, identity: User, version_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                data = await _uploaded_bytes(request, request.app.state.settings.max_upload_bytes)
                count = await catalogue.import_file(conn, identity, version_id, data)
        except ImportRefused as exc:
            return await self._version_page(request, conn, identity, version_id, status=400, problems=exc.problems)
        except Invalid as exc:
            return await self._version_page(request, conn, identity, version_id, status=exc.status,
                                            errors={"file": exc.text()})
        return redirect(f"/catalogue/versions/{version_id}?imported={count}")

    @post("/catalogue/versions/{version_id:int}/delete", opt=BUYERS_OPT)
    async def delete_draft(self, conn: Db, identity: User, version_id: FromPath[int]) -> Response:
        await catalogue.delete_draft(conn, identity, version_id)
        return redirect("/catalogue/manage")

    @post("/catalogue/versions/{version_id:int}/{action:str}", opt=BUYERS_OPT)
    async def change_status(self, request: Request, conn: Db, identity: User, version_id: FromPath[int],
                            action: FromPath[Action]) -> Response:
        try:
            async with conn.transaction():
                await catalogue.change_status(conn, identity, version_id, action)
        except Invalid as exc:
            return await self._version_page(request, conn, identity, version_id, status=exc.status,
                                            errors={"_": exc.text()})
        return redirect(f"/catalogue/versions/{version_id}")


class ItemOut(StoredEntry, frozen=True, kw_only=True):
    buyer_id: int
    year: int


class CatalogueApi(Controller):
    path = "/api/catalogue"
    tags = ("catalogue",)

    @get("/versions", opt=PUBLIC_OPT, summary="Published catalogues")
    async def published(self, conn: Db) -> list[dict[str, Any]]:
        return await catalogue.published(conn)

    @get("/versions/{version_id:int}", opt=PUBLIC_OPT, summary="A catalogue version with its entries")
    async def version(self, conn: Db, identity: MaybeUser, version_id: FromPath[int]) -> VersionWithEntries:
        return await catalogue.get_version(conn, identity, version_id)

    @get("/items", opt=PUBLIC_OPT, summary="Search the items of published catalogues")
    async def search(self, conn: Db, q: Query = None, category: CategoryCode = None, limit: Limit = 50,
                     offset: Offset = 0) -> list[ItemOut]:
        rows = await catalogue.search_items(conn, q=q, category=category, limit=limit, offset=offset)
        fields = ItemOut.__struct_fields__
        return [msgspec.convert({k: r[k] for k in fields}, ItemOut) for r in rows]

    @get("/items/{entry_id:int}", opt=PUBLIC_OPT, summary="A catalogue entry")
    async def item(self, conn: Db, identity: MaybeUser, entry_id: FromPath[int]) -> StoredEntry:
        return (await catalogue.get_item(conn, identity, entry_id))[1]

    @post("/versions", opt=BUYERS_OPT, status_code=201, summary="Start a draft catalogue (bureaus)")
    async def create(self, conn: Db, identity: User, data: JSONBody[NewVersion]) -> Version:
        version_id = await catalogue.create_version(conn, identity, data)
        return await catalogue.get_version(conn, identity, version_id)

    @post("/versions/{version_id:int}/import", opt=BUYERS_OPT, summary="Replace a draft's entries from a CSV or XLSX file")
    async def import_file(self, request: Request, conn: Db, identity: User, version_id: FromPath[int],
                          data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
                          ) -> dict[str, int]:
        upload = await _uploaded_bytes(request, request.app.state.settings.max_upload_bytes)
        return {"entries": await catalogue.import_file(conn, identity, version_id, upload)}

    @post("/versions/{version_id:int}/{action:str}", opt=BUYERS_OPT, summary="Publish or retire a catalogue")
    async def change_status(self, conn: Db, identity: User, version_id: FromPath[int],
                            action: FromPath[Action]) -> dict[str, str]:
        return {"status": await catalogue.change_status(conn, identity, version_id, action)}

    @delete("/versions/{version_id:int}", opt=BUYERS_OPT, status_code=204, summary="Delete a draft")
    async def delete_draft(self, conn: Db, identity: User, version_id: FromPath[int]) -> None:
        await catalogue.delete_draft(conn, identity, version_id)
