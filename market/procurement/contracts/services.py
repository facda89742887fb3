"""Contracts (合同格式): generated from the standard template once the award's notice period is over
and every objection is answered; milestones for delivery, reports and payments whose percentages
add up to 100; signed in the app by the buyer and the provider, in either order."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import N_
from market.evaluation.indicators import services as indicators
from market.notifications import services as notifications
from market.procurement.awards import batches
from market.procurement.calls import services as calls
from market.procurement.contracts.models import (
    CONTRACT_STATUS_NAMES,
    CONTRACT_STATUSES,
    STANDARD_TITLES,
    Contract,
    MilestoneInput,
    Milestones,
)
from market.workflow import machine, step

# Each party signs for itself, in either order; once both have, the buyer accepts the milestones
# one by one (delivery takes that step: the contract stays signed, the milestone is accepted).
CONTRACT = machine("contract", CONTRACT_STATUSES, [
    ("sign_as_buyer", "draft", "buyer_signed", "buyer", Verb.CONTRACT_SIGN),
    ("sign_as_provider", "draft", "provider_signed", "provider", Verb.CONTRACT_SIGN),
    ("sign_as_buyer", "provider_signed", "signed", "buyer", Verb.CONTRACT_SIGN),
    ("sign_as_provider", "buyer_signed", "signed", "provider", Verb.CONTRACT_SIGN),
    ("accept_milestone", "signed", "signed", "buyer", Verb.MILESTONE_ACCEPT),
], action_names={"sign_as_buyer": N_("the buyer signs"), "sign_as_provider": N_("the provider signs"),
                 "accept_milestone": N_("accept a milestone")}, status_names=CONTRACT_STATUS_NAMES)


def default_milestones(start: date, end: date) -> list[MilestoneInput]:
    """The usual tranches (seed practice, Ningbo Haishu): 40% on signing, 30% after a passed
    mid-term evaluation, 30% after the final one."""
    middle = start + (end - start) / 2
    first, report, second, delivered, final_report, last = STANDARD_TITLES
    return [
        MilestoneInput(kind="payment", title=first, due_date=start, payment_percent=40),
        MilestoneInput(kind="report", title=report, due_date=middle, stage="midterm"),
        MilestoneInput(kind="payment", title=second, due_date=middle + timedelta(days=14), payment_percent=30,
                       waits_for="midterm"),
        MilestoneInput(kind="delivery", title=delivered, due_date=end),
        MilestoneInput(kind="report", title=final_report, due_date=end + timedelta(days=15), stage="final"),
        MilestoneInput(kind="payment", title=last, due_date=end + timedelta(days=30), payment_percent=30,
                       waits_for="final"),
    ]


def check_milestones(milestones: list[MilestoneInput], start: date, end: date) -> None:
    errors = []
    total = sum(m.payment_percent or 0 for m in milestones)
    if total != 100:
        errors.append(Invalid("The payment percentages add up to %(total)s; they must add up to 100.",
                              field="milestones", total=total))
    if any((m.kind == "payment") != (m.payment_percent is not None) for m in milestones):
        errors.append(Invalid("Payment milestones, and only they, have a percentage.", field="milestones"))
    if any(m.waits_for != "none" and m.kind != "payment" for m in milestones):
        errors.append(Invalid("Only a payment milestone waits for an evaluation.", field="milestones"))
    if any(m.stage is not None and m.kind != "report" for m in milestones):
        errors.append(Invalid("Only a report milestone reports on a stage.", field="milestones"))
    if any(m.due_date < start - timedelta(days=31) or m.due_date > end + timedelta(days=180) for m in milestones):
        errors.append(Invalid("A milestone falls far outside the service period.", field="milestones"))
    if errors:
        raise InvalidFields(errors)


async def _save_milestones(conn: asyncpg.Connection, contract_id: int, milestones: list[MilestoneInput]) -> None:
    await conn.execute("delete from contract_milestones where contract_id = $1", contract_id)
    await conn.executemany(
        "insert into contract_milestones (contract_id, position, kind, title, due_date, payment_percent, waits_for, "
        "stage) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        [(contract_id, i, m.kind, m.title.strip(), m.due_date, m.payment_percent, m.waits_for,
          (m.stage or "progress") if m.kind == "report" else None)
         for i, m in enumerate(sorted(milestones, key=lambda m: m.due_date), start=1)])


async def generate(conn: asyncpg.Connection, identity: Identity, call_id: int) -> int:
    """The contract of a call's award, after its notice period."""
    call = await calls.own_call(conn, identity, call_id)
    if calls.status_of(call) != "awarded":
        raise Conflict("The contract is prepared after the award's notice period.")
    award = await conn.fetchrow(
        "select * from awards where call_id = $1 and reopened_at is null and batch_id is null", call_id)
    if await conn.fetchval("select count(*) from objections where award_id = $1 and status = 'pending'", award["id"]):
        raise Conflict("Answer every objection first.")
    return await _from_award(conn, identity, call, award)


