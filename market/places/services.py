"""Places: the jurisdiction tree every need, organisation and resident sits in, and the walks up
(`ancestors`) and down (`within`) it that areas of responsibility are checked with."""

from __future__ import annotations

import time

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core import keyset
from market.core.kept import Kept
from market.core.db import words
from market.core.errors import Invalid
from market.core.i18n import Msg
from market.core.validation import explain_validation
from market.places.models import (
    LEVEL_NAMES,
    PARENT_LEVEL,
    Jurisdiction,
    JurisdictionRow,
    PlacePicker,
    Places,
)

_ALL = "select id, parent_id, level, code, name_zh, name_en from jurisdictions order by id"


async def jurisdictions(conn: asyncpg.Connection) -> list[Jurisdiction]:
    return [Jurisdiction(**dict(r)) for r in await conn.fetch(_ALL)]


async def jurisdiction(conn: asyncpg.Connection, jurisdiction_id: int) -> Jurisdiction | None:
    row = await conn.fetchrow("select id, parent_id, level, code, name_zh, name_en from jurisdictions "
                              "where id = $1", jurisdiction_id)
    return Jurisdiction(**dict(row)) if row else None


_COLUMNS = "j.id, j.parent_id, j.level, j.code, j.name_zh, j.name_en"
# Children in the order they were added (the tree's own order), on the index (parent_id, id).
_BY_ID = keyset.Keyset((keyset.Column("j.id", "id", int),), descending=False)
# A place's line up the tree, the district first.
_PATH = f"""
    with recursive up as (
        select {_COLUMNS}, 0 as depth from jurisdictions j where j.id = $1
        union all
        select {_COLUMNS}, up.depth + 1 from jurisdictions j join up on j.id = up.parent_id
    )
    select id, parent_id, level, code, name_zh, name_en from up order by depth desc"""
# Exact names first, then names that begin with the words, then the higher levels, then the shorter.
_SEARCH = f"""
    select {_COLUMNS} from jurisdictions j
     where j.name_zh like '%' || $1 || '%' or lower(j.name_en) like '%' || lower($1) || '%'
     order by (j.name_zh = $2 or lower(j.name_en) = lower($2)) desc,
              (j.name_zh like $1 || '%' or lower(j.name_en) like lower($1) || '%') desc,
              array_position(array['district', 'street', 'community', 'grid'], j.level),
              length(j.name_zh), j.id
     limit $3"""


def _place(row: asyncpg.Record) -> Jurisdiction:
    return Jurisdiction(**dict(row))


# Places change only through `insert_jurisdiction` (`market jurisdictions import` adds them, or renames
# one by its code), and every list page names its rows' places and offers the districts: each process
# keeps the places (and so the lines up the tree) and the first pages of children it has read for
# PLACES_FOR seconds, so a place added or renamed by another process shows everywhere within that (at
# once in the process that did it). Naming a page's places and listing the districts were a tenth of
# the needs list's processor time.
PLACES_FOR = 60.0
_KEPT_UP_TO = 100_000
_named: Kept[int, Jurisdiction] = Kept(_KEPT_UP_TO)
_children: Kept[tuple[int | None, int], Places] = Kept(_KEPT_UP_TO)


def forget() -> None:
    """Drop what this process keeps of the places (after it changed one; each test's are its own)."""
    _named.clear()
    _children.clear()


async def children(conn: asyncpg.Connection, parent_id: int | None, *, cursor: str | None = None,
                   limit: int = 200) -> Places:
    """The places directly below one (the districts for None), a page at a time."""
    kept = _children.get((parent_id, limit), PLACES_FOR) if cursor is None else None
    if kept is not None:
        return kept
    filters = keyset.Filters()
    if parent_id is None:
        filters.add("j.parent_id is null")
    else:
        filters.add("j.parent_id = {}", parent_id)
    window = await keyset.fetch(conn, select=_COLUMNS, from_="jurisdictions j", filters=filters, keyset=_BY_ID,
                                cursor=cursor, limit=limit)
    found = Places(items=[_place(r) for r in window.rows], **keyset.paged_fields(window))
    if cursor is None:
        _children.put((parent_id, limit), found)
    return found


