"""The purchasing catalogue: a bureau drafts a yearly version, fills it from a file, publishes it
(then it never changes) and retires it. Government may buy only what a published catalogue lists."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.catalogue import files, workflow
from market.catalogue.files import ImportRefused
from market.catalogue.models import (
    Entry,
    FoundItem,
    FoundItems,
    Indicator,
    NewVersion,
    PublishedVersion,
    PublishedVersions,
    RowProblem,
    StoredEntry,
    Version,
    VersionWithEntries,
)
from market.core import keyset
from market.core.access import ROLE_NAMES, Identity
from market.core.keyset import Column, Filters, fetch, paged_fields, ranked
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import gettext, series
from market.workflow import Transition, step

_VERSION_FIELDS = Version.__struct_fields__
_FOUND_FIELDS = FoundItem.__struct_fields__


def _version(row: Any) -> Version:
    return Version(**{k: row[k] for k in _VERSION_FIELDS})


def _entry(row: Any) -> StoredEntry:
    data = {k: row[k] for k in StoredEntry.__struct_fields__ if k != "indicators"}
    return StoredEntry(**data, indicators=[Indicator(**i) for i in row["indicators"]])


def owns(identity: Identity | None, buyer_id: int) -> bool:
    return identity is not None and identity.acts_for_verified and identity.org_id == buyer_id


def can_see(identity: Identity | None, version: Version) -> bool:
    """Published and retired versions are public; a draft is its bureau's and the platform's."""
    if version.status != "draft":
        return True
    return identity is not None and (identity.is_platform_admin or owns(identity, version.buyer_id))


async def _require_bureau(conn: asyncpg.Connection, identity: Identity) -> None:
    subtype = await conn.fetchval("select subtype from organisations where id = $1", identity.org_id)
    if identity.org_kind != "buyer" or subtype != "bureau" or not identity.acts_for_verified:
        raise Forbidden("Only a civil-affairs bureau keeps a purchasing catalogue.")
    if identity.role not in workflow.EDITORS:
        raise Forbidden("This needs one of these roles in your organisation: %(roles)s.",
                        roles=series(gettext(ROLE_NAMES[r]) for r in sorted(workflow.EDITORS)))


async def _version_row(conn: asyncpg.Connection, version_id: int, *, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow("select * from catalogue_versions where id = $1" + (" for update" if lock else ""),
                               version_id)


_SET_STATUS = """
update catalogue_versions
   set status = $2,
       published_at = case when $2 = 'published' then market_now() else published_at end,
       retired_at = case when $2 = 'retired' then market_now() else retired_at end
 where id = $1"""


async def _own_version(conn: asyncpg.Connection, identity: Identity, version_id: int, *, lock: bool = False) -> Version:
    row = await _version_row(conn, version_id, lock=lock)
    if row is None or not can_see(identity, _version(row)):
        raise NotFound()
    version = _version(row)
    if not owns(identity, version.buyer_id):
        raise Forbidden("Only the bureau that keeps this catalogue can change it.")
    return version


async def create_version(conn: asyncpg.Connection, identity: Identity, data: NewVersion) -> int:
    """A new draft for a year, empty or copied from an earlier version the bureau can see."""
    await _require_bureau(conn, identity)
    source: list[StoredEntry] = []
    if data.copy_from is not None:
        source = (await get_version(conn, identity, data.copy_from)).entries
    version_id = await conn.fetchval("""
        insert into catalogue_versions (buyer_id, year, revision, title_zh, title_en)
        values ($1, $2, coalesce((select max(revision) + 1 from catalogue_versions where buyer_id = $1 and year = $2), 1),
                $3, $4)
        returning id""", identity.org_id, data.year, data.title_zh.strip(), data.title_en.strip())
    await _insert_entries(conn, version_id, source)
    await audit.record(conn, verb=Verb.CATALOGUE_CREATE, object_type="catalogue_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"year": data.year, "title_zh": data.title_zh, "copied_from": data.copy_from,
                              "entries": len(source)})
    return version_id


async def _insert_entries(conn: asyncpg.Connection, version_id: int, entries: list[Entry] | list[StoredEntry]) -> None:
    await conn.executemany("""
        insert into catalogue_entries (version_id, code, level, parent_code, name_zh, name_en, description_zh,
                                       description_en, unit_zh, unit_en, price_min_fen, price_max_fen, provider_types,
                                       min_rating, min_years, scope, indicators, position)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)""", [
        (version_id, e.code, e.level, e.parent_code, e.name_zh, e.name_en, e.description_zh, e.description_en,
         e.unit_zh, e.unit_en, e.price_min_fen, e.price_max_fen, e.provider_types, e.min_rating, e.min_years,
         e.scope, msgspec.to_builtins(e.indicators), position)
        for position, e in enumerate(entries, start=1)
    ])


async def import_file(conn: asyncpg.Connection, identity: Identity, version_id: int, data: bytes) -> int:
    """Replace a draft's entries with the file's. A file with any problem imports nothing."""
    await _require_bureau(conn, identity)
    version = await _own_version(conn, identity, version_id, lock=True)
    if version.status != "draft":
        raise Conflict("A published catalogue never changes; make a new draft (copy this one) instead.")
    entries = files.parse_entries(data)
    await conn.execute("delete from catalogue_entries where version_id = $1", version_id)
    await _insert_entries(conn, version_id, entries)
    items = sum(1 for e in entries if e.level == "item")
    await audit.record(conn, verb=Verb.CATALOGUE_IMPORT, object_type="catalogue_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"entries": len(entries), "items": items})
    return len(entries)


async def import_or_problems(conn: asyncpg.Connection, identity: Identity, version_id: int,
                             data: bytes) -> int | list[RowProblem]:
    """`import_file`, with a refused file's problems as the answer (a page lists them) and nothing written."""
    try:
        async with conn.transaction():
            return await import_file(conn, identity, version_id, data)
    except ImportRefused as refused:
        return refused.problems