async def generate_for_award(conn: asyncpg.Connection, identity: Identity, award_id: int) -> int:
    """The contract of one proposal funded by a review batch, after the batch's notice period."""
    award = await conn.fetchrow("select * from awards where id = $1 and batch_id is not null and reopened_at is null",
                                award_id)
    if award is None:
        raise NotFound()
    call = await calls.own_call(conn, identity, award["call_id"])
    batch = await conn.fetchrow("select * from call_batches where id = $1", award["batch_id"])
    if not batches.BATCHES.allowed("contract", batches.status_of(batch)):
        raise Conflict("The contract is prepared after the award's notice period.")
    if await conn.fetchval("select count(*) from objections where batch_id = $1 and status = 'pending'", batch["id"]):
        raise Conflict("Answer every objection first.")
    return await _from_award(conn, identity, call, award)


async def _from_award(conn: asyncpg.Connection, identity: Identity, call: Any, award: Any) -> int:
    if await conn.fetchval("select id from contracts where award_id = $1", award["id"]):
        raise Conflict("This award has a contract already.")
    provider = await conn.fetchval("select provider_id from bids where id = $1", award["bid_id"])
    contract_id = await conn.fetchval(
        """insert into contracts (call_id, award_id, buyer_id, provider_id, amount_fen, service_start, service_end,
                                  created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning id""",
        call["id"], award["id"], call["buyer_id"], provider, award["amount_fen"], call["service_start"],
        call["service_end"], identity.user_id)
    await _save_milestones(conn, contract_id, default_milestones(call["service_start"], call["service_end"]))
    signers = await notifications.members_of(conn, [call["buyer_id"], provider], ("admin", "staff", "finance"))
    await notifications.notify(conn, signers, "contract_to_sign", f"/contracts/{contract_id}", **notifications.titled(call))
    await audit.record(conn, verb=Verb.CONTRACT_CREATE, object_type="contract", object_id=contract_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"call_id": call["id"], "provider_id": provider, "amount_fen": award["amount_fen"]})
    return contract_id


def _party(identity: Identity, contract: Any) -> str | None:
    if not identity.acts_for_verified or identity.role not in ("admin", "staff", "finance"):
        return None
    if identity.org_id == contract["buyer_id"]:
        return "buyer"
    if identity.org_id == contract["provider_id"]:
        return "provider"
    return None


async def set_milestones(conn: asyncpg.Connection, identity: Identity, contract_id: int, data: Milestones) -> None:
    contract = await conn.fetchrow("select * from contracts where id = $1 for update", contract_id)
    if contract is None or (_party(identity, contract) is None and not identity.is_platform_admin):
        raise NotFound()
    if _party(identity, contract) != "buyer":
        raise Forbidden("The buyer sets the milestones; the provider agrees by signing.")
    if contract["status"] != "draft":
        raise Conflict("A contract that has been signed does not change.")
    check_milestones(data.milestones, contract["service_start"], contract["service_end"])
    await _save_milestones(conn, contract_id, data.milestones)
    await audit.record(conn, verb=Verb.CONTRACT_EDIT, object_type="contract", object_id=contract_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"milestones": msgspec.to_builtins(data.milestones)})


