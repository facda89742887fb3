"""Indicator systems: a bureau (or the platform, for its defaults) drafts a version for a catalogue
code and a stage, fills it from an Excel file or edits it node by node, and publishes it — then it
never changes, and a contract signed under it keeps it. Publishing retires the version it replaces.

`system_for` is what a contract calls at signing: the system for an item and a stage, looked up
from the item to its sub-category and category, then the bureau's default, then the platform's.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.catalogue.files import ImportRefused
from market.catalogue.models import RowProblem
from market.core.access import ROLE_NAMES, Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import gettext, series
from market.evaluation.indicators import files, tree, workflow
from market.evaluation.indicators.models import (
    Anchor,
    Bands,
    IndicatorSystem,
    NewSystemVersion,
    NodeData,
    NodeEdit,
    SystemVersion,
)
from market.workflow import Transition, step

_VERSION_FIELDS = SystemVersion.__struct_fields__
_NODE_FIELDS = tuple(f for f in NodeData.__struct_fields__ if f != "anchors")

_SELECT_VERSIONS = """
    select v.*, coalesce(o.name_zh, '') as owner_name_zh, coalesce(o.name_en, '') as owner_name_en
      from indicator_versions v left join organisations o on o.id = v.owner_id"""

_SET_STATUS = """
update indicator_versions
   set status = $2,
       published_at = case when $2 = 'published' then market_now() else published_at end,
       retired_at = case when $2 = 'retired' then market_now() else retired_at end
 where id = $1"""


def _version(row: Any) -> SystemVersion:
    return SystemVersion(**{k: row[k] for k in _VERSION_FIELDS})


def manages(identity: Identity | None, owner_id: int | None) -> bool:
    """The platform's staff keep its defaults; a bureau's staff keep the bureau's systems."""
    if identity is None or not identity.acts_for_verified or identity.role not in workflow.EDITORS:
        return False
    if owner_id is None:
        return identity.org_kind == "platform"
    return identity.org_id == owner_id


def can_see(identity: Identity | None, version: SystemVersion) -> bool:
    """Published and retired versions are read by everyone signed in (evaluators score against
    them); a draft by those who keep it and the platform's administrators."""
    if identity is None:
        return False
    return version.status != "draft" or identity.is_platform_admin or manages(identity, version.owner_id)


async def _owner_for(conn: asyncpg.Connection, identity: Identity) -> int | None:
    """Whose systems this person keeps: the platform's (None) or their bureau's."""
    if identity.acts_for_verified and identity.org_kind == "platform":
        owner = None
    else:
        subtype = await conn.fetchval("select subtype from organisations where id = $1", identity.org_id)
        if identity.org_kind != "buyer" or subtype != "bureau" or not identity.acts_for_verified:
            raise Forbidden("Only a civil-affairs bureau or the platform keeps indicator systems.")
        owner = identity.org_id
    if identity.role not in workflow.EDITORS:
        raise Forbidden("This needs one of these roles in your organisation: %(roles)s.",
                        roles=series(gettext(ROLE_NAMES[r]) for r in sorted(workflow.EDITORS)))
    return owner


async def keeps_systems(conn: asyncpg.Connection, identity: Identity) -> bool:
    """Whether this person may start drafts: the staff of a bureau or of the platform."""
    try:
        await _owner_for(conn, identity)
    except Forbidden:
        return False
    return True


async def _row(conn: asyncpg.Connection, version_id: int, *, lock: bool = False) -> asyncpg.Record | None:
    if lock:
        await conn.execute("select 1 from indicator_versions where id = $1 for update", version_id)
    return await conn.fetchrow(_SELECT_VERSIONS + " where v.id = $1", version_id)


async def _own(conn: asyncpg.Connection, identity: Identity, version_id: int, *, draft: bool = False) -> SystemVersion:
    row = await _row(conn, version_id, lock=True)
    if row is None or not can_see(identity, _version(row)):
        raise NotFound()
    version = _version(row)
    if not manages(identity, version.owner_id):
        raise Forbidden("Only those who keep this indicator system can change it.")
    if draft and version.status != "draft":
        raise Conflict("A published indicator system never changes; make a new draft (copy this one) instead.")
    return version


async def _nodes(conn: asyncpg.Connection, version_id: int) -> list[NodeData]:
    rows = await conn.fetch("select * from indicator_nodes where version_id = $1", version_id)
    return [NodeData(**{k: r[k] for k in _NODE_FIELDS}, anchors=[Anchor(**a) for a in r["anchors"]]) for r in rows]


async def _insert_nodes(conn: asyncpg.Connection, version_id: int, nodes: list[NodeData]) -> None:
    await conn.executemany("""
        insert into indicator_nodes (version_id, path, name_zh, name_en, weight, method, anchors, target, target_cap,
                                     evidence_zh, evidence_en, na_allowed, satisfaction, question_zh, question_en)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)""", [
        (version_id, n.path, n.name_zh, n.name_en, n.weight, n.method, msgspec.to_builtins(n.anchors), n.target,
         n.target_cap, n.evidence_zh, n.evidence_en, n.na_allowed, n.satisfaction, n.question_zh, n.question_en)
        for n in nodes])


