"""Complaints: lodging and dispatch by category, the steps of the life cycle with their guards, what
each reader sees, the public list and figures, and the workbench's lists. Services work without HTTP.

Who reads what: the complaint's text, photos and the complainant's contact details are read by the
organisation responsible and the organisations it was escalated to (and, except the contact details,
by the complainant and the platform's administrators); the public sees only where, what kind, who
answers for it and how it stands."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from market.audit import services as audit
from market.audit.models import Verb
from market.complaints import days
from market.complaints.models import (
    MAX_PHOTOS,
    OPEN,
    PHOTO_TYPES,
    AnswerInput,
    Categories,
    Category,
    CategoryInput,
    ComplaintInput,
    ComplaintList,
    ComplaintView,
    Escalation,
    Figures,
    Finding,
    LodgeForm,
    Lodged,
    OrganisationFigures,
    Party,
    Photo,
    Place,
    PublicComplaint,
    RatingInput,
    ReopenInput,
)
from market.complaints.workflow import COMPLAINT
from market.core import clock, i18n, keyset
from market.core.access import Identity
from market.core.domain import WorkbenchList
from market.core.errors import Forbidden, Invalid, InvalidFields, NotFound
from market.core.settings import Settings
from market.notifications import services as notifications
from market.organisations.services import overseer_of
from market.places import services as places
from market.rectification import services as rectification
from market.storage import services as files
from market.storage.interfaces import FileStorage
from market.workflow import Notice, step

# What the organisation shows to close an upheld complaint's finding (one text, as an indicator's evidence is).
EVIDENCE_OF_REMEDY = "整改措施说明及整改后的照片或记录 / What was put right, with photos or records of it"

HANDLER_ROLES = ("admin", "staff")

_CATEGORIES = "select * from complaint_categories order by position, id"
_CATEGORY = "select * from complaint_categories where id = $1"

# The nearest verified buyer at or above a place, of a subtype when one is asked for.
_BUYER_ABOVE = """
    with recursive up as (
        select id, parent_id, 0 as depth from jurisdictions where id = $1
        union all
        select j.id, j.parent_id, up.depth + 1 from jurisdictions j join up on j.id = up.parent_id
    )
    select b.id from up join organisations b on b.jurisdiction_id = up.id
     where b.kind = 'buyer' and b.status = 'verified' and ($2::text is null or b.subtype = $2)
     order by up.depth, b.id limit 1"""
_PROJECT = "select id, buyer_id, title_zh, title_en, status from projects where id = $1"
_PROJECT_PROVIDER = """
    select k.provider_id from calls c join contracts k on k.call_id = c.id
     where c.project_id = $1 and k.status = 'signed' order by k.id desc limit 1"""
_ORGANISATION = "select id, kind, status, name_zh, name_en from organisations where id = $1"
_INSERT = """
    insert into complaints (category_id, community_id, address, project_id, provider_id, body, lodged_by_kind,
                            user_id, complainant_org_id, contact_name, contact_phone, tracking_hash, responsible_id,
                            acknowledge_by, answer_by, due_on, lodged_on)
    values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $14, $16)
    returning id"""
_COMPLAINT = "select * from complaints where id = $1"
_COMPLAINT_FOR_UPDATE = "select * from complaints where id = $1 for update"
_ESCALATED_TO = "select organisation_id from complaint_escalations where complaint_id = $1 and organisation_id is not null"
_ESCALATIONS = """
    select e.level, e.escalated_at, e.due_was, o.id, o.name_zh, o.name_en
      from complaint_escalations e left join organisations o on o.id = e.organisation_id
     where e.complaint_id = $1 order by e.level"""
_PHOTOS = """
    select f.* from complaint_photos p join files f on f.id = p.file_id
     where p.complaint_id = $1 order by p.added_at, f.filename"""


def _category(row: asyncpg.Record) -> Category:
    return Category(**{k: row[k] for k in Category.__struct_fields__})


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tracking_link(token: str) -> str:
    return f"/complaints/track/{token}"


async def categories(conn: asyncpg.Connection, active_only: bool = False) -> list[Category]:
    return [_category(r) for r in await conn.fetch(_CATEGORIES) if r["active"] or not active_only]


async def categories_view(conn: asyncpg.Connection, identity: Identity | None) -> Categories:
    return Categories(categories=await categories(conn), editable=bool(identity and identity.is_platform_admin))


async def update_category(conn: asyncpg.Connection, identity: Identity, category_id: int, data: CategoryInput) -> None:
    """The platform's administrators set who a category goes to and its time limits; complaints
    already lodged keep the deadlines they were given."""
    if not identity.is_platform_admin:
        raise Forbidden("Only the platform's administrators can change the complaint categories.")
    before = await conn.fetchrow(_CATEGORY + " for update", category_id)
    if before is None:
        raise NotFound()
    await conn.execute("update complaint_categories set responsible = $2, acknowledge_days = $3, answer_days = $4, "
                       "day_kind = $5, active = $6 where id = $1", category_id, data.responsible,
                       data.acknowledge_days, data.answer_days, data.day_kind, data.active)
    fields = ("responsible", "acknowledge_days", "answer_days", "day_kind", "active")
    await audit.record(conn, verb=Verb.COMPLAINT_CATEGORY_UPDATE, object_type="complaint_category",
                       object_id=category_id, actor=identity.user_id, organisation=identity.org_id,
                       before={k: before[k] for k in fields}, after={k: getattr(data, k) for k in fields})


async def lodge_form(conn: asyncpg.Connection, project_id: int | None = None,
                     provider_id: int | None = None, *, community: int | None = None,
                     browse: int | None = None) -> LodgeForm:
    """What the lodging form offers; a poster's link may name the project or the organisation. The
    community is chosen a level at a time (places.form_picker), opening around `community`."""
    project = await conn.fetchrow(_PROJECT, project_id) if project_id else None
    provider = await conn.fetchrow(_ORGANISATION, provider_id) if provider_id else None
    picker, communities = await places.form_picker(conn, value=community, browse=browse, leaf="community")
    return LodgeForm(
        categories=await categories(conn, active_only=True), place_picker=picker,
        communities=[Place(id=c.id, name_zh=c.name_zh, name_en=c.name_en) for c in communities],
        project=Party(id=project["id"], name_zh=project["title_zh"], name_en=project["title_en"]) if project else None,
        provider=Party(id=provider["id"], name_zh=provider["name_zh"], name_en=provider["name_en"])
        if provider and provider["kind"] == "provider" else None)


async def _buyer_above(conn: asyncpg.Connection, place: int, subtype: str | None = None) -> int | None:
    found: int | None = await conn.fetchval(_BUYER_ABOVE, place, subtype)
    return found


async def responsible_for(conn: asyncpg.Connection, category: asyncpg.Record, community_id: int,
                          project: asyncpg.Record | None, provider_id: int | None) -> int | None:
    """Who answers for a complaint of this category: the project's provider (its signed contract's),
    the project's buyer, the community's residents' committee or the district's bureau; when there is
    none, the nearest buyer at or above the community."""
    chosen: int | None = None
    if category["responsible"] == "provider":
        chosen = (await conn.fetchval(_PROJECT_PROVIDER, project["id"]) if project else None) or provider_id
    elif category["responsible"] == "buyer":
        chosen = project["buyer_id"] if project else None
    elif category["responsible"] == "community":
        chosen = await conn.fetchval(
            "select id from organisations where kind = 'buyer' and subtype = 'community' and status = 'verified' "
            "and jurisdiction_id = $1 order by id limit 1", community_id)
    else:
        chosen = await _buyer_above(conn, community_id, "bureau")
    return chosen or await _buyer_above(conn, community_id)


def _kind_of(identity: Identity | None) -> tuple[str, int | None]:
    """Who lodges: an NGO or a buyer acting for its verified organisation, else a resident."""
    if identity is not None and identity.acts_for_verified:
        if identity.org_kind == "provider":
            return "ngo", identity.org_id
        if identity.org_kind == "buyer":
            return "buyer", identity.org_id
    return "resident", None


async def lodge(conn: asyncpg.Connection, storage: FileStorage, settings: Settings, identity: Identity | None,
                data: ComplaintInput, photos: Sequence[tuple[bytes, str]] = ()) -> Lodged:
    """Lodge a complaint and dispatch it to the organisation responsible, with its deadlines; the
    private tracking link is what a complainant without an account follows it by."""
    category = await conn.fetchrow(_CATEGORY, data.category_id)
    problems: list[Invalid] = []
    if category is None or not category["active"]:
        problems.append(Invalid("Choose one of the options offered.", field="category_id"))
    level = await conn.fetchval("select level from jurisdictions where id = $1", data.community_id)
    if level != "community":
        problems.append(Invalid("Choose the community where it happened.", field="community_id"))
    project = await conn.fetchrow(_PROJECT, data.project_id) if data.project_id else None
    if data.project_id and project is None:
        problems.append(Invalid("There is no such project.", field="project_id"))
    provider = await conn.fetchrow(_ORGANISATION, data.provider_id) if data.provider_id else None
    if data.provider_id and (provider is None or provider["kind"] != "provider"):
        problems.append(Invalid("There is no such social organisation.", field="provider_id"))
    if len(photos) > MAX_PHOTOS:
        problems.append(Invalid("At most %(n)s photos.", field="photos", n=MAX_PHOTOS))
    for content, _ in photos:
        if files.detect_type(content) not in PHOTO_TYPES:
            problems.append(Invalid("A photo must be a JPEG, PNG or WebP image.", field="photos"))
            break
    if problems:
        raise InvalidFields(problems)
    assert category is not None
    responsible = await responsible_for(conn, category, data.community_id, project, data.provider_id)
    if responsible is None:
        raise Invalid("No organisation answers for complaints in this place yet. Call the district's hotline.",
                      field="community_id")
    today = clock.today()
    acknowledge_by = days.add_days(today, category["acknowledge_days"], category["day_kind"])
    answer_by = days.add_days(today, category["answer_days"], category["day_kind"])
    kind, org = _kind_of(identity)
    token = secrets.token_urlsafe(24)
    complaint_id = await conn.fetchval(
        _INSERT, category["id"], data.community_id, data.address.strip(), data.project_id, data.provider_id,
        data.body.strip(), kind, identity.user_id if identity else None, org, data.contact_name.strip(),
        data.contact_phone.strip(), token_hash(token), responsible, acknowledge_by, answer_by, today)
    for content, filename in photos:
        stored = await files.store(conn, storage, settings, identity, content, filename, "private",
                                   strip_location=True)
        await conn.execute("insert into complaint_photos (complaint_id, file_id) values ($1, $2)", complaint_id,
                           stored.id)
    await audit.record(conn, verb=Verb.COMPLAINT_LODGE, object_type="complaint", object_id=complaint_id,
                       actor=identity.user_id if identity else None, organisation=responsible,
                       after={"status": "dispatched", "category": category["code"], "responsible_id": responsible,
                              "acknowledge_by": acknowledge_by.isoformat(), "answer_by": answer_by.isoformat(),
                              "photos": len(photos)})
    await notifications.notify(conn, await notifications.members_of(conn, [responsible], HANDLER_ROLES),
                               "complaint_dispatched", f"/complaints/{complaint_id}", number=complaint_id,
                               acknowledge_by=acknowledge_by.isoformat(), answer_by=answer_by.isoformat())
    return Lodged(id=complaint_id, tracking_link=tracking_link(token))


async def by_token(conn: asyncpg.Connection, token: str) -> int:
    complaint_id: int | None = await conn.fetchval("select id from complaints where tracking_hash = $1",
                                                   token_hash(token))
    if complaint_id is None:
        raise NotFound()
    return complaint_id


async def _escalated_to(conn: asyncpg.Connection, complaint_id: int) -> set[int]:
    return {r["organisation_id"] for r in await conn.fetch(_ESCALATED_TO, complaint_id)}


def capacities(identity: Identity | None, row: asyncpg.Record, escalated_to: set[int],
               token: str | None = None) -> set[str]:
    """As whom this reader acts on the complaint: responsible, escalated (to its organisation),
    complainant (its account, or its tracking link)."""
    out: set[str] = set()
    if identity is not None and identity.acts_for_verified and identity.role in HANDLER_ROLES:
        if identity.org_id == row["responsible_id"]:
            out.add("responsible")
        if identity.org_id in escalated_to:
            out.add("escalated")
    by_link = token is not None and secrets.compare_digest(token_hash(token), row["tracking_hash"])
    if by_link or (identity is not None and row["user_id"] == identity.user_id):
        out.add("complainant")
    return out


async def _readable(conn: asyncpg.Connection, identity: Identity | None, complaint_id: int, token: str | None,
                    lock: bool = False) -> tuple[asyncpg.Record, set[str], set[int]]:
    row = await conn.fetchrow(_COMPLAINT_FOR_UPDATE if lock else _COMPLAINT, complaint_id)
    if row is None:
        raise NotFound()
    escalated = await _escalated_to(conn, complaint_id)
    caps = capacities(identity, row, escalated, token)
    if not caps and not (identity is not None and identity.is_platform_admin):
        raise NotFound()
    return row, caps, escalated


def _late(row: asyncpg.Record, today: date) -> bool:
    return row["status"] in OPEN and row["due_on"] < today


async def complaint_view(conn: asyncpg.Connection, settings: Settings, identity: Identity | None,
                         complaint_id: int, token: str | None = None) -> ComplaintView:
    row, caps, _ = await _readable(conn, identity, complaint_id, token)
    handler = bool(caps & {"responsible", "escalated"})
    category = _category(await conn.fetchrow(_CATEGORY, row["category_id"]))
    community = await conn.fetchrow("select id, name_zh, name_en from jurisdictions where id = $1",
                                    row["community_id"])
    responsible = await conn.fetchrow(_ORGANISATION, row["responsible_id"])
    project = await conn.fetchrow(_PROJECT, row["project_id"]) if row["project_id"] else None
    provider = await conn.fetchrow(_ORGANISATION, row["provider_id"]) if row["provider_id"] else None
    photos = []
    for f in await conn.fetch(_PHOTOS, complaint_id):
        if token is not None and "complainant" in caps:
            link = f"{tracking_link(token)}/photos/{f['id']}"
        elif identity is not None:
            # The complaint has decided who reads it; storage makes the link out to this reader alone.
            record = files.StoredFile(**{k: f[k] for k in files.StoredFile.__struct_fields__})
            link = files.granted_link(settings, record, identity).url
        else:
            continue
        photos.append(Photo(file_id=f["id"], filename=f["filename"], link=link))
    escalations = [Escalation(level=e["level"], escalated_at=e["escalated_at"], due_was=e["due_was"],
                              organisation=Party(id=e["id"], name_zh=e["name_zh"], name_en=e["name_en"])
                              if e["id"] else None)
                   for e in await conn.fetch(_ESCALATIONS, complaint_id)]
    actions = [a for a in COMPLAINT.actions_from(row["status"])
               if (t := COMPLAINT.find(a, row["status"])) is not None and t.who & caps]
    if "reopen" in actions and row["reopened_at"] is not None:
        actions.remove("reopen")
    return ComplaintView(
        id=row["id"], category=category,
        community=Place(id=community["id"], name_zh=community["name_zh"], name_en=community["name_en"]),
        address=row["address"], project_id=row["project_id"],
        project_title=project["title_zh"] if project else None,
        provider=Party(id=provider["id"], name_zh=provider["name_zh"], name_en=provider["name_en"])
        if provider else None,
        body=row["body"], lodged_by_kind=row["lodged_by_kind"],
        contact_name=row["contact_name"] if handler else None,
        contact_phone=row["contact_phone"] if handler else None,
        responsible=Party(id=responsible["id"], name_zh=responsible["name_zh"], name_en=responsible["name_en"]),
        status=row["status"], escalation_level=row["escalation_level"], escalations=escalations,
        lodged_at=row["lodged_at"], acknowledge_by=row["acknowledge_by"], answer_by=row["answer_by"],
        due_on=row["due_on"], late=_late(row, clock.today()), acknowledged_at=row["acknowledged_at"],
        answered_at=row["answered_at"], answer=row["answer"], upheld=row["upheld"], closed_at=row["closed_at"],
        rating=row["rating"], reopened_at=row["reopened_at"], reopen_reason=row["reopen_reason"], photos=photos,
        actions=actions, as_complainant="complainant" in caps, tracking=token is not None)


async def track_photo(conn: asyncpg.Connection, storage: FileStorage, token: str,
                      file_id: uuid.UUID) -> tuple[files.StoredFile, bytes]:
    """A photo of the complaint, for the holder of its tracking link (who has no account to sign a link to)."""
    complaint_id = await by_token(conn, token)
    if not await conn.fetchval("select true from complaint_photos where complaint_id = $1 and file_id = $2",
                               complaint_id, file_id):
        raise NotFound()
    return await files.read(conn, storage, None, file_id, granted=True)


def _link(complaint_id: int) -> str:
    return f"/complaints/{complaint_id}"


async def _handlers(conn: asyncpg.Connection, row: asyncpg.Record,
                    escalated: set[int]) -> list[notifications.Recipient]:
    return await notifications.members_of(conn, [row["responsible_id"], *sorted(escalated)], HANDLER_ROLES)


def _complainant(row: asyncpg.Record) -> list[int]:
    """Who is told of an answer: the complainant's account; without one, the tracking link shows it."""
    return [row["user_id"]] if row["user_id"] else []


