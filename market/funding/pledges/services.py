"""Pledges and offline payments.

A funder pledges money to a project, to a resident's need (paid once the need has become a
project) or to a fund. The pledge's life cycle is `PLEDGE`, as data: pledged → awaiting
payment → paid → allocated → disbursed, with cancel and refund paths. A pledge is to be paid by a
date, PAY_DAYS after it was made (or after its need became a project): its funder is reminded
REMIND_DAYS before, and one not paid by then lapses (`lapse_due`), so that what a project counts as
pledged is money someone means to pay. Money moves only through
the ledger: a confirmed payment brings it from the funder's account into the fund, or into an
account held for the project; allocation makes it the project's to spend; a refund sends it
back. A conditional pledge (all or nothing) is held until its project reaches the target by the
deadline, and refunded if it does not.

The receiving organisation — the project's buyer, or the fund's owner — confirms payments and
allocates fund money; its administrators and finance staff act for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock, keyset
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.settings import Settings
from market.core.i18n import format_money
from market.funding.ledger import services as ledger
from market.funding.pledges.models import (
    PAYMENT_ACTION_NAMES,
    PAYMENT_STATUS_NAMES,
    PAYMENT_STATUSES,
    PLEDGE_ACTION_NAMES,
    PLEDGE_STATUS_NAMES,
    PLEDGE_STATUSES,
    OfflinePaymentInput,
    Payment,
    PaymentQueue,
    Pledge,
    PledgeInput,
    PledgeList,
    PledgeView,
    TrailStep,
)
from market.notifications import services as notifications
from market.organisations import services as organisations
from market.workflow import Transition, machine, step

# Who may take each step: the funder pays and cancels; the receiving organisation confirms a
# transfer, allocates fund money and refunds; the payment service confirms an online payment; the
# platform itself settles all-or-nothing pledges and marks a pledge disbursed once a milestone
# payment has used all of it.
FUNDER, RECEIVER, PAYMENT_SERVICE, PLATFORM = "funder", "receiver", "payment_service", "platform"
PLEDGE = machine("pledge", PLEDGE_STATUSES, [
    ("pay", "pledged", "awaiting_payment", FUNDER, Verb.PLEDGE_PAY),
    ("pay", "awaiting_payment", "awaiting_payment", FUNDER, Verb.PLEDGE_PAY),
    ("confirm", "awaiting_payment", "paid", (RECEIVER, PAYMENT_SERVICE), Verb.PLEDGE_PAID),
    ("allocate", "paid", "allocated", (RECEIVER, PLATFORM), Verb.PLEDGE_ALLOCATE),
    ("disburse", "allocated", "disbursed", PLATFORM, Verb.PLEDGE_DISBURSE),
    ("cancel", "pledged", "cancelled", (FUNDER, PLATFORM), Verb.PLEDGE_CANCEL),
    ("cancel", "awaiting_payment", "cancelled", (FUNDER, PLATFORM), Verb.PLEDGE_CANCEL),
    # Not paid by its date, and no payment waiting to be confirmed (that is the receiver's to decide).
    ("lapse", "pledged", "cancelled", PLATFORM, Verb.PLEDGE_LAPSE),
    ("lapse", "awaiting_payment", "cancelled", PLATFORM, Verb.PLEDGE_LAPSE),
    ("refund", "paid", "refunded", (RECEIVER, PLATFORM), Verb.PLEDGE_REFUND),
    ("refund", "allocated", "refunded", (RECEIVER, PLATFORM), Verb.PLEDGE_REFUND),
    # The contract of the project it was allocated to ended: what it did not pay goes back to the fund,
    # which may allocate it again.
    ("return", "allocated", "paid", PLATFORM, Verb.PLEDGE_RETURN),
], action_names=PLEDGE_ACTION_NAMES, status_names=PLEDGE_STATUS_NAMES)
# A payment is decided once: the receiver (or, online, the payment service) confirms it or rejects
# it; an online payment fails when its checkout expires or its pledge closes first.
PAYMENT = machine("payment", PAYMENT_STATUSES, [
    ("confirm", "pending", "confirmed", (RECEIVER, PAYMENT_SERVICE), Verb.PAYMENT_CONFIRM),
    ("reject", "pending", "rejected", RECEIVER, Verb.PAYMENT_REJECT),
    ("fail", "pending", "failed", (PAYMENT_SERVICE, PLATFORM), Verb.PAYMENT_FAIL),
], action_names=PAYMENT_ACTION_NAMES, status_names=PAYMENT_STATUS_NAMES)
MAX_ID = 2**63 - 1  # the largest id a form may name
RECEIVER_ROLES = ("admin", "finance")
# Who of a funder hears what became of its payments: those who may pay.
FUNDER_ROLES = ("admin", "staff", "finance")
# Who of a receiver hears of a new pledge: those who run its projects or funds, and its finance staff.
TOLD_OF_PLEDGES = ("admin", "staff", "finance")
# How far back a recorded bank transfer may be dated.
TRANSFER_DAYS_BACK = 366
# Days a pledge has to be paid in, in this process (MARKET_PLEDGE_PAY_DAYS, see `configure`), and how
# many days before its date the funder is reminded.
PAY_DAYS = 30
REMIND_DAYS = 7
# Days after a bank transfer is recorded that its receiver is reminded to confirm it or send it back.
CONFIRM_DAYS = 3


def configure(settings: Settings) -> int:
    global PAY_DAYS
    PAY_DAYS = settings.pledge_pay_days
    return PAY_DAYS


def _now() -> datetime:
    return clock.now()


async def _pledge(conn: asyncpg.Connection, pledge_id: int) -> Any:
    row = await conn.fetchrow("select * from pledges where id = $1 for update", pledge_id)
    if row is None:
        raise NotFound()
    return row


async def receiver_of(conn: asyncpg.Connection, pledge: Any) -> int | None:
    """The organisation that receives the pledge's money: the fund's owner, or the project's buyer."""
    if pledge["target_type"] == "fund":
        return await conn.fetchval("select owner_id from funds where id = $1", pledge["fund_id"])
    if pledge["project_id"] is not None:
        return await conn.fetchval("select buyer_id from projects where id = $1", pledge["project_id"])
    return None


