"""The charity matchmaking fair (公益项目相亲会, 公益对对碰).

A bureau or foundation sets up a fair: when and where, and the pre-screened projects taking part in
a running order, each with its funding target (all or nothing, if the organiser says so) and, where
the fair docks a need with its undertaker, the provider. Funders register. Before the day they
browse and mark interest; on the day the fair goes live and a funder raises a paddle from its
phone: the first tap proposes an amount, the second confirms it, and the confirmation becomes a
pledge (market.funding) in the same transaction as a NOTIFY that every app process relays to the
boards it serves. The phone makes each raise's token, so a tap sent twice is one raise and a
confirmation sent twice is one pledge.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock, keyset
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import N_, format_money
from market.funding.pledges import services as pledges
from market.funding.funds import services as pools
from market.funding.pledges.models import PledgeInput
from market.matching.scoring import candidates
from market.matching.docking import dockings
from market.matching.fairs.models import (
    FAIR_STATUS_NAMES,
    Board,
    BoardItem,
    Fair,
    FairInput,
    FunderRaised,
    ItemInput,
    Raise,
    RaiseInput,
    Report,
    Suggestion,
)
from market.matching.scoring.weights import Weights
from market.workflow import Transition, machine, step

CHANNEL = "market_fairs"
ORGANISER_KINDS = ("buyer", "funder")
ORGANISER_ROLES = ("admin", "staff")

# The organiser's administrators and staff run the fair (see _organises).
ORGANISER = "organiser"
# Draft: the organiser lines projects up. Open: funders register and mark interest before the day.
# Live: the day itself; paddles are raised and the organiser moves the stage along. Closed: the report.
# The running order is fixed once the fair is live.
FAIR = machine("fair", FAIR_STATUS_NAMES, [
    ("add_item", "draft", "draft", ORGANISER, Verb.FAIR_CHANGE),
    ("add_item", "open", "open", ORGANISER, Verb.FAIR_CHANGE),
    ("open", "draft", "open", ORGANISER, Verb.FAIR_OPEN),
    ("go_live", "open", "live", ORGANISER, Verb.FAIR_GO_LIVE),
    ("stage", "live", "live", ORGANISER, Verb.FAIR_STAGE),
    ("close", "live", "closed", ORGANISER, Verb.FAIR_CLOSE),
], action_names={"add_item": N_("Add to the running order"), "open": N_("Open registration to funders"),
                 "go_live": N_("Start the fair: go live"), "stage": N_("Put on stage"),
                 "close": N_("Close the fair")}, status_names=FAIR_STATUS_NAMES)
# What `move` does; adding to the running order is `add_item`, with what it adds.
MOVES = ("open", "go_live", "stage", "close")

# A paddle raised: the first tap proposes, the second confirms it as a pledge. Nothing withdraws a
# raise yet; the status is the table's.
FUNDER = "funder"
RAISE = machine("fair_raise", ("proposed", "confirmed", "withdrawn"), [
    ("confirm", "proposed", "confirmed", FUNDER, Verb.FAIR_RAISE_CONFIRM),
], action_names={"confirm": N_("Confirm")})


# A fair that runs past its planned end still takes all-or-nothing raises; their target must then be
# reached within this much longer.
RUNNING_LATE = timedelta(hours=1)


async def _fair_row(conn: asyncpg.Connection, fair_id: int, lock: bool = False) -> Any:
    row = await conn.fetchrow("select * from fairs where id = $1" + (" for update" if lock else ""), fair_id)
    if row is None:
        raise NotFound()
    return row


def _organises(identity: Identity | None, fair: Any) -> bool:
    return bool(identity and identity.acts_for_verified and identity.org_id == fair["organiser_id"]
                and identity.role in ORGANISER_ROLES)


def _capacities(identity: Identity, fair: Any) -> set[str]:
    return {ORGANISER} if _organises(identity, fair) else set()


def _visible(identity: Identity | None, fair: Any) -> bool:
    """A draft is the organiser's (and the platform's) alone; a fair once opened is public."""
    return fair["status"] != "draft" or _organises(identity, fair) or bool(identity and identity.is_platform_admin)


async def create(conn: asyncpg.Connection, identity: Identity, data: FairInput) -> int:
    if not may_set_up(identity):
        raise Forbidden("Fairs are organised by the administrators and staff of verified buyers and funders.")
    _check_times(data)
    fair_id = await conn.fetchval(
        "insert into fairs (organiser_id, title_zh, title_en, place, description, starts_at, ends_at, created_by) "
        "values ($1, $2, $3, $4, $5, $6, $7, $8) returning id", identity.org_id, data.title_zh.strip(),
        data.title_en.strip(), data.place.strip(), data.description.strip(), data.starts_at, data.ends_at,
        identity.user_id)
    await audit.record(conn, verb=Verb.FAIR_CREATE, object_type="fair", object_id=fair_id, actor=identity.user_id,
                       organisation=identity.org_id, after={"title_zh": data.title_zh, "starts_at": data.starts_at})
    return fair_id


def _check_times(data: FairInput) -> None:
    errors = []
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        errors.append(Invalid("Give the time with its time zone.", field="starts_at"))
    elif data.ends_at <= data.starts_at:
        errors.append(Invalid("The fair must end after it starts.", field="ends_at"))
    if errors:
        raise InvalidFields(errors)


async def add_item(conn: asyncpg.Connection, identity: Identity, fair_id: int, data: ItemInput,
                   weights: Weights) -> int:
    """Put a pre-screened project in the running order (last), with the provider it is docked with
    if any: one fit scoring would pair with it, or the reasons why not. Returns its position."""
    fair = await _fair_row(conn, fair_id, lock=True)
    added = {"project_id": data.project_id, "target_fen": data.target_fen}  # with its position once written

    async def write(_: Transition) -> None:
        errors = []
        if await conn.fetchval("select status from projects where id = $1", data.project_id) != "approved":
            errors.append(Invalid("Choose an approved project.", field="project_id"))
        elif await conn.fetchval("select 1 from fair_items where fair_id = $1 and project_id = $2", fair_id,
                                 data.project_id):
            errors.append(Invalid("The project is in the running order already.", field="project_id"))
        if data.provider_id is not None and await conn.fetchval(
                "select kind from organisations where id = $1 and status = 'verified'", data.provider_id) != "provider":
            errors.append(Invalid("Choose a verified social organisation.", field="provider_id"))
        if errors:
            raise InvalidFields(errors)
        if data.provider_id is not None:
            await dockings.eligible(conn, data.project_id, data.provider_id, weights)
        added["item"] = await conn.fetchval(
            "insert into fair_items (fair_id, position, project_id, provider_id, target_fen, all_or_nothing, pitch) "
            "select $1, coalesce(max(position), 0) + 1, $2, $3, $4, $5, $6 from fair_items where fair_id = $1 "
            "returning position", fair_id, data.project_id, data.provider_id, data.target_fen, data.all_or_nothing,
            data.pitch.strip())

    await step(conn, FAIR, "add_item", fair["status"], object_id=fair_id, capacities=_capacities(identity, fair),
               actor=identity.user_id, organisation=identity.org_id, write=write, after=added)
    return added["item"]


async def move(conn: asyncpg.Connection, identity: Identity, fair_id: int, action: str,
               on_stage: int | None = None) -> str:
    """Open the fair for registration, go live, put an item on stage, or close it."""
    if action not in MOVES:
        raise NotFound()
    fair = await _fair_row(conn, fair_id, lock=True)
    items = await conn.fetchval("select count(*) from fair_items where fair_id = $1", fair_id)
    stage = {"go_live": 1, "stage": on_stage, "close": None}.get(action, fair["on_stage"])

    async def write(transition: Transition) -> None:
        if action in ("open", "go_live") and not items:
            raise Conflict("Put at least one project in the running order first.")
        if action == "stage" and (on_stage is None or not 1 <= on_stage <= items):
            raise InvalidFields([Invalid("Choose a project of the running order.", field="on_stage")])
        await conn.execute("update fairs set status = $2, on_stage = $3, closed_at = case when $2 = 'closed' "
                           "then market_now() end where id = $1", fair_id, transition.target, stage)

    moved = await step(conn, FAIR, action, fair["status"], object_id=fair_id, capacities=_capacities(identity, fair),
                       actor=identity.user_id, organisation=identity.org_id, write=write,
                       before={"on_stage": fair["on_stage"]}, after={"on_stage": stage})
    await notify(conn, fair_id)
    return moved.target


async def notify(conn: asyncpg.Connection, fair_id: int) -> None:
    """Tell every app process the fair's board changed; PostgreSQL delivers it when this commits."""
    await conn.execute("select pg_notify($1, $2)", CHANNEL, str(fair_id))