async def acknowledge(conn: asyncpg.Connection, identity: Identity, complaint_id: int) -> None:
    row, caps, _ = await _readable(conn, identity, complaint_id, None, lock=True)

    async def write(_: Any) -> None:
        await conn.execute("update complaints set status = 'acknowledged', acknowledged_at = coalesce("
                           "acknowledged_at, market_now()), due_on = answer_by where id = $1", complaint_id)

    await step(conn, COMPLAINT, "acknowledge", row["status"], object_id=complaint_id, capacities=caps,
               actor=identity.user_id, organisation=identity.org_id, write=write,
               notices=[Notice(_complainant(row), "complaint_acknowledged", _link(complaint_id),
                               {"number": complaint_id})])


async def answer(conn: asyncpg.Connection, identity: Identity, complaint_id: int, data: AnswerInput,
                 rectification_days: int = 30) -> None:
    """The organisation responsible (or one it was escalated to) answers, saying whether the complaint
    is upheld; answering acknowledges it too. An upheld complaint is a finding: the organisation that
    should put it right gets a rectification item, due `rectification_days` from today."""
    row, caps, _ = await _readable(conn, identity, complaint_id, None, lock=True)

    async def write(_: Any) -> None:
        await conn.execute(
            "update complaints set status = 'answered', acknowledged_at = coalesce(acknowledged_at, market_now()), "
            "answered_at = market_now(), answered_on = $5, answer = $2, upheld = $3, answered_by_org = $4 "
            "where id = $1", complaint_id, data.answer.strip(), data.upheld, identity.org_id, clock.today())

    await step(conn, COMPLAINT, "answer", row["status"], object_id=complaint_id, capacities=caps,
               actor=identity.user_id, organisation=identity.org_id, write=write, after={"upheld": data.upheld},
               notices=[Notice(_complainant(row), "complaint_answered", _link(complaint_id),
                               {"number": complaint_id})])
    finding = await finding_of(conn, complaint_id) if data.upheld else None
    if finding is not None:
        await rectification.raise_item(
            conn, source="complaint", source_id=complaint_id, key="upheld", owner_id=finding.organisation_id,
            buyer_id=finding.verifier_id, finding_zh=finding.text_zh, finding_en=finding.text_en,
            evidence_required=EVIDENCE_OF_REMEDY, due=clock.today() + timedelta(days=rectification_days),
            source_link=_link(complaint_id))