_ABOUT = """
select coalesce(f.name_zh, p.title_zh, n.title) as title, coalesce(f.name_en, p.title_en, '') as title_en,
       o.name_zh as funder, o.name_en as funder_en
  from pledges g join organisations o on o.id = g.funder_id left join funds f on f.id = g.fund_id
  left join projects p on p.id = g.project_id left join needs n on n.id = g.need_id
 where g.id = $1"""


async def _tell(conn: asyncpg.Connection, organisation: int | None, roles: tuple[str, ...], kind: str, link: str,
                pledge: Any, amount_fen: int, **params: Any) -> None:
    """Tell an organisation's people in these roles of a payment of the pledge: its target, funder and amount."""
    if organisation is None:
        return
    about = await conn.fetchrow(_ABOUT, pledge["id"])
    await notifications.notify(conn, await notifications.members_of(conn, [organisation], roles), kind, link,
                               **dict(about), amount=format_money(amount_fen), **params)


async def _funders_pledge(conn: asyncpg.Connection, identity: Identity, pledge_id: int, action: str) -> Any:
    """The pledge, locked, for its funder to pay or cancel: not while a payment is being checked."""
    await ledger.serialise(conn)
    pledge = await _pledge(conn, pledge_id)
    if not (identity.acts_for_verified and identity.org_id == pledge["funder_id"]):
        raise Forbidden("Only the funder that made the pledge pays or cancels it.")
    PLEDGE.check(action, pledge["status"], {FUNDER})
    if await conn.fetchval("select 1 from payments where pledge_id = $1 and status = 'pending'", pledge_id):
        raise Conflict("A payment of this pledge is waiting to be confirmed.")
    return pledge


async def _require_receiver(conn: asyncpg.Connection, identity: Identity, pledge: Any) -> None:
    if not (identity.acts_for_verified and identity.role in RECEIVER_ROLES
            and identity.org_id == await receiver_of(conn, pledge)):
        raise Forbidden("Only the administrators and finance staff of the receiving organisation do this.")


async def _move(conn: asyncpg.Connection, pledge: Any, action: str, actor: int | None, capacity: str,
                **changes: Any) -> str:
    async def write(transition: Transition) -> None:
        sets = "".join(f", {k} = ${i}" for i, k in enumerate(changes, start=3))
        await conn.execute(f"update pledges set status = $2, updated_at = market_now(){sets} where id = $1",
                           pledge["id"], transition.target, *changes.values())

    moved = await step(conn, PLEDGE, action, pledge["status"], object_id=pledge["id"], capacities={capacity},
                       actor=actor, organisation=pledge["funder_id"], write=write, after={"action": action, **changes})
    return moved.target


async def _decide(conn: asyncpg.Connection, payment: Any, action: str, actor: int | None, capacity: str,
                  organisation: int | None = None, after: dict[str, Any] | None = None, **changes: Any) -> None:
    """Move a payment on: decided by someone (`actor`), or by the payment service or the platform."""
    async def write(transition: Transition) -> None:
        sets = "".join(f", {k} = ${i}" for i, k in enumerate(changes, start=3))
        decided = ", decided_at = market_now()" if action != "fail" else ""
        await conn.execute(f"update payments set status = $2{decided}{sets} where id = $1", payment["id"],
                           transition.target, *changes.values())

    await step(conn, PAYMENT, action, payment["status"], object_id=payment["id"], capacities={capacity}, actor=actor,
               organisation=organisation, write=write, after={"pledge_id": payment["pledge_id"], **(after or {})})


async def fail_payment(conn: asyncpg.Connection, payment: Any, failure: str) -> None:
    """A pending payment that will not complete (its checkout expired, its pledge closed first)."""
    await _decide(conn, payment, "fail", None, PLATFORM, failure=failure)
    await _time_to_pay_again(conn, payment["pledge_id"])


async def _time_to_pay_again(conn: asyncpg.Connection, pledge_id: int) -> None:
    """A payment sent back or not completed leaves the funder REMIND_DAYS at least to pay again: its
    date may have passed while the payment waited."""
    await conn.execute("update pledges set pay_by = greatest(pay_by, $2) where id = $1", pledge_id,
                       clock.today() + timedelta(days=REMIND_DAYS))


