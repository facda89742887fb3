"""What the catalogue pages show, each one Struct that the page renders and its JSON twin returns."""

from __future__ import annotations

import asyncpg
import msgspec

from market.catalogue import services as catalogue
from market.catalogue import workflow
from market.catalogue.models import (
    FoundItems,
    PublishedVersion,
    StoredEntry,
    Version,
    VersionWithEntries,
)
from market.core.access import Identity
from market.core.errors import NotFound


class Index(msgspec.Struct, frozen=True, kw_only=True):
    """The public catalogue: the catalogues in force, and the items a search found (None: no search)."""

    q: str
    category: str
    catalogues: list[PublishedVersion]
    results: FoundItems | None


class Node(msgspec.Struct, frozen=True):
    """An entry with the entries under it: categories hold sub-categories, which hold items."""

    entry: StoredEntry
    children: list[Node]


class VersionPage(msgspec.Struct, frozen=True, kw_only=True):
    version: VersionWithEntries
    tree: list[Node]
    owner: bool  # the bureau that keeps it, which may import, publish, retire or delete
    actions: list[str]


class ItemPage(msgspec.Struct, frozen=True, kw_only=True):
    version: Version
    item: StoredEntry


class Manage(msgspec.Struct, frozen=True, kw_only=True):
    """A bureau's catalogues, every status."""

    versions: list[Version]


def _tree(entries: list[StoredEntry]) -> list[Node]:
    categories: list[Node] = []
    by_code: dict[str, Node] = {}
    for e in entries:
        node = Node(e, [])
        by_code[e.code] = node
        (by_code[e.parent_code].children if e.parent_code in by_code else categories).append(node)
    return categories


async def index(conn: asyncpg.Connection, q: str | None, category: str | None, cursor: str | None = None) -> Index:
    return Index(q=q or "", category=category or "", catalogues=await catalogue.published(conn),
                 results=await catalogue.search_items(conn, q=q, category=category, cursor=cursor)
                 if (q or category) else None)


async def version_page(conn: asyncpg.Connection, identity: Identity | None, version_id: int) -> VersionPage:
    version = await catalogue.get_version(conn, identity, version_id)
    owner = catalogue.owns(identity, version.buyer_id)
    return VersionPage(version=version, tree=_tree(version.entries), owner=owner,
                       actions=workflow.VERSION.actions_from(version.status) if owner else [])


async def item_page(conn: asyncpg.Connection, identity: Identity | None, entry_id: int) -> ItemPage:
    version, entry = await catalogue.get_item(conn, identity, entry_id)
    if entry.level != "item":
        raise NotFound()
    return ItemPage(version=version, item=entry)


async def manage(conn: asyncpg.Connection, identity: Identity) -> Manage:
    return Manage(versions=await catalogue.versions_of(conn, identity))