async def load_version(conn: asyncpg.Connection, version_id: int) -> IndicatorSystem:
    """A version with its tree, whoever asks (the evaluation rounds read the version a contract
    was signed under)."""
    row = await _row(conn, version_id)
    if row is None:
        raise NotFound()
    return IndicatorSystem(**{k: row[k] for k in _VERSION_FIELDS}, nodes=tree.build(await _nodes(conn, version_id)))


async def get_version(conn: asyncpg.Connection, identity: Identity | None, version_id: int) -> IndicatorSystem:
    system = await load_version(conn, version_id)
    if not can_see(identity, system):
        raise NotFound()
    return system


async def _check_code(conn: asyncpg.Connection, owner: int | None, code: str | None) -> None:
    """A bureau's system applies to a code of its own catalogue; the platform's to any code."""
    if code is None or owner is None:
        return
    if not await conn.fetchval("""
            select exists (select 1 from catalogue_entries e join catalogue_versions v on v.id = e.version_id
                            where v.buyer_id = $1 and e.code = $2)""", owner, code):
        raise Invalid("Your catalogues have no item or category with the code %(code)s.", field="applies_to", code=code)


async def create_version(conn: asyncpg.Connection, identity: Identity, data: NewSystemVersion) -> int:
    """A new draft: empty (with the default grade bands) or a copy of a version this person can see."""
    owner = await _owner_for(conn, identity)
    await _check_code(conn, owner, data.applies_to)
    nodes: list[NodeData] = []
    bands = Bands()
    if data.copy_from is not None:
        source = await get_version(conn, identity, data.copy_from)
        nodes, bands = tree.as_rows(source.nodes), source.bands
    version_id = await conn.fetchval("""
        insert into indicator_versions (owner_id, applies_to, stage, revision, title_zh, title_en, grade_a_min,
                                        grade_b_min, pass_grade, created_by)
        values ($1, $2, $3,
                coalesce((select max(revision) + 1 from indicator_versions
                           where owner_id is not distinct from $1 and applies_to is not distinct from $2
                             and stage = $3), 1),
                $4, $5, $6, $7, $8, $9)
        returning id""", owner, data.applies_to, data.stage, data.title_zh.strip(), data.title_en.strip(),
        bands.grade_a_min, bands.grade_b_min, bands.pass_grade, identity.user_id)
    await _insert_nodes(conn, version_id, nodes)
    await audit.record(conn, verb=Verb.INDICATORS_CREATE, object_type="indicator_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"stage": data.stage, "applies_to": data.applies_to, "title_zh": data.title_zh,
                              "copied_from": data.copy_from, "nodes": len(nodes)})
    return version_id