def _funder_of_fair(identity: Identity) -> None:
    if not (identity.acts_for_verified and identity.org_kind == "funder"):
        raise Forbidden("Verified funders take part in fairs.")


async def register(conn: asyncpg.Connection, identity: Identity, fair_id: int) -> None:
    """A funder registers for the fair (idempotent)."""
    _funder_of_fair(identity)
    fair = await _fair_row(conn, fair_id)
    if fair["status"] not in ("open", "live"):
        raise Conflict("Funders register while the fair is open or live.")
    await conn.execute("insert into fair_funders (fair_id, funder_id, registered_by) values ($1, $2, $3) "
                       "on conflict do nothing", fair_id, identity.org_id, identity.user_id)


async def _registered(conn: asyncpg.Connection, identity: Identity, fair_id: int) -> None:
    _funder_of_fair(identity)
    if not await conn.fetchval("select 1 from fair_funders where fair_id = $1 and funder_id = $2", fair_id,
                               identity.org_id):
        raise Forbidden("Register your organisation for the fair first.")


async def mark_interest(conn: asyncpg.Connection, identity: Identity, fair_id: int, project_id: int,
                        interested: bool = True) -> None:
    await _registered(conn, identity, fair_id)
    if not await conn.fetchval("select 1 from fair_items where fair_id = $1 and project_id = $2", fair_id,
                               project_id):
        raise NotFound()
    if interested:
        await conn.execute("insert into fair_interests (fair_id, project_id, funder_id) values ($1, $2, $3) "
                           "on conflict do nothing", fair_id, project_id, identity.org_id)
    else:
        await conn.execute("delete from fair_interests where fair_id = $1 and project_id = $2 and funder_id = $3",
                           fair_id, project_id, identity.org_id)


