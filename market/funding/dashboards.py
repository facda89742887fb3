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
    project_title_en: str
    contract_id: int | None
    provider_name: str | None
    provider_name_en: str | None
    amount_fen: int | None
    milestones_accepted: int
    milestones: int
    paid_fen: int
    evaluations: list[Evaluation]


class FunderView(msgspec.Struct, frozen=True, kw_only=True):
    giving: Giving
    # The newest pledges, of `pledge_count` in all (the rest are on the funder's list of pledges).
    pledges: list[Pledge]
    pledge_count: int
    # The contracts of the projects its money reached most recently, of `project_count` projects.
    outcomes: list[Outcome]
    projects_shown: int
    project_count: int
    transfers_waiting: int


# Shown on the dashboard; the rest a link away. A foundation may make thousands of pledges.
SHOWN = 10
_GIVING = """
select coalesce(sum(amount_fen) filter (where status in ('pledged', 'awaiting_payment')), 0)::bigint as promised_fen,
       coalesce(sum(amount_fen) filter (where status in ('paid', 'allocated', 'disbursed')), 0)::bigint as paid_fen,
       coalesce(sum(disbursed_fen), 0)::bigint as disbursed_fen,
       coalesce(sum(amount_fen) filter (where status = 'refunded'), 0)::bigint as refunded_fen,
       count(distinct coalesce(allocated_project_id, project_id))
           filter (where status in ('paid', 'allocated', 'disbursed')) as projects,
       count(*) as pledges
  from pledges where funder_id = $1"""
# $1 the funder, $2 how many projects: those its paid money went to, the latest first.
_OUTCOMES = """
select pr.id as project_id, pr.title_zh as project_title, pr.title_en as project_title_en, k.id as contract_id,
       o.name_zh as provider_name, o.name_en as provider_name_en, k.amount_fen, a.total as award_total,
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
 where pr.id in (select distinct coalesce(allocated_project_id, project_id) from pledges
                  where funder_id = $1 and status in ('paid', 'allocated', 'disbursed') order by 1 desc limit $2)
 order by pr.id desc, k.id"""


async def funder_view(conn: asyncpg.Connection, identity: Identity) -> FunderView:
    """The funder's giving in a fixed number of statements, however much it has given."""
    totals = await conn.fetchrow(_GIVING, identity.org_id)
    mine = await pledges.pledge_list(conn, identity, limit=SHOWN, counted=False)
    rows = await conn.fetch(_OUTCOMES, identity.org_id, SHOWN)
    stages = await _delivery_evaluations(conn, [r["contract_id"] for r in rows if r["contract_id"]])
    outcomes = [Outcome(project_id=r["project_id"], project_title=r["project_title"],
                        project_title_en=r["project_title_en"], contract_id=r["contract_id"],
                        provider_name=r["provider_name"], provider_name_en=r["provider_name_en"],
                        amount_fen=r["amount_fen"],
                        milestones_accepted=r["milestones_accepted"], milestones=r["milestones"],
                        paid_fen=r["paid_fen"],
                        evaluations=([Evaluation(stage="call", total=r["award_total"])] if r["contract_id"] else [])
                        + stages.get(r["contract_id"], []))
                for r in rows]
    return FunderView(giving=Giving(**{k: totals[k] for k in Giving.__struct_fields__}), pledges=mine.items,
                      pledge_count=totals["pledges"], outcomes=outcomes, projects_shown=len({o.project_id for o in outcomes}),
                      project_count=totals["projects"],
                      transfers_waiting=await pledges.count_payments_to_decide(conn, identity))


async def _delivery_evaluations(conn: asyncpg.Connection, contract_ids: list[int]) -> dict[int, list[Evaluation]]:
    """Closed mid-term and final evaluations of the contracts, with the provider's total (each
    panel's verdict on its one candidate, all panels at once)."""
    panels = await conn.fetch(
        "select id, subject_id, subject_type from panels where subject_type in ('midterm', 'final') "
        "and subject_id = any($1::bigint[]) and status = 'closed' order by subject_type desc, id", contract_ids)
    verdicts = await evaluation.verdicts(conn, [p["id"] for p in panels]) if panels else {}
    found: dict[int, list[Evaluation]] = {}
    for panel in panels:
        found.setdefault(panel["subject_id"], []).append(
            Evaluation(stage=panel["subject_type"], total=verdicts[panel["id"]].total))
    return found