async def _pin_indicator_systems(conn: asyncpg.Connection, contract_id: int) -> None:
    """A contract keeps the indicator systems in force when it was signed, for its mid-term and
    final evaluations, whatever is published later."""
    item = await conn.fetchval("select c.catalogue_entry_id from contracts k join calls c on c.id = k.call_id "
                               "where k.id = $1", contract_id)
    await conn.execute("update contracts set midterm_system_id = $2, final_system_id = $3 where id = $1", contract_id,
                       await indicators.system_for(conn, item, "midterm"), await indicators.system_for(conn, item, "final"))


async def sign(conn: asyncpg.Connection, identity: Identity, contract_id: int) -> str:
    """Sign for one's own side; who and when go into the audit trail."""
    contract = await conn.fetchrow("select * from contracts where id = $1 for update", contract_id)
    if contract is None:
        raise NotFound()
    party = _party(identity, contract)
    if party is None:
        raise Forbidden("Only the buyer and the provider of this contract sign it.")

    async def write(transition: Any) -> None:
        await conn.execute(f"update contracts set status = $2, {party}_signed_by = $3, "
                           f"{party}_signed_at = market_now() where id = $1",
                           contract_id, transition.target, identity.user_id)
        if transition.target == "signed":
            await _pin_indicator_systems(conn, contract_id)

    moved = await step(conn, CONTRACT, f"sign_as_{party}", contract["status"], object_id=contract_id,
                       capacities={party}, actor=identity.user_id, organisation=identity.org_id, write=write,
                       after={"signed_for": party})
    return moved.target


def signing_side(identity: Identity | None, contract: Contract) -> str | None:
    """The side a reader's organisation is on in this contract, whatever the reader's role."""
    org = identity.org_id if identity is not None and identity.acts_for_verified else None
    if org is None:
        return None
    return {contract.buyer_id: "buyer", contract.provider_id: "provider"}.get(org)


def may_sign(side: str | None, contract: Contract) -> bool:
    return side is not None and CONTRACT.allowed(f"sign_as_{side}", contract.status)


def may_read(identity: Identity | None, contract: Any) -> bool:
    """A contract is public once signed by both (群众知晓); before that, its parties' and the platform's."""
    return contract["status"] == "signed" or bool(identity and (identity.is_platform_admin or _party(identity, contract)))


async def readable(conn: asyncpg.Connection, identity: Identity | None, ids: Iterable[int | None]) -> set[int]:
    """Which of these contracts the reader may open, so that pages link only to those."""
    rows = await conn.fetch("select id, status, buyer_id, provider_id from contracts where id = any($1)",
                            [i for i in ids if i is not None])
    return {r["id"] for r in rows if may_read(identity, r)}


async def get(conn: asyncpg.Connection, identity: Identity | None, contract_id: int) -> Contract:
    """A contract, to those who `may_read` it."""
    row = await conn.fetchrow(
        """select k.*, c.title_zh, c.title_en, c.service_place, b.name_zh as buyer_name, p.name_zh as provider_name,
                  b.name_en as buyer_name_en, p.name_en as provider_name_en
             from contracts k join calls c on c.id = k.call_id join organisations b on b.id = k.buyer_id
             join organisations p on p.id = k.provider_id where k.id = $1""", contract_id)
    if row is None:
        raise NotFound()
    if not may_read(identity, row):
        raise NotFound()
    milestones = [MilestoneInput(kind=r["kind"], title=r["title"], due_date=r["due_date"],
                                 payment_percent=r["payment_percent"], waits_for=r["waits_for"], stage=r["stage"])
                  for r in await conn.fetch("select * from contract_milestones where contract_id = $1 order by position",
                                            contract_id)]
    return Contract(**{k: row[k] for k in Contract.__struct_fields__ if k != "milestones"}, milestones=milestones)