async def search(conn: asyncpg.Connection, q: str, *, limit: int = 20) -> Places:
    """The places whose Chinese or English name holds the words (`%` and `_` meaning themselves), the
    best `limit` matches: an exact name first, then names beginning with the words."""
    pattern = words(q)
    if pattern is None:
        return Places(items=[])
    found = [_place(r) for r in await conn.fetch(_SEARCH, pattern, q.strip(), limit)]
    return Places(items=found, total=len(found))


async def path(conn: asyncpg.Connection, jurisdiction_id: int) -> list[Jurisdiction]:
    """The place and the places above it, the district first; empty if there is no such place."""
    if not 0 < jurisdiction_id < 2**31:  # not an id a place can have (ids are PostgreSQL integers)
        return []
    now, line = time.monotonic(), []
    at: int | None = jurisdiction_id
    while at is not None and (kept := _named.get(at, PLACES_FOR)) is not None:
        line.append(kept)
        at = kept.parent_id
    if at is None:
        return line[::-1]
    line = [_place(r) for r in await conn.fetch(_PATH, jurisdiction_id)]
    _keep(now, line)
    return line


async def picker(conn: asyncpg.Connection, chosen_id: int | None) -> PlacePicker:
    """A place filter or field at `chosen_id` (nothing chosen: None, or a place that does not exist)."""
    line = await path(conn, chosen_id) if chosen_id else []
    chosen = line[-1] if line else None
    below = await children(conn, chosen.id if chosen else None)
    return PlacePicker(chosen=chosen, path=line, children=below.items)


async def form_picker(conn: asyncpg.Connection, *, value: int | None, browse: int | None,
                      leaf: str | None = None) -> tuple[PlacePicker, list[Jurisdiction]]:
    """A form's place field and what its select offers. The form page goes a level at a time with
    `browse` (links carry it); without it the field opens around its value, among its siblings when
    only `leaf`-level places may be chosen. The select offers the places of the `leaf` level below
    the picker's place, or, any level being allowed, that place and those directly below it. Opened
    with neither, a level with a single place (a city of one district) is gone through at once."""
    at = browse
    if at is None and value is not None:
        line = await path(conn, value)
        at = (line[-2].id if len(line) > 1 and leaf is not None and line[-1].level == leaf else value) if line else None
    shown = await picker(conn, at)
    while at is None and len(shown.children) == 1 and shown.children[0].level != leaf:
        shown = await picker(conn, shown.children[0].id)
    if leaf is not None:
        return shown, [c for c in shown.children if c.level == leaf]
    return shown, ([shown.chosen] if shown.chosen else []) + shown.children


async def named(conn: asyncpg.Connection, ids: list[int] | set[int]) -> dict[int, Jurisdiction]:
    """These places by id (to name the places of the rows a page shows)."""
    now, found, asked = time.monotonic(), {}, []
    for place_id in set(ids):
        kept = _named.get(place_id, PLACES_FOR)
        if kept is not None:
            found[place_id] = kept
        else:
            asked.append(place_id)
    if asked:
        fetched = [_place(r) for r in await conn.fetch(f"select {_COLUMNS} from jurisdictions j where j.id = any($1::int[])",
                                                       sorted(asked))]
        _keep(now, fetched)
        found.update((place.id, place) for place in fetched)
    return found


def _keep(now: float, read: list[Jurisdiction]) -> None:
    for place in read:
        _named.put(place.id, place, at=now)


async def ancestors(conn: asyncpg.Connection, jurisdiction_id: int) -> dict[int, str]:
    """The place itself and every place above it, as {id: level}; empty if there is no such place."""
    rows = await conn.fetch("""
        with recursive up as (
            select id, parent_id, level from jurisdictions where id = $1
            union all
            select j.id, j.parent_id, j.level from jurisdictions j join up on j.id = up.parent_id
        )
        select id, level from up""", jurisdiction_id)
    return {r["id"]: r["level"] for r in rows}