async def change_status(conn: asyncpg.Connection, identity: Identity, version_id: int, action: str) -> str:
    """Publish or retire (``workflow.VERSION``). Publishing retires the version it replaces."""
    version = await _own_version(conn, identity, version_id, lock=True)
    capacities = {identity.role} if identity.role else set()

    async def publish_or_retire(transition: Transition) -> None:
        if action == "publish":
            items = await conn.fetchval(
                "select count(*) from catalogue_entries where version_id = $1 and level = 'item'", version_id)
            if items == 0:
                raise InvalidFields([Invalid("A catalogue needs at least one item before it is published.")])
            current = await conn.fetchval(
                "select id from catalogue_versions where buyer_id = $1 and status = 'published' for update",
                version.buyer_id)
            if current is not None:
                async def retire(retired: Transition) -> None:
                    await conn.execute(_SET_STATUS, current, retired.target)
                await step(conn, workflow.VERSION, "retire", "published", object_id=current, capacities=capacities,
                           actor=identity.user_id, organisation=identity.org_id, write=retire,
                           after={"replaced_by": version_id})
        await conn.execute(_SET_STATUS, version_id, transition.target)
    moved = await step(conn, workflow.VERSION, action, version.status, object_id=version_id, capacities=capacities,
                       actor=identity.user_id, organisation=identity.org_id, write=publish_or_retire)
    return moved.target