async def rate(conn: asyncpg.Connection, identity: Identity | None, complaint_id: int, data: RatingInput,
               token: str | None = None) -> None:
    """The complainant rates the answer from 1 to 5, which closes the complaint."""
    row, caps, escalated = await _readable(conn, identity, complaint_id, token, lock=True)

    async def write(_: Any) -> None:
        await conn.execute("update complaints set status = 'closed', closed_at = market_now(), rating = $2 "
                           "where id = $1", complaint_id, data.rating)

    await step(conn, COMPLAINT, "rate", row["status"], object_id=complaint_id, capacities=caps,
               actor=identity.user_id if identity else None, organisation=row["responsible_id"], write=write,
               after={"rating": data.rating},
               notices=[Notice(await _handlers(conn, row, escalated), "complaint_rated", _link(complaint_id),
                               {"number": complaint_id, "rating": data.rating})])


async def reopen(conn: asyncpg.Connection, identity: Identity | None, complaint_id: int, data: ReopenInput,
                 token: str | None = None) -> None:
    """The complainant reopens an answered or closed complaint, once: it goes back to the
    organisation responsible with a new deadline to answer."""
    row, caps, escalated = await _readable(conn, identity, complaint_id, token, lock=True)
    if row["reopened_at"] is not None and COMPLAINT.allowed("reopen", row["status"]) and "complainant" in caps:
        raise Forbidden("A complaint can be reopened only once.")
    category = await conn.fetchrow(_CATEGORY, row["category_id"])
    due = days.add_days(clock.today(), category["answer_days"], category["day_kind"])

    async def write(_: Any) -> None:
        await conn.execute("update complaints set status = 'reopened', reopened_at = market_now(), "
                           "reopen_reason = $2, closed_at = null, due_on = $3 where id = $1",
                           complaint_id, data.reason.strip(), due)

    await step(conn, COMPLAINT, "reopen", row["status"], object_id=complaint_id, capacities=caps,
               actor=identity.user_id if identity else None, organisation=row["responsible_id"], write=write,
               after={"due_on": due.isoformat()},
               notices=[Notice(await _handlers(conn, row, escalated), "complaint_reopened", _link(complaint_id),
                               {"number": complaint_id, "due": due.isoformat()})])