async def raise_paddle(conn: asyncpg.Connection, identity: Identity, fair_id: int, data: RaiseInput) -> uuid.UUID:
    """The first tap: propose an amount for a project. The same token again is the same raise."""
    await _registered(conn, identity, fair_id)
    fair = await _fair_row(conn, fair_id)
    if fair["status"] != "live":
        raise Conflict("Paddles are raised while the fair is live.")
    if not await conn.fetchval("select 1 from fair_items where fair_id = $1 and project_id = $2", fair_id,
                               data.project_id):
        raise InvalidFields([Invalid("Choose a project of the running order.", field="project_id")])
    existing = await conn.fetchrow("select * from fair_raises where token = $1", data.token)
    if existing is not None:
        if (existing["fair_id"], existing["funder_id"]) != (fair_id, identity.org_id):
            raise NotFound()
        if (existing["project_id"], existing["amount_fen"]) != (data.project_id, data.amount_fen):
            # A token names one raise: a second tap with other figures must not look like it changed it.
            raise Conflict("This raise was already made for %(amount)s; that amount stands. Raise the paddle "
                           "again for another amount.", amount=format_money(existing["amount_fen"]))
        return existing["token"]
    await conn.execute(
        "insert into fair_raises (token, fair_id, project_id, funder_id, raised_by, amount_fen) "
        "values ($1, $2, $3, $4, $5, $6) on conflict (token) do nothing", data.token, fair_id, data.project_id,
        identity.org_id, identity.user_id, data.amount_fen)
    return data.token


