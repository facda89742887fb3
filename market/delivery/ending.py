"""What a failed evaluation of delivery does, and ending a contract with its money returned.

Where each stage stands is `market.delivery.outcomes`. A failed evaluation stops the payments that
wait for it and those after it (market.delivery.services refuses them, saying why), is published on
the contract's public page, and leaves the buyer two choices, each a transition of the `delivery`
machine: set a rectification deadline (the provider is told; afterwards the buyer orders a
re-evaluation, a new panel for the same stage, and the contract is in delivery again), or end the
contract with a reason.

Ending returns the money the provider was not paid (market.funding.ledger.returns): the funders'
pledges and the pools' matching money go back where they came from, each a balanced ledger
transaction, and the funders are told. The government share is drawn from the budget line only
when a milestone is paid, so what was not paid never left it; the contract records it as kept, with
no posting. When the project has another contract still running (a review batch funds several),
its funders' money stays with the project for that one.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg

from market.audit.models import Verb
from market.core import clock, i18n
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.delivery import rounds, scorecard
from market.delivery.outcomes import failed_stage, outcomes_of, stage_outcomes, status_of
from market.delivery.models import (
    DELIVERY_ACTION_NAMES,
    DELIVERY_STATUS_NAMES,
    DELIVERY_STATUSES,
    STAGES,
    Delivery,
    EndInput,
    RectifyInput,
    Returned,
    StageOutcome,
)
from market.evaluation import services as engine
from market.funding.ledger import disbursements
from market.funding.ledger import returns as money_back
from market.notifications import services as notifications
from market.workflow import Notice, Transition, machine, step

# Who decides for the buyer what follows a failed evaluation (whether an evaluation passed is its
# indicator system's bands: market.evaluation.indicators.scoring.passed).
DECIDERS = ("admin", "staff")
SIGNERS = ("admin", "staff", "finance")
# How long a rectification may take at most, beyond the service period's end.
RECTIFY_DAYS_AFTER_END = 180
BUYER = "buyer"

DELIVERY = machine("delivery", DELIVERY_STATUSES, [
    ("rectify", "in_delivery", "rectifying", BUYER, Verb.CONTRACT_RECTIFY),
    ("reevaluate", "rectifying", "in_delivery", BUYER, Verb.CONTRACT_REEVALUATE),
    ("end", "in_delivery", "ended", BUYER, Verb.CONTRACT_END),
    ("end", "rectifying", "ended", BUYER, Verb.CONTRACT_END),
    # Accepting the last milestone completes it (the buyer's acceptance takes this step).
    ("complete", "in_delivery", "completed", BUYER, Verb.CONTRACT_COMPLETE),
], action_names=DELIVERY_ACTION_NAMES, status_names=DELIVERY_STATUS_NAMES)



def _is_decider(identity: Identity | None, contract: Any) -> bool:
    return bool(identity and identity.acts_for_verified and identity.org_id == contract["buyer_id"]
                and identity.role in DECIDERS)


async def delivery_view(conn: asyncpg.Connection, identity: Identity | None, contract: Any,
                        outcomes: dict[str, StageOutcome]) -> Delivery:
    """The contract's life after signing, for its page; `contract` a row of contracts."""
    row = await status_of(conn, contract["id"])
    failed = failed_stage(outcomes)
    decider = _is_decider(identity, contract)
    deciding = failed is not None and not outcomes[failed].evaluating
    returned = [Returned(**dict(r)) for r in await conn.fetch(
        """select r.kind, r.amount_fen, r.transaction_id, r.pledge_id,
                  coalesce(f.name_zh, o.name_zh, p.budget_line) as to_name
             from contract_returns r join contracts k on k.id = r.contract_id join calls c on c.id = k.call_id
             join projects p on p.id = c.project_id
             left join funds f on f.id = r.fund_id and r.kind <> 'pledge_to_funder'
             left join organisations o on o.id = r.funder_id
            where r.contract_id = $1 order by r.id""", contract["id"])]
    paid = await conn.fetchval("select coalesce(sum(amount_fen), 0)::bigint from disbursements where contract_id = $1",
                               contract["id"])
    status = row["status"]
    # A stage's open panel is ready to decide once the chair has recorded every consensus score
    # (a panel still forming has none recorded).
    panels = {o.open_panel_id: s for s, o in outcomes.items()
              if o.open_panel_id is not None and await engine.missing_consensus(conn, o.open_panel_id) == 0}
    ready = set(panels.values())
    pending = {panels[p]: v for p, v in (await engine.verdicts(conn, list(panels))).items()} if ready else {}
    openable = [s for s in STAGES if rounds.may_run(identity, contract) and status == "in_delivery"
                and outcomes[s].panel_id is None and outcomes[s].outcome is None
                and not outcomes[s].evaluating and (s == "midterm" or outcomes["midterm"].panel_id)]
    waiting = await rounds.reports_waiting(conn, contract["id"]) if openable else set()
    return Delivery(status=status, failed_stage=failed, decided_stage=row["decided_stage"],
                    rectify_by=row["rectify_by"], rectify_note=row["rectify_note"], ended_reason=row["ended_reason"],
                    ended_at=row["ended_at"], returns=returned,
                    returned_fen=sum(r.amount_fen for r in returned if r.transaction_id is not None), paid_fen=paid,
                    may_rectify=decider and deciding and DELIVERY.allowed("rectify", status),
                    may_reevaluate=decider and DELIVERY.allowed("reevaluate", status)
                    and not outcomes[row["decided_stage"] or "midterm"].evaluating,
                    may_end=decider and failed is not None and DELIVERY.allowed("end", status),
                    may_open=[s for s in openable if s not in waiting],
                    waits_for_report=[s for s in openable if s in waiting],
                    may_decide=[s for s in STAGES if rounds.may_run(identity, contract) and status == "in_delivery"
                                and s in ready],
                    pending=pending)


