"""What the indicator system pages show, each one Struct that the page renders and its JSON twin returns."""

from __future__ import annotations

import asyncpg
import msgspec

from market.catalogue import services as catalogue
from market.core.access import Identity
from market.core.errors import NotFound
from market.evaluation.indicators import services as indicators
from market.evaluation.indicators import tree, workflow
from market.evaluation.indicators.models import IndicatorNode, IndicatorSystem, SystemVersion, TreeProblem


class ForItem(msgspec.Struct, frozen=True, kw_only=True):
    """The catalogue item a list was asked for, and the version in force for each stage."""

    entry_id: int
    code: str
    name_zh: str
    name_en: str
    systems: dict[str, SystemVersion]


class SystemsIndex(msgspec.Struct, frozen=True, kw_only=True):
    versions: list[SystemVersion]
    may_create: bool  # a bureau's or the platform's staff, who keep systems
    item: ForItem | None


class SystemVersionPage(msgspec.Struct, frozen=True, kw_only=True):
    system: IndicatorSystem
    manager: bool  # may import, edit, publish, retire or delete
    actions: list[str]
    problems: list[TreeProblem]  # what keeps a draft from being published


class NodePage(msgspec.Struct, frozen=True, kw_only=True):
    system: SystemVersion
    node: IndicatorNode
    asked_of_residents: bool  # a leaf of the satisfaction dimension: its form has the residents' question


async def index(conn: asyncpg.Connection, identity: Identity, item_id: int | None) -> SystemsIndex:
    item = None
    if item_id is not None:
        _, entry = await catalogue.get_item(conn, identity, item_id)
        item = ForItem(entry_id=item_id, code=entry.code, name_zh=entry.name_zh, name_en=entry.name_en,
                       systems=await indicators.systems_for_item(conn, item_id))
    return SystemsIndex(versions=await indicators.versions(conn, identity),
                        may_create=await indicators.keeps_systems(conn, identity), item=item)


async def version_page(conn: asyncpg.Connection, identity: Identity, version_id: int) -> SystemVersionPage:
    system = await indicators.get_version(conn, identity, version_id)
    manager = indicators.manages(identity, system.owner_id)
    problems = tree.problems(tree.as_rows(system.nodes), system.bands) if manager and system.status == "draft" else []
    # Staff keep drafts; the steps shown are those this person's role may take.
    actions = [t.action for t in workflow.VERSION.transitions
               if manager and t.source == system.status and identity.role in t.who]
    return SystemVersionPage(system=system, manager=manager, problems=problems, actions=actions)


async def node_page(conn: asyncpg.Connection, identity: Identity, version_id: int, path: str) -> NodePage:
    system = await indicators.get_version(conn, identity, version_id)
    by_path = {n.path: n for n in tree.flatten(system.nodes)}
    node = by_path.get(path)
    if node is None or not indicators.manages(identity, system.owner_id):
        raise NotFound()
    version = SystemVersion(**{k: getattr(system, k) for k in SystemVersion.__struct_fields__})
    return NodePage(system=version, node=node,
                    asked_of_residents=not node.children and tree.asked_of_residents(path, by_path))
