"""The resources list (资源清单): what funders offer — money, goods in kind, venues, volunteer hours —
with the catalogue categories, places and beneficiary groups they prefer and their conditions.

Matched against the needs list it gives the project list (三张清单, seed 003): `for_need` says which
public resources suit a need. A funder's administrators and staff list, change and withdraw its
entries. Entries are public unless marked private; a private entry is its funder's and the
platform's business only, and to everyone else it does not exist (NotFound, never Forbidden). A
withdrawn entry leaves the public list but stays visible to its funder, marked as withdrawn.

Empty preferences mean "any": no categories is any category, no places is anywhere.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock, i18n, keyset
from market.core.access import Identity
from market.core.keyset import Column, Filters, Window, fetch, paged_fields, ranked
from market.core.errors import Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import N_
from market.funding.resources.models import (
    Resource,
    ResourceFit,
    ResourceFits,
    ResourceInput,
    ResourceList,
    ResourceView,
)
from market.places.services import ancestors, within
from market.workflow import Transition, machine, step

EDITOR_ROLES = ("admin", "staff")
# A listed resource is changed or withdrawn by the funder that listed it (its administrators and
# staff); a withdrawn one stays as it was, for the funder's own record.
LISTER = "lister"
RESOURCE = machine("resource", ("listed", "withdrawn"), [
    ("change", "listed", "listed", LISTER, Verb.RESOURCE_EDIT),
    ("withdraw", "listed", "withdrawn", LISTER, Verb.RESOURCE_WITHDRAW),
], action_names={"change": N_("change the resource"), "withdraw": N_("withdraw the resource")},
   status_names={"listed": N_("listed"), "withdrawn": N_("withdrawn")})
_FIELDS = ("kind", "title", "description", "amount_fen", "quantity", "available_from", "available_until",
           "categories", "jurisdiction_ids", "beneficiary_groups", "conditions", "private")
_FROM = "resources r join organisations o on o.id = r.funder_id"
_VIEW = f"""select r.*, o.name_zh as funder_name_zh, o.name_en as funder_name_en
             from {_FROM}"""
# The catalogue's categories are those of the catalogues in force; two bureaus may both use a code.
_CATEGORIES = """select distinct on (e.code) e.code, e.name_zh, e.name_en from catalogue_entries e
                   join catalogue_versions v on v.id = e.version_id and v.status = 'published'
                  where e.level = 'category'"""
_DEPTH = {"district": 0, "street": 1, "community": 2, "grid": 3}


def _today() -> date:
    return clock.today()


def _view(row: Any) -> Resource:
    return Resource(**{k: row[k] for k in Resource.__struct_fields__})


def _name(row: Any) -> str:
    """A bilingual record's name in the current language."""
    return row["name_en"] if i18n.current_locale.get() == "en" and row["name_en"] else row["name_zh"]


def _is_owner(identity: Identity | None, row: Any) -> bool:
    return identity is not None and identity.org_id == row["funder_id"]


def _visible(identity: Identity | None, row: Any) -> bool:
    if _is_owner(identity, row):
        return True
    if identity is not None and identity.is_platform_admin:
        return True
    return not row["private"] and row["withdrawn_at"] is None


def _editor(identity: Identity | None) -> bool:
    return (identity is not None and identity.org_kind == "funder" and identity.acts_for_verified
            and identity.role in EDITOR_ROLES)


def _require_editor(identity: Identity) -> None:
    if not _editor(identity):
        raise Forbidden("Resources are listed by the administrators and staff of verified funders.")


async def categories(conn: asyncpg.Connection) -> list[Any]:
    """The categories of the catalogues in force, for forms and filters."""
    return await conn.fetch(_CATEGORIES + " order by e.code, e.id")