def held(pledge: Any) -> tuple[str, str, dict[str, Any]]:
    """Where a paid pledge's money waits: the fund, or the account held for its project."""
    return ledger.fund(pledge["fund_id"]) if pledge["target_type"] == "fund" else ledger.escrow(pledge["project_id"])


async def check(conn: asyncpg.Connection, identity: Identity, data: PledgeInput) -> dict[str, Any]:
    """Everything a pledge is refused for, before anything is written: the pledge form's review step
    asks this too, so a bad condition is named next to its field before the funder confirms. Returns
    the pledge's target columns and the day it is to be paid by (None for a need not yet a project)."""
    if identity.org_kind != "funder" or not identity.acts_for_verified or identity.role not in ("admin", "staff",
                                                                                                  "finance"):
        raise Forbidden("Pledges are made by verified funders.")
    columns: dict[str, Any] = {"project_id": None, "need_id": None, "fund_id": None}
    payable = True  # its funder may pay it now, so its days run
    if data.target_type == "project":
        if await conn.fetchval("select status from projects where id = $1", data.target_id) != "approved":
            raise InvalidFields([Invalid("Choose an approved project.", field="target_id")])
        columns["project_id"] = data.target_id
    elif data.target_type == "need":
        need = await conn.fetchrow("select n.status, pn.project_id from needs n left join project_needs pn "
                                   "on pn.need_id = n.id where n.id = $1", data.target_id)
        if need is None or need["status"] not in ("open", "approved"):
            raise InvalidFields([Invalid("Choose an open need.", field="target_id")])
        columns["need_id"] = data.target_id
        payable = need["project_id"] is not None
    else:
        if not await conn.fetchval("select 1 from funds where id = $1", data.target_id):
            raise InvalidFields([Invalid("Choose one of the funds.", field="target_id")])
        columns["fund_id"] = data.target_id
    errors = []
    if (data.condition_target_fen is None) != (data.condition_deadline is None):
        errors.append(Invalid("An all-or-nothing pledge needs both the target and the deadline.",
                              field="condition_deadline"))
    if data.condition_deadline is not None:
        if data.target_type != "project":
            errors.append(Invalid("Only a pledge to a project can be all or nothing.", field="condition_deadline"))
        if data.condition_deadline.tzinfo is None or data.condition_deadline <= _now():
            errors.append(Invalid("The deadline must be in the future.", field="condition_deadline"))
    if errors:
        raise InvalidFields(errors)
    columns["pay_by"] = clock.today() + timedelta(days=PAY_DAYS) if payable else None
    return columns


async def create(conn: asyncpg.Connection, identity: Identity, data: PledgeInput) -> int:
    columns = await check(conn, identity, data)
    pledge_id = await conn.fetchval(
        """insert into pledges (funder_id, pledged_by, target_type, project_id, need_id, fund_id, amount_fen,
                                condition_target_fen, condition_deadline, note, pay_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning id""",
        identity.org_id, identity.user_id, data.target_type, columns["project_id"], columns["need_id"],
        columns["fund_id"], data.amount_fen, data.condition_target_fen, data.condition_deadline, data.note.strip(),
        columns["pay_by"])
    await audit.record(conn, verb=Verb.PLEDGE_CREATE, object_type="pledge", object_id=pledge_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"target_type": data.target_type, "target_id": data.target_id,
                              "amount_fen": data.amount_fen})
    # A pledge to a need has no receiver until the need becomes a project; a fair's are on its board.
    pledge = {"id": pledge_id, "target_type": data.target_type, "project_id": columns["project_id"],
              "fund_id": columns["fund_id"]}
    receiver = await receiver_of(conn, pledge)
    # Without the account to transfer to, the funder cannot pay: the receiver is asked for it at once.
    banked = receiver is None or await organisations.bank_account(conn, receiver) is not None
    await _tell(conn, receiver, TOLD_OF_PLEDGES, "pledge_made" if banked else "pledge_made_no_bank",
                f"/pledges/{pledge_id}", pledge, data.amount_fen)
    return pledge_id


async def start_payment(conn: asyncpg.Connection, identity: Identity, pledge_id: int) -> Any:
    """The funder is about to pay: a need pledge now follows the project the need became; the
    pledge awaits payment. Returns the (updated) pledge row."""
    pledge = await _funders_pledge(conn, identity, pledge_id, "pay")
    if pledge["target_type"] == "need":
        project_id = await conn.fetchval("select project_id from project_needs where need_id = $1", pledge["need_id"])
        if project_id is None:
            raise Conflict("The need has not become a project yet: the pledge is paid once it has.")
        await conn.execute("update pledges set target_type = 'project', project_id = $2 where id = $1", pledge_id,
                           project_id)
    if pledge["status"] == "pledged":
        await _move(conn, pledge, "pay", identity.user_id, FUNDER)
    return await _pledge(conn, pledge_id)