async def confirm_raise(conn: asyncpg.Connection, identity: Identity, fair_id: int, token: uuid.UUID) -> int:
    """The second tap: the raise becomes a pledge, once. Returns the pledge's id."""
    await _registered(conn, identity, fair_id)
    fair = await _fair_row(conn, fair_id)
    raised = await conn.fetchrow("select * from fair_raises where token = $1 and fair_id = $2 and funder_id = $3 "
                                 "for update", token, fair_id, identity.org_id)
    if raised is None:
        raise NotFound()
    if raised["status"] == "confirmed":
        return raised["pledge_id"]
    if fair["status"] != "live":
        raise Conflict("This raise can no longer be confirmed.")
    made: dict[str, Any] = {}  # the pledge and what matching adds, once written

    async def write(_: Transition) -> None:
        item = await conn.fetchrow("select * from fair_items where fair_id = $1 and project_id = $2", fair_id,
                                   raised["project_id"])
        condition = {}
        if item["all_or_nothing"]:
            condition = {"condition_target_fen": item["target_fen"],
                         "condition_deadline": max(fair["ends_at"], clock.now() + RUNNING_LATE)}
        made["pledge_id"] = await pledges.create(conn, identity, PledgeInput(
            target_type="project", target_id=raised["project_id"], amount_fen=raised["amount_fen"],
            note=f"{fair['title_zh']}（举牌）", **condition))
        made["match_fen"] = sum(p.match_fen for p in await pools.preview(conn, raised["project_id"], identity.org_id,
                                                                         raised["amount_fen"]))
        await conn.execute("update fair_raises set status = 'confirmed', pledge_id = $2, match_fen = $3, "
                           "confirmed_at = market_now() where token = $1", token, made["pledge_id"],
                           made["match_fen"])

    # Whoever passed _registered is a funder of the fair.
    await step(conn, RAISE, "confirm", raised["status"], object_id=token, capacities={FUNDER},
               actor=identity.user_id, organisation=identity.org_id, write=write,
               after=made)
    pledge_id: int = made["pledge_id"]
    await notify(conn, fair_id)
    return pledge_id


_FAIR_COLUMNS = "f.*, o.name_zh as organiser_name, o.name_en as organiser_name_en"
_FAIR_FROM = "fairs f join organisations o on o.id = f.organiser_id"
_FAIR_VIEW = f"""select {_FAIR_COLUMNS},
           exists (select 1 from fair_funders ff where ff.fair_id = f.id and ff.funder_id = $1) as registered
      from {_FAIR_FROM}"""


def _view(identity: Identity | None, row: Any) -> Fair:
    return Fair(**{k: row[k] for k in Fair.__struct_fields__ if k != "organiser"}, organiser=_organises(identity, row))


async def get(conn: asyncpg.Connection, identity: Identity | None, fair_id: int) -> Fair:
    row = await conn.fetchrow(_FAIR_VIEW + " where f.id = $2", identity.org_id if identity else None, fair_id)
    if row is None or not _visible(identity, row):
        raise NotFound()
    return _view(identity, row)


# The latest fair first (fairs_by_start).
_FAIRS_ORDER = keyset.Keyset((keyset.Column("f.starts_at", "starts_at", datetime),
                              keyset.Column("f.id", "id", int)))


async def list_fairs(conn: asyncpg.Connection, identity: Identity | None, *, cursor: str | None = None,
                     limit: int = 50) -> tuple[list[Fair], keyset.Window]:
    """A page of the fairs the reader may see (`_visible`, in SQL), the latest first."""
    filters = keyset.Filters()
    if not (identity and identity.is_platform_admin):
        if identity and identity.acts_for_verified and identity.role in ORGANISER_ROLES:
            filters.add("(f.status <> 'draft' or f.organiser_id = {})", identity.org_id)
        else:
            filters.add("f.status <> 'draft'")
    window = await keyset.fetch(conn, select=_FAIR_COLUMNS, from_=_FAIR_FROM, filters=filters, keyset=_FAIRS_ORDER,
                                cursor=cursor, limit=limit)
    registered = set()
    if identity is not None and identity.org_id is not None:
        registered = {r["fair_id"] for r in await conn.fetch(
            "select fair_id from fair_funders where funder_id = $1 and fair_id = any($2::bigint[])",
            identity.org_id, [r["id"] for r in window.rows])}
    return [_view(identity, {**r, "registered": r["id"] in registered}) for r in window.rows], window


