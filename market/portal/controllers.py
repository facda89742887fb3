"""The portal's pages and their JSON twins."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from market.core.access import PUBLIC
from market.core.web import Db, page
from market.places import services as places
from market.portal.views import ListsView, lists_view

PUBLIC_OPT = {"access": PUBLIC}
Place = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]
Category = Annotated[str | None, QueryParameter(pattern=r"^[0-9]{2}(\.[0-9]{2})?$")]


class ListsPage(Controller):
    include_in_schema = False

    @get("/lists", opt=PUBLIC_OPT)
    async def lists(self, request: Request, conn: Db, place: Place = None, category: Category = None) -> Response:
        view = await lists_view(conn, place, category)
        return page(request, "portal/lists.html", needs=view.needs, projects=view.projects, resources=view.resources,
                    categories=view.categories, filters=view.filters,
                    place_picker=await places.picker(conn, place), place_by_id={p.id: p for p in view.places})


class ListsApi(Controller):
    path = "/api"
    tags = ["portal"]

    @get("/lists", opt=PUBLIC_OPT, summary="The three lists (三张清单): open needs, projects and resources")
    async def lists(self, conn: Db, place: Place = None, category: Category = None) -> ListsView:
        return await lists_view(conn, place, category)
