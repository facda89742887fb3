"""Needs and projects: "resident needs become projects" (居民需求服务项目化).

Residents and communities raise needs for a community; other people support them (one support
each); the buyer whose area covers the community declines a need with a reason, or makes a project
(立项) of one or several: a catalogue item, a budget in fen and the budget line it comes from.
"""

from __future__ import annotations

import math
import re
from typing import Any

import asyncpg

from market.audit import services as audit
from market.audit.models import Verb
from market.core.access import Identity
from market.core.db import fetch, queries, words
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import Msg
from market.places.services import ancestors, district_of, within
from market.procurement import workflow
from market.procurement.models import (
    NEED_STATUS_NAMES,
    Decision,
    Need,
    NeedInput,
    Project,
    ProjectInput,
)

_NEED_FIELDS = Need.__struct_fields__
_PROJECT_FIELDS = Project.__struct_fields__
# A suggestion weaker than this is no suggestion: better none than a wrong one.
MIN_SUGGESTION_SCORE = 0.15


def _need(row: Any) -> Need:
    return Need(**{k: row[k] for k in _NEED_FIELDS if k in row.keys()})


def _project(row: Any) -> Project:
    return Project(**{k: (list(row[k]) if k == "need_ids" else row[k]) for k in _PROJECT_FIELDS})


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
             for r in await fetch(queries.procurement.catalogue_items_for_district(conn, district=district))]
    ranked = rank_items(text, items)
    return ranked[0][1] if ranked and ranked[0][0] >= MIN_SUGGESTION_SCORE else None


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
    need_id = await queries.procurement.insert_need(
        conn, raised_by=identity.user_id, raised_for=on_behalf, community_id=data.community_id,
        title=data.title.strip(), description=data.description.strip(), beneficiaries=data.beneficiaries.strip(),
        beneficiary_count=data.beneficiary_count, urgency=data.urgency, suggested_entry_id=suggested)
    await audit.record(conn, verb=Verb.NEED_RAISE, object_type="need", object_id=need_id, actor=identity.user_id,
                       organisation=on_behalf, after={"title": data.title, "community_id": data.community_id,
                                                      "urgency": data.urgency, "suggested_entry_id": suggested})
    return need_id


async def get_need(conn: asyncpg.Connection, need_id: int) -> Need:
    row = await queries.procurement.need(conn, id=need_id)
    if row is None:
        raise NotFound()
    return _need(row)


async def support(conn: asyncpg.Connection, identity: Identity, need_id: int) -> int:
    """One support per person, while the need is open; returns the new count."""
    row = await queries.procurement.need_for_update(conn, id=need_id)
    if row is None:
        raise NotFound()
    if row["status"] != "open":
        raise Conflict("Only an open need can be supported.")
    if row["raised_by"] == identity.user_id:
        raise Conflict("You raised this need; your support is counted already.")
    if await queries.procurement.add_support(conn, need_id=need_id, user_id=identity.user_id) is None:
        raise Conflict("You already support this need.")
    await queries.procurement.count_support(conn, id=need_id)
    await audit.record(conn, verb=Verb.NEED_SUPPORT, object_type="need", object_id=need_id, actor=identity.user_id)
    return row["supporters"] + 1


async def _step(conn: asyncpg.Connection, identity: Identity, row: Any, action: str, reason: str) -> str:
    step = workflow.find_need_step(action, row["status"])
    if step is None:
        raise Conflict("This cannot be done to a need whose status is “%(status)s”.",
                       status=Msg(NEED_STATUS_NAMES[row["status"]]))
    if step.by == "raiser" and row["raised_by"] != identity.user_id:
        raise Forbidden("Only the person who raised the need can do this.")
    if step.by == "buyer" and not await covers(conn, identity, row["community_id"]):
        raise Forbidden("Only a buyer whose area includes this community can do this.")
    if action in workflow.REASON_REQUIRED and not reason.strip():
        raise InvalidFields([Invalid("Give the reason; the person who raised the need will see it.", field="reason")])
    await queries.procurement.set_need_status(conn, id=row["id"], status=step.target, reason=reason.strip())
    await audit.record(conn, verb=Verb(step.verb), object_type="need", object_id=row["id"], actor=identity.user_id,
                       organisation=identity.org_id, before={"status": row["status"]},
                       after={"status": step.target, "reason": reason.strip() or None})
    return step.target


async def change_need(conn: asyncpg.Connection, identity: Identity, need_id: int, action: str, data: Decision) -> str:
    """Withdraw, decline or reopen a need. Approval is making a project of it (``create_project``)."""
    row = await queries.procurement.need_for_update(conn, id=need_id)
    if row is None:
        raise NotFound()
    if action == "approve":
        raise Conflict("A need is approved by making a project of it.")
    return await _step(conn, identity, row, action, data.reason)