async def board(conn: asyncpg.Connection, fair_id: int) -> Board:
    """The live board: each project's target, what the fair raised and what matching adds, and who raised."""
    fair = await _fair_row(conn, fair_id)
    rows = await conn.fetch(
        """select i.position, i.project_id, p.title_zh, p.title_en, i.target_fen, i.all_or_nothing,
                  i.provider_id, o.name_zh as provider_name_zh, o.name_en as provider_name_en,
                  coalesce(sum(r.amount_fen) filter (where r.status = 'confirmed'), 0)::bigint as raised_fen,
                  coalesce(sum(r.match_fen) filter (where r.status = 'confirmed'), 0)::bigint as matched_fen,
                  count(r.token) filter (where r.status = 'confirmed') as raises,
                  coalesce(array_agg(distinct fo.name_zh) filter (where r.status = 'confirmed'), '{}') as funders,
                  coalesce(array_agg(distinct coalesce(nullif(fo.name_en, ''), fo.name_zh))
                           filter (where r.status = 'confirmed'), '{}') as funders_en
             from fair_items i join projects p on p.id = i.project_id
             left join organisations o on o.id = i.provider_id
             left join fair_raises r on r.fair_id = i.fair_id and r.project_id = i.project_id
             left join organisations fo on fo.id = r.funder_id
            where i.fair_id = $1 group by i.position, i.project_id, p.title_zh, p.title_en, i.target_fen,
                  i.all_or_nothing, i.provider_id, o.name_zh, o.name_en order by i.position""", fair_id)
    items = [BoardItem(**dict(r), reached=r["raised_fen"] + r["matched_fen"] >= r["target_fen"]) for r in rows]
    return Board(fair_id=fair_id, status=fair["status"], on_stage=fair["on_stage"], items=items,
                 raised_fen=sum(i.raised_fen for i in items), matched_fen=sum(i.matched_fen for i in items),
                 raises=sum(i.raises for i in items),
                 funders=await conn.fetchval("select count(*) from fair_funders where fair_id = $1", fair_id))


async def docked_item(conn: asyncpg.Connection, fair_id: int, project_id: int) -> BoardItem:
    """A project of the fair's running order, as the board shows it (with what it raised)."""
    item = next((i for i in (await board(conn, fair_id)).items if i.project_id == project_id), None)
    if item is None:
        raise NotFound()
    return item


async def accept_docking(conn: asyncpg.Connection, identity: Identity, fair_id: int, project_id: int,
                         data: dockings.DockingInput, weights: Weights, tz: str = "Asia/Shanghai") -> int:
    """After the fair, the project's buyer accepts its docking with the provider it was lined up with
    (`dockings.dock`). Returns the call's id."""
    fair = await _fair_row(conn, fair_id)
    item = await docked_item(conn, fair_id, project_id)
    if fair["status"] != "closed":
        raise Conflict("Dockings are accepted after the fair closes.")
    if item.provider_id is None:
        raise Conflict("No provider was docked with this project at the fair.")
    if item.all_or_nothing and not item.reached:
        raise Conflict("The project did not reach its all-or-nothing target at the fair: "
                       "its pledges lapse and there is no docking.")
    if await conn.fetchval("select 1 from dockings where fair_id = $1 and project_id = $2", fair_id, project_id):
        raise Conflict("This docking has been accepted already.")
    return await dockings.dock(conn, identity, project_id, item.provider_id, data, weights, fair_id=fair_id, tz=tz)


async def my_raises(conn: asyncpg.Connection, identity: Identity, fair_id: int) -> list[Raise]:
    return [Raise(**r) for r in await conn.fetch(
        "select r.token, r.project_id, p.title_zh, r.amount_fen, r.status, r.pledge_id from fair_raises r "
        "join projects p on p.id = r.project_id where r.fair_id = $1 and r.funder_id = $2 order by r.created_at",
        fair_id, identity.org_id)]


async def marked(conn: asyncpg.Connection, identity: Identity | None, fair_id: int) -> list[int]:
    """The projects the reader's organisation marked its interest in."""
    if identity is None or identity.org_id is None:
        return []
    return [r["project_id"] for r in await conn.fetch(
        "select project_id from fair_interests where fair_id = $1 and funder_id = $2 order by project_id", fair_id,
        identity.org_id)]


async def projects_to_line_up(conn: asyncpg.Connection, fair_id: int) -> list[tuple[int, str]]:
    """Approved projects not in the running order yet, for the organiser's <select>."""
    return [(r["id"], r["title_zh"]) for r in await conn.fetch(
        "select id, title_zh from projects where status = 'approved' and id not in "
        "(select project_id from fair_items where fair_id = $1) order by id", fair_id)]


