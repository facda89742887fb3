"""Needs and projects: "resident needs become projects" (居民需求服务项目化).

Residents and communities raise needs for a community; other people support them (one support
each); the buyer whose area covers the community declines a need with a reason, or makes a project
(立项) of one or several: a catalogue item, a budget in fen and the budget line it comes from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from market.audit import services as audit
from market.audit.models import Verb
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.keyset import Column, Filters, fetch, paged_fields, ranked
from market.places.services import ancestors, column_for, district_of, within
from market.procurement.needs import workflow
from market.procurement.needs.models import (
    Decision,
    Entry,
    Need,
    NeedInput,
    NeedPage,
    Project,
    ProjectInput,
    ProjectPage,
)
from market.workflow import Notice, Transition, step

_NEED_FIELDS = Need.__struct_fields__
_PROJECT_FIELDS = Project.__struct_fields__
# A suggestion weaker than this is no suggestion: better none than a wrong one.
MIN_SUGGESTION_SCORE = 0.15


_ADD_SUPPORT = """insert into need_supports (need_id, user_id) values ($1, $2)
on conflict do nothing
returning need_id"""
_CATALOGUE_ITEMS_FOR_DISTRICT = """select e.* from catalogue_entries e
  join catalogue_versions v on v.id = e.version_id and v.status = 'published'
  join organisations o on o.id = v.buyer_id and o.subtype = 'bureau' and o.status = 'verified'
 where e.level = 'item' and o.jurisdiction_id = $1
 order by e.position"""
_COUNT_SUPPORT = """update needs set supporters = supporters + 1 where id = $1"""
_INSERT_NEED = """insert into needs (raised_by, raised_for, community_id, title, description, beneficiaries, beneficiary_count,
                   urgency, suggested_entry_id)
values ($1, $2, $3, $4, $5, $6, $7,
        $8, $9)
returning id"""
_INSERT_PROJECT = """insert into projects (buyer_id, jurisdiction_id, catalogue_entry_id, title_zh, title_en, description, budget_fen,
                      budget_line, created_by)
values ($1, $2, $3, $4, $5, $6, $7,
        $8, $9)
returning id"""
_LINK_NEED = """insert into project_needs (project_id, need_id) values ($1, $2)"""
_NEED = """select n.*, pn.project_id from needs n left join project_needs pn on pn.need_id = n.id where n.id = $1"""
_NEED_FOR_UPDATE = """select * from needs where id = $1 for update"""
_PROJECT = """select p.*, coalesce((select array_agg(need_id order by need_id) from project_needs where project_id = p.id), '{}')
       as need_ids
  from projects p where p.id = $1"""
_SUPPORTERS = """select user_id from need_supports where need_id = $1 order by user_id"""
_SET_NEED_STATUS = """update needs set status = $1, status_reason = $2, updated_at = market_now() where id = $3"""


def _need(row: Any) -> Need:
    return Need(**{k: row[k] for k in _NEED_FIELDS if k in row})


def _project(row: Any) -> Project:
    return Project(**{k: row[k] for k in _PROJECT_FIELDS if k != "need_ids"}, need_ids=list(row["need_ids"]))


def _grams(text: str) -> set[str]:
    """Character pairs of Chinese text and whole words of English: enough to match 助餐 with 老年助餐服务."""
    text = text.lower()
    grams = {text[i:i + 2] for i in range(len(text) - 1) if all("\u4e00" <= c <= "\u9fff" for c in text[i:i + 2])}
    return grams | {w for w in re.findall(r"[a-z]{3,}", text)}


def rank_items(need_text: str, items: list[tuple[int, str, str]]) -> list[tuple[float, int]]:
    """Items (id, name, description) by how well the need's words cover them, best first.

    A word shared by many items (服务, 社区) says little, so each is weighted by its rarity across
    the catalogue; the item's name counts twice its description, as names are what people ask for."""
    need = _grams(need_text)
    grams = [(item_id, _grams(name), _grams(description)) for item_id, name, description in items]
    frequency: dict[str, int] = {}
    for _, name, description in grams:
        for g in name | description:
            frequency[g] = frequency.get(g, 0) + 1
    weight = {g: math.log((1 + len(items)) / n) for g, n in frequency.items()}

    def cover(part: set[str]) -> float:
        total = sum(weight[g] for g in part)
        return sum(weight[g] for g in part & need) / total if total else 0.0

    scored = [((2 * cover(name) + cover(description)) / 3, item_id) for item_id, name, description in grams]
    return sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))


