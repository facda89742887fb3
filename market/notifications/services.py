"""Notifications: what each party cares about, in an in-app inbox and by email.

A notification is written in the same transaction as the event it reports, so it exists exactly
when the event does; email goes out afterwards from the outbox, in the recipient's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

import asyncpg
import msgspec
import structlog

from market.core import keyset
from market.core.i18n import bilingual, format_date, gettext, ngettext, use_locale
from market.core.settings import Settings
from market.mail.services import Mailer

log = structlog.get_logger(__name__)

# kind → message, with the parameters every notification of that kind carries; each domain
# declares its own (`Domain.notification_kinds`) and the app installs them here.
KINDS: dict[str, str] = {}
URGENT: set[str] = set()  # kinds emailed at once whatever a person chose, but never


def register_kinds(kinds: dict[str, str], urgent: set[str] | frozenset[str] = frozenset()) -> None:
    if unknown := set(urgent) - set(kinds):
        raise ValueError(f"urgent notices of no declared kind: {sorted(unknown)}")
    KINDS.update(kinds)
    URGENT.update(urgent)


class Notification(msgspec.Struct, frozen=True):
    id: int
    kind: str
    text: str
    link: str
    created_at: datetime
    read_at: datetime | None
    # The organisation the notice is for (None: for the person as themselves), in the page's language.
    organisation_id: int | None = None
    organisation_name: str | None = None


# A notice waits for the outbox, the person's daily digest or nothing, as they chose (users.email_notices);
# an urgent one ($6) skips the digest.
_NOTIFY = """
insert into notifications (user_id, organisation_id, kind, params, link, email_status)
select $1, $2, $3, $4, $5, case u.email_notices when 'none' then 'skipped' when 'daily' then
                               case when $6 then 'pending' else 'digest' end else 'pending' end
  from users u where u.id = $1
on conflict do nothing"""
EMAIL_STATUS = {"each": "pending", "daily": "digest", "none": "skipped"}


class Recipient(NamedTuple):
    """Someone told as one of an organisation's people."""

    user_id: int
    organisation_id: int


async def notify(conn: asyncpg.Connection, recipients: Iterable[int | Recipient], kind: str, link: str,
                 **params: Any) -> int:
    """Queue one notification per person, inside the caller's transaction: a user id is told as
    themselves, a `Recipient` as one of its organisation's people (the first such, where one person is
    reached through several)."""
    if kind not in KINDS:
        raise ValueError(kind)
    organisation: dict[int, int | None] = {}
    for r in recipients:
        user, org = (r.user_id, r.organisation_id) if isinstance(r, Recipient) else (r, None)
        if organisation.get(user) is None:
            organisation[user] = org
    urgent = kind in URGENT
    await conn.executemany(_NOTIFY, [(u, organisation[u], kind, params, link, urgent) for u in sorted(organisation)])
    return len(organisation)


async def members_of(conn: asyncpg.Connection, organisation_ids: list[int],
                     roles: tuple[str, ...] = ("admin", "staff")) -> list[Recipient]:
    """The organisations' people in these roles, in the order of the organisations given."""
    rows = await conn.fetch("select user_id, organisation_id from memberships "
                            "where organisation_id = any($1) and role = any($2) "
                            "order by array_position($1, organisation_id), user_id",
                            organisation_ids, list(roles))
    return [Recipient(r["user_id"], r["organisation_id"]) for r in rows]


def titled(record: Any) -> dict[str, str]:
    """A notice's `title` in both languages, from a row or a Struct with `title_zh` and `title_en`."""
    get = record.get if hasattr(record, "keys") else lambda key: getattr(record, key)
    return {"title": get("title_zh"), "title_en": get("title_en") or ""}


