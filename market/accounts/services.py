"""Accounts: sign-up, log-in with lock-out, sessions, passwords, memberships and acting for an organisation."""

from __future__ import annotations

import hashlib
import re
import secrets

import asyncpg
import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from market.accounts import queries as sql
from market.accounts.models import (
    MIN_PASSWORD_LENGTH,
    Account,
    AccountDetails,
    ActAs,
    AddMember,
    EmailNotices,
    LogIn,
    Member,
    Membership,
    PasswordChange,
    SignUp,
)
from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import LOCALES, N_, gettext, use_locale
from market.core.settings import Settings
from market.mail.services import Mailer
from market.notifications import services as notifications

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password anyone has")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _password_matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str, field: str = "email") -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise Invalid("Enter an email address such as name@example.cn.", field=field)
    return email


def check_password_strength(password: str, email: str = "", field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("The password needs at least %(min)s characters.", field=field, min=MIN_PASSWORD_LENGTH)
    if password.strip() == "" or len(set(password)) < 4:
        raise Invalid("The password is too easy to guess; mix different characters.", field=field)
    if email and email.split("@")[0] and email.split("@")[0] in password.lower():
        raise Invalid("The password must not contain your email name.", field=field)


async def insert_user(conn: asyncpg.Connection, *, email: str, display_name: str, password_hash: str,
                      community_id: int | None, locale: str) -> int | None:
    """The new user's id (no audit: the caller records why it is there); None if the email is taken."""
    user_id: int | None = await conn.fetchval(sql.INSERT_USER, email, display_name, password_hash, community_id,
                                              locale)
    return user_id


async def insert_membership(conn: asyncpg.Connection, *, user_id: int, organisation_id: int, role: str) -> None:
    await conn.execute(sql.INSERT_MEMBERSHIP, user_id, organisation_id, role)


async def membership(conn: asyncpg.Connection, *, user_id: int, organisation_id: int) -> str | None:
    """The user's role in the organisation, or None."""
    role: str | None = await conn.fetchval(sql.MEMBERSHIP, user_id, organisation_id)
    return role


async def set_session_organisation(conn: asyncpg.Connection, *, token_hash: str, organisation_id: int | None) -> None:
    await conn.execute(sql.SET_SESSION_ORGANISATION, token_hash, organisation_id)


async def sign_up(conn: asyncpg.Connection, data: SignUp, locale: str = "zh_Hans") -> int:
    errors: list[Invalid] = []
    email = ""
    try:
        email = normalise_email(data.email)
    except Invalid as exc:
        errors.append(exc)
    try:
        check_password_strength(data.password, email)
    except Invalid as exc:
        errors.append(exc)
    errors += await _details_problems(conn, data.display_name, data.community_id)
    if errors:
        raise InvalidFields(errors)
    user_id = await insert_user(
        conn, email=email, display_name=data.display_name.strip(), password_hash=hash_password(data.password),
        community_id=data.community_id, locale=locale if locale in LOCALES else "zh_Hans",
    )
    if user_id is None:
        raise InvalidFields([Invalid("An account with this email address already exists; log in, or reset "
                                     "the password if you have forgotten it.", field="email")])
    await audit.record(conn, verb=Verb.USER_SIGN_UP, object_type="user", object_id=user_id, actor=user_id,
                       after={"email": email, "display_name": data.display_name.strip()})
    return user_id


class LoginRefused(msgspec.Struct, frozen=True):
    message: str
    # Set when the client's address has failed too often: wait this long. A locked account is not
    # told apart from a wrong password or an unknown address, or the answer would say who has an account.
    retry_after_seconds: int | None = None


_REFUSED = N_("The email address or password is wrong, or the account is locked for a while after too many "
              "failed log-ins. Try again later, or reset the password by email.")


async def authenticate(conn: asyncpg.Connection, settings: Settings, data: LogIn, address: str) -> int | LoginRefused:
    """The user's id, or why not. Never raises for a wrong password: the failure count it writes must
    be committed, so the caller returns the refusal instead of rolling back. The user's row stays
    locked until the caller's transaction ends, so guesses sent in parallel are counted and checked
    one after another: at most `login_max_failures` of them are ever checked against the password."""
    if await conn.fetchval(sql.ADDRESS_FAILURES, address,
                           settings.login_lockout_minutes) >= settings.login_address_max_failures:
        return LoginRefused(gettext("Too many failed log-ins from this address. Try again later."),
                            settings.login_lockout_minutes * 60)
    user = await conn.fetchrow(sql.USER_FOR_LOGIN, data.email.strip().lower())
    now = clock.now()
    locked = user is not None and user["locked_until"] is not None and user["locked_until"] > now
    if user is None or user["status"] != "active" or locked:
        # As long as checking a real password takes, so timing does not tell these apart either.
        _password_matches(_DUMMY_HASH, data.password)
        await conn.execute(sql.RECORD_ADDRESS_FAILURE, address, settings.login_lockout_minutes)
        return LoginRefused(gettext(_REFUSED))
    if not _password_matches(user["password_hash"], data.password):
        await conn.execute(sql.RECORD_ADDRESS_FAILURE, address, settings.login_lockout_minutes)
        row = await conn.fetchrow(sql.RECORD_FAILURE, user["id"], settings.login_max_failures,
                                  settings.login_lockout_minutes)
        if row["locked_until"] is not None and row["locked_until"] > now:
            await audit.record(conn, verb=Verb.USER_LOCK, object_type="user", object_id=user["id"],
                               after={"locked_until": row["locked_until"]})
        return LoginRefused(gettext(_REFUSED))
    await conn.execute(sql.RECORD_SUCCESS, user["id"])
    return user["id"]


async def start_session(conn: asyncpg.Connection, settings: Settings, user_id: int) -> str:
    """A new session for the user, acting for their first organisation if they belong to one."""
    await conn.execute(sql.DELETE_EXPIRED_SESSIONS)
    token = secrets.token_urlsafe(32)
    first = await conn.fetchval(
        "select organisation_id from memberships where user_id = $1 order by created_at, organisation_id limit 1",
        user_id)
    await conn.execute(sql.INSERT_SESSION, token_hash(token), user_id, first, settings.session_hours)
    await audit.record(conn, verb=Verb.USER_LOG_IN, object_type="user", object_id=user_id, actor=user_id,
                       organisation=first)
    return token


async def identity_for(conn: asyncpg.Connection, token: str) -> Identity | None:
    row = await conn.fetchrow(sql.IDENTITY_BY_SESSION, token_hash(token))
    if row is None:
        return None
    return Identity(
        user_id=row["user_id"], email=row["email"], display_name=row["display_name"], locale=row["locale"],
        community_id=row["community_id"], session_hash=row["token_hash"], org_id=row["org_id"],
        org_kind=row["org_kind"], org_status=row["org_status"], org_name_zh=row["org_name_zh"], org_name_en=row["org_name_en"],
        role=row["role"], organisations=row["organisations"],
    )


async def end_session(conn: asyncpg.Connection, identity: Identity) -> None:
    await conn.execute(sql.DELETE_SESSION, identity.session_hash)
    await audit.record(conn, verb=Verb.USER_LOG_OUT, object_type="user", object_id=identity.user_id,
                       actor=identity.user_id, organisation=identity.org_id)


async def change_password(conn: asyncpg.Connection, identity: Identity, data: PasswordChange) -> None:
    user = await conn.fetchrow(sql.USER_BY_ID, identity.user_id)
    if not _password_matches(user["password_hash"], data.current_password):
        raise InvalidFields([Invalid("The current password is wrong.", field="current_password")])
    check_password_strength(data.new_password, user["email"], field="new_password")
    await conn.execute(sql.SET_PASSWORD, identity.user_id, hash_password(data.new_password))
    # Anyone else logged in with the old password is logged out.
    await conn.execute(sql.DELETE_OTHER_SESSIONS, identity.user_id, identity.session_hash)
    await audit.record(conn, verb=Verb.USER_PASSWORD_CHANGE, object_type="user", object_id=identity.user_id,
                       actor=identity.user_id)


async def request_password_reset(conn: asyncpg.Connection, settings: Settings, mailer: Mailer, email: str) -> None:
    """Mail a one-hour reset link if the address has an account; say nothing either way."""
    try:
        email = normalise_email(email)
    except Invalid as exc:
        raise InvalidFields([exc]) from None
    user = await conn.fetchrow(sql.USER_BY_EMAIL, email)
    if user is None or user["status"] != "active":
        return
    token = secrets.token_urlsafe(32)
    await conn.execute(sql.INSERT_RESET, token_hash(token), user["id"])
    await audit.record(conn, verb=Verb.USER_PASSWORD_RESET_REQUEST, object_type="user", object_id=user["id"])
    link = f"{settings.base_url.rstrip('/')}/password/reset/{token}"
    with use_locale(user["locale"]):
        subject = gettext("Reset your password for the public service market")
        body = gettext("Someone asked to reset the password of your account. To choose a new password, open "
                       "this link within one hour:\n\n%(link)s\n\nIf it was not you, ignore this message; your "
                       "password stays as it is.", link=link)
    await mailer.send(email, subject, body)


async def reset_password(conn: asyncpg.Connection, token: str, new_password: str) -> int:
    user_id = await conn.fetchval(sql.TAKE_RESET, token_hash(token))
    if user_id is None:
        raise Invalid("This reset link is invalid, already used or expired. Ask for a new one.")
    user = await conn.fetchrow(sql.USER_BY_ID, user_id)
    check_password_strength(new_password, user["email"], field="new_password")
    await conn.execute(sql.SET_PASSWORD, user_id, hash_password(new_password))
    await conn.execute(sql.DELETE_USER_SESSIONS, user_id)
    await audit.record(conn, verb=Verb.USER_PASSWORD_RESET, object_type="user", object_id=user_id, actor=user_id)
    return user_id


async def _details_problems(conn: asyncpg.Connection, display_name: str, community_id: int | None) -> list[Invalid]:
    problems = []
    if not display_name.strip():
        problems.append(Invalid("Enter your name.", field="display_name"))
    if community_id is not None:
        level = await conn.fetchval("select level from jurisdictions where id = $1", community_id)
        if level != "community":
            problems.append(Invalid("Choose your community from the list.", field="community_id"))
    return problems


async def update_details(conn: asyncpg.Connection, identity: Identity, data: AccountDetails) -> None:
    """The person's name and community, changed by themselves (people move; a name was mistyped)."""
    if problems := await _details_problems(conn, data.display_name, data.community_id):
        raise InvalidFields(problems)
    before = {"display_name": identity.display_name, "community_id": identity.community_id}
    after = {"display_name": data.display_name.strip(), "community_id": data.community_id}
    if after == before:
        return
    await conn.execute(sql.SET_DETAILS, identity.user_id, after["display_name"], after["community_id"])
    await audit.record(conn, verb=Verb.USER_UPDATE, object_type="user", object_id=identity.user_id,
                       actor=identity.user_id, before=before, after=after)


async def set_locale(conn: asyncpg.Connection, identity: Identity, locale: str) -> None:
    if locale in LOCALES and locale != identity.locale:
        await conn.execute(sql.SET_LOCALE, identity.user_id, locale)


async def memberships_of(conn: asyncpg.Connection, user_id: int) -> list[Membership]:
    rows = await conn.fetch(sql.MEMBERSHIPS_OF, user_id)
    return [Membership(r["organisation_id"], r["name_zh"], r["kind"], r["status"], r["role"], r["name_en"] or "")
            for r in rows]


async def account(conn: asyncpg.Connection, identity: Identity) -> Account:
    return Account(user_id=identity.user_id, email=identity.email, display_name=identity.display_name,
                   locale=identity.locale, organisation_id=identity.org_id, organisation_kind=identity.org_kind,
                   organisation_status=identity.org_status, role=identity.role,
                   memberships=await memberships_of(conn, identity.user_id), community_id=identity.community_id,
                   email_notices=await conn.fetchval("select email_notices from users where id = $1", identity.user_id))


async def set_email_notices(conn: asyncpg.Connection, identity: Identity, data: EmailNotices) -> None:
    """How the person wants their notices by email; those not emailed yet follow the new choice."""
    await conn.execute("update users set email_notices = $2 where id = $1", identity.user_id, data.email_notices)
    await notifications.email_by(conn, identity.user_id, data.email_notices)


async def act_as(conn: asyncpg.Connection, identity: Identity, data: ActAs) -> None:
    """Switch the organisation the user acts for (None: act as a resident)."""
    if data.organisation_id is not None:
        role = await conn.fetchval(sql.MEMBERSHIP, identity.user_id, data.organisation_id)
        if role is None:
            raise NotFound("You are not a member of that organisation.")
    await set_session_organisation(conn, token_hash=identity.session_hash, organisation_id=data.organisation_id)
    await audit.record(conn, verb=Verb.USER_ACT_AS, object_type="user", object_id=identity.user_id,
                       actor=identity.user_id, organisation=data.organisation_id,
                       before={"organisation_id": identity.org_id}, after={"organisation_id": data.organisation_id})


def require_organisation_admin(identity: Identity, organisation_id: int) -> None:
    """Only the organisation's own admins (or the platform) manage it. Another organisation's id in
    the URL is answered as if it did not exist."""
    if identity.is_platform_admin:
        return
    if identity.org_id != organisation_id:
        raise NotFound()
    if identity.role != "admin":
        raise Forbidden("Only an administrator of the organisation can do this.")


async def members(conn: asyncpg.Connection, identity: Identity, organisation_id: int) -> list[Member]:
    require_organisation_admin(identity, organisation_id)
    return [Member(**dict(r)) for r in await conn.fetch(sql.MEMBERS_OF, organisation_id)]


async def add_member(conn: asyncpg.Connection, identity: Identity, organisation_id: int, data: AddMember) -> int:
    require_organisation_admin(identity, organisation_id)
    email = normalise_email(data.email)
    user = await conn.fetchrow(sql.USER_BY_EMAIL, email)
    if user is None:
        raise Invalid("No account uses this email address. Ask the person to sign up first, then add them.",
                      field="email")
    if await conn.fetchval(sql.MEMBERSHIP, user["id"], organisation_id):
        raise Conflict("This person is already a member.", field="email")
    await insert_membership(conn, user_id=user["id"], organisation_id=organisation_id, role=data.role)
    await audit.record(conn, verb=Verb.MEMBERSHIP_ADD, object_type="membership",
                       object_id=f"{organisation_id}:{user['id']}", actor=identity.user_id,
                       organisation=organisation_id, after={"user_id": user["id"], "role": data.role})
    # Told as themselves, with the link to act for it: until they switch, nothing of it shows them.
    org = await conn.fetchrow("select name_zh, name_en from organisations where id = $1", organisation_id)
    await notifications.notify(conn, [user["id"]], "member_added", f"/account?for={organisation_id}",
                               who=identity.display_name, organisation=org["name_zh"], organisation_en=org["name_en"] or "")
    return user["id"]


async def remove_member(conn: asyncpg.Connection, identity: Identity, organisation_id: int, user_id: int) -> None:
    require_organisation_admin(identity, organisation_id)
    role = await conn.fetchval(sql.DELETE_MEMBERSHIP, user_id, organisation_id)
    if role is None:
        raise NotFound()
    if role == "admin" and await conn.fetchval(sql.COUNT_ADMINS, organisation_id) == 0:
        raise Conflict("An organisation needs at least one administrator.")
    await audit.record(conn, verb=Verb.MEMBERSHIP_REMOVE, object_type="membership",
                       object_id=f"{organisation_id}:{user_id}", actor=identity.user_id,
                       organisation=organisation_id, before={"user_id": user_id, "role": role})