# The public list: one index-backed page; the filters are optional.
_PUBLIC_COLUMNS = """
    c.id, c.status, c.escalation_level, c.lodged_on, c.due_on, c.answered_on, c.closed_at, c.upheld,
    k.code, k.name_zh as category_zh, k.name_en as category_en,
    j.id as community_id, j.name_zh as community_zh, j.name_en as community_en,
    o.id as org_id, o.name_zh as org_zh, o.name_en as org_en"""
_PUBLIC_FROM = """complaints c join complaint_categories k on k.id = c.category_id
    join jurisdictions j on j.id = c.community_id join organisations o on o.id = c.responsible_id"""
_NEWEST_FIRST = keyset.Keyset((keyset.Column("c.lodged_at", "lodged_at", datetime),
                               keyset.Column("c.id", "id", int)))


def _day(value: Any, timezone: str) -> date | None:
    if value is None:
        return None
    day: date = value.astimezone(ZoneInfo(timezone)).date()
    return day


async def public_list(conn: asyncpg.Connection, *, status: str | None = None, category: str | None = None,
                      organisation: int | None = None, place: int | None = None, year: int | None = None,
                      cursor: str | None = None, limit: int = 50, timezone: str = "Asia/Shanghai") -> ComplaintList:
    """Newest first, paged on a stable key, with only the filters given in its SQL; a place is a
    district, a street or a community, each with its index (migration 0070); a year is the one the
    complaints were lodged in, as the figures count them (None or 0: any year)."""
    today = clock.today()
    where = keyset.Filters()
    if year:
        where.add("c.lodged_on >= {} and c.lodged_on < {}", date(year, 1, 1), date(year + 1, 1, 1))
        # The same year on the list's order, a day wider whatever the zone, so that each newest-first
        # index reads that year's rows alone rather than passing over the later years'.
        start = datetime(year, 1, 1, tzinfo=ZoneInfo(timezone))
        where.add("c.lodged_at >= {} and c.lodged_at < {}", start - timedelta(days=1),
                  start.replace(year=year + 1) + timedelta(days=1))
    if place is not None:
        where.add(f"{await places.column_for(conn, place, 'c')} = {{}}", place)
    if status is not None:
        where.add("c.status = {}", status)
    if category is not None:
        where.add("c.category_id = (select id from complaint_categories where code = {})", category)
    if organisation is not None:
        where.add("c.responsible_id = {}", organisation)
    window = await keyset.fetch(conn, select=_PUBLIC_COLUMNS, from_=_PUBLIC_FROM, filters=where, keyset=_NEWEST_FIRST,
                                cursor=cursor, limit=limit, count_from="complaints c")
    org = await conn.fetchrow(_ORGANISATION, organisation) if organisation else None
    items = [PublicComplaint(
        id=r["id"], category=r["code"], category_zh=r["category_zh"], category_en=r["category_en"],
        community=Place(id=r["community_id"], name_zh=r["community_zh"], name_en=r["community_en"]),
        responsible=Party(id=r["org_id"], name_zh=r["org_zh"], name_en=r["org_en"]),
        status=r["status"], escalation_level=r["escalation_level"], lodged_on=r["lodged_on"],
        due_on=r["due_on"] if r["status"] in OPEN else None, late=_late(r, today),
        answered_on=r["answered_on"], closed_on=_day(r["closed_at"], timezone),
        upheld=r["upheld"] if r["status"] in ("answered", "closed") else None) for r in window.rows]
    return ComplaintList(complaints=items, status=status, category=category, place=place, year=year or None,
                         years=await _years(conn, year or 0),
                         organisation=Party(id=org["id"], name_zh=org["name_zh"], name_en=org["name_en"])
                         if org else None, categories=await categories(conn), **keyset.paged_fields(window))