async def _decided_contract(conn: asyncpg.Connection, identity: Identity, contract_id: int) -> Any:
    """The contract, locked, for its buyer's decision after a failed evaluation."""
    contract = await conn.fetchrow(
        "select k.*, c.project_id, c.title_zh, c.title_en from contracts k join calls c on c.id = k.call_id "
        "where k.id = $1 for update of k", contract_id)
    if contract is None:
        raise NotFound()
    if not _is_decider(identity, contract):
        raise Forbidden("Only the buyer of this contract decides what a failed evaluation leads to.")
    if contract["status"] != "signed":
        raise Conflict("Only a contract both parties have signed is delivered and evaluated.")
    return contract


async def _move(conn: asyncpg.Connection, identity: Identity, contract: Any, action: str, source: str,
                write: Any, after: dict[str, Any], notices: list[Notice]) -> None:
    await step(conn, DELIVERY, action, source, object_id=contract["id"], capacities={BUYER},
               actor=identity.user_id, organisation=identity.org_id, write=write, after=after, notices=notices)


async def _provider_people(conn: asyncpg.Connection, contract: Any) -> list[notifications.Recipient]:
    return await notifications.members_of(conn, [contract["provider_id"]], SIGNERS)


async def rectify(conn: asyncpg.Connection, identity: Identity, contract_id: int, data: RectifyInput) -> None:
    """After a failed evaluation, the buyer gives the provider until a date to put it right."""
    contract = await _decided_contract(conn, identity, contract_id)
    row = await status_of(conn, contract_id)
    DELIVERY.check("rectify", row["status"], {BUYER})
    outcomes = await stage_outcomes(conn, contract_id)
    stage = failed_stage(outcomes)
    if stage is None:
        raise Conflict("No evaluation of this contract has failed: there is nothing to rectify.")
    if outcomes[stage].evaluating:
        raise Conflict("A new evaluation of this stage is under way: wait for its result.")
    errors = []
    today = clock.today()
    if data.rectify_by <= today:
        errors.append(Invalid("Give a date after today.", field="rectify_by"))
    elif data.rectify_by > contract["service_end"] + timedelta(days=RECTIFY_DAYS_AFTER_END):
        errors.append(Invalid("Give a date at most %(days)s days after the service period ends.", field="rectify_by",
                              days=RECTIFY_DAYS_AFTER_END))
    note = data.note.strip()
    if not 5 <= len(note) <= 2000:
        errors.append(Invalid("Say what the provider must put right (5 to 2,000 characters).", field="note"))
    if errors:
        raise InvalidFields(errors)

    async def write(_: Transition) -> None:
        await conn.execute(
            """insert into contract_delivery (contract_id, status, decided_stage, rectify_by, rectify_note)
               values ($1, 'rectifying', $2, $3, $4)
               on conflict (contract_id) do update set status = 'rectifying', decided_stage = $2, rectify_by = $3,
                      rectify_note = $4, updated_at = market_now()""", contract_id, stage, data.rectify_by, note)

    await _move(conn, identity, contract, "rectify", row["status"], write,
                {"stage": stage, "rectify_by": data.rectify_by.isoformat(), "note": note},
                [Notice(await _provider_people(conn, contract), "contract_rectify", f"/contracts/{contract_id}#delivery",
                        {**notifications.titled(contract), "date": data.rectify_by.isoformat()})])
    # The failed result is kept now, before a re-evaluation can supersede it (market.delivery.scorecard).
    await scorecard.refresh_standing(conn, contract["provider_id"])