async def record_offline(conn: asyncpg.Connection, identity: Identity, pledge_id: int,
                         data: OfflinePaymentInput) -> int:
    """The funder records a bank transfer, with the receipt, for the receiver to confirm."""
    pledge = await start_payment(conn, identity, pledge_id)
    receipt = None
    if data.receipt_file:
        receipt = await conn.fetchval("select id from files where id::text = $1 and organisation_id = $2",
                                      data.receipt_file, identity.org_id)
        if receipt is None:
            raise InvalidFields([Invalid("Choose the receipt from your organisation's documents.",
                                         field="receipt_file")])
    today = clock.today()
    if data.paid_on > today:
        raise InvalidFields([Invalid("The transfer cannot be dated in the future.", field="paid_on")])
    # A date a year or more back is almost always a typo (1999 for 2025), and would book the receipt
    # in a closed year. The pledge's own date is no limit: a transfer agreed off the platform may
    # be made before its pledge is recorded.
    if data.paid_on < today - timedelta(days=TRANSFER_DAYS_BACK):
        raise InvalidFields([Invalid("A transfer can be recorded up to %(days)s days after it was made; check "
                                     "the date.", field="paid_on", days=TRANSFER_DAYS_BACK)])
    payment_id = await conn.fetchval(
        """insert into payments (pledge_id, method, amount_fen, bank_reference, paid_on, receipt_file, recorded_by)
           values ($1, 'offline', $2, $3, $4, $5, $6) returning id""",
        pledge_id, pledge["amount_fen"], data.bank_reference.strip(), data.paid_on, receipt, identity.user_id)
    await audit.record(conn, verb=Verb.PAYMENT_RECORD, object_type="payment", object_id=payment_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"pledge_id": pledge_id, "method": "offline", "amount_fen": pledge["amount_fen"]})
    await _tell(conn, await receiver_of(conn, pledge), RECEIVER_ROLES, "payment_recorded", "/payments", pledge,
                pledge["amount_fen"])
    return payment_id


def _transfer(payment: Any) -> None:
    if payment["method"] != "offline":
        raise Conflict("Online payments are confirmed by the payment service, not by hand.")


async def confirm_payment(conn: asyncpg.Connection, identity: Identity | None, payment_id: int) -> None:
    """The receiver confirms a payment (or, for card payments, Stripe does: `identity` None): the
    money comes in, and an unconditional project pledge is allocated to its project at once."""
    await ledger.serialise(conn)
    payment = await conn.fetchrow("select * from payments where id = $1 for update", payment_id)
    if payment is None:
        raise NotFound()
    pledge = await _pledge(conn, payment["pledge_id"])
    if identity is not None:
        await _require_receiver(conn, identity, pledge)
        _transfer(payment)
    capacity = RECEIVER if identity is not None else PAYMENT_SERVICE
    PLEDGE.check("confirm", pledge["status"], {capacity})
    actor = identity.user_id if identity else None
    await _decide(conn, payment, "confirm", actor, capacity, after={"amount_fen": payment["amount_fen"]},
                  decided_by=actor)
    await ledger.post(conn, "payment", [(ledger.funder(pledge["funder_id"]), -payment["amount_fen"]),
                                        (held(pledge), payment["amount_fen"])],
                      pledge_id=pledge["id"], project_id=pledge["project_id"], actor=actor,
                      memo=f"payment #{payment_id}")
    await _move(conn, pledge, "confirm", actor, capacity)
    if pledge["target_type"] == "project":
        await settle(conn, pledge["project_id"])
    if identity is not None:  # a card payment's funder saw it go through as they paid
        await _tell(conn, pledge["funder_id"], FUNDER_ROLES, "payment_confirmed", f"/pledges/{pledge['id']}", pledge,
                    payment["amount_fen"])


async def reject_payment(conn: asyncpg.Connection, identity: Identity, payment_id: int, reason: str) -> None:
    """No money arrived: the payment is rejected with the reason; the pledge still awaits payment."""
    await ledger.serialise(conn)
    payment = await conn.fetchrow("select * from payments where id = $1 for update", payment_id)
    if payment is None:
        raise NotFound()
    pledge = await _pledge(conn, payment["pledge_id"])
    await _require_receiver(conn, identity, pledge)
    _transfer(payment)
    PAYMENT.check("reject", payment["status"], {RECEIVER})
    if not 5 <= len(reason.strip()) <= 1000:
        raise InvalidFields([Invalid("Say why, so the funder can put it right.", field="reason")])
    await _decide(conn, payment, "reject", identity.user_id, RECEIVER, identity.org_id,
                  after={"reason": reason.strip()}, decided_by=identity.user_id, reject_reason=reason.strip())
    await _time_to_pay_again(conn, pledge["id"])
    await _tell(conn, pledge["funder_id"], FUNDER_ROLES, "payment_rejected", f"/pledges/{pledge['id']}", pledge,
                payment["amount_fen"], reason=reason.strip())


async def _allocate(conn: asyncpg.Connection, pledge: Any, project_id: int, actor: int | None, capacity: str) -> None:
    # What is left of it: a fund pledge returned by an ended contract may have paid part already.
    amount = pledge["amount_fen"] - pledge["disbursed_fen"]
    await ledger.post(conn, "allocation", [(held(pledge), -amount), (ledger.project(project_id), amount)],
                      pledge_id=pledge["id"], project_id=project_id, actor=actor)
    await _move(conn, pledge, "allocate", actor, capacity, allocated_project_id=project_id)


