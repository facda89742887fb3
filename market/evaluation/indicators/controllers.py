"""Indicator system pages and their JSON twins: the list (all signed-in people read published
systems), a version's tree, and for those who keep systems: drafts, Excel import and export, the
node form, publishing and retiring."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from litestar import Controller, Request, Response, delete, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, PathParameter, QueryParameter

from market.core.access import SIGNED_IN, member
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.validation import parse
from market.core.web import Db, User, done, page, require_confirmation, uploaded_bytes
from market.evaluation.indicators import services as indicators
from market.evaluation.indicators import views
from market.evaluation.indicators.models import IndicatorSystem, NewSystemVersion, NodeEdit

READ_OPT = {"access": SIGNED_IN}
KEEPERS_OPT = {"access": member(N_("bureaus and the platform"), "buyer", "platform")}
Action = Literal["publish", "retire"]
INDICATORS_DONE = {"publish": "indicators_published", "retire": "indicators_retired"}
ItemId = Annotated[int | None, QueryParameter(ge=1, le=2**62)]
NodePath = Annotated[str, PathParameter(pattern=r"^[1-9][0-9]?(\.[1-9][0-9]?){0,2}$")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class IndicatorPages(Controller):
    include_in_schema = False

    @get("/indicators", opt=READ_OPT)
    async def index(self, request: Request, conn: Db, identity: User, item: ItemId = None) -> Response:
        return page(request, "indicators/index.html", form={}, errors={}, view=await views.index(conn, identity, item))

    @get("/indicators/versions/{version_id:int}", opt=READ_OPT)
    async def version(self, request: Request, conn: Db, identity: User, version_id: FromPath[int]) -> Response:
        return page(request, "indicators/version.html", errors={}, rows=[],
                    view=await views.version_page(conn, identity, version_id))

    @get("/indicators/versions/{version_id:int}/export", opt={**READ_OPT, "shows": "file"})
    async def export(self, conn: Db, identity: User, version_id: FromPath[int]) -> Response:
        name, data = await indicators.export(conn, identity, version_id)
        return Response(data, media_type=XLSX,
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    @get("/indicators/versions/{version_id:int}/nodes/{path:str}", opt={**KEEPERS_OPT, "shows": "form"})
    async def node(self, request: Request, conn: Db, identity: User, version_id: FromPath[int],
                   path: NodePath) -> Response:
        view = await views.node_page(conn, identity, version_id, path)
        return page(request, "indicators/node.html", errors={}, view=view,
                    form={k: getattr(view.node, k) for k in NodeEdit.__struct_fields__})

    @post("/indicators/versions", opt=KEEPERS_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            version_id = await indicators.create_version(conn, identity, parse(form, NewSystemVersion))
            return done(f"/indicators/versions/{version_id}", "indicators_draft_created")

        async def context() -> dict[str, Any]:
            return {"view": await views.index(conn, identity, None)}
        return await form_step(request, conn, "indicators/index.html", action, context=context)

    @post("/indicators/versions/{version_id:int}/import", opt=KEEPERS_OPT)
    async def import_file(self, request: Request, conn: Db, identity: User, version_id: FromPath[int]) -> Response:
        async def context() -> dict[str, Any]:
            return {"rows": [], "view": await views.version_page(conn, identity, version_id)}

        async def action(form: dict[str, Any]) -> Response:
            data = await uploaded_bytes(request)
            outcome = await indicators.import_or_problems(conn, identity, version_id, data)
            if isinstance(outcome, list):
                return page(request, "indicators/version.html", status=400, form=form, errors={},
                            **{**await context(), "rows": outcome})
            return done(f"/indicators/versions/{version_id}", "indicators_imported")
        return await form_step(request, conn, "indicators/version.html", action, context=context, form={})

    @post("/indicators/versions/{version_id:int}/nodes/{path:str}", opt=KEEPERS_OPT)
    async def edit_node(self, request: Request, conn: Db, identity: User, version_id: FromPath[int],
                        path: NodePath) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await indicators.edit_node(conn, identity, version_id, path,
                                       parse({**form, "na_allowed": form.get("na_allowed") == "yes"}, NodeEdit))
            return done(f"/indicators/versions/{version_id}#n-{path}", "indicator_saved")

        async def context() -> dict[str, Any]:
            return {"view": await views.node_page(conn, identity, version_id, path)}
        return await form_step(request, conn, "indicators/node.html", action, context=context)

    @post("/indicators/versions/{version_id:int}/delete", opt=KEEPERS_OPT)
    async def delete_draft(self, request: Request, conn: Db, identity: User, version_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await indicators.delete_draft(conn, identity, version_id)
            return done("/indicators", "indicators_draft_deleted")

        async def context() -> dict[str, Any]:
            return {"rows": [], "view": await views.version_page(conn, identity, version_id)}
        return await form_step(request, conn, "indicators/version.html", action, context=context)

    @post("/indicators/versions/{version_id:int}/{action:str}", opt=KEEPERS_OPT)
    async def change_status(self, request: Request, conn: Db, identity: User, version_id: FromPath[int],
                            action: FromPath[Action]) -> Response:
        async def step(form: dict[str, Any]) -> Response:
            require_confirmation(form, action)
            await indicators.change_status(conn, identity, version_id, action)
            return done(f"/indicators/versions/{version_id}", INDICATORS_DONE[action])

        async def context() -> dict[str, Any]:
            return {"rows": [], "view": await views.version_page(conn, identity, version_id)}
        return await form_step(request, conn, "indicators/version.html", step, context=context)


class IndicatorApi(Controller):
    path = "/api/indicators"
    tags = ("indicators",)

    @get("/", opt=READ_OPT, summary="Indicator systems: every published or retired version, your drafts, and "
                                     "given `item`, the version in force for that catalogue item at each stage")
    async def index(self, conn: Db, identity: User, item: ItemId = None) -> views.SystemsIndex:
        return await views.index(conn, identity, item)

    @get("/versions/{version_id:int}", opt=READ_OPT,
         summary="An indicator system version: its tree with weights, methods and anchors, and what its keepers "
                 "may do with it now")
    async def version(self, conn: Db, identity: User, version_id: FromPath[int]) -> views.SystemVersionPage:
        return await views.version_page(conn, identity, version_id)

    @post("/versions", opt=KEEPERS_OPT, status_code=201, summary="Start a draft indicator system (bureaus, platform)")
    async def create(self, conn: Db, identity: User, data: JSONBody[NewSystemVersion]) -> IndicatorSystem:
        version_id = await indicators.create_version(conn, identity, data)
        return await indicators.get_version(conn, identity, version_id)

    @post("/versions/{version_id:int}/import", opt=KEEPERS_OPT, summary="Replace a draft's tree from an Excel file")
    async def import_file(self, request: Request, conn: Db, identity: User, version_id: FromPath[int],
                          data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
                          ) -> dict[str, int]:
        upload = await uploaded_bytes(request)
        return {"nodes": await indicators.import_file(conn, identity, version_id, upload)}

    @post("/versions/{version_id:int}/nodes/{path:str}", opt=KEEPERS_OPT, summary="Change a draft's indicator")
    async def edit_node(self, conn: Db, identity: User, version_id: FromPath[int], path: NodePath,
                        data: JSONBody[NodeEdit]) -> IndicatorSystem:
        await indicators.edit_node(conn, identity, version_id, path, data)
        return await indicators.get_version(conn, identity, version_id)

    @post("/versions/{version_id:int}/{action:str}", opt=KEEPERS_OPT, summary="Publish or retire a version")
    async def change_status(self, conn: Db, identity: User, version_id: FromPath[int],
                            action: FromPath[Action]) -> dict[str, str]:
        return {"status": await indicators.change_status(conn, identity, version_id, action)}

    @delete("/versions/{version_id:int}", opt=KEEPERS_OPT, status_code=204, summary="Delete a draft")
    async def delete_draft(self, conn: Db, identity: User, version_id: FromPath[int]) -> None:
        await indicators.delete_draft(conn, identity, version_id)