async def _checked(conn: asyncpg.Connection, data: ResourceInput) -> dict[str, Any]:
    """The input tidied up as columns, or every problem with it at once."""
    errors: list[Invalid] = []
    title = data.title.strip()
    if len(title) < 2:
        errors.append(Invalid("Give the resource a title.", field="title"))
    if data.kind == "money" and data.amount_fen is None:
        errors.append(Invalid("Say how much money is offered.", field="amount_fen"))
    if data.kind != "money" and data.amount_fen is not None:
        errors.append(Invalid("Only money has an amount; say how much of anything else under quantity.",
                              field="amount_fen"))
    if data.kind != "money" and not data.quantity.strip():
        errors.append(Invalid("Say how much is offered, such as 200 hours or 500 food parcels.", field="quantity"))
    if data.available_from and data.available_until and data.available_until < data.available_from:
        errors.append(Invalid("The end date must not be before the start date.", field="available_until"))
    elif data.available_until and data.available_until < _today():
        errors.append(Invalid("The end date has passed.", field="available_until"))
    codes = list(dict.fromkeys(data.categories))
    known = {r["code"] for r in await conn.fetch(_CATEGORIES + " and e.code = any($1)", codes)}
    if unknown := [c for c in codes if c not in known]:
        errors.append(Invalid("%(codes)s is not a category of the catalogue in force.", field="categories",
                              codes=i18n.series(unknown)))
    places = list(dict.fromkeys(data.jurisdiction_ids))
    if len(await conn.fetch("select id from jurisdictions where id = any($1)", places)) != len(places):
        errors.append(Invalid("Choose the places from the list.", field="jurisdiction_ids"))
    if errors:
        raise InvalidFields(errors)
    return {"kind": data.kind, "title": title, "description": data.description.strip(), "amount_fen": data.amount_fen,
            "quantity": data.quantity.strip(), "available_from": data.available_from,
            "available_until": data.available_until, "categories": codes, "jurisdiction_ids": places,
            "beneficiary_groups": list(dict.fromkeys(data.beneficiary_groups)),
            "conditions": data.conditions.strip(), "private": data.private}


async def create(conn: asyncpg.Connection, identity: Identity, data: ResourceInput) -> int:
    _require_editor(identity)
    columns = await _checked(conn, data)
    resource_id = await conn.fetchval(
        f"insert into resources (funder_id, created_by, {', '.join(_FIELDS)}) "
        f"values ($1, $2, {', '.join(f'${i}' for i in range(3, len(_FIELDS) + 3))}) returning id",
        identity.org_id, identity.user_id, *(columns[k] for k in _FIELDS))
    await audit.record(conn, verb=Verb.RESOURCE_CREATE, object_type="resource", object_id=resource_id,
                       actor=identity.user_id, organisation=identity.org_id, after=columns)
    return resource_id


async def owned(conn: asyncpg.Connection, identity: Identity, resource_id: int) -> Any:
    """The resource, locked, for its funder's administrators and staff to change; refused to anyone else."""
    row = await conn.fetchrow("select * from resources where id = $1 for update", resource_id)
    if row is None or not _visible(identity, row):
        raise NotFound()
    _require_editor(identity)
    if not _is_owner(identity, row):
        raise Forbidden("Only the funder that listed this resource can change it.")
    RESOURCE.check("change", _status(row), {LISTER})
    return row


def _status(row: Any) -> str:
    return "withdrawn" if row["withdrawn_at"] is not None else "listed"


async def update(conn: asyncpg.Connection, identity: Identity, resource_id: int, data: ResourceInput) -> None:
    row = await owned(conn, identity, resource_id)
    columns = await _checked(conn, data)

    async def write(_: Transition) -> None:
        await conn.execute(f"update resources set {', '.join(f'{k} = ${i}' for i, k in enumerate(_FIELDS, start=2))} "
                           "where id = $1", resource_id, *(columns[k] for k in _FIELDS))

    await step(conn, RESOURCE, "change", _status(row), object_id=resource_id, capacities={LISTER},
               actor=identity.user_id, organisation=identity.org_id, write=write,
               before={k: row[k] for k in _FIELDS}, after=columns)


async def withdraw(conn: asyncpg.Connection, identity: Identity, resource_id: int) -> None:
    """The funder no longer offers it: off the public list, kept for the funder's own record."""
    row = await owned(conn, identity, resource_id)

    async def write(_: Transition) -> None:
        await conn.execute("update resources set withdrawn_at = market_now() where id = $1", resource_id)

    await step(conn, RESOURCE, "withdraw", _status(row), object_id=resource_id, capacities={LISTER},
               actor=identity.user_id, organisation=identity.org_id, write=write, after={"withdrawn": True})


async def get(conn: asyncpg.Connection, identity: Identity | None, resource_id: int) -> Resource:
    row = await conn.fetchrow(_VIEW + " where r.id = $1", resource_id)
    if row is None or not _visible(identity, row):
        raise NotFound()
    return _view(row)


def is_editable_by(identity: Identity | None, resource: Resource) -> bool:
    """Whether the person may change or withdraw it, for pages to offer the buttons."""
    return (identity is not None and _editor(identity) and identity.org_id == resource.funder_id
            and resource.withdrawn_at is None)