async def allocate(conn: asyncpg.Connection, identity: Identity, pledge_id: int, project_id: int) -> None:
    """A fund's owner allocates a paid fund pledge to a project."""
    await ledger.serialise(conn)
    pledge = await _pledge(conn, pledge_id)
    await _require_receiver(conn, identity, pledge)
    PLEDGE.check("allocate", pledge["status"], {RECEIVER})
    if pledge["target_type"] != "fund":
        raise Conflict("A pledge to a project is allocated to that project.")
    if await conn.fetchval("select status from projects where id = $1", project_id) != "approved":
        raise InvalidFields([Invalid("Choose an approved project.", field="project_id")])
    await _allocate(conn, pledge, project_id, identity.user_id, RECEIVER)


async def allocate_from_fund(conn: asyncpg.Connection, identity: Identity, fund_id: int, pledge_id: object,
                             project_id: int) -> None:
    """The fund page's allocation: the pledge chosen must be one of the fund's."""
    if not str(pledge_id or "").isdigit() or int(str(pledge_id)) > MAX_ID or not await conn.fetchval(
            "select 1 from pledges where id = $1 and fund_id = $2", int(str(pledge_id)), fund_id):
        raise InvalidFields([Invalid("Choose one of the fund's paid pledges.", field="pledge_id")])
    await allocate(conn, identity, int(str(pledge_id)), project_id)


async def pledge_target(conn: asyncpg.Connection, target_type: object, target_id: object) -> dict[str, Any]:
    """What a pledge is to, named in both languages, with its page; NotFound for anything else."""
    if target_type not in ("project", "need", "fund") or not str(target_id or "").isdigit() \
            or int(str(target_id)) > MAX_ID:
        raise NotFound()
    sql = {"project": "select id, title_zh as name_zh, title_en as name_en from projects where id = $1",
           "need": "select id, title as name_zh, '' as name_en from needs where id = $1",
           "fund": "select id, name_zh, name_en from funds where id = $1"}[str(target_type)]
    row = await conn.fetchrow(sql, int(str(target_id)))
    if row is None:
        raise NotFound()
    return {**dict(row), "type": target_type, "url": f"/{target_type}s/{row['id']}"}


async def cancel(conn: asyncpg.Connection, identity: Identity, pledge_id: int) -> None:
    """The funder withdraws a pledge not yet paid."""
    pledge = await _funders_pledge(conn, identity, pledge_id, "cancel")
    await _move(conn, pledge, "cancel", identity.user_id, FUNDER)


async def refund_booked(conn: asyncpg.Connection, pledge: Any, actor: int | None, memo: str,
                        capacity: str = PLATFORM, amount: int | None = None) -> None:
    """Book a paid pledge's money (all of it, or `amount`: what is left once part was paid out)
    back to its funder. Money paid online also goes back online: the refund is queued for the
    payment service (see online.send_refunds)."""
    amount = pledge["amount_fen"] if amount is None else amount
    source = ledger.project(pledge["allocated_project_id"]) if pledge["status"] == "allocated" else held(pledge)
    await ledger.post(conn, "refund", [(source, -amount), (ledger.funder(pledge["funder_id"]), amount)],
                      pledge_id=pledge["id"], project_id=pledge["allocated_project_id"] or pledge["project_id"],
                      actor=actor, memo=memo)
    await conn.execute("insert into payment_refunds (payment_id, amount_fen) select id, least(amount_fen, $2) "
                       "from payments where pledge_id = $1 and status = 'confirmed' and method = 'stripe'",
                       pledge["id"], amount)
    await _move(conn, pledge, "refund", actor, capacity)


async def return_unspent(conn: asyncpg.Connection, pledge: Any, actor: int | None, memo: str) -> int:
    """An allocated pledge whose project's contract ended: what it has not paid to the provider goes
    back where it came from — a project pledge's to its funder (the pledge is then refunded, its
    `disbursed_fen` saying how much had reached the provider), a fund pledge's to the fund (the
    pledge is paid again, for the fund to allocate anew). Returns the fen returned; the caller
    holds the ledger's lock and the pledge's row."""
    amount = pledge["amount_fen"] - pledge["disbursed_fen"]
    if pledge["target_type"] != "fund":
        await refund_booked(conn, pledge, actor, memo, amount=amount)
        return amount
    await ledger.post(conn, "return", [(ledger.project(pledge["allocated_project_id"]), -amount),
                                       (ledger.fund(pledge["fund_id"]), amount)],
                      pledge_id=pledge["id"], project_id=pledge["allocated_project_id"], actor=actor, memo=memo)
    await _move(conn, pledge, "return", actor, PLATFORM, allocated_project_id=None)
    return amount


async def refund(conn: asyncpg.Connection, identity: Identity, pledge_id: int, reason: str) -> None:
    """The receiver returns a pledge's money, as long as none of it has been paid out."""
    await ledger.serialise(conn)
    pledge = await _pledge(conn, pledge_id)
    await _require_receiver(conn, identity, pledge)
    PLEDGE.check("refund", pledge["status"], {RECEIVER})
    if pledge["disbursed_fen"]:
        raise Conflict("Part of this pledge has been paid to the provider; it cannot be refunded.")
    if not 5 <= len(reason.strip()) <= 1000:
        raise InvalidFields([Invalid("Say why the money goes back.", field="reason")])
    await refund_booked(conn, pledge, identity.user_id, reason.strip(), RECEIVER)