async def _years(conn: asyncpg.Connection, year: int) -> list[int]:
    """The years complaints were lodged in, the latest first: from the first year with a complaint
    (the figures index's first entry, not every row's year) to this one, or to `year` if later."""
    first = await conn.fetchval("select min(year) from complaint_figures where year > 0") or clock.today().year
    return list(range(max(clock.today().year, year), first - 1, -1))


# Per organisation responsible, busiest first, from the counts kept as complaints change (migration 0069).
_FIGURES_COLUMNS = """f.organisation_id as id, o.name_zh, o.name_en, f.lodged, f.closed, f.answered, f.on_time,
    f.close_seconds, f.rated, f.satisfied"""
_BUSIEST_FIRST = keyset.Keyset((keyset.Column("f.lodged", "lodged", int), keyset.Column("f.organisation_id", "id", int)))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def figures(conn: asyncpg.Connection, *, year: int | None = None, place: int | None = None,
                  cursor: str | None = None, limit: int = 50) -> Figures:
    """A year's figures (the year complaints were lodged; None: this year), or every year's (0); of
    the organisations registered in a place (and the places below it), if one is given: a bureau's
    district, say. Those are read in the year's order, the others passed over (a district holds a
    sixteenth of a city's)."""
    year = clock.today().year if year is None else year
    where = keyset.Filters()
    where.add("f.year = {}", year)
    if place is not None:
        # As an array, so each of the place's organisations is looked up by its key (their few hundred
        # rows) rather than the year's rows all read and joined: a district's was a whole scan.
        where.add("f.organisation_id = any(array(select id from organisations where jurisdiction_id = any({}::int[])))",
                  await places.within(conn, place))
    window = await keyset.fetch(conn, select=_FIGURES_COLUMNS,
                                from_="complaint_figures f join organisations o on o.id = f.organisation_id",
                                filters=where, keyset=_BUSIEST_FIRST, cursor=cursor, limit=limit,
                                count_from="complaint_figures f")
    years = await _years(conn, year)
    return Figures(organisations=[OrganisationFigures(
        organisation=Party(id=r["id"], name_zh=r["name_zh"], name_en=r["name_en"]), lodged=r["lodged"],
        closed=r["closed"], closure_rate=_rate(r["closed"], r["lodged"]), answered=r["answered"],
        on_time=r["on_time"], on_time_rate=_rate(r["on_time"], r["answered"]),
        average_days_to_close=round(r["close_seconds"] / r["closed"] / 86400, 1) if r["closed"] else None,
        rated=r["rated"], satisfied_rate=_rate(r["satisfied"], r["rated"])) for r in window.rows],
        year=year, years=years, place=place, **keyset.paged_fields(window))


