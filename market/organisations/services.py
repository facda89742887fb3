"""Organisations: registration with a checked credit code, profiles, and verification."""

from __future__ import annotations

from typing import Any

import asyncpg

from market.accounts import services as accounts
from market.accounts.services import require_organisation_admin
from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock
from market.core.access import Identity
from market.core.keyset import Column, Filters, Window, fetch, ranked
from market.core.errors import Forbidden, Invalid, InvalidFields, NotFound
from market.organisations import credit_code, workflow
from market.organisations.models import (
    BUYER_LEVEL,
    NO_CREDIT_CODE,
    SUBTYPES,
    Organisation,
    OrganisationInput,
    OrganisationPrivate,
    StatusChange,
)
from market.notifications import services as notifications
from market.places import services as places
from market.workflow import step

_PUBLIC_FIELDS = set(Organisation.__struct_fields__)
_PRIVATE_FIELDS = set(OrganisationPrivate.__struct_fields__)
# The directory: verified organisations, the platform left out, by kind and words of the name.


def _public(row: Any) -> Organisation:
    return Organisation(**{k: row[k] for k in _PUBLIC_FIELDS})


def _private(row: Any) -> OrganisationPrivate:
    return OrganisationPrivate(**{k: row[k] for k in _PRIVATE_FIELDS})