async def raised(conn: asyncpg.Connection, project_id: int) -> int:
    """What funders have paid towards a project (held or allocated), refunds excluded."""
    return await conn.fetchval(
        "select coalesce(sum(amount_fen), 0)::bigint from pledges where project_id = $1 "
        "and status in ('paid', 'allocated', 'disbursed')", project_id)


async def settle(conn: asyncpg.Connection, project_id: int, at: datetime | None = None) -> None:
    """Allocate the project's paid pledges whose conditions hold; once an all-or-nothing deadline
    has passed short of its target, refund what was paid and cancel what was not."""
    await ledger.serialise(conn)
    at = at or _now()
    total = await raised(conn, project_id)
    for pledge in await conn.fetch("select * from pledges where project_id = $1 and target_type = 'project' "
                                   "and status in ('pledged', 'awaiting_payment', 'paid') order by id for update",
                                   project_id):
        conditional = pledge["condition_target_fen"] is not None
        met = not conditional or total >= pledge["condition_target_fen"]
        if pledge["status"] == "paid" and met:
            await _allocate(conn, pledge, project_id, None, PLATFORM)
        elif conditional and not met and at >= pledge["condition_deadline"]:
            if pledge["status"] == "paid":
                await refund_booked(conn, pledge, None, "all-or-nothing target not reached")
            else:
                for payment in await conn.fetch("select * from payments where pledge_id = $1 and status = 'pending' "
                                                "for update", pledge["id"]):
                    await fail_payment(conn, payment, "the all-or-nothing deadline passed")
                await _move(conn, pledge, "cancel", None, PLATFORM)


async def settle_due(pool: asyncpg.Pool, at: datetime | None = None) -> int:
    """Settle every project with an all-or-nothing pledge whose deadline has passed (run now and then
    by each app process, and by `market funding settle`). Returns how many projects were settled."""
    at = at or _now()
    due = await pool.fetch("select distinct project_id from pledges where condition_deadline <= $1 "
                           "and status in ('pledged', 'awaiting_payment', 'paid') order by project_id", at)
    for row in due:
        async with pool.acquire() as conn, conn.transaction():
            await settle(conn, row["project_id"], at)
    return len(due)


# Unpaid: nobody has paid it, or its payment was sent back or did not complete.
_UNPAID = ("status in ('pledged', 'awaiting_payment') and not exists "
           "(select from payments y where y.pledge_id = pledges.id and y.status = 'pending')")
# $1 today, $2 the days a pledge has: a need's pledges have their date once the need is a project.
_PAYABLE = """
update pledges p set pay_by = $1::date + $2::int from project_needs pn
 where p.status = 'pledged' and p.pay_by is null and pn.need_id = p.need_id"""
# $1 today, $2 the last date a reminder is for, $3 the time zone. The update claims each pledge's
# reminder, so its funder is reminded once whichever process runs it; not on the day it was made.
_REMIND = f"""
update pledges set pay_reminded_on = $1
 where {_UNPAID} and pay_by between $1 and $2 and pay_reminded_on is null
   and (created_at at time zone $3)::date < $1
returning id, funder_id, amount_fen, pay_by"""
# $1 today, $2 the last day a transfer recorded on is overdue for its receiver's word, $3 the time zone.
# Claimed by the update, as the funders' reminders are.
_CONFIRM_REMIND = """
update payments set reminded_on = $1
 where status = 'pending' and method = 'offline' and reminded_on is null and (recorded_at at time zone $3)::date <= $2
returning id, pledge_id, amount_fen"""
# $1 today.
_LAPSED = f"select id from pledges where {_UNPAID} and pay_by < $1 order by id"
_LAPSED_ONE = f"select * from pledges where id = $2 and {_UNPAID} and pay_by < $1 for update"


class Lapsed(msgspec.Struct, frozen=True, kw_only=True):
    """What one run of the pledges' clock did."""

    dated: int = 0  # needs' pledges given their date, their need having become a project
    reminded: int = 0
    lapsed: int = 0
    transfers_overdue: int = 0  # receivers reminded of a transfer still to confirm or send back


