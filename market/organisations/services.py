"""Jurisdictions and organisations: registration with a checked credit code, and verification."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec

from market.accounts.services import require_organisation_admin
from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock
from market.core.access import Identity
from market.core.db import fetch, queries, words
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import Msg
from market.core.validation import explain_validation
from market.organisations import credit_code, workflow
from market.organisations.models import (
    BUYER_LEVEL,
    LEVEL_NAMES,
    NO_CREDIT_CODE,
    STATUS_NAMES,
    SUBTYPES,
    Jurisdiction,
    Level,
    Organisation,
    OrganisationInput,
    OrganisationPrivate,
    StatusChange,
)

_PUBLIC_FIELDS = set(Organisation.__struct_fields__)
_PRIVATE_FIELDS = set(OrganisationPrivate.__struct_fields__)


def _public(row: Any) -> Organisation:
    return Organisation(**{k: row[k] for k in _PUBLIC_FIELDS})


def _private(row: Any) -> OrganisationPrivate:
    return OrganisationPrivate(**{k: row[k] for k in _PRIVATE_FIELDS})


async def jurisdictions(conn: asyncpg.Connection) -> list[Jurisdiction]:
    return [Jurisdiction(**dict(r)) for r in await fetch(queries.organisations.all_jurisdictions(conn))]


async def ancestors(conn: asyncpg.Connection, jurisdiction_id: int) -> dict[int, str]:
    """The place itself and every place above it, as {id: level}; empty if there is no such place."""
    return {r["id"]: r["level"] for r in await fetch(queries.organisations.ancestors(conn, id=jurisdiction_id))}


async def add_jurisdiction(conn: asyncpg.Connection, *, parent_id: int | None, level: str, code: str,
                           name_zh: str, name_en: str, actor: int | None = None) -> int:
    jid = await queries.organisations.insert_jurisdiction(
        conn, parent_id=parent_id, level=level, code=code, name_zh=name_zh, name_en=name_en)
    await audit.record(conn, verb=Verb.JURISDICTION_CREATE, object_type="jurisdiction", object_id=jid, actor=actor,
                       after={"parent_id": parent_id, "level": level, "code": code, "name_zh": name_zh})
    return jid


class JurisdictionRow(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Za-z-]{2,32}$")]
    level: Level
    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    name_en: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    parent_code: str = ""


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
    known = {r["code"]: (r["id"], r["level"]) for r in await fetch(queries.organisations.all_jurisdictions(conn))}
    added = 0
    for line, row in enumerate(parsed, start=2):
        parent = known.get(row.parent_code) if row.parent_code else None
        if row.parent_code and parent is None:
            raise Invalid("Line %(line)s: the parent %(parent)s is neither in the file above this line nor in "
                          "the database.", line=line, parent=row.parent_code)
        if row.code in known:
            continue
        expected_parent = {"district": None, "street": "district", "community": "street", "grid": "community"}[row.level]
        if expected_parent is None and parent is not None:
            raise Invalid("Line %(line)s: a district has no parent.", line=line)
        if expected_parent is not None and (parent is None or parent[1] != expected_parent):
            raise Invalid("Line %(line)s: a %(level)s must sit under a %(parent)s.", line=line,
                          level=Msg(LEVEL_NAMES[row.level]), parent=Msg(LEVEL_NAMES[expected_parent]))
        jid = await add_jurisdiction(conn, parent_id=parent[0] if parent else None, level=row.level, code=row.code,
                                     name_zh=row.name_zh, name_en=row.name_en)
        known[row.code] = (jid, row.level)
        added += 1
    return added


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
    if code and await queries.organisations.organisation_by_code(conn, credit_code=code):
        errors.append(Invalid("An organisation with this unified social credit code is already registered. "
                              "Ask its administrator to add you as a member.", field="credit_code"))
    place = await queries.organisations.jurisdiction(conn, id=data.jurisdiction_id)
    if place is None:
        errors.append(Invalid("Choose a district, street or community from the list.", field="jurisdiction_id"))
    elif data.kind == "buyer" and place["level"] != BUYER_LEVEL.get(data.subtype):
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
    org_id = await queries.organisations.insert_organisation(
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
    await queries.accounts.insert_membership(conn, user_id=identity.user_id, organisation_id=org_id, role="admin")
    await queries.accounts.set_session_organisation(conn, token_hash=identity.session_hash, organisation_id=org_id)
    after = dict(await queries.organisations.organisation(conn, id=org_id))
    await audit.record(conn, verb=Verb.ORGANISATION_REGISTER, object_type="organisation", object_id=org_id,
                       actor=identity.user_id, organisation=org_id, after=after)
    return org_id


def can_see_private(identity: Identity | None, organisation_id: int) -> bool:
    return identity is not None and (identity.is_platform_admin or identity.org_id == organisation_id)


async def get_public(conn: asyncpg.Connection, identity: Identity | None, organisation_id: int) -> Organisation:
    """An organisation's public profile. Until verified it is visible only to its members and the platform."""
    row = await queries.organisations.organisation(conn, id=organisation_id)
    hidden = row is not None and (row["kind"] == "platform" or row["status"] != "verified")
    if row is None or (hidden and not can_see_private(identity, organisation_id)):
        raise NotFound()
    return _public(row)