async def buyers_of_items(conn: asyncpg.Connection, fair_id: int) -> dict[int, int]:
    """Each project of the running order with its buyer."""
    return {r["id"]: r["buyer_id"] for r in await conn.fetch(
        "select p.id, p.buyer_id from fair_items i join projects p on p.id = i.project_id where i.fair_id = $1",
        fair_id)}


def may_set_up(identity: Identity | None) -> bool:
    """Whether the person may organise fairs: administrators and staff of verified buyers and funders."""
    return bool(identity and identity.acts_for_verified and identity.org_kind in ORGANISER_KINDS
                and identity.role in ORGANISER_ROLES)


def may_register(identity: Identity | None, fair: Fair) -> bool:
    """Whether the reader's organisation can register for the fair now (and has not yet)."""
    return bool(identity and identity.acts_for_verified and identity.org_kind == "funder"
                and fair.status in ("open", "live") and not fair.registered)


async def interests(conn: asyncpg.Connection, fair_id: int) -> dict[int, int]:
    """How many registered funders marked interest in each project."""
    return {r["project_id"]: r["n"] for r in await conn.fetch(
        "select project_id, count(*) as n from fair_interests where fair_id = $1 group by project_id", fair_id)}


async def report(conn: asyncpg.Connection, identity: Identity | None, fair_id: int) -> Report:
    """After the fair: totals, by project and by funder."""
    fair = await get(conn, identity, fair_id)
    if fair.status != "closed":
        raise Conflict("The report is made when the fair closes.")
    by_funder = [FunderRaised(**r) for r in await conn.fetch(_BY_FUNDER, fair_id)]
    live = await board(conn, fair_id)
    paid = sum(f.paid_fen for f in by_funder)
    withdrawn = sum(f.withdrawn_fen for f in by_funder)
    return Report(fair=fair, board=live, by_funder=by_funder,
                  docked=sum(1 for i in live.items if i.raises and (i.reached or not i.all_or_nothing)),
                  paid_fen=paid, withdrawn_fen=withdrawn,
                  awaiting_fen=sum(f.amount_fen for f in by_funder) - paid - withdrawn)


# Each funder's confirmed raises and what became of their pledges: a paddle is a promise, and the
# organiser and the public see whether it was kept.
_BY_FUNDER = """
select o.name_zh, coalesce(o.name_en, '') as name_en, count(*) as raises, sum(r.amount_fen)::bigint as amount_fen,
       coalesce(sum(r.amount_fen) filter (where p.status in ('paid', 'allocated', 'disbursed', 'refunded')),
                0)::bigint as paid_fen,
       coalesce(sum(r.amount_fen) filter (where p.status = 'cancelled'), 0)::bigint as withdrawn_fen
  from fair_raises r join organisations o on o.id = r.funder_id left join pledges p on p.id = r.pledge_id
 where r.fair_id = $1 and r.status = 'confirmed'
 group by o.id order by amount_fen desc, o.name_zh, o.id"""


async def suggestions(conn: asyncpg.Connection, identity: Identity, fair_id: int, weights: Weights) -> list[Suggestion]:
    """Before the day, for a funder: the fair's projects that suit it best, with the reasons (fit
    scoring's funder side), and the ones it is excluded from, never shown as a suggestion."""
    projects = [r["project_id"] for r in await conn.fetch(
        "select project_id from fair_items where fair_id = $1 order by position", fair_id)]
    if not projects or identity.org_id is None:
        return []
    found = await candidates.build(conn, projects, weights)
    mine = []
    for project in found.projects:
        fit = next((c.fit for c in project.funders if c.party_id == identity.org_id), None)
        if fit is not None and fit.score is not None:
            mine.append(Suggestion(project_id=project.project.id, title_zh=project.title_zh,
                                   title_en=project.title_en, score=fit.score,
                                   reasons=[line.text() for line in fit.lines if line.points > 0][:3]))
    return sorted(mine, key=lambda s: (-s.score, s.project_id))


def board_json(value: Board) -> str:
    return msgspec.json.encode(value).decode()