async def lapse_due(pool: asyncpg.Pool, timezone: str = "Asia/Shanghai") -> Lapsed:
    """The pledges' clock (run now and then by each app process): date the pledges of needs that have
    become projects, remind the funders of pledges due within REMIND_DAYS and the receivers of bank
    transfers recorded CONFIRM_DAYS ago and still to decide, and let lapse the pledges not paid by
    their date, telling the funder and the receiver. Each pledge lapses in its own transaction,
    under a lock that repeats the condition, so it lapses once however many processes run this."""
    today = clock.today()
    dated = int((await pool.execute(_PAYABLE, today, PAY_DAYS)).split()[-1])
    async with pool.acquire() as conn, conn.transaction():
        due = await conn.fetch(_REMIND, today, today + timedelta(days=REMIND_DAYS), timezone)
        for row in due:
            await _tell(conn, row["funder_id"], FUNDER_ROLES, "pledge_due_soon", f"/pledges/{row['id']}", row,
                        row["amount_fen"], due=row["pay_by"].isoformat())
        overdue = await conn.fetch(_CONFIRM_REMIND, today, today - timedelta(days=CONFIRM_DAYS), timezone)
        for row in overdue:
            pledge = await conn.fetchrow("select * from pledges where id = $1", row["pledge_id"])
            await _tell(conn, await receiver_of(conn, pledge), RECEIVER_ROLES, "transfer_overdue", "/payments",
                        pledge, row["amount_fen"], days=CONFIRM_DAYS)
    lapsed = 0
    for row in await pool.fetch(_LAPSED, today):
        async with pool.acquire() as conn, conn.transaction():
            await ledger.serialise(conn)
            pledge = await conn.fetchrow(_LAPSED_ONE, today, row["id"])
            if pledge is None:
                continue  # paid, cancelled or lapsed by another process since the list was read
            await _move(conn, pledge, "lapse", None, PLATFORM)
            link, date = f"/pledges/{pledge['id']}", pledge["pay_by"].isoformat()
            await _tell(conn, pledge["funder_id"], FUNDER_ROLES, "pledge_lapsed", link, pledge, pledge["amount_fen"],
                        due=date)
            await _tell(conn, await receiver_of(conn, pledge), TOLD_OF_PLEDGES, "pledge_lapsed_receiver", link,
                        pledge, pledge["amount_fen"], due=date)
            lapsed += 1
    return Lapsed(dated=dated, reminded=len(due), lapsed=lapsed, transfers_overdue=len(overdue))


async def tell_paid_on(conn: asyncpg.Connection, pledge: Any, amount_fen: int, provider: Any) -> None:
    """Tell the funder's people that this much of its pledge reached the provider (its names), for work
    accepted."""
    await _tell(conn, pledge["funder_id"], FUNDER_ROLES, "pledge_disbursed", f"/pledges/{pledge['id']}", pledge,
                amount_fen, provider=provider["name_zh"], provider_en=provider["name_en"])


async def mark_disbursed(conn: asyncpg.Connection, pledge_id: int) -> None:
    """Every fen of the pledge has reached the provider."""
    await _move(conn, await _pledge(conn, pledge_id), "disburse", None, PLATFORM)


_PLEDGE_COLUMNS = """p.*, o.name_zh as funder_name, o.name_en as funder_name_en, coalesce(pr.title_zh, n.title, f.name_zh) as target_title,
           coalesce(nullif(pr.title_en, ''), nullif(f.name_en, ''), '') as target_title_en"""
_PLEDGE_FROM = """pledges p join organisations o on o.id = p.funder_id
      left join projects pr on pr.id = p.project_id
      left join needs n on n.id = p.need_id
      left join funds f on f.id = p.fund_id"""
_PLEDGE_VIEW = f"select {_PLEDGE_COLUMNS} from {_PLEDGE_FROM}"


def _view(row: Any) -> Pledge:
    return Pledge(**{k: row[k] for k in Pledge.__struct_fields__})


async def get(conn: asyncpg.Connection, identity: Identity, pledge_id: int) -> Pledge:
    """A pledge is its funder's and its receiver's business (and the platform's)."""
    row = await conn.fetchrow(_PLEDGE_VIEW + " where p.id = $1", pledge_id)
    if row is None or not (identity.is_platform_admin or (identity.acts_for_verified and identity.org_id in (
            row["funder_id"], await receiver_of(conn, row)))):
        raise NotFound()
    return _view(row)


_NEWEST_FIRST = keyset.Keyset((keyset.Column("p.created_at", "created_at", datetime), keyset.Column("p.id", "id", int)))


async def pledge_list(conn: asyncpg.Connection, identity: Identity, *, status: str | None = None,
                      cursor: str | None = None, limit: int = 50, counted: bool = True) -> PledgeList:
    """A page of the reader's funder's own pledges (its verified people's), newest first, of one
    status if asked: a foundation may make thousands. Not `counted`: a glimpse, its total what was read."""
    if identity.org_kind != "funder" or not identity.acts_for_verified:
        raise Forbidden("Only the funder's own people see its pledges.")
    if status is not None and status not in PLEDGE_STATUSES:
        raise Invalid("Choose one of the options offered.", field="status")
    where = keyset.Filters()
    where.add("p.funder_id = {}", identity.org_id)
    if status is not None:
        where.add("p.status = {}", status)
    window = await keyset.fetch(conn, select=_PLEDGE_COLUMNS, from_=_PLEDGE_FROM, count_from="pledges p",
                                filters=where, keyset=_NEWEST_FIRST, cursor=cursor, limit=limit, counted=counted)
    return PledgeList(items=[_view(r) for r in window.rows], status=status, **keyset.paged_fields(window))


_PAYMENT_COLUMNS = """y.*, o.name_zh as funder_name, o.name_en as funder_name_en, coalesce(pr.title_zh, f.name_zh) as target_title,
    coalesce(nullif(pr.title_en, ''), nullif(f.name_en, ''), '') as target_title_en"""
_PAYMENT_FROM = """payments y join pledges p on p.id = y.pledge_id join organisations o on o.id = p.funder_id
    left join projects pr on pr.id = p.project_id left join funds f on f.id = p.fund_id"""