# The workbench, in one statement whatever waits: what the organisation responsible owes (late first),
# what was escalated to it, and a signed-in complainant's own complaints (latest first).
# $1 the organisation (null: none it handles for), $2 the user, $3 the limit of each list.
_COLUMNS = """count(*) over () as total, c.id, c.status, c.due_on, c.lodged_at, k.name_zh, k.name_en, j.name_zh as community, j.name_en as community_en
      from complaints c join complaint_categories k on k.id = c.category_id join jurisdictions j on j.id = c.community_id"""
_WORKBENCH = f"""
    (select 'complaints_to_acknowledge' as kind, {_COLUMNS}
      where c.responsible_id = $1 and c.status = 'dispatched' order by c.due_on, c.id limit $3)
    union all
    (select 'complaints_to_answer', {_COLUMNS}
      where c.responsible_id = $1 and c.status in ('acknowledged', 'reopened') order by c.due_on, c.id limit $3)
    union all
    (select 'complaints_escalated', {_COLUMNS} join complaint_escalations e on e.complaint_id = c.id
      where e.organisation_id = $1 and c.status in ('dispatched', 'acknowledged', 'reopened')
      order by c.due_on, c.id limit $3)
    union all
    (select 'complaints_mine', {_COLUMNS} where c.user_id = $2 order by c.lodged_at desc limit $3)"""