async def _row(conn: asyncpg.Connection, organisation_id: int, *, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow("select * from organisations where id = $1" + (" for update" if lock else ""),
                               organisation_id)


async def insert_organisation(conn: asyncpg.Connection, *, kind: str, subtype: str, name_zh: str, name_en: str,
                              credit_code: str | None, jurisdiction_id: int, rating: int | None,
                              registration_date: Any, description: str, contact_name: str, contact_phone: str,
                              contact_email: str, address: str, status: str) -> int | None:
    """The new organisation's row (no audit: the caller records why it is there); None if its
    credit code is taken."""
    org_id: int | None = await conn.fetchval("""
        insert into organisations (kind, subtype, name_zh, name_en, credit_code, jurisdiction_id, rating,
                                   registration_date, description, contact_name, contact_phone, contact_email,
                                   address, status, verified_at)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                case when $14 = 'verified' then market_now() end)
        on conflict (credit_code) do nothing
        returning id""", kind, subtype, name_zh, name_en, credit_code, jurisdiction_id, rating, registration_date,
        description, contact_name, contact_phone, contact_email, address, status)
    return org_id


async def _check(conn: asyncpg.Connection, data: OrganisationInput) -> tuple[str | None, list[Invalid]]:
    errors: list[Invalid] = []
    if data.subtype not in SUBTYPES[data.kind]:
        errors.append(Invalid("This type does not belong to the chosen kind of organisation.", field="subtype"))
    code: str | None = None
    if data.credit_code and data.credit_code.strip():
        try:
            code = credit_code.validate(data.credit_code)
        except Invalid as exc:
            errors.append(exc)
    elif data.subtype not in NO_CREDIT_CODE:
        errors.append(Invalid("Enter the organisation's 18-character unified social credit code.", field="credit_code"))
    if code and await conn.fetchval("select id from organisations where credit_code = $1", code):
        errors.append(Invalid("An organisation with this unified social credit code is already registered. "
                              "Ask its administrator to add you as a member.", field="credit_code"))
    place = await places.jurisdiction(conn, data.jurisdiction_id)
    if place is None:
        errors.append(Invalid("Choose a district, street or community from the list.", field="jurisdiction_id"))
    elif data.kind == "buyer" and place.level != BUYER_LEVEL.get(data.subtype):
        errors.append(Invalid("A civil-affairs bureau belongs to a district, a street office to a street and a "
                              "community committee to a community.", field="jurisdiction_id"))
    if data.kind == "provider":
        if data.registration_date is None:
            errors.append(Invalid("Enter the date the organisation was registered.", field="registration_date"))
        elif data.registration_date > clock.today():
            errors.append(Invalid("The registration date cannot be in the future.", field="registration_date"))
    elif data.rating is not None:
        errors.append(Invalid("Only social organisations have an evaluation rating (1A–5A).", field="rating"))
    return code, errors


async def register(conn: asyncpg.Connection, identity: Identity, data: OrganisationInput) -> int:
    """Register an organisation; it waits for the platform to verify it, and its registrant is its admin."""
    code, errors = await _check(conn, data)
    if errors:
        raise InvalidFields(errors)
    org_id = await insert_organisation(
        conn, kind=data.kind, subtype=data.subtype, name_zh=data.name_zh.strip(), name_en=data.name_en.strip(),
        credit_code=code, jurisdiction_id=data.jurisdiction_id,
        rating=data.rating if data.kind == "provider" else None,
        registration_date=data.registration_date if data.kind == "provider" else None,
        description=data.description, contact_name=data.contact_name, contact_phone=data.contact_phone,
        contact_email=data.contact_email, address=data.address, status="pending",
    )
    if org_id is None:  # a concurrent registration of the same code won the race
        raise InvalidFields([Invalid("An organisation with this unified social credit code is already registered.",
                                     field="credit_code")])
    await accounts.insert_membership(conn, user_id=identity.user_id, organisation_id=org_id, role="admin")
    await accounts.set_session_organisation(conn, token_hash=identity.session_hash, organisation_id=org_id)
    after = dict(await _row(conn, org_id) or {})
    await audit.record(conn, verb=Verb.ORGANISATION_REGISTER, object_type="organisation", object_id=org_id,
                       actor=identity.user_id, organisation=org_id, after=after)
    return org_id


def can_see_private(identity: Identity | None, organisation_id: int) -> bool:
    return identity is not None and (identity.is_platform_admin or identity.org_id == organisation_id)


async def get_public(conn: asyncpg.Connection, identity: Identity | None, organisation_id: int) -> Organisation:
    """An organisation's public profile. Until verified it is visible only to its members and the platform."""
    row = await _row(conn, organisation_id)
    hidden = row is not None and (row["kind"] == "platform" or row["status"] != "verified")
    if row is None or (hidden and not can_see_private(identity, organisation_id)):
        raise NotFound()
    return _public(row)


async def get_private(conn: asyncpg.Connection, identity: Identity, organisation_id: int) -> OrganisationPrivate:
    if not can_see_private(identity, organisation_id):
        raise NotFound()
    row = await _row(conn, organisation_id)
    if row is None:
        raise NotFound()
    return _private(row)


async def update(conn: asyncpg.Connection, identity: Identity, organisation_id: int, data: OrganisationInput) -> None:
    """Edit the profile. Kind, type, credit code and place are what was verified, so they stay."""
    require_organisation_admin(identity, organisation_id)
    before = await _row(conn, organisation_id, lock=True)
    if before is None:
        raise NotFound()
    if data.kind != before["kind"] or data.subtype != before["subtype"]:
        raise Invalid("The kind and type of a registered organisation cannot be changed.", field="subtype")
    if data.rating is not None and before["kind"] != "provider":
        raise Invalid("Only social organisations have an evaluation rating (1A–5A).", field="rating")
    await conn.execute("""
        update organisations
           set name_zh = $2, name_en = $3, description = $4, contact_name = $5, contact_phone = $6,
               contact_email = $7, address = $8, rating = $9, bank_account_name = $10, bank_name = $11,
               bank_account_number = $12
         where id = $1""", organisation_id, data.name_zh.strip(), data.name_en.strip(), data.description,
        data.contact_name, data.contact_phone, data.contact_email, data.address, data.rating,
        data.bank_account_name.strip(), data.bank_name.strip(), data.bank_account_number.strip())
    after = await _row(conn, organisation_id)
    # Locked above and updated since, in this transaction: it is still there.
    assert after is not None
    await audit.record(conn, verb=Verb.ORGANISATION_UPDATE, object_type="organisation", object_id=organisation_id,
                       actor=identity.user_id, organisation=organisation_id, before=dict(before), after=dict(after))


def capacities(identity: Identity, organisation_id: int) -> set[str]:
    """In which capacities the person may move the organisation (see workflow.ORGANISATION)."""
    if identity.is_platform_admin:
        return {"platform_admin", "organisation_admin"}
    if identity.org_id == organisation_id and identity.role == "admin":
        return {"organisation_admin"}
    return set()


async def change_status(conn: asyncpg.Connection, identity: Identity, organisation_id: int, action: str,
                        data: StatusChange) -> str:
    """Take one step of the organisation life cycle (``workflow.ORGANISATION``); refuse any other."""
    row = await _row(conn, organisation_id, lock=True)
    if row is None or (row["kind"] == "platform"):
        raise NotFound()
    reason = data.reason.strip()

    async def write(transition: Any) -> None:
        if action in workflow.REASON_REQUIRED and not reason:
            raise InvalidFields([Invalid("Give the reason; the organisation will see it.", field="reason")])
        await conn.execute("""
            update organisations
               set status = $2, status_reason = $3,
                   verified_at = case when $2 = 'verified' then coalesce(verified_at, market_now())
                                      else verified_at end
             where id = $1""", organisation_id, transition.target, reason)
    moved = await step(conn, workflow.ORGANISATION, action, row["status"], object_id=organisation_id,
                       capacities=capacities(identity, organisation_id), actor=identity.user_id,
                       organisation=organisation_id, write=write, after={"reason": reason or None})
    if (kind := workflow.TOLD.get(action)) is not None:
        # Its people learn the platform's decision, and why, without having to look for it.
        people = await notifications.members_of(conn, [organisation_id], ("admin", "staff", "finance", "evaluator"))
        await notifications.notify(conn, people, kind, f"/organisations/{organisation_id}", organisation=row["name_zh"],
                                   organisation_en=row["name_en"] or "", reason=reason)
    return moved.target


_DIRECTORY_ORDER = (Column("o.kind", "kind", str), Column("o.name_zh", "name_zh", str), Column("o.id", "id", int))


async def directory(conn: asyncpg.Connection, *, kind: str | None = None, q: str | None = None,
                    limit: int = 50, cursor: str | None = None) -> tuple[list[Organisation], Window]:
    """The directory: verified organisations (the platform left out) by kind, then name; given words,
    those whose name in either language holds them, an exact name first."""
    where = Filters()
    where.add("o.status = 'verified' and o.kind <> 'platform'")
    if kind:
        where.add("o.kind = {}", kind)
    if q and q.strip():
        where.search("o.name_zh || ' ' || o.name_en", q.strip())
    window = await fetch(conn, select="o.*", from_="organisations o", filters=where, cursor=cursor, limit=limit,
                         keyset=ranked(q, ("o.name_zh", "o.name_en"), _DIRECTORY_ORDER, descending=False))
    return [_public(r) for r in window.rows], window


async def bank_account(conn: asyncpg.Connection, organisation_id: int) -> dict[str, str] | None:
    """The account to transfer money to the organisation, for those who pay it; None if not given."""
    row = await conn.fetchrow("select bank_account_name, bank_name, bank_account_number from organisations "
                              "where id = $1", organisation_id)
    return dict(row) if row and row["bank_account_number"] else None


async def awaiting_verification(conn: asyncpg.Connection, identity: Identity, limit: int = 100) -> list[OrganisationPrivate]:
    if not identity.is_platform_admin:
        raise Forbidden("Only a platform administrator can do this.")
    rows = await conn.fetch("select * from organisations where status = 'pending' order by created_at, id limit $1",
                            limit)
    return [_private(r) for r in rows]


async def verified_by_kind(conn: asyncpg.Connection) -> dict[str, int]:
    """How many verified organisations there are of each kind (the platform left out)."""
    rows = await conn.fetch("select kind, count(*) as n from organisations where status = 'verified' "
                            "and kind <> 'platform' group by kind")
    return {r["kind"]: r["n"] for r in rows}


async def overseer_of(conn: asyncpg.Connection, organisation_id: int) -> int | None:
    """The buyer one level up, where a late matter escalates: the nearest verified buyer placed strictly
    above the organisation's own place (a community's committee → its street office → the district's
    bureau). A provider, funder or evaluator is overseen by the nearest buyer at or above its place.
    None at the top of the tree, and for the platform, which oversees the top (`complaints.finding_of`)."""
    return await conn.fetchval("""
        with recursive up as (
            select j.id, j.parent_id, 0 as depth from organisations o join jurisdictions j on j.id = o.jurisdiction_id
             where o.id = $1 and o.kind <> 'platform'
            union all
            select j.id, j.parent_id, up.depth + 1 from jurisdictions j join up on j.id = up.parent_id
        )
        select b.id from up join organisations b on b.jurisdiction_id = up.id
         where b.kind = 'buyer' and b.status = 'verified' and b.id <> $1
           and (up.depth > 0 or (select kind from organisations where id = $1) <> 'buyer')
         order by up.depth, b.id limit 1""", organisation_id)
