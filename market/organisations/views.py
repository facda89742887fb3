"""What the organisation pages show, each one Struct that the page renders and its JSON twin returns."""

from __future__ import annotations

import asyncpg
import msgspec

from market.accounts import invitations
from market.accounts import services as accounts
from market.accounts.models import Member, PendingInvitation
from market.core.access import Identity
from market.core.errors import Forbidden
from market.core.keyset import Paged, paged_fields
from market.organisations import services as organisations
from market.organisations import workflow
from market.organisations.models import Organisation, OrganisationPrivate
from market.places import services as places
from market.places.models import Jurisdiction
from market.storage import services as storage
from market.storage.services import StoredFile


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation's page: what anyone sees, what its members and the platform see besides
    (`private`, `documents`), and the platform's decisions that can be taken now (`actions`)."""

    org: Organisation
    place: Jurisdiction
    private: OrganisationPrivate | None = None
    documents: list[StoredFile] = []
    public_documents: list[StoredFile] = []
    actions: list[str] = []


class Directory(Paged, kw_only=True):
    """Verified organisations, by kind and words of the name (Chinese or English): a page of them, the
    places they are in and how many there are in all."""

    kind: str | None
    q: str
    organisations: list[Organisation]
    places: dict[int, Jurisdiction]


class Members(msgspec.Struct, frozen=True, kw_only=True):
    org: OrganisationPrivate
    members: list[Member]
    invitations: list[PendingInvitation]  # sent to people with no account yet, not taken up


class AwaitingVerification(msgspec.Struct, frozen=True, kw_only=True):
    organisations: list[OrganisationPrivate]
    places: dict[int, Jurisdiction]


async def _places(conn: asyncpg.Connection, organisations: list[Organisation] | list[OrganisationPrivate]) -> dict[int, Jurisdiction]:
    """The places of the organisations shown, to name them."""
    return await places.named(conn, [o.jurisdiction_id for o in organisations])


async def profile(conn: asyncpg.Connection, identity: Identity | None, organisation_id: int) -> Profile:
    org = await organisations.get_public(conn, identity, organisation_id)
    place = await places.jurisdiction(conn, org.jurisdiction_id)
    assert place is not None  # a foreign key
    if identity is None or not organisations.can_see_private(identity, organisation_id):
        return Profile(org=org, place=place, public_documents=await storage.public_files(conn, organisation_id))
    actions = [t.action for t in workflow.ORGANISATION.transitions
               if t.source == org.status and "platform_admin" in t.who] if identity.is_platform_admin else []
    return Profile(org=org, place=place, private=await organisations.get_private(conn, identity, organisation_id),
                   documents=await storage.organisation_files(conn, identity, organisation_id), actions=actions)


async def directory(conn: asyncpg.Connection, *, kind: str | None, q: str | None, limit: int,
                    cursor: str | None) -> Directory:
    found, window = await organisations.directory(conn, kind=kind, q=q, limit=limit, cursor=cursor)
    return Directory(kind=kind, q=q or "", organisations=found, places=await _places(conn, found),
                     **paged_fields(window))


async def members(conn: asyncpg.Connection, identity: Identity, organisation_id: int) -> Members:
    """An organisation's members, for its administrators (and the platform)."""
    people = await accounts.members(conn, identity, organisation_id)
    return Members(org=await organisations.get_private(conn, identity, organisation_id), members=people,
                   invitations=await invitations.pending(conn, identity, organisation_id))


async def awaiting_verification(conn: asyncpg.Connection, identity: Identity) -> AwaitingVerification:
    if not identity.is_platform_admin:
        raise Forbidden("Only a platform administrator can do this.")
    waiting = await organisations.awaiting_verification(conn, identity)
    return AwaitingVerification(organisations=waiting, places=await _places(conn, waiting))