KINDS = ("complaints_to_acknowledge", "complaints_to_answer", "complaints_escalated", "complaints_mine")


def _task(row: asyncpg.Record, today: date) -> dict[str, Any]:
    task = {"title_zh": f"投诉 #{row['id']} · {row['name_zh']}", "title_en": f"Complaint #{row['id']} · {row['name_en']}",
            "link": _link(row["id"])}
    if row["kind"] == "complaints_mine":
        return {**task, "at": row["lodged_at"], "state": row["status"]}
    return {**task, "due_date": row["due_on"], "detail": i18n.bilingual(row["community"], row["community_en"]),
            "state": "overdue" if row["due_on"] < today else None}


async def workbench_lists(conn: asyncpg.Connection, identity: Identity,
                          limit: int = 20) -> list[tuple[str, WorkbenchList]]:
    """The workbench's lists (market.dashboard) with something in them: the first `limit` of each and
    how many there are; those to acknowledge go on to the public list so filtered."""
    today = clock.today()
    handles = identity.acts_for_verified and identity.role in HANDLER_ROLES
    rows = await conn.fetch(_WORKBENCH, identity.org_id if handles else None, identity.user_id, limit)
    more = {"complaints_to_acknowledge": f"/complaints?organisation={identity.org_id}&status=dispatched"}
    return [(kind, WorkbenchList([_task(r, today) for r in listed], listed[0]["total"], more.get(kind)))
            for kind in KINDS if (listed := [r for r in rows if r["kind"] == kind])]