async def column_for(conn: asyncpg.Connection, jurisdiction_id: int, alias: str) -> str:
    """Of a table whose rows carry their community, street and district, each indexed (needs, 0056;
    complaints, 0070), the column that holds this place: a place of no level, or none at all, matches
    no community and so no row."""
    place = await jurisdiction(conn, jurisdiction_id)
    return f"{alias}." + {"district": "district_id", "street": "street_id"}.get(place.level if place else "",
                                                                             "community_id")


async def within(conn: asyncpg.Connection, jurisdiction_id: int) -> list[int]:
    """The place and every place below it."""
    rows = await conn.fetch("""
        with recursive down as (
            select id from jurisdictions where id = $1
            union all
            select j.id from jurisdictions j join down on j.parent_id = down.id
        )
        select id from down""", jurisdiction_id)
    return [r["id"] for r in rows]


async def district_of(conn: asyncpg.Connection, jurisdiction_id: int) -> int | None:
    """The district the place lies in (itself if it is one)."""
    return next((j for j, level in (await ancestors(conn, jurisdiction_id)).items() if level == "district"), None)


async def insert_jurisdiction(conn: asyncpg.Connection, *, parent_id: int | None, level: str, code: str,
                              name_zh: str, name_en: str) -> int:
    """The place's row, added or (by its code) renamed; no audit entry (see add_jurisdiction)."""
    jid: int = await conn.fetchval("""
        insert into jurisdictions (parent_id, level, code, name_zh, name_en) values ($1, $2, $3, $4, $5)
        on conflict (code) do update set name_zh = excluded.name_zh
        returning id""", parent_id, level, code, name_zh, name_en)
    forget()
    return jid


async def add_jurisdiction(conn: asyncpg.Connection, *, parent_id: int | None, level: str, code: str,
                           name_zh: str, name_en: str, actor: int | None = None) -> int:
    jid = await insert_jurisdiction(conn, parent_id=parent_id, level=level, code=code, name_zh=name_zh,
                                    name_en=name_en)
    await audit.record(conn, verb=Verb.JURISDICTION_CREATE, object_type="jurisdiction", object_id=jid, actor=actor,
                       after={"parent_id": parent_id, "level": level, "code": code, "name_zh": name_zh})
    return jid


async def import_jurisdictions(conn: asyncpg.Connection, rows: list[dict[str, str]]) -> int:
    """Add a jurisdiction tree from rows (code, parent_code, level, name_zh, name_en), parents first.
    Every row is checked before anything is written; the first problem is reported with its line."""
    parsed: list[JurisdictionRow] = []
    for line, row in enumerate(rows, start=2):
        try:
            parsed.append(msgspec.convert({k: (v or "").strip() for k, v in row.items() if k}, JurisdictionRow))
        except msgspec.ValidationError as exc:
            problem = explain_validation(str(exc))
            raise Invalid("Line %(line)s, column %(column)s: %(problem)s", line=line, column=problem.field or "?",
                          problem=Msg(problem.message) if not problem.params else problem.text()) from None
    known = {j.code: (j.id, j.level) for j in await jurisdictions(conn)}
    added = 0
    for line, place in enumerate(parsed, start=2):
        parent = known.get(place.parent_code) if place.parent_code else None
        if place.parent_code and parent is None:
            raise Invalid("Line %(line)s: the parent %(parent)s is neither in the file above this line nor in "
                          "the database.", line=line, parent=place.parent_code)
        if place.code in known:
            continue
        expected_parent = PARENT_LEVEL[place.level]
        if expected_parent is None and parent is not None:
            raise Invalid("Line %(line)s: a district has no parent.", line=line)
        if expected_parent is not None and (parent is None or parent[1] != expected_parent):
            raise Invalid("Line %(line)s: a %(level)s must sit under a %(parent)s.", line=line,
                          level=Msg(LEVEL_NAMES[place.level]), parent=Msg(LEVEL_NAMES[expected_parent]))
        jid = await add_jurisdiction(conn, parent_id=parent[0] if parent else None, level=place.level, code=place.code,
                                     name_zh=place.name_zh, name_en=place.name_en)
        known[place.code] = (jid, place.level)
        added += 1
    return added