_PAYMENT_VIEW = f"select {_PAYMENT_COLUMNS} from {_PAYMENT_FROM}"


# Bank transfers recorded to the organisation $1 (as a project's buyer or a fund's owner) awaiting its
# word. A transfer waits only days (its receiver's finance staff are reminded after three), so the
# city's pending transfers are few, on their own partial index (migration 0074), in the order recorded.
_TO_DECIDE = "y.status = 'pending' and y.method = 'offline' and coalesce(f.owner_id, pr.buyer_id) = {}"
_OLDEST_FIRST = keyset.Keyset((keyset.Column("y.id", "id", int),), descending=False)


async def count_payments_to_decide(conn: asyncpg.Connection, identity: Identity) -> int:
    return int(await conn.fetchval(f"select count(*) from {_PAYMENT_FROM} where {_TO_DECIDE.format('$1')}",
                                   identity.org_id))


def payment_view(row: Any) -> Payment:
    receipt = row["receipt_file"]
    return Payment(**{k: row[k] for k in Payment.__struct_fields__ if k != "receipt_file"},
                   receipt_file=str(receipt) if receipt else receipt)


async def payments_of(conn: asyncpg.Connection, pledge_id: int) -> list[Payment]:
    return [payment_view(r) for r in await conn.fetch(_PAYMENT_VIEW + " where y.pledge_id = $1 order by y.id",
                                                      pledge_id)]


async def trail(conn: asyncpg.Connection, pledge_id: int) -> list[TrailStep]:
    """The pledge's money, step by step: paid in, allocated, refunded, and paid out per milestone."""
    rows = await conn.fetch(
        """select t.kind, t.created_at as at, t.project_id, pr.title_zh as project_title,
                  (select sum(e.amount_fen) from ledger_entries e join ledger_accounts a on a.id = e.account_id
                    where e.transaction_id = t.id and e.amount_fen > 0)::bigint as amount_fen,
                  null::bigint as contract_id, null::text as milestone
             from ledger_transactions t left join projects pr on pr.id = t.project_id
            where t.pledge_id = $1
           union all
           select 'disbursement', d.created_at, pr.id, pr.title_zh, d.amount_fen, d.contract_id, m.title
             from disbursements d join contract_milestones m on m.contract_id = d.contract_id and m.position = d.position
             join contracts k on k.id = d.contract_id join calls c on c.id = k.call_id
             join projects pr on pr.id = c.project_id
            where d.pledge_id = $1
           order by at""", pledge_id)
    return [TrailStep(**dict(r)) for r in rows]


async def get_payment(conn: asyncpg.Connection, identity: Identity, payment_id: int) -> Payment:
    row = await conn.fetchrow(_PAYMENT_VIEW + " where y.id = $1", payment_id)
    if row is None:
        raise NotFound()
    await get(conn, identity, row["pledge_id"])
    return payment_view(row)


async def pledge_view(conn: asyncpg.Connection, identity: Identity, pledge_id: int, online: bool) -> PledgeView:
    """The pledge page: the pledge, its payments and where its money went, what the reader may do
    with it (as its funder or its receiver), and, for the funder, the account to transfer to.
    `online`: whether online payment is offered at all."""
    pledge = await get(conn, identity, pledge_id)
    receiver = await receiver_of(conn, await conn.fetchrow("select * from pledges where id = $1", pledge_id))
    is_funder = identity.acts_for_verified and identity.org_id == pledge.funder_id
    is_receiver = identity.acts_for_verified and identity.org_id == receiver and identity.role in RECEIVER_ROLES
    payments = await payments_of(conn, pledge_id)
    bank = await organisations.bank_account(conn, receiver) if is_funder and receiver else None
    named = await conn.fetchrow("select name_zh, name_en from organisations where id = $1", receiver) if receiver else None
    return PledgeView(**{f: getattr(pledge, f) for f in Pledge.__struct_fields__}, payments=payments,
                      pending=next((p for p in payments if p.status == "pending"), None),
                      trail=await trail(conn, pledge_id), is_funder=is_funder, is_receiver=is_receiver,
                      online=online, bank=bank, receiver_id=receiver,
                      receiver_name=named["name_zh"] if named else "", receiver_name_en=named["name_en"] or "" if named else "")


async def payment_queue(conn: asyncpg.Connection, identity: Identity, *, cursor: str | None = None,
                        limit: int = 50) -> PaymentQueue:
    """The transfers page: a page of what waits for the reader's organisation, the longest waiting
    first, and whether the reader decides."""
    where = keyset.Filters()
    where.add(_TO_DECIDE, identity.org_id)
    window = await keyset.fetch(conn, select=_PAYMENT_COLUMNS, from_=_PAYMENT_FROM, filters=where,
                                keyset=_OLDEST_FIRST, cursor=cursor, limit=limit)
    return PaymentQueue(items=[payment_view(r) for r in window.rows],
                        may_decide=identity.acts_for_verified and identity.role in RECEIVER_ROLES,
                        **keyset.paged_fields(window))


async def pledge_of_payment(conn: asyncpg.Connection, payment_id: int) -> int:
    pledge_id = await conn.fetchval("select pledge_id from payments where id = $1", payment_id)
    if pledge_id is None:
        raise NotFound()
    return int(pledge_id)