async def reevaluate(conn: asyncpg.Connection, identity: Identity, contract_id: int) -> int:
    """Once the provider has rectified, the buyer orders a new evaluation of the failed stage: a new
    panel with the same criteria, which the buyer then forms. The contract is in delivery again; the
    stage stays failed until that panel closes. Returns the new panel."""
    contract = await _decided_contract(conn, identity, contract_id)
    row = await status_of(conn, contract_id)
    DELIVERY.check("reevaluate", row["status"], {BUYER})
    stage = row["decided_stage"]
    await scorecard.refresh_standing(conn, contract["provider_id"])  # keeps the result the new panel will supersede
    panel_ids: list[int] = []

    async def write(_: Transition) -> None:
        panel_ids.append(await rounds.new_panel(conn, identity, contract, stage))
        await conn.execute("update contract_delivery set status = 'in_delivery', updated_at = market_now() "
                           "where contract_id = $1", contract_id)

    await _move(conn, identity, contract, "reevaluate", row["status"], write, {"stage": stage},
                [Notice(await _provider_people(conn, contract), "contract_reevaluation",
                        f"/contracts/{contract_id}#delivery", notifications.titled(contract))])
    return panel_ids[0]


async def _project_shared(conn: asyncpg.Connection, contract: Any) -> bool:
    """Whether another contract of the same project still needs the project's money."""
    return bool(await conn.fetchval(
        """select exists (select from contracts k join calls c on c.id = k.call_id
                            left join contract_delivery d on d.contract_id = k.id
                           where c.project_id = $1 and k.id <> $2
                             and coalesce(d.status, 'in_delivery') not in ('ended', 'completed'))""",
        contract["project_id"], contract["id"]))


async def end(conn: asyncpg.Connection, identity: Identity, contract_id: int, data: EndInput) -> int:
    """After a failed evaluation, the buyer ends the contract with a reason. It cannot be undone:
    nothing more is accepted or paid, and the money the provider was not paid goes back. Returns
    the fen returned to funders and funds."""
    await disbursements.serialise(conn)  # the ledger's lock first, as every movement of money takes it
    contract = await _decided_contract(conn, identity, contract_id)
    row = await status_of(conn, contract_id)
    DELIVERY.check("end", row["status"], {BUYER})
    stage = failed_stage(await stage_outcomes(conn, contract_id))
    if stage is None:
        raise Conflict("A contract is ended early only after a failed evaluation.")
    reason = data.reason.strip()
    if not 5 <= len(reason) <= 2000:
        raise InvalidFields([Invalid("Say why the contract ends (5 to 2,000 characters): it is published.",
                                     field="reason")])
    paid = await conn.fetchval("select coalesce(sum(amount_fen), 0)::bigint from disbursements where contract_id = $1",
                               contract_id)
    moved: list[money_back.Returned] = []
    kept = 0
    if not await _project_shared(conn, contract):
        moved = await money_back.return_project_money(conn, identity.user_id, contract["project_id"],
                                                      f"contract #{contract_id} ended")
        # The funders' money would have paid first; the rest of what was not paid is the budget's.
        kept = max(0, contract["amount_fen"] - paid - sum(m.amount_fen for m in moved))
    returned = sum(m.amount_fen for m in moved)

    async def write(_: Transition) -> None:
        await conn.executemany(
            "insert into contract_returns (contract_id, kind, transaction_id, pledge_id, funder_id, fund_id, "
            "amount_fen) values ($1, $2, $3, $4, $5, $6, $7)",
            [(contract_id, m.kind, m.transaction_id, m.pledge_id, m.funder_id, m.fund_id, m.amount_fen) for m in moved]
            + ([(contract_id, "budget_kept", None, None, None, None, kept)] if kept else []))
        await conn.execute(
            """insert into contract_delivery (contract_id, status, decided_stage, ended_reason, ended_at, ended_by)
               values ($1, 'ended', $2, $3, market_now(), $4)
               on conflict (contract_id) do update set status = 'ended', decided_stage = $2, ended_reason = $3,
                      ended_at = market_now(), ended_by = $4, updated_at = market_now()""",
            contract_id, stage, reason, identity.user_id)

    link = f"/contracts/{contract_id}#delivery"
    # The provider is told; each funder what came back to it or to its fund; each pool's owner what
    # came back to the pool.
    title = notifications.titled(contract)
    notices = [Notice(await _provider_people(conn, contract), "contract_ended", link, title)]
    by_funder: dict[int, int] = {}
    by_fund: dict[int, int] = {}
    for m in moved:
        if m.funder_id is not None:
            by_funder[m.funder_id] = by_funder.get(m.funder_id, 0) + m.amount_fen
        if m.fund_id is not None:
            by_fund[m.fund_id] = by_fund.get(m.fund_id, 0) + m.amount_fen
    for funder, amount in sorted(by_funder.items()):
        notices.append(Notice(await notifications.members_of(conn, [funder], SIGNERS), "contract_money_returned",
                              link, {**title, "amount": money(amount)}))
    for fund_id, amount in sorted(by_fund.items()):
        fund = await conn.fetchrow("select owner_id, name_zh, name_en from funds where id = $1", fund_id)
        notices.append(Notice(await notifications.members_of(conn, [fund["owner_id"]], SIGNERS),
                              "fund_money_returned", link,
                              {**title, "amount": money(amount), "fund": fund["name_zh"], "fund_en": fund["name_en"]}))
    await _move(conn, identity, contract, "end", row["status"], write,
                {"stage": stage, "reason": reason, "paid_fen": paid, "returned_fen": returned,
                 "budget_kept_fen": kept}, notices)
    await scorecard.refresh_standing(conn, contract["provider_id"])
    return returned