_RESOURCE_ORDER = (Column("(r.withdrawn_at is null)", "current", bool), Column("r.created_at", "created_at", datetime),
                   Column("r.id", "id", int))


async def _page(conn: asyncpg.Connection, identity: Identity | None, *, kind: str | None, category: str | None,
                place: int | None, group: str | None, funder: int | None, q: str | None, limit: int,
                cursor: str | None, counted: bool) -> tuple[list[Resource], Window]:
    """The list as this person may see it: current public entries, plus all of their own
    organisation's (private, withdrawn or ended ones too), plus private ones for platform admins;
    those still offered first, then the newest. A filter by category, place or group keeps the
    entries that name it and those open to any."""
    where = Filters()
    current = f"r.withdrawn_at is null and (r.available_until is null or r.available_until >= {where.arg(_today())})"
    if not (identity and identity.is_platform_admin):
        current += " and not r.private"
    if identity and identity.org_id:
        where.add(f"(r.funder_id = {{}} or {current})", identity.org_id)
    else:
        where.clauses.append(current)
    if kind:
        where.add("r.kind = {}", kind)
    if category:
        where.add("(cardinality(r.categories) = 0 or {} = any(r.categories))", category)
    if place is not None:
        places = list({*await ancestors(conn, place), *await within(conn, place)})
        where.add("(cardinality(r.jurisdiction_ids) = 0 or r.jurisdiction_ids && {}::int[])", places)
    if group:
        where.add("(cardinality(r.beneficiary_groups) = 0 or {} = any(r.beneficiary_groups))", group)
    if funder is not None:
        where.add("r.funder_id = {}", funder)
    if q and q.strip():
        where.search("r.title || ' ' || r.description", q.strip())
    window = await fetch(conn, select="r.*, o.name_zh as funder_name_zh, o.name_en as funder_name_en",
                         from_="resources r join organisations o on o.id = r.funder_id", count_from="resources r",
                         filters=where, keyset=ranked(q, ("r.title",), _RESOURCE_ORDER), cursor=cursor, limit=limit,
                         counted=counted)
    return [_view(r) for r in window.rows], window


async def list_resources(conn: asyncpg.Connection, identity: Identity | None, *, kind: str | None = None,
                         category: str | None = None, place: int | None = None, group: str | None = None,
                         funder: int | None = None, q: str | None = None, limit: int = 50) -> list[Resource]:
    """The first entries of the list as this person may see it (see _page), for a glimpse of it."""
    found, _ = await _page(conn, identity, kind=kind, category=category, place=place, group=group, funder=funder, q=q,
                           limit=limit, cursor=None, counted=False)
    return found


async def resource_list(conn: asyncpg.Connection, identity: Identity | None, *, kind: str | None = None,
                        category: str | None = None, place: int | None = None, group: str | None = None,
                        funder: int | None = None, q: str | None = None, limit: int = 50,
                        cursor: str | None = None) -> ResourceList:
    """The list page: `limit` entries beyond the cursor (see _page), whether more follow, and the way on."""
    found, window = await _page(conn, identity, kind=kind, category=category, place=place, group=group, funder=funder,
                                q=q, limit=limit, cursor=cursor, counted=True)
    return ResourceList(resources=found, more=window.next is not None, can_list=_editor(identity),
                        **paged_fields(window))


async def resource_view(conn: asyncpg.Connection, identity: Identity | None, resource_id: int) -> ResourceView:
    resource = await get(conn, identity, resource_id)
    return ResourceView(**{f: getattr(resource, f) for f in Resource.__struct_fields__},
                        editable=is_editable_by(identity, resource))


# Offered now: not withdrawn, and its period (if any) has not ended by the date in $1.
_CURRENT = "withdrawn_at is null and (available_until is null or available_until >= $1)"


async def money_offered(conn: asyncpg.Connection, funder_id: int) -> int:
    """Fen the funder offers now: its money entries not withdrawn whose period has not ended,
    private ones included, so not a figure to publish as it is."""
    return await conn.fetchval(
        f"select coalesce(sum(amount_fen), 0)::bigint from resources where funder_id = $2 and kind = 'money' "
        f"and {_CURRENT}", _today(), funder_id)


async def current_public(conn: asyncpg.Connection, funder_ids: list[int] | None = None) -> list[Any]:
    """Every funder's public entries on offer now, or those of `funder_ids`: what matching reads as the
    funders' stated preferences and the money they offer openly (a private entry stays its funder's
    business)."""
    return await conn.fetch(
        "select funder_id, kind, amount_fen, categories, jurisdiction_ids, beneficiary_groups from resources "
        f"where not private and {_CURRENT} and ($2::bigint[] is null or funder_id = any($2)) order by id", _today(),
        funder_ids)


