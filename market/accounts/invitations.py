"""Invitations: an organisation's administrator asks someone with no account yet to join it. The link is
emailed to the address, so whoever opens it has that mailbox; they create their account from it (or log
in, if they made one meanwhile) and join with the role offered. An account is never tied to an
organisation by its address alone: anyone may sign up with any address."""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg

from market.accounts import queries as sql
from market.accounts.models import AddMember, Invitation, Joining, PendingInvitation, SignUp
from market.accounts.services import (
    add_member,
    insert_membership,
    membership,
    normalise_email,
    require_organisation_admin,
    set_session_organisation,
    sign_up,
    token_hash,
)
from market.audit import services as audit
from market.audit.models import Verb
from market.core.access import ROLE_NAMES, Identity
from market.core.errors import Conflict, Forbidden, Gone, NotFound
from market.core.i18n import N_, Msg, gettext, use_locale
from market.core.settings import Settings
from market.mail.services import Mailer

INVITATION_DAYS = 14
_CLOSED = N_("This invitation is no longer open: it was taken up or withdrawn, or it has expired. Ask the "
             "organisation to invite you again.")


async def add_or_invite(conn: asyncpg.Connection, settings: Settings, mailer: Mailer, identity: Identity,
                        organisation_id: int, data: AddMember) -> str:
    """Add the person whose account uses this address ("added"); where none does, email them an
    invitation to join ("invited")."""
    require_organisation_admin(identity, organisation_id)
    if await conn.fetchrow(sql.USER_BY_EMAIL, normalise_email(data.email)) is not None:
        await add_member(conn, identity, organisation_id, data)
        return "added"
    await invite(conn, settings, mailer, identity, organisation_id, data)
    return "invited"


async def invite(conn: asyncpg.Connection, settings: Settings, mailer: Mailer, identity: Identity,
                 organisation_id: int, data: AddMember) -> int:
    """Email an invitation to join, in the inviter's language; one sent to the address before stops
    working."""
    require_organisation_admin(identity, organisation_id)
    email = normalise_email(data.email)
    if await conn.fetchrow(sql.USER_BY_EMAIL, email) is not None:
        raise Conflict("An account uses this address already: add them as a member.", field="email")
    org = await conn.fetchrow("select name_zh, name_en, status from organisations where id = $1", organisation_id)
    if org is None:
        raise NotFound()
    if org["status"] != "verified":
        # Anyone may register an organisation under any name: until the platform has checked it, it
        # emails no one in the platform's name.
        raise Forbidden("An organisation sends invitations once the platform has verified it. Until then, add "
                        "colleagues who have an account.", field="email")
    token = secrets.token_urlsafe(32)
    await conn.execute(sql.END_OPEN_INVITATION, organisation_id, email)
    invitation_id: int = await conn.fetchval(sql.INSERT_INVITATION, organisation_id, email, data.role,
                                             token_hash(token), identity.user_id, INVITATION_DAYS)
    await audit.record(conn, verb=Verb.MEMBERSHIP_INVITE, object_type="invitation", object_id=invitation_id,
                       actor=identity.user_id, organisation=organisation_id, after={"email": email, "role": data.role})
    with use_locale(identity.locale):
        name = org["name_en"] if identity.locale == "en" and org["name_en"] else org["name_zh"]
        subject = gettext("%(who)s invites you to join %(organisation)s on the public service market",
                          who=identity.display_name, organisation=name)
        body = gettext("%(who)s invites you to join %(organisation)s on the public service market, as %(role)s. To "
                       "accept, open this link within %(days)s days and create your account there (or log in, if you "
                       "have one by then):\n\n%(link)s\n\nIf you were not expecting this, ignore this message.",
                       who=identity.display_name, organisation=name, role=Msg(ROLE_NAMES[data.role]),
                       days=INVITATION_DAYS, link=f"{settings.base_url.rstrip('/')}/invitations/{token}")
    await mailer.send(email, subject, body)
    return invitation_id


async def pending(conn: asyncpg.Connection, identity: Identity, organisation_id: int) -> list[PendingInvitation]:
    """The organisation's invitations still open, newest first."""
    require_organisation_admin(identity, organisation_id)
    return [PendingInvitation(**dict(r)) for r in await conn.fetch(sql.OPEN_INVITATIONS_OF, organisation_id)]


async def withdraw(conn: asyncpg.Connection, identity: Identity, organisation_id: int, invitation_id: int) -> None:
    """Its link stops working."""
    require_organisation_admin(identity, organisation_id)
    if await conn.fetchval(sql.WITHDRAW_INVITATION, invitation_id, organisation_id) is None:
        raise NotFound("This invitation was taken up or withdrawn already.")
    await audit.record(conn, verb=Verb.MEMBERSHIP_INVITE_WITHDRAW, object_type="invitation", object_id=invitation_id,
                       actor=identity.user_id, organisation=organisation_id)


async def invitation(conn: asyncpg.Connection, token: str) -> Invitation:
    """The open invitation this link carries."""
    row = await conn.fetchrow(sql.OPEN_INVITATION, token_hash(token))
    if row is None:
        raise Gone(_CLOSED)
    return Invitation(organisation_id=row["organisation_id"], name_zh=row["name_zh"], name_en=row["name_en"],
                      email=row["email"], role=row["role"], invited_by=row["invited_by"], expires_at=row["expires_at"])


async def accept(conn: asyncpg.Connection, identity: Identity, token: str) -> int:
    """The person logged in joins, and acts for the organisation from now on; its id."""
    organisation_id = await _take(conn, token, identity.user_id)
    await set_session_organisation(conn, token_hash=identity.session_hash, organisation_id=organisation_id)
    return organisation_id


async def sign_up_and_join(conn: asyncpg.Connection, token: str, data: Joining, locale: str) -> int:
    """A new account with the invitation's address, a member of its organisation; the account's id."""
    found = await invitation(conn, token)
    user_id = await sign_up(conn, SignUp(email=found.email, password=data.password, display_name=data.display_name),
                            locale)
    await _take(conn, token, user_id)
    return user_id


async def _take(conn: asyncpg.Connection, token: str, user_id: int) -> int:
    taken = await conn.fetchrow(sql.TAKE_INVITATION, token_hash(token), user_id)
    if taken is None:
        raise Gone(_CLOSED)
    organisation_id: int = taken["organisation_id"]
    joined: dict[str, Any] = {"user_id": user_id, "role": taken["role"], "invitation": taken["id"]}
    if await membership(conn, user_id=user_id, organisation_id=organisation_id) is None:
        await insert_membership(conn, user_id=user_id, organisation_id=organisation_id, role=taken["role"])
    else:
        joined["role"] = None  # a member already: the role they have stays
    await audit.record(conn, verb=Verb.MEMBERSHIP_JOIN, object_type="membership", object_id=f"{organisation_id}:{user_id}",
                       actor=user_id, organisation=organisation_id, after=joined)
    return organisation_id