async def get_private(conn: asyncpg.Connection, identity: Identity, organisation_id: int) -> OrganisationPrivate:
    if not can_see_private(identity, organisation_id):
        raise NotFound()
    row = await queries.organisations.organisation(conn, id=organisation_id)
    if row is None:
        raise NotFound()
    return _private(row)


async def update(conn: asyncpg.Connection, identity: Identity, organisation_id: int, data: OrganisationInput) -> None:
    """Edit the profile. Kind, type, credit code and place are what was verified, so they stay."""
    require_organisation_admin(identity, organisation_id)
    before = await queries.organisations.organisation_for_update(conn, id=organisation_id)
    if before is None:
        raise NotFound()
    if data.kind != before["kind"] or data.subtype != before["subtype"]:
        raise Invalid("The kind and type of a registered organisation cannot be changed.", field="subtype")
    if data.rating is not None and before["kind"] != "provider":
        raise Invalid("Only social organisations have an evaluation rating (1A–5A).", field="rating")
    await queries.organisations.update_organisation(
        conn, id=organisation_id, name_zh=data.name_zh.strip(), name_en=data.name_en.strip(),
        description=data.description, contact_name=data.contact_name, contact_phone=data.contact_phone,
        contact_email=data.contact_email, address=data.address, rating=data.rating,
        bank_account_name=data.bank_account_name.strip(), bank_name=data.bank_name.strip(),
        bank_account_number=data.bank_account_number.strip(),
    )
    after = await queries.organisations.organisation(conn, id=organisation_id)
    await audit.record(conn, verb=Verb.ORGANISATION_UPDATE, object_type="organisation", object_id=organisation_id,
                       actor=identity.user_id, organisation=organisation_id, before=dict(before), after=dict(after))


async def change_status(conn: asyncpg.Connection, identity: Identity, organisation_id: int, action: str,
                        data: StatusChange) -> str:
    """Take one step of the organisation life cycle (``workflow.TRANSITIONS``); refuse any other."""
    row = await queries.organisations.organisation_for_update(conn, id=organisation_id)
    if row is None or (row["kind"] == "platform"):
        raise NotFound()
    step = workflow.find(action, row["status"])
    if step is None:
        raise Conflict("This cannot be done to an organisation whose status is “%(status)s”.",
                       status=Msg(STATUS_NAMES[row["status"]]))
    if step.by == "platform_admin" and not identity.is_platform_admin:
        raise Forbidden("Only a platform administrator can do this.")
    if step.by == "organisation_admin":
        require_organisation_admin(identity, organisation_id)
    reason = data.reason.strip()
    if action in workflow.REASON_REQUIRED and not reason:
        raise InvalidFields([Invalid("Give the reason; the organisation will see it.", field="reason")])
    await queries.organisations.set_status(conn, id=organisation_id, status=step.target, reason=reason)
    await audit.record(conn, verb=Verb(step.verb), object_type="organisation", object_id=organisation_id,
                       actor=identity.user_id, organisation=organisation_id,
                       before={"status": row["status"]}, after={"status": step.target, "reason": reason or None})
    return step.target


async def directory(conn: asyncpg.Connection, *, kind: str | None = None, q: str | None = None,
                    limit: int = 50, offset: int = 0) -> list[Organisation]:
    rows = await fetch(queries.organisations.public_organisations(conn, kind=kind, q=words(q), limit=limit, offset=offset))
    return [_public(r) for r in rows]


async def count_directory(conn: asyncpg.Connection, *, kind: str | None = None, q: str | None = None) -> int:
    """How many organisations `directory` lists in all, for its pages."""
    return await queries.organisations.count_public_organisations(conn, kind=kind, q=q or None)


async def bank_account(conn: asyncpg.Connection, organisation_id: int) -> dict[str, str] | None:
    """The account to transfer money to the organisation, for those who pay it; None if not given."""
    row = await conn.fetchrow("select bank_account_name, bank_name, bank_account_number from organisations "
                              "where id = $1", organisation_id)
    return dict(row) if row and row["bank_account_number"] else None


async def awaiting_verification(conn: asyncpg.Connection, identity: Identity, limit: int = 100) -> list[OrganisationPrivate]:
    if not identity.is_platform_admin:
        raise Forbidden("Only a platform administrator can do this.")
    return [_private(r) for r in await fetch(queries.organisations.organisations_with_status(conn, status="pending", limit=limit))]