# A day a notice names (a due date, a deadline), kept as ISO 8601 in its parameters.
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _text(kind: str, params: dict[str, Any]) -> str:
    """The notification in the current language. A name or title given in both languages (`title` and
    `title_en`) is shown in English on an English page or email where it has an English one; a day is
    written as the pages write it ("Dec 8, 2026", "2026年12月8日"), not as it is kept."""
    def shown(key: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if _DAY.fullmatch(value):
            return format_date(date.fromisoformat(value))
        return bilingual(value, params.get(f"{key}_en") or "")
    return gettext(KINDS[kind], **{k: shown(k, v) for k, v in params.items() if not k.endswith("_en")})


async def unread(conn: asyncpg.Connection, user_id: int) -> int:
    return await conn.fetchval("select count(*) from notifications where user_id = $1 and read_at is null", user_id)


class Inbox(keyset.Paged, kw_only=True):
    """The inbox page: a page of the person's notifications (or of the unread ones), newest first, and
    how many there are."""

    items: list[Notification]
    unread_only: bool = False


_NEWEST_FIRST = keyset.Keyset((keyset.Column("n.id", "id", int),))


async def inbox_page(conn: asyncpg.Connection, user_id: int, *, unread_only: bool = False, cursor: str | None = None,
                     limit: int = 50) -> Inbox:
    """A page of the person's notices, each on a stable key (its id), so one arriving while they read
    neither repeats nor hides another on the next page."""
    where = keyset.Filters()
    where.add("n.user_id = {}", user_id)
    if unread_only:
        where.add("n.read_at is null")
    window = await keyset.fetch(conn, select="n.*, o.name_zh, o.name_en",
                                from_="notifications n left join organisations o on o.id = n.organisation_id",
                                count_from="notifications n", filters=where, keyset=_NEWEST_FIRST, cursor=cursor,
                                limit=limit)
    return Inbox(items=[Notification(r["id"], r["kind"], _text(r["kind"], r["params"]), r["link"], r["created_at"],
                                     r["read_at"], r["organisation_id"],
                                     r["name_zh"] and bilingual(r["name_zh"], r["name_en"] or ""))
                        for r in window.rows],
                 unread_only=unread_only, **keyset.paged_fields(window))


async def open_notification(conn: asyncpg.Connection, user_id: int, acting_for: int | None,
                            notification_id: int) -> str | None:
    """Where one of the person's own notifications leads (None: not theirs or gone), marking it read.
    A notice for another organisation they work for leads first to the switch, set to that organisation
    and coming back here, and stays unread: its page would refuse them acting for this one."""
    row = await conn.fetchrow(
        """select n.link, n.organisation_id, m.user_id is not null as member from notifications n
             left join memberships m on m.organisation_id = n.organisation_id and m.user_id = n.user_id
            where n.id = $1 and n.user_id = $2""", notification_id, user_id)
    if row is None:
        return None
    if row["member"] and row["organisation_id"] != acting_for:
        return f"/account?for={row['organisation_id']}&next=/inbox/{notification_id}#act-as"
    await mark_read(conn, user_id, notification_id)
    link: str = row["link"]
    return link


async def mark_read(conn: asyncpg.Connection, user_id: int, notification_id: int | None = None) -> None:
    """Mark one (or, with None, all) of the person's own notifications read; another's id changes nothing."""
    await conn.execute("update notifications set read_at = market_now() where user_id = $1 and read_at is null "
                       "and ($2::bigint is null or id = $2)", user_id, notification_id)


async def email_by(conn: asyncpg.Connection, user_id: int, choice: str) -> None:
    """The notices not emailed yet wait, from now on, as the person now chooses; those they chose not to
    have emailed are not sent after all."""
    await conn.execute("update notifications set email_status = $2 where user_id = $1 "
                       "and email_status in ('pending', 'digest') and email_status <> $2", user_id, EMAIL_STATUS[choice])


# A notice with what its email needs: the person's address and language, and its organisation's name.
_TO_EMAIL = """select n.*, u.email, u.locale, o.name_zh, o.name_en from notifications n
                 join users u on u.id = n.user_id left join organisations o on o.id = n.organisation_id"""


def _for(row: Any) -> str:
    """Which organisation a notice is for, where it is for one: someone in several reads which."""
    return gettext("For %(organisation)s.", organisation=bilingual(row["name_zh"], row["name_en"] or "")) \
        if row["name_zh"] else ""


async def _deliver(conn: asyncpg.Connection, mailer: Mailer, ids: list[int], to: str, subject: str, body: str) -> bool:
    try:
        await mailer.send(to, subject, body)
        status = "sent"
    except OSError as exc:  # an unreachable mail server: keep the inbox entries, note the failure
        log.warning("notification.email_failed", ids=ids, error=str(exc))
        status = "failed"
    await conn.execute("update notifications set email_status = $2, emailed_at = market_now() where id = any($1)",
                       ids, status)
    return status == "sent"


async def send_digests(pool: asyncpg.Pool, mailer: Mailer, settings: Settings, limit: int = 50) -> int:
    """Email each person who asked for a daily digest their notices waiting for it, once the oldest has
    waited a day: at most one email a day. A person's digest is sent by one process (an advisory lock
    on them), so however many processes run this, no notice goes out twice."""
    async with pool.acquire() as conn:
        due = [r["user_id"] for r in await conn.fetch(
            """select user_id from notifications where email_status = 'digest' group by user_id
                having min(created_at) <= market_now() - interval '1 day' order by user_id limit $1""", limit)]
    sent = 0
    for user_id in due:
        async with pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("select pg_try_advisory_xact_lock(hashtext('notification digest'), $1)",
                                       user_id):
                continue
            rows = await conn.fetch(_TO_EMAIL + " where n.user_id = $1 and n.email_status = 'digest' order by n.id",
                                    user_id)
            if not rows:
                continue
            base = settings.base_url.rstrip("/")
            with use_locale(rows[0]["locale"]):
                subject = ngettext("%(num)s notice on the Public Service Market",
                                   "%(num)s notices on the Public Service Market", len(rows))
                body = "\n\n".join(" ".join(filter(None, (_text(r["kind"], r["params"]), _for(r)))) + "\n"
                                     + base + r["link"] for r in rows)
                body += "\n\n" + gettext("You get your notices in one email a day, and reminders of a deadline a day "
                                         "or two away at once. Change this on your account page: %(link)s",
                                         link=base + "/account#email")
            sent += await _deliver(conn, mailer, [r["id"] for r in rows], rows[0]["email"], subject, body)
    return sent


async def send_pending(pool: asyncpg.Pool, mailer: Mailer, settings: Settings, limit: int = 50) -> int:
    """Email what is pending. Each row is claimed with SKIP LOCKED, so any number of processes may run
    this at once without sending a message twice."""
    sent = 0
    for _ in range(limit):
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_TO_EMAIL + " where n.email_status = 'pending' order by n.id limit 1 "
                                      "for update of n skip locked")
            if row is None:
                break
            with use_locale(row["locale"]):
                subject = _text(row["kind"], row["params"])
                body = gettext("%(text)s\n\nOpen: %(link)s", text=subject,
                               link=settings.base_url.rstrip("/") + row["link"])
                body = "\n".join(filter(None, (body, _for(row))))
            sent += await _deliver(conn, mailer, [row["id"]], row["email"], subject, body)
    return sent