async def public_offers_for(conn: asyncpg.Connection, category: str, places: list[int], groups: list[str]) -> list[Any]:
    """`current_public` summed up by funder against one project's category, places and beneficiary
    groups: the money each offers, and whether any of its entries names the project's category (places,
    groups) or is open to any."""
    return await conn.fetch(
        f"""select funder_id, coalesce(sum(amount_fen) filter (where kind = 'money'), 0)::bigint as money_fen,
                  bool_or($2 = any(categories)) as names_category, bool_or(categories = '{{}}') as any_category,
                  bool_or(jurisdiction_ids && $3::int[]) as names_place, bool_or(jurisdiction_ids = '{{}}') as anywhere,
                  bool_or(beneficiary_groups && $4::text[]) as names_group,
                  bool_or(beneficiary_groups = '{{}}') as any_group
             from resources where not private and {_CURRENT} group by funder_id""",
        _today(), category, places, groups)


async def for_need(conn: asyncpg.Connection, need_id: int, *, cursor: str | None = None,
                   limit: int = 50) -> ResourceFits:
    """A page of the public current resources that suit a need's category and place, best fit first:
    those naming both, then the category, then the place, then those open to any; older entries
    first on a tie.

    The need's category is that of its project's catalogue item, or else of the item suggested for it;
    a need with neither fits only resources open to any category."""
    need = await conn.fetchrow(
        """select n.community_id, split_part(coalesce(pe.code, se.code), '.', 1) as category
             from needs n left join project_needs pn on pn.need_id = n.id
             left join projects p on p.id = pn.project_id
             left join catalogue_entries pe on pe.id = p.catalogue_entry_id
             left join catalogue_entries se on se.id = n.suggested_entry_id
            where n.id = $1""", need_id)
    if need is None:
        raise NotFound()
    category = need["category"] or None
    places = await ancestors(conn, need["community_id"])
    filters = keyset.Filters()
    filters.add("not r.private and r.withdrawn_at is null and (r.available_until is null or r.available_until >= {})",
                _today())
    category_sql = f"coalesce({filters.arg(category)}::text = any(r.categories), false)"
    place_sql = f"r.jurisdiction_ids && {filters.arg(list(places))}::integer[]"
    filters.add(f"(cardinality(r.categories) = 0 or {category_sql})")
    filters.add(f"(cardinality(r.jurisdiction_ids) = 0 or {place_sql})")
    # Best fit first, then the oldest: one descending key (fit, -id), so the keyset helper pages it.
    fit = f"(2 * {category_sql}::int + ({place_sql})::int)"
    window = await keyset.fetch(
        conn, select=f"r.*, o.name_zh as funder_name_zh, o.name_en as funder_name_en, {fit} as fit, -r.id as back_id",
        from_=_FROM, filters=filters, cursor=cursor, limit=limit, count_from="resources r",
        keyset=keyset.Keyset((keyset.Column(fit, "fit", int), keyset.Column("-r.id", "back_id", int))))
    rows = window.rows
    category_row = await conn.fetchrow(_CATEGORIES + " and e.code = $1 order by e.code, e.id", category)
    # A category no catalogue in force has any more is still named, by its code.
    category_name = _name(category_row) if category_row else category
    place_rows = {r["id"]: r for r in await conn.fetch("select id, name_zh, name_en from jurisdictions "
                                                       "where id = any($1)", list(places))}
    fits = []
    for row in rows:
        names_category = category in row["categories"]
        # The most local of the places it names that contain the need's community.
        named = sorted((j for j in row["jurisdiction_ids"] if j in places), key=lambda j: -_DEPTH[places[j]])
        if names_category and named:
            reason = i18n.gettext("It prefers %(category)s in %(place)s.", category=category_name,
                                  place=_name(place_rows[named[0]]))
        elif names_category:
            reason = i18n.gettext("It prefers %(category)s, anywhere.", category=category_name)
        elif named:
            reason = i18n.gettext("It is offered in %(place)s, for any kind of service.",
                                  place=_name(place_rows[named[0]]))
        else:
            reason = i18n.gettext("It is open to any kind of service, anywhere.")
        fits.append(ResourceFit(resource=_view(row), names_category=names_category, names_place=bool(named),
                                reason=reason))
    return ResourceFits(fits=fits, **keyset.paged_fields(window))