async def suggest_entry(conn: asyncpg.Connection, community_id: int, text: str) -> int | None:
    """The item of the district's catalogue in force that best matches the need's words."""
    district = await district_of(conn, community_id)
    if district is None:
        return None
    items = [(r["id"], f"{r['name_zh']} {r['name_en']}", f"{r['description_zh']} {r['description_en']}")
             for r in await conn.fetch(_CATALOGUE_ITEMS_FOR_DISTRICT, district)]
    ranked = rank_items(text, items)
    return ranked[0][1] if ranked and ranked[0][0] >= MIN_SUGGESTION_SCORE else None


# Who may see the providers and funders suggested for a project in a place: matching says (it
# registers at import), so procurement imports nothing from it. Nobody, until it does.
_MATCH_READERS: list[Callable[[asyncpg.Connection, Identity | None, int], Awaitable[bool]]] = []


def register_match_reader(may_see: Callable[[asyncpg.Connection, Identity | None, int], Awaitable[bool]]) -> None:
    _MATCH_READERS.append(may_see)


async def may_see_matches(conn: asyncpg.Connection, identity: Identity | None, jurisdiction_id: int) -> bool:
    return any([await may_see(conn, identity, jurisdiction_id) for may_see in _MATCH_READERS])


async def covers(conn: asyncpg.Connection, identity: Identity | None, jurisdiction_id: int) -> bool:
    """Whether the user acts for a verified buyer whose area includes the place."""
    if identity is None or not identity.acts_for_verified or identity.org_kind != "buyer":
        return False
    own = await conn.fetchval("select jurisdiction_id from organisations where id = $1", identity.org_id)
    return own in await ancestors(conn, jurisdiction_id)


async def raise_need(conn: asyncpg.Connection, identity: Identity, data: NeedInput) -> int:
    place = await ancestors(conn, data.community_id)
    if place.get(data.community_id) != "community":
        raise InvalidFields([Invalid("Choose your community from the list.", field="community_id")])
    suggested = await suggest_entry(conn, data.community_id, f"{data.title} {data.description} {data.beneficiaries}")
    # Staff of a community committee raise needs on its behalf; everyone else as a resident.
    on_behalf = identity.org_id if identity.acts_for_verified and identity.org_kind == "buyer" else None
    need_id = await conn.fetchval(_INSERT_NEED, identity.user_id, on_behalf, data.community_id, data.title.strip(),
                                  data.description.strip(), data.beneficiaries.strip(), data.beneficiary_count,
                                  data.urgency, suggested)
    await audit.record(conn, verb=Verb.NEED_RAISE, object_type="need", object_id=need_id, actor=identity.user_id,
                       organisation=on_behalf, after={"title": data.title, "community_id": data.community_id,
                                                      "urgency": data.urgency, "suggested_entry_id": suggested})
    return need_id


async def needs_of(conn: asyncpg.Connection, need_ids: list[int]) -> list[Need]:
    """These needs, in the order given, in one statement."""
    rows = {r["id"]: r for r in await conn.fetch(
        """select n.*, (select project_id from project_needs where need_id = n.id limit 1) as project_id
             from needs n where n.id = any($1)""", need_ids)}
    return [_need(rows[i]) for i in need_ids if i in rows]


async def entries_of(conn: asyncpg.Connection, entry_ids: list[int]) -> dict[int, Entry]:
    """The catalogue items projects are bought under, by id, in one statement."""
    return {r["id"]: Entry(**dict(r)) for r in await conn.fetch(
        "select id, code, name_zh, name_en from catalogue_entries where id = any($1)", entry_ids)}


async def area_of(conn: asyncpg.Connection, organisation_id: int | None) -> int | None:
    """The place an organisation's area is: a buyer's projects are made within it."""
    return await conn.fetchval("select jurisdiction_id from organisations where id = $1", organisation_id)


async def get_need(conn: asyncpg.Connection, need_id: int) -> Need:
    row = await conn.fetchrow(_NEED, need_id)
    if row is None:
        raise NotFound()
    return _need(row)


async def support(conn: asyncpg.Connection, identity: Identity, need_id: int) -> int:
    """One support per person, while the need is open; returns the new count."""
    row = await conn.fetchrow(_NEED_FOR_UPDATE, need_id)
    if row is None:
        raise NotFound()
    if row["status"] != "open":
        raise Conflict("Only an open need can be supported.")
    if row["raised_by"] == identity.user_id:
        raise Conflict("You raised this need; your support is counted already.")
    if await conn.fetchval(_ADD_SUPPORT, need_id, identity.user_id) is None:
        raise Conflict("You already support this need.")
    await conn.execute(_COUNT_SUPPORT, need_id)
    await audit.record(conn, verb=Verb.NEED_SUPPORT, object_type="need", object_id=need_id, actor=identity.user_id)
    return row["supporters"] + 1


