"""What a funder sees of its giving: its pledges, where the money went (project, contract, milestone)
and how the funded projects were evaluated. Everything is read from the ledger and the pledges, so
the dashboard can never disagree with the books."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import msgspec

from market.core.access import Identity
from market.evaluation import services as evaluation
from market.funding.pledges import services as pledges
from market.funding.pledges.models import Pledge


class Giving(msgspec.Struct, frozen=True, kw_only=True):
    """The funder's totals, in fen: promised and not yet paid, paid in, spent on providers, refunded."""

    promised_fen: int
    paid_fen: int
    disbursed_fen: int
    refunded_fen: int


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    stage: str  # call (the bid's evaluation), midterm or final
    total: Decimal | None


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """One contract of a project the funder gave to: who delivers it, how far it has got, how it scored."""

    project_id: int
    project_title: str
    contract_id: int | None
    provider_name: str | None
    amount_fen: int | None
    milestones_accepted: int
    milestones: int
    paid_fen: int
    evaluations: list[Evaluation]


class FunderView(msgspec.Struct, frozen=True, kw_only=True):
    giving: Giving
    pledges: list[Pledge]
    outcomes: list[Outcome]
    transfers_waiting: int


async def funder_view(conn: asyncpg.Connection, identity: Identity) -> FunderView:
    mine = await pledges.of_funder(conn, identity)
    giving = Giving(
        promised_fen=sum(p.amount_fen for p in mine if p.status in ("pledged", "awaiting_payment")),
        paid_fen=sum(p.amount_fen for p in mine if p.status in ("paid", "allocated", "disbursed")),
        disbursed_fen=sum(p.disbursed_fen for p in mine),
        refunded_fen=sum(p.amount_fen for p in mine if p.status == "refunded"))
    rows = await conn.fetch(
        """select pr.id as project_id, pr.title_zh as project_title, k.id as contract_id,
                  o.name_zh as provider_name, k.amount_fen, a.total as award_total,
                  (select count(*) from contract_milestones m where m.contract_id = k.id
                      and m.accepted_at is not null) as milestones_accepted,
                  (select count(*) from contract_milestones m where m.contract_id = k.id) as milestones,
                  (select coalesce(sum(d.amount_fen), 0) from disbursements d where d.contract_id = k.id)::bigint
                      as paid_fen
             from projects pr
             left join calls c on c.project_id = pr.id
             left join contracts k on k.call_id = c.id and k.status = 'signed'
             left join organisations o on o.id = k.provider_id
             left join awards a on a.id = k.award_id
            where pr.id in (select coalesce(allocated_project_id, project_id) from pledges
                             where funder_id = $1 and status in ('paid', 'allocated', 'disbursed'))
            order by pr.id, k.id""", identity.org_id)
    stages = await _delivery_evaluations(conn, [r["contract_id"] for r in rows if r["contract_id"]])
    outcomes = [Outcome(project_id=r["project_id"], project_title=r["project_title"], contract_id=r["contract_id"],
                        provider_name=r["provider_name"], amount_fen=r["amount_fen"],
                        milestones_accepted=r["milestones_accepted"], milestones=r["milestones"],
                        paid_fen=r["paid_fen"],
                        evaluations=([Evaluation(stage="call", total=r["award_total"])] if r["contract_id"] else [])
                        + stages.get(r["contract_id"], []))
                for r in rows]
    waiting = len(await pledges.payments_to_decide(conn, identity))
    return FunderView(giving=giving, pledges=mine, outcomes=outcomes, transfers_waiting=waiting)


async def _delivery_evaluations(conn: asyncpg.Connection, contract_ids: list[int]) -> dict[int, list[Evaluation]]:
    """Closed mid-term and final evaluations of the contracts, with the provider's total."""
    found: dict[int, list[Evaluation]] = {}
    for panel in await conn.fetch(
            "select id, subject_id, subject_type from panels where subject_type in ('midterm', 'final') "
            "and subject_id = any($1::bigint[]) and status = 'closed' order by subject_type desc, id", contract_ids):
        ranked = await evaluation.scoring_results(conn, panel["id"])
        found.setdefault(panel["subject_id"], []).append(
            Evaluation(stage=panel["subject_type"], total=ranked[0].total if ranked else None))
    return found