def money(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


async def complete_if_done(conn: asyncpg.Connection, identity: Identity, contract_id: int) -> None:
    """Accepting the last milestone completes the contract's delivery."""
    if await conn.fetchval("select exists (select from contract_milestones where contract_id = $1 "
                           "and accepted_at is null)", contract_id):
        return
    row = await status_of(conn, contract_id)

    async def write(_: Transition) -> None:
        await conn.execute(
            "insert into contract_delivery (contract_id, status) values ($1, 'completed') "
            "on conflict (contract_id) do update set status = 'completed', updated_at = market_now()", contract_id)

    await step(conn, DELIVERY, "complete", row["status"], object_id=contract_id, capacities={BUYER},
               actor=identity.user_id, organisation=identity.org_id, write=write)


# The buyer's contracts in delivery whose next milestone to accept is a payment waiting for an
# evaluation, or which have a delivery panel or a recorded failure: what the workbench lists are read
# from these, the outcome of each stage decided as everywhere else.
_WORKBENCH = """
select k.id, c.title_zh, c.title_en, o.name_zh as provider_name, o.name_en as provider_name_en, coalesce(d.status, 'in_delivery') as status,
       d.rectify_by, m.position, m.due_date, m.waits_for,
       exists (select from panels p where p.subject_type in ('midterm', 'final') and p.subject_id = k.id)
       or exists (select from contract_stage_failures f where f.contract_id = k.id) as evaluated
  from contracts k join calls c on c.id = k.call_id join organisations o on o.id = k.provider_id
  left join contract_delivery d on d.contract_id = k.id
  left join contract_milestones m on m.contract_id = k.id
        and m.position = (select min(n.position) from contract_milestones n
                           where n.contract_id = k.id and n.accepted_at is null)
 where k.buyer_id = $1 and k.status = 'signed' and coalesce(d.status, 'in_delivery') in ('in_delivery', 'rectifying')
 order by k.id"""


async def workbench_lists(conn: asyncpg.Connection, buyer_id: int,
                          horizon: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """For the buyer's workbench: payments due by `horizon` that wait for an evaluation not yet
    passed, and failed evaluations waiting for the buyer's decision (a rectification whose deadline
    has come counts again: order the re-evaluation, or end). Rows in the workbench's Task shape."""
    waiting: list[dict[str, Any]] = []
    deciding: list[dict[str, Any]] = []
    today = clock.today()
    rows = await conn.fetch(_WORKBENCH, buyer_id)
    evaluated = [r["id"] for r in rows if r["evaluated"]]
    decided = await outcomes_of(conn, evaluated) if evaluated else {}
    for row in rows:
        task = {"title_zh": row["title_zh"], "title_en": row["title_en"] or "", "detail": i18n.bilingual(row["provider_name"], row["provider_name_en"]),
                "link": f"/contracts/{row['id']}#delivery"}
        outcomes = decided.get(row["id"]) or {s: StageOutcome(stage=s, outcome=None) for s in STAGES}
        failed = failed_stage(outcomes)
        if failed is not None and not outcomes[failed].evaluating and (
                row["status"] == "in_delivery" or row["rectify_by"] <= today):
            deciding.append({**task, "at": outcomes[failed].decided_at, "state": failed})
        elif (failed is None and row["waits_for"] not in (None, "none") and row["due_date"] <= horizon
              and outcomes[row["waits_for"]].outcome != "passed"):
            waiting.append({**task, "due_date": row["due_date"], "state": row["waits_for"]})
    return waiting, deciding