async def finding_of(conn: asyncpg.Connection, complaint_id: int) -> Finding | None:
    """An upheld complaint as a finding to put right: what was found (in both languages), the
    organisation that should fix it (the one responsible) and the one that verifies the fix: the
    project's buyer, else the buyer above the one responsible, else (above a district's bureau) the
    platform. None where there is no platform organisation to verify it."""
    row = await conn.fetchrow(
        "select c.*, k.name_zh, k.name_en, p.buyer_id from complaints c "
        "join complaint_categories k on k.id = c.category_id left join projects p on p.id = c.project_id "
        "where c.id = $1", complaint_id)
    if row is None or row["upheld"] is not True or row["answered_at"] is None:
        return None
    fixer = row["responsible_id"]
    verifier = row["buyer_id"] if row["buyer_id"] and row["buyer_id"] != fixer else await overseer_of(conn, fixer)
    verifier = verifier or await conn.fetchval("select id from organisations where kind = 'platform' "
                                               "and status = 'verified' and id <> $1 order by id limit 1", fixer)
    if verifier is None:
        return None
    return Finding(text_zh=f"投诉 #{complaint_id}（{row['name_zh']}）经核实成立：{row['answer']}",
                   text_en=f"Complaint #{complaint_id} ({row['name_en']}) was upheld: {row['answer']}",
                   organisation_id=fixer, verifier_id=verifier)
