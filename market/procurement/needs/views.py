"""The need and project pages as views: what the page shows, and what the reader may do there,
decided here rather than in the handler. Their JSON twins return the same."""

from __future__ import annotations

import asyncpg
import msgspec

from market.core.access import Identity
from market.core.errors import NotFound
from market.places.models import Jurisdiction
from market.procurement.needs import services, workflow
from market.procurement.needs.models import Entry, Need, Project


class NeedView(Need, frozen=True, kw_only=True):
    """The need's own fields at the top level (as programs have always read them), with what the page
    shows beside it."""

    place: Jurisdiction  # the need's community
    is_raiser: bool
    is_buyer: bool  # the reader acts for a buyer whose area includes the community
    actions: list[str]  # what the reader may do to the need now (approval is making a project of it)
    suggested: Entry | None  # the catalogue item the need's words fit
    supported: bool  # the reader supports it already


class Buyer(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name_zh: str
    name_en: str


class ProjectView(msgspec.Struct, frozen=True, kw_only=True):
    project: Project
    place: Jurisdiction
    buyer: Buyer
    entry: Entry
    needs: list[Need]
    may_match: bool  # the reader may see the providers and funders suggested for it


async def _place(conn: asyncpg.Connection, jurisdiction_id: int) -> Jurisdiction:
    row = await conn.fetchrow("select id, parent_id, level, code, name_zh, name_en from jurisdictions where id = $1",
                              jurisdiction_id)
    if row is None:
        raise NotFound()
    return Jurisdiction(**dict(row))


async def _entry(conn: asyncpg.Connection, entry_id: int) -> Entry | None:
    row = await conn.fetchrow("select id, code, name_zh, name_en from catalogue_entries where id = $1", entry_id)
    return Entry(**dict(row)) if row else None


async def need_view(conn: asyncpg.Connection, identity: Identity | None, need_id: int) -> NeedView:
    need = await services.get_need(conn, need_id)
    row = await conn.fetchrow(
        """select raised_by, exists(select 1 from need_supports where need_id = n.id and user_id = $2) as supported
             from needs n where n.id = $1""", need_id, identity.user_id if identity else None)
    is_raiser = identity is not None and identity.user_id == row["raised_by"]
    is_buyer = await services.covers(conn, identity, need.community_id)
    capacities = {c for c, holds in (("raiser", is_raiser), ("buyer", is_buyer)) if holds}
    actions = [t.action for t in workflow.NEEDS.transitions
               if t.source == need.status and t.action != "approve" and t.who & capacities]
    return NeedView(**msgspec.structs.asdict(need), place=await _place(conn, need.community_id), is_raiser=is_raiser, is_buyer=is_buyer,
                    actions=actions,
                    suggested=await _entry(conn, need.suggested_entry_id) if need.suggested_entry_id else None,
                    supported=identity is not None and row["supported"])


async def project_view(conn: asyncpg.Connection, identity: Identity | None, project_id: int) -> ProjectView:
    project = await services.get_project(conn, project_id)
    buyer = await conn.fetchrow("select id, name_zh, name_en from organisations where id = $1", project.buyer_id)
    entry = await _entry(conn, project.catalogue_entry_id)
    assert entry is not None  # a project is made under an item of the catalogue
    return ProjectView(project=project, place=await _place(conn, project.jurisdiction_id), buyer=Buyer(**dict(buyer)),
                       entry=entry, needs=await services.needs_of(conn, project.need_ids),
                       may_match=project.status == "approved"
                       and await services.may_see_matches(conn, identity, project.jurisdiction_id))