async def delete_draft(conn: asyncpg.Connection, identity: Identity, version_id: int) -> None:
    await _require_bureau(conn, identity)
    version = await _own_version(conn, identity, version_id, lock=True)
    if version.status != "draft":
        raise Conflict("Only a draft can be deleted; a published catalogue stays on record.")
    await conn.execute("delete from catalogue_versions where id = $1", version_id)
    await audit.record(conn, verb=Verb.CATALOGUE_DELETE, object_type="catalogue_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       before={"year": version.year, "title_zh": version.title_zh})


async def get_version(conn: asyncpg.Connection, identity: Identity | None, version_id: int) -> VersionWithEntries:
    row = await _version_row(conn, version_id)
    if row is None or not can_see(identity, _version(row)):
        raise NotFound()
    entries = [_entry(r) for r in await conn.fetch(
        "select * from catalogue_entries where version_id = $1 order by position", version_id)]
    return VersionWithEntries(**{k: row[k] for k in _VERSION_FIELDS}, entries=entries)


async def get_item(conn: asyncpg.Connection, identity: Identity | None, entry_id: int) -> tuple[Version, StoredEntry]:
    row = await conn.fetchrow("select * from catalogue_entries where id = $1", entry_id)
    if row is None:
        raise NotFound()
    version = _version(await _version_row(conn, row["version_id"]))
    if not can_see(identity, version):
        raise NotFound()
    return version, _entry(row)


async def versions_of(conn: asyncpg.Connection, identity: Identity) -> list[Version]:
    if identity.org_id is None:
        return []
    rows = await conn.fetch("select * from catalogue_versions where buyer_id = $1 order by year desc, revision desc",
                            identity.org_id)
    return [_version(r) for r in rows]


_PUBLISHED_COLUMNS = """v.*, o.name_zh as buyer_name_zh, o.name_en as buyer_name_en,
               (select count(*) from catalogue_entries e where e.version_id = v.id and e.level = 'item') as items"""
_PUBLISHED_FROM = "catalogue_versions v join organisations o on o.id = v.buyer_id"
# The latest published first, on the primary key.
_PUBLISHED_ORDER = keyset.Keyset((keyset.Column("v.id", "id", int),))


async def published_page(conn: asyncpg.Connection, *, cursor: str | None = None,
                         limit: int = 50) -> PublishedVersions:
    """A page of the published catalogues, the latest first."""
    filters = keyset.Filters()
    filters.add("v.status = 'published'")
    window = await keyset.fetch(conn, select=_PUBLISHED_COLUMNS, from_=_PUBLISHED_FROM, filters=filters,
                                keyset=_PUBLISHED_ORDER, cursor=cursor, limit=limit, count_from="catalogue_versions v")
    return PublishedVersions(versions=[msgspec.convert(dict(r), PublishedVersion)
                                       for r in window.rows], **keyset.paged_fields(window))


async def published(conn: asyncpg.Connection) -> list[PublishedVersion]:
    return [msgspec.convert(dict(r), PublishedVersion) for r in await conn.fetch("""
        select v.*, o.name_zh as buyer_name_zh, o.name_en as buyer_name_en,
               (select count(*) from catalogue_entries e where e.version_id = v.id and e.level = 'item') as items
          from catalogue_versions v join organisations o on o.id = v.buyer_id
         where v.status = 'published'
         order by o.name_zh, v.year desc""")]


_ITEM_ORDER = (Column("o.name_zh", "buyer_name", str), Column("e.position", "position", int), Column("e.id", "id", int))


async def search_items(conn: asyncpg.Connection, *, q: str | None = None, category: str | None = None,
                       limit: int = 50, cursor: str | None = None) -> FoundItems:
    """Items of the catalogues in force, by bureau and position: given a code, that item; given words,
    those whose names or descriptions (Chinese or English) hold them, an exact name first."""
    where = Filters()
    where.add("e.level = 'item'")
    query = (q or "").strip()
    if re.fullmatch(r"[0-9]{2}(\.[0-9]{2})*", query):
        where.add("e.code = {}", query)
    elif query:
        where.search("e.name_zh || ' ' || e.name_en || ' ' || e.description_zh || ' ' || e.description_en", query)
    if category:
        where.add("e.code like {} || '.%'", category)
    window = await fetch(
        conn, select="e.*, v.buyer_id, v.year, o.name_zh as buyer_name_zh, o.name_en as buyer_name_en",
        from_="catalogue_entries e join catalogue_versions v on v.id = e.version_id and v.status = 'published'"
              " join organisations o on o.id = v.buyer_id",
        filters=where, keyset=ranked(query, ("e.name_zh", "e.name_en"), _ITEM_ORDER, descending=False),
        cursor=cursor, limit=limit)
    return FoundItems(items=[msgspec.convert({k: r[k] for k in _FOUND_FIELDS}, FoundItem) for r in window.rows],
                    **paged_fields(window))


async def export(conn: asyncpg.Connection, identity: Identity | None, version_id: int, fmt: str) -> tuple[str, bytes]:
    version = await get_version(conn, identity, version_id)
    name = f"catalogue-{version.year}-r{version.revision}"
    if fmt == "xlsx":
        return f"{name}.xlsx", files.to_xlsx(version.entries, f"{version.year}")
    return f"{name}.csv", files.to_csv(version.entries)