async def import_file(conn: asyncpg.Connection, identity: Identity, version_id: int, data: bytes) -> int:
    """Replace a draft's tree and grade bands with the file's. A file with any problem imports nothing."""
    await _owner_for(conn, identity)
    await _own(conn, identity, version_id, draft=True)
    nodes, bands = files.parse(data)
    await conn.execute("delete from indicator_nodes where version_id = $1", version_id)
    await _insert_nodes(conn, version_id, nodes)
    await conn.execute("update indicator_versions set grade_a_min = $2, grade_b_min = $3, pass_grade = $4 "
                       "where id = $1", version_id, bands.grade_a_min, bands.grade_b_min, bands.pass_grade)
    await audit.record(conn, verb=Verb.INDICATORS_IMPORT, object_type="indicator_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"nodes": len(nodes), **msgspec.to_builtins(bands)})
    return len(nodes)


async def import_or_problems(conn: asyncpg.Connection, identity: Identity, version_id: int,
                             data: bytes) -> int | list[RowProblem]:
    """`import_file`, with a refused file's problems as the answer (a page lists them) and nothing written."""
    try:
        async with conn.transaction():
            return await import_file(conn, identity, version_id, data)
    except ImportRefused as refused:
        return refused.problems


async def edit_node(conn: asyncpg.Connection, identity: Identity, version_id: int, path: str, data: NodeEdit) -> None:
    """Change a draft node's names, weight, evidence, N/A and residents' question; the sums are checked when it
    is published."""
    await _own(conn, identity, version_id, draft=True)
    by_path = {n.path: n for n in await _nodes(conn, version_id)}
    node = by_path.get(path)
    if node is None:
        raise NotFound()
    before = {k: getattr(node, k) for k in ("name_zh", "name_en", "weight", "method", "na_allowed", "question_zh",
                                            "question_en")}
    if data.na_allowed and node.method is None:
        raise Invalid("Only an indicator with nothing under it can be not applicable.", field="na_allowed")
    leaf = not any(other.startswith(path + ".") for other in by_path)
    question_zh, question_en = data.question_zh.strip(), data.question_en.strip()
    if (question_zh or question_en) and not (leaf and tree.asked_of_residents(path, by_path)):
        raise Invalid("Only an indicator of the beneficiary-satisfaction part with nothing under it is asked of "
                      "residents.", field="question_zh")
    await conn.execute("""
        update indicator_nodes set name_zh = $3, name_en = $4, weight = $5, evidence_zh = $6, evidence_en = $7,
                                   na_allowed = $8, question_zh = $9, question_en = $10
         where version_id = $1 and path = $2""", version_id, path, data.name_zh.strip(), data.name_en.strip(),
                       data.weight, data.evidence_zh.strip(), data.evidence_en.strip(), data.na_allowed,
                       question_zh, question_en)
    await audit.record(conn, verb=Verb.INDICATORS_EDIT, object_type="indicator_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       before={"path": path, **before},
                       after={"path": path, **msgspec.to_builtins(data)})


async def change_status(conn: asyncpg.Connection, identity: Identity, version_id: int, action: str) -> str:
    """Publish or retire (``workflow.VERSION``). Publishing checks the tree and retires the version
    of the same system it replaces."""
    version = await _own(conn, identity, version_id)
    capacities = {identity.role} if identity.role else set()

    async def write(transition: Transition) -> None:
        if action == "publish":
            found = tree.problems(await _nodes(conn, version_id), version.bands)
            if found:
                raise InvalidFields([Invalid("%(path)s: %(problem)s", path=p.path or gettext("settings"),
                                             problem=p.message) for p in found])
            current = await conn.fetchval("""
                select id from indicator_versions
                 where owner_id is not distinct from $1 and applies_to is not distinct from $2 and stage = $3
                   and status = 'published' for update""", version.owner_id, version.applies_to, version.stage)
            if current is not None:
                async def retire(retired: Transition) -> None:
                    await conn.execute(_SET_STATUS, current, retired.target)
                await step(conn, workflow.VERSION, "retire", "published", object_id=current, capacities=capacities,
                           actor=identity.user_id, organisation=identity.org_id, write=retire,
                           after={"replaced_by": version_id})
        await conn.execute(_SET_STATUS, version_id, transition.target)
    moved = await step(conn, workflow.VERSION, action, version.status, object_id=version_id, capacities=capacities,
                       actor=identity.user_id, organisation=identity.org_id, write=write)
    return moved.target


async def delete_draft(conn: asyncpg.Connection, identity: Identity, version_id: int) -> None:
    version = await _own(conn, identity, version_id)
    if version.status != "draft":
        raise Conflict("Only a draft can be deleted; a published indicator system stays on record.")
    await conn.execute("delete from indicator_versions where id = $1", version_id)
    await audit.record(conn, verb=Verb.INDICATORS_DELETE, object_type="indicator_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       before={"stage": version.stage, "title_zh": version.title_zh})


async def versions(conn: asyncpg.Connection, identity: Identity) -> list[SystemVersion]:
    """Every version this person can see: all that are published or retired, and their drafts."""
    rows = await conn.fetch(_SELECT_VERSIONS + """
         order by v.owner_id nulls first, v.applies_to nulls first, v.stage desc, v.revision desc""")
    return [v for v in map(_version, rows) if can_see(identity, v)]


_LOOKUP = _SELECT_VERSIONS + """
     where v.status = 'published' and v.stage = $3
       and (v.owner_id = $1 or v.owner_id is null)
       and (v.applies_to is null or v.applies_to = any($2::text[]))
     order by v.owner_id is null, length(v.applies_to) desc nulls last
     limit 1"""


async def _item(conn: asyncpg.Connection, catalogue_item_id: int) -> asyncpg.Record:
    item = await conn.fetchrow("""
        select e.code, e.level, v.buyer_id from catalogue_entries e join catalogue_versions v on v.id = e.version_id
         where e.id = $1""", catalogue_item_id)
    if item is None:
        raise NotFound()
    return item


def _codes(code: str) -> list[str]:
    """An item's code and the codes above it: 01.02.03, 01.02, 01."""
    parts = code.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


async def system_for(conn: asyncpg.Connection, catalogue_item_id: int, stage: str) -> int | None:
    """The version in force for a catalogue item and a stage — the bureau's for the item, its
    sub-category or category, or its default, else the platform's likewise — or None."""
    item = await _item(conn, catalogue_item_id)
    row = await conn.fetchrow(_LOOKUP, item["buyer_id"], _codes(item["code"]), stage)
    return None if row is None else int(row["id"])


async def systems_for_item(conn: asyncpg.Connection, catalogue_item_id: int) -> dict[str, SystemVersion]:
    """The version in force for each stage of a catalogue item (a stage with none is left out)."""
    item = await _item(conn, catalogue_item_id)
    found = {}
    for stage in ("midterm", "final"):
        row = await conn.fetchrow(_LOOKUP, item["buyer_id"], _codes(item["code"]), stage)
        if row is not None:
            found[stage] = _version(row)
    return found


async def export(conn: asyncpg.Connection, identity: Identity | None, version_id: int) -> tuple[str, bytes]:
    system = await get_version(conn, identity, version_id)
    name = f"indicators-{system.stage}-{system.applies_to or 'all'}-r{system.revision}.xlsx"
    return name, files.to_xlsx(system.nodes, system.bands, system.title_zh)
