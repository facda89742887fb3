"""The purchasing catalogue: a bureau drafts a yearly version, fills it from a file, publishes it
(then it never changes) and retires it. Government may buy only what a published catalogue lists."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.catalogue import files, workflow
from market.catalogue.models import (
    VERSION_STATUS_NAMES,
    Entry,
    Indicator,
    NewVersion,
    StoredEntry,
    Version,
    VersionWithEntries,
)
from market.core.access import ROLE_NAMES, Identity
from market.core.db import fetch, queries, words
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import Msg, gettext

_VERSION_FIELDS = Version.__struct_fields__


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
                        roles="、".join(gettext(ROLE_NAMES[r]) for r in sorted(workflow.EDITORS)))


async def _own_version(conn: asyncpg.Connection, identity: Identity, version_id: int, *, lock: bool = False) -> Version:
    row = await (queries.catalogue.version_for_update if lock else queries.catalogue.version)(conn, id=version_id)
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
    version_id = await queries.catalogue.insert_version(
        conn, buyer_id=identity.org_id, year=data.year, title_zh=data.title_zh.strip(), title_en=data.title_en.strip())
    await _insert_entries(conn, version_id, source)
    await audit.record(conn, verb=Verb.CATALOGUE_CREATE, object_type="catalogue_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"year": data.year, "title_zh": data.title_zh, "copied_from": data.copy_from,
                              "entries": len(source)})
    return version_id


async def _insert_entries(conn: asyncpg.Connection, version_id: int, entries: list[Entry] | list[StoredEntry]) -> None:
    await queries.catalogue.insert_entries(conn, [
        {"version_id": version_id, "code": e.code, "level": e.level, "parent_code": e.parent_code,
         "name_zh": e.name_zh, "name_en": e.name_en, "description_zh": e.description_zh,
         "description_en": e.description_en, "unit_zh": e.unit_zh, "unit_en": e.unit_en,
         "price_min_fen": e.price_min_fen, "price_max_fen": e.price_max_fen, "provider_types": e.provider_types,
         "min_rating": e.min_rating, "min_years": e.min_years, "scope": e.scope,
         "indicators": msgspec.to_builtins(e.indicators), "position": position}
        for position, e in enumerate(entries, start=1)
    ])


async def import_file(conn: asyncpg.Connection, identity: Identity, version_id: int, data: bytes) -> int:
    """Replace a draft's entries with the file's. A file with any problem imports nothing."""
    await _require_bureau(conn, identity)
    version = await _own_version(conn, identity, version_id, lock=True)
    if version.status != "draft":
        raise Conflict("A published catalogue never changes; make a new draft (copy this one) instead.")
    entries = files.parse_entries(data)
    await queries.catalogue.delete_entries(conn, version_id=version_id)
    await _insert_entries(conn, version_id, entries)
    items = sum(1 for e in entries if e.level == "item")
    await audit.record(conn, verb=Verb.CATALOGUE_IMPORT, object_type="catalogue_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"entries": len(entries), "items": items})
    return len(entries)


async def change_status(conn: asyncpg.Connection, identity: Identity, version_id: int, action: str) -> str:
    """Publish or retire (``workflow.TRANSITIONS``). Publishing retires the version it replaces."""
    version = await _own_version(conn, identity, version_id, lock=True)
    step = workflow.find(action, version.status)
    if step is None:
        raise Conflict("This cannot be done to a catalogue whose status is “%(status)s”.",
                       status=Msg(VERSION_STATUS_NAMES[version.status]))
    if identity.role not in step.roles:
        raise Forbidden("Only an administrator of the organisation can do this.")
    if action == "publish":
        items = await conn.fetchval(
            "select count(*) from catalogue_entries where version_id = $1 and level = 'item'", version_id)
        if items == 0:
            raise InvalidFields([Invalid("A catalogue needs at least one item before it is published.")])
        current = await conn.fetchrow(
            "select * from catalogue_versions where buyer_id = $1 and status = 'published' for update", version.buyer_id)
        if current is not None:
            await queries.catalogue.set_version_status(conn, id=current["id"], status="retired")
            await audit.record(conn, verb=Verb.CATALOGUE_RETIRE, object_type="catalogue_version",
                               object_id=current["id"], actor=identity.user_id, organisation=identity.org_id,
                               before={"status": "published"}, after={"status": "retired", "replaced_by": version_id})
    await queries.catalogue.set_version_status(conn, id=version_id, status=step.target)
    await audit.record(conn, verb=Verb(step.verb), object_type="catalogue_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       before={"status": version.status}, after={"status": step.target})
    return step.target


async def delete_draft(conn: asyncpg.Connection, identity: Identity, version_id: int) -> None:
    await _require_bureau(conn, identity)
    version = await _own_version(conn, identity, version_id, lock=True)
    if version.status != "draft":
        raise Conflict("Only a draft can be deleted; a published catalogue stays on record.")
    await queries.catalogue.delete_version(conn, id=version_id)
    await audit.record(conn, verb=Verb.CATALOGUE_DELETE, object_type="catalogue_version", object_id=version_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       before={"year": version.year, "title_zh": version.title_zh})


async def get_version(conn: asyncpg.Connection, identity: Identity | None, version_id: int) -> VersionWithEntries:
    row = await queries.catalogue.version(conn, id=version_id)
    if row is None or not can_see(identity, _version(row)):
        raise NotFound()
    entries = [_entry(r) for r in await fetch(queries.catalogue.entries(conn, version_id=version_id))]
    return VersionWithEntries(**{k: row[k] for k in _VERSION_FIELDS}, entries=entries)


async def get_item(conn: asyncpg.Connection, identity: Identity | None, entry_id: int) -> tuple[Version, StoredEntry]:
    row = await queries.catalogue.entry(conn, id=entry_id)
    if row is None:
        raise NotFound()
    version = _version(await queries.catalogue.version(conn, id=row["version_id"]))
    if not can_see(identity, version):
        raise NotFound()
    return version, _entry(row)


async def versions_of(conn: asyncpg.Connection, identity: Identity) -> list[Version]:
    if identity.org_id is None:
        return []
    return [_version(r) for r in await fetch(queries.catalogue.versions_of_buyer(conn, buyer_id=identity.org_id))]


async def published(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await fetch(queries.catalogue.published_versions(conn))]


async def search_items(conn: asyncpg.Connection, *, q: str | None = None, category: str | None = None,
                       limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    rows = await fetch(queries.catalogue.search_published_items(
        conn, q=words(q), category=category or None, limit=limit, offset=offset))
    return [{**dict(r), "indicators": r["indicators"]} for r in rows]


async def export(conn: asyncpg.Connection, identity: Identity | None, version_id: int, fmt: str) -> tuple[str, bytes]:
    version = await get_version(conn, identity, version_id)
    name = f"catalogue-{version.year}-r{version.revision}"
    if fmt == "xlsx":
        return f"{name}.xlsx", files.to_xlsx(version.entries, f"{version.year}")
    return f"{name}.csv", files.to_csv(version.entries)

