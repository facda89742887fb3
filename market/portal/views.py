"""The public portal's pages that show several domains at once, composed here, above them (the
three lists: needs and projects from procurement, resources from funding)."""

from __future__ import annotations

import asyncpg
import msgspec

from market.funding.resources import services as resources
from market.funding.resources.models import Resource
from market.places import services as place_tree
from market.places.models import Jurisdiction
from market.procurement.needs import services as needs
from market.procurement.needs.models import Need, Project

SHOWN = 20


class Category(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_zh: str
    name_en: str


class ListsFilters(msgspec.Struct, frozen=True, kw_only=True):
    place: int | None
    category: str


class ListsView(msgspec.Struct, frozen=True, kw_only=True):
    """三张清单: the needs list matched against the resources list gives the project list (seed 003)."""

    needs: list[Need]  # open needs
    projects: list[Project]
    resources: list[Resource]
    categories: list[Category]  # of the catalogues in force, to filter by
    places: list[Jurisdiction]  # to name where each need shown is (the filter goes a level at a time: places.picker)
    filters: ListsFilters


async def lists_view(conn: asyncpg.Connection, place: int | None, category: str | None) -> ListsView:
    categories = await resources.categories(conn)
    open_needs = await needs.list_needs(conn, jurisdiction_id=place, status="open", category=category, limit=SHOWN)
    return ListsView(
        needs=open_needs,
        projects=await needs.list_projects(conn, jurisdiction_id=place, category=category, limit=SHOWN),
        resources=await resources.list_resources(conn, None, place=place, category=category[:2] if category else None,
                                                 limit=SHOWN),
        categories=[Category(**dict(r)) for r in categories],
        places=list((await place_tree.named(conn, [n.community_id for n in open_needs])).values()),
        filters=ListsFilters(place=place, category=category or ""))