async def _told(conn: asyncpg.Connection, identity: Identity, row: Any, kind: str, link: str,
                **params: Any) -> list[Notice]:
    """What the buyer's decision on a need tells those who raised and supported it, each as themselves
    (not the buyer's person who decided, should they be one of them)."""
    people = [row["raised_by"], *[r["user_id"] for r in await conn.fetch(_SUPPORTERS, row["id"])]]
    return [Notice([p for p in dict.fromkeys(people) if p is not None and p != identity.user_id], kind, link,
                   {"title": row["title"], **params})]


async def _step(conn: asyncpg.Connection, identity: Identity, row: Any, action: str, reason: str,
                notices: list[Notice] | None = None) -> str:
    capacities = {"raiser"} if row["raised_by"] == identity.user_id else set()
    if await covers(conn, identity, row["community_id"]):
        capacities.add("buyer")
    told = {"decline": "need_declined", "reopen": "need_reopened"}
    if notices is None and action in told:
        notices = await _told(conn, identity, row, told[action], f"/needs/{row['id']}", reason=reason.strip())

    async def write(transition: Transition) -> None:
        if action in workflow.REASON_REQUIRED and not reason.strip():
            raise InvalidFields([Invalid("Give the reason; the person who raised the need will see it.",
                                         field="reason")])
        await conn.execute(_SET_NEED_STATUS, transition.target, reason.strip(), row["id"])

    moved = await step(conn, workflow.NEEDS, action, row["status"], object_id=row["id"], capacities=capacities,
                       actor=identity.user_id, organisation=identity.org_id, write=write,
                       after={"reason": reason.strip() or None}, notices=notices or ())
    return moved.target


async def change_need(conn: asyncpg.Connection, identity: Identity, need_id: int, action: str, data: Decision) -> str:
    """Withdraw, decline or reopen a need. Approval is making a project of it (``create_project``)."""
    row = await conn.fetchrow(_NEED_FOR_UPDATE, need_id)
    if row is None:
        raise NotFound()
    if action == "approve":
        raise Conflict("A need is approved by making a project of it.")
    return await _step(conn, identity, row, action, data.reason)


async def _place_filter(conn: asyncpg.Connection, where: Filters, column: str, jurisdiction_id: int | None) -> None:
    """Rows of the place and every place below it: one community is an equality its index serves."""
    if jurisdiction_id:
        places = await within(conn, jurisdiction_id)
        if len(places) == 1:
            where.add(f"{column} = {{}}", places[0])
        else:
            where.add(f"{column} = any({{}}::int[])", places)


_NEED_ORDER = (Column("(n.status = 'open')", "open", bool), Column("n.supporters", "supporters", int), Column("n.created_at", "created_at", datetime),
               Column("n.id", "id", int))


async def need_page(conn: asyncpg.Connection, *, jurisdiction_id: int | None = None, status: str | None = None,
                    category: str | None = None, q: str | None = None, cursor: str | None = None, limit: int = 50,
                    counted: bool = True) -> NeedPage:
    """The needs list (需求清单): open first, then the most supported, then the newest; each filter
    given narrows it, on the indexes of migration 0040."""
    where = Filters()
    if status:
        where.add("n.status = {}", status)
    if jurisdiction_id:
        where.add(f"{await column_for(conn, jurisdiction_id, 'n')} = {{}}", jurisdiction_id)
    if category:
        where.add("n.suggested_entry_id in (select id from catalogue_entries where code like {} || '.%')", category)
    if q and q.strip():
        # The catalogue item's names too (migration 0054): found by its kind, in English as well.
        where.search("n.title || ' ' || n.description || ' ' || n.category_words", q.strip())
    # With one status the first column is the same for all: the status's own index serves the rest.
    order = ranked(q, ("n.title",), _NEED_ORDER[1:] if status else _NEED_ORDER)
    # The project a need became, read for the page's rows only (a join would be made for every row
    # that matches a search before the page is sorted out of them).
    window = await fetch(conn, select="n.*, (select pn.project_id from project_needs pn where pn.need_id = n.id) as project_id",
                         from_="needs n", filters=where, keyset=order, cursor=cursor, limit=limit, counted=counted)
    return NeedPage(items=[_need(r) for r in window.rows], **paged_fields(window))


async def list_needs(conn: asyncpg.Connection, *, jurisdiction_id: int | None = None, status: str | None = None,
                     category: str | None = None, limit: int = 50) -> list[Need]:
    """The first needs of the list, for a glimpse of it (the portal's lists)."""
    return (await need_page(conn, jurisdiction_id=jurisdiction_id, status=status, category=category, limit=limit,
                            counted=False)).items