async def list_needs(conn: asyncpg.Connection, *, jurisdiction_id: int | None = None, status: str | None = None,
                     category: str | None = None, q: str | None = None, limit: int = 50,
                     offset: int = 0) -> list[Need]:
    places = await within(conn, jurisdiction_id) if jurisdiction_id else None
    rows = await fetch(queries.procurement.list_needs(conn, status=status, places=places, category=category,
                                                      q=words(q), limit=limit, offset=offset))
    return [_need(r) for r in rows]


async def create_project(conn: asyncpg.Connection, identity: Identity, data: ProjectInput) -> int:
    """立项: a buyer approves a project in its area, bought under an item of the catalogue in force,
    from zero or more open needs of that area, which become approved."""
    if identity.org_kind != "buyer" or not identity.acts_for_verified or identity.role not in ("admin", "staff"):
        raise Forbidden("Only a buyer's administrators and staff can approve projects.")
    errors: list[Invalid] = []
    if not await covers(conn, identity, data.jurisdiction_id):
        errors.append(Invalid("Choose a place within your own area.", field="jurisdiction_id"))
    district = await district_of(conn, data.jurisdiction_id)
    items = {r["id"] for r in await fetch(queries.procurement.catalogue_items_for_district(conn, district=district))}
    if data.catalogue_entry_id not in items:
        errors.append(Invalid("Government may buy only what the catalogue in force lists: choose one of its items.",
                              field="catalogue_entry_id"))
    inside = set(await within(conn, data.jurisdiction_id))
    needs = []
    for need_id in dict.fromkeys(data.need_ids):
        row = await queries.procurement.need_for_update(conn, id=need_id)
        if row is None or row["status"] != "open" or row["community_id"] not in inside:
            errors.append(Invalid("Need %(id)s is not an open need of this place.", field="need_ids", id=need_id))
        else:
            needs.append(row)
    if errors:
        raise InvalidFields(errors)
    project_id = await queries.procurement.insert_project(
        conn, buyer_id=identity.org_id, jurisdiction_id=data.jurisdiction_id, catalogue_entry_id=data.catalogue_entry_id,
        title_zh=data.title_zh.strip(), title_en=data.title_en.strip(), description=data.description.strip(),
        budget_fen=data.budget_fen, budget_line=data.budget_line.strip(), created_by=identity.user_id)
    for row in needs:
        await queries.procurement.link_need(conn, project_id=project_id, need_id=row["id"])
        await _step(conn, identity, row, "approve", "")
    await audit.record(conn, verb=Verb.PROJECT_CREATE, object_type="project", object_id=project_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"title_zh": data.title_zh, "budget_fen": data.budget_fen, "budget_line": data.budget_line,
                              "catalogue_entry_id": data.catalogue_entry_id, "need_ids": [r["id"] for r in needs]})
    return project_id


async def get_project(conn: asyncpg.Connection, project_id: int) -> Project:
    row = await queries.procurement.project(conn, id=project_id)
    if row is None:
        raise NotFound()
    return _project(row)


async def count_needs(conn: asyncpg.Connection, *, jurisdiction_id: int | None = None, status: str | None = None,
                      category: str | None = None, q: str | None = None) -> int:
    """How many needs `list_needs` lists in all, for its pages."""
    places = await within(conn, jurisdiction_id) if jurisdiction_id else None
    return await queries.procurement.count_needs(conn, status=status, places=places, category=category,
                                                 q=(q or "").strip() or None)


async def count_projects(conn: asyncpg.Connection, *, jurisdiction_id: int | None = None,
                         category: str | None = None, status: str | None = None) -> int:
    """How many projects `list_projects` lists in all, for its pages."""
    places = await within(conn, jurisdiction_id) if jurisdiction_id else None
    return await queries.procurement.count_projects(conn, places=places, category=category, status=status)


async def list_projects(conn: asyncpg.Connection, *, jurisdiction_id: int | None = None, category: str | None = None,
                        status: str | None = None, limit: int = 50, offset: int = 0) -> list[Project]:
    places = await within(conn, jurisdiction_id) if jurisdiction_id else None
    rows = await fetch(queries.procurement.list_projects(conn, places=places, category=category, status=status,
                                                         limit=limit, offset=offset))
    return [_project(r) for r in rows]


async def catalogue_items_for(conn: asyncpg.Connection, jurisdiction_id: int) -> list[dict[str, Any]]:
    district = await district_of(conn, jurisdiction_id)
    return [dict(r) for r in await fetch(queries.procurement.catalogue_items_for_district(conn, district=district))]