async def create_project(conn: asyncpg.Connection, identity: Identity, data: ProjectInput) -> int:
    """立项: a buyer approves a project in its area, bought under an item of the catalogue in force,
    from zero or more open needs of that area, which become approved."""
    if identity.org_kind != "buyer" or not identity.acts_for_verified or identity.role not in ("admin", "staff"):
        raise Forbidden("Only a buyer's administrators and staff can approve projects.")
    errors: list[Invalid] = []
    if not await covers(conn, identity, data.jurisdiction_id):
        errors.append(Invalid("Choose a place within your own area.", field="jurisdiction_id"))
    district = await district_of(conn, data.jurisdiction_id)
    items = {r["id"] for r in await conn.fetch(_CATALOGUE_ITEMS_FOR_DISTRICT, district)}
    if data.catalogue_entry_id not in items:
        errors.append(Invalid("Government may buy only what the catalogue in force lists: choose one of its items.",
                              field="catalogue_entry_id"))
    inside = set(await within(conn, data.jurisdiction_id))
    needs = []
    for need_id in dict.fromkeys(data.need_ids):
        row = await conn.fetchrow(_NEED_FOR_UPDATE, need_id)
        if row is None or row["status"] != "open" or row["community_id"] not in inside:
            errors.append(Invalid("Need %(id)s is not an open need of this place.", field="need_ids", id=need_id))
        else:
            needs.append(row)
    if errors:
        raise InvalidFields(errors)
    project_id = await conn.fetchval(_INSERT_PROJECT, identity.org_id, data.jurisdiction_id, data.catalogue_entry_id,
                                     data.title_zh.strip(), data.title_en.strip(), data.description.strip(),
                                     data.budget_fen, data.budget_line.strip(), identity.user_id)
    for row in needs:
        await conn.execute(_LINK_NEED, project_id, row["id"])
        await _step(conn, identity, row, "approve", "", await _told(
            conn, identity, row, "need_approved", f"/projects/{project_id}", project=data.title_zh.strip(),
            project_en=data.title_en.strip()))
    await audit.record(conn, verb=Verb.PROJECT_CREATE, object_type="project", object_id=project_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"title_zh": data.title_zh, "budget_fen": data.budget_fen, "budget_line": data.budget_line,
                              "catalogue_entry_id": data.catalogue_entry_id, "need_ids": [r["id"] for r in needs]})
    return project_id


async def get_project(conn: asyncpg.Connection, project_id: int) -> Project:
    row = await conn.fetchrow(_PROJECT, project_id)
    if row is None:
        raise NotFound()
    return _project(row)


_PROJECT_ORDER = (Column("p.created_at", "created_at", datetime), Column("p.id", "id", int))


async def project_page(conn: asyncpg.Connection, *, jurisdiction_id: int | None = None, category: str | None = None,
                       status: str | None = None, q: str | None = None, cursor: str | None = None, limit: int = 50,
                       counted: bool = True) -> ProjectPage:
    """The project list (项目清单): newest first; each filter given narrows it."""
    where = Filters()
    await _place_filter(conn, where, "p.jurisdiction_id", jurisdiction_id)
    if category:
        where.add("p.catalogue_entry_id in (select id from catalogue_entries where code like {} || '.%')", category)
    if status:
        where.add("p.status = {}", status)
    if q and q.strip():
        where.search("p.title_zh || ' ' || p.title_en || ' ' || p.description", q.strip())
    window = await fetch(
        conn, select="p.*, coalesce((select array_agg(need_id order by need_id) from project_needs where project_id = p.id),"
                     " '{}') as need_ids",
        from_="projects p", filters=where, keyset=ranked(q, ("p.title_zh", "p.title_en"), _PROJECT_ORDER),
        cursor=cursor, limit=limit, counted=counted)
    return ProjectPage(items=[_project(r) for r in window.rows], **paged_fields(window))


async def list_projects(conn: asyncpg.Connection, *, jurisdiction_id: int | None = None, category: str | None = None,
                        status: str | None = None, limit: int = 50) -> list[Project]:
    """The newest projects of the list, for a glimpse of it or a choice among them."""
    return (await project_page(conn, jurisdiction_id=jurisdiction_id, category=category, status=status, limit=limit,
                               counted=False)).items


async def catalogue_items_for(conn: asyncpg.Connection, jurisdiction_id: int) -> list[dict[str, Any]]:
    district = await district_of(conn, jurisdiction_id)
    return [dict(r) for r in await conn.fetch(_CATALOGUE_ITEMS_FOR_DISTRICT, district)]
