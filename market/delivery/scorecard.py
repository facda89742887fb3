"""A provider's scorecard: its record of delivery, and the standing for eligibility it leads to.

The record is every finished mid-term and final evaluation of its contracts — the result
`market.delivery.outcomes.outcomes_of` decides for each stage (a closed panel's total and grade, or a
failure recorded without a panel, such as a report never filed), plus the earlier results a
re-evaluation has since superseded, which `refresh_standing` keeps in `delivery_results` — and the
counts of its reports filed late, its reports never filed and its contracts ended after a failed
evaluation.

The summary is the mean of the totals of its last SUMMARY_OF scored evaluations (newest first),
graded with the default bands (A ≥ 85, B ≥ 60, C below): recent delivery counts, one old result
does not weigh for ever, and a failure without a panel has no total to average (it is counted on
its own). Then its rectification items not yet verified (整改, market.rectification) lower it: each
one still in time takes OPEN_ITEM_POINTS off (at most OPEN_ITEMS_MOST), and a late one (still open
after its deadline) caps the summary one band lower — just under the lower bound of the band it
would have had (an A becomes at most 84.99, a B at most 59.99). Verifying the fix restores it.
Fit scoring (`market.matching`) reads this summary, so the effect reaches it.

Standing: an evaluation graded MARKET_STANDING_BAR_GRADE or lower, or a stage failed without a panel,
bars the provider from the contract's catalogue item (its code in the buyer's catalogue, whatever
the year's version) for MARKET_STANDING_BAR_MONTHS months from the day it was decided. The bars
are written down in `provider_standing`, which procurement's eligibility check reads without
importing delivery. `refresh_standing` rewrites a provider's bars from its current results: call it
whenever a stage of one of its contracts is decided — the report clock does when a report was never
filed, `ending.end` does, and `rounds.decide_round` when a panel closes. A re-evaluation that
passes lifts the bar its failed predecessor set.

Everything here costs the same few statements however many contracts a provider has.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from market.core import clock, i18n
from market.core.access import Identity
from market.core.errors import NotFound
from market.core.settings import Settings
from market.delivery import outcomes as evaluated
from market.delivery.models import Bar, Evaluation, Scorecard, StandingRule, Summary
from market.evaluation.indicators import scoring as indicator_scoring
from market.evaluation.indicators.models import Bands
from market.organisations import services as organisations
from market.rectification import services as rectification
from market.rectification.models import Standing

# The summary is the mean of this many of the newest scored evaluations.
SUMMARY_OF = 5
# What unverified rectification items take off the summary (see the module's docstring).
OPEN_ITEM_POINTS = Decimal(1)
OPEN_ITEMS_MOST = Decimal(5)
CENT = Decimal("0.01")
# The scorecard page shows this many of the newest evaluations (and how many there are).
HISTORY = 50


# The rule in force in this process, from its settings (see the delivery Domain's `state`).
RULE = StandingRule()


def configure(settings: Settings) -> StandingRule:
    global RULE
    RULE = StandingRule(grade=settings.standing_bar_grade, months=settings.standing_bar_months)
    return RULE


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _local_day(at: datetime) -> date:
    return at.astimezone(ZoneInfo(i18n.current_timezone.get())).date()


# Contracts of these providers that have been evaluated (a delivery panel, a recorded failure or a
# kept result), with what the scorecard and the standing name.
_EVALUATED = """
select k.id, k.provider_id, c.title_zh, c.title_en, b.name_zh as buyer_name, b.name_en as buyer_name_en,
       e.code as item_code,
       v.buyer_id as catalogue_owner_id
  from contracts k join calls c on c.id = k.call_id join organisations b on b.id = k.buyer_id
  join catalogue_entries e on e.id = c.catalogue_entry_id join catalogue_versions v on v.id = e.version_id
 where {which} = any($1::bigint[]) and k.status = 'signed'
   and (exists (select from panels p where p.subject_type in ('midterm', 'final') and p.subject_id = k.id)
        or exists (select from contract_stage_failures f where f.contract_id = k.id)
        or exists (select from delivery_results r where r.contract_id = k.id))
 order by k.id"""
_OF_PROVIDERS = _EVALUATED.format(which="k.provider_id")
_OF_CONTRACTS = _EVALUATED.format(which="k.id")


async def _history(conn: asyncpg.Connection, contracts: list[Any]) -> list[Evaluation]:
    """Every finished evaluation of these contracts, newest first: the results kept when they were
    decided, and the current ones as outcomes_of decides them now (which may not be kept yet)."""

    by_id = {c["id"]: c for c in contracts}
    ids = list(by_id)
    found: dict[tuple[int, str, datetime], Evaluation] = {}

    def add(contract_id: int, stage: str, decided_at: datetime, outcome: str, total: Decimal | None,
            grade: str | None, reason: str) -> None:
        c = by_id[contract_id]
        found[(contract_id, stage, decided_at)] = Evaluation(
            contract_id=contract_id, title_zh=c["title_zh"], title_en=c["title_en"] or "",
            buyer_name=c["buyer_name"], buyer_name_en=c["buyer_name_en"], stage=stage, outcome=outcome, total=total, grade=grade,
            decided_at=decided_at, reason=reason)

    for r in await conn.fetch("select * from delivery_results where contract_id = any($1::bigint[])", ids):
        add(r["contract_id"], r["stage"], r["decided_at"], r["outcome"], r["total"], r["grade"],
            i18n.gettext(r["reason"]) if r["reason"] else "")
    for contract_id, stages in (await evaluated.outcomes_of(conn, ids)).items():
        for o in stages.values():
            if o.outcome is not None and o.decided_at is not None:
                add(contract_id, o.stage, o.decided_at, o.outcome, o.total, o.grade, o.reason or "")
    newest = sorted(found.values(), key=lambda e: (e.decided_at, e.contract_id, e.stage), reverse=True)
    latest: set[tuple[int, str]] = set()
    out = []
    for e in newest:
        key = (e.contract_id, e.stage)
        out.append(msgspec.structs.replace(e, superseded=key in latest))
        latest.add(key)
    return out


def summarise(history: list[Evaluation]) -> Summary:
    """The mean total of the newest SUMMARY_OF scored evaluations in `history` (newest first)."""
    totals = [e.total for e in history if e.total is not None][:SUMMARY_OF]
    if not totals:
        return Summary(evaluations=len(history))
    score = (sum(totals, Decimal(0)) / len(totals)).quantize(Decimal("0.01"))
    return Summary(score=score, grade=indicator_scoring.grade(Bands(), score), counted=len(totals), evaluations=len(history))


def with_rectification(summary: Summary, standing: Standing | None) -> Summary:
    """The summary lowered by the provider's rectification items not yet verified (see the module)."""
    if standing is None or not (standing.open or standing.late):
        return summary
    counts = {"open_items": standing.open, "late_items": standing.late}
    if summary.score is None:
        return msgspec.structs.replace(summary, **counts)
    score = summary.score - min(OPEN_ITEMS_MOST, OPEN_ITEM_POINTS * standing.open)
    bands = Bands()
    if standing.late and summary.grade in ("A", "B"):
        score = min(score, (bands.grade_a_min if summary.grade == "A" else bands.grade_b_min) - CENT)
    score = max(score, Decimal(0)).quantize(CENT)
    return msgspec.structs.replace(summary, score=score, grade=indicator_scoring.grade(bands, score),
                                   before_rectification=summary.score, **counts)


async def summaries(conn: asyncpg.Connection, provider_ids: list[int]) -> dict[int, Summary]:
    """Each of these providers' summaries (a provider never evaluated has none), in a few statements."""
    contracts = await conn.fetch(_OF_PROVIDERS, provider_ids)
    owner = {c["id"]: c["provider_id"] for c in contracts}
    by_provider: dict[int, list[Evaluation]] = {}
    for e in await _history(conn, list(contracts)) if contracts else []:
        by_provider.setdefault(owner[e.contract_id], []).append(e)
    standings = await rectification.standings(conn, list(by_provider))
    return {p: with_rectification(summarise(history), standings.get(p)) for p, history in by_provider.items()}


async def contract_history(conn: asyncpg.Connection, contract_id: int) -> list[Evaluation]:
    """Every finished evaluation of one contract, newest first (for its public page)."""
    rows = await conn.fetch(_OF_CONTRACTS, [contract_id])
    return await _history(conn, list(rows)) if rows else []


async def refresh_standing(conn: asyncpg.Connection, provider_id: int, rule: StandingRule | None = None) -> list[Bar]:
    """Keep every decided result of the provider's contracts, and rewrite its standing from their
    current results (`rule`: the process's, from its settings, unless given). Returns the bars in
    force today. Call it in the transaction that decides a stage."""
    rule = rule or RULE
    contracts = await conn.fetch(_OF_PROVIDERS, [provider_id])
    by_id = {c["id"]: c for c in contracts}
    with i18n.use_locale("en"):  # a failure's reason is kept as its message id, which English shows as it is
        outcomes = await evaluated.outcomes_of(conn, list(by_id)) if by_id else {}
    decided = [(contract_id, o) for contract_id, stages in outcomes.items() for o in stages.values()
               if o.outcome is not None and o.decided_at is not None]
    await conn.executemany(
        "insert into delivery_results (contract_id, stage, decided_at, outcome, total, grade, reason, panel_id) "
        "values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing",
        [(c, o.stage, o.decided_at, o.outcome, o.total, o.grade, o.reason or "", o.panel_id)
         for c, o in decided])
    await conn.execute("delete from provider_standing where organisation_id = $1", provider_id)
    await conn.executemany(
        "insert into provider_standing (organisation_id, contract_id, stage, catalogue_owner_id, item_code, grade, "
        "reason, decided_at, barred_until) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        [(provider_id, c, o.stage, by_id[c]["catalogue_owner_id"], by_id[c]["item_code"], o.grade,
          o.reason or "", o.decided_at,
          add_months(_local_day(o.decided_at), rule.months))
         for c, o in decided if o.decided_at is not None and rule.bars(o)])
    return await bars_in_force(conn, provider_id)


async def bars_in_force(conn: asyncpg.Connection, provider_id: int) -> list[Bar]:
    rows = await conn.fetch(
        """select s.*, e.name_zh, e.name_en, o.name_zh as owner_name
             from provider_standing s join contracts k on k.id = s.contract_id join calls c on c.id = k.call_id
             join catalogue_entries e on e.id = c.catalogue_entry_id join organisations o on o.id = s.catalogue_owner_id
            where s.organisation_id = $1 and s.barred_until > $2 order by s.barred_until desc, s.contract_id""",
        provider_id, clock.today())
    return [Bar(contract_id=r["contract_id"], stage=r["stage"], item_code=r["item_code"], item_name_zh=r["name_zh"],
                item_name_en=r["name_en"], catalogue_owner=r["owner_name"], grade=r["grade"],
                reason=i18n.gettext(r["reason"]) if r["reason"] else "", decided_at=r["decided_at"],
                barred_until=r["barred_until"]) for r in rows]


async def scorecard(conn: asyncpg.Connection, identity: Identity | None, organisation_id: int) -> Scorecard:
    """The provider's scorecard page: public, but for its standing, which its members and the
    platform see."""
    org = await organisations.get_public(conn, identity, organisation_id)
    if org.kind != "provider":
        raise NotFound()
    contracts = await conn.fetch(_OF_PROVIDERS, [organisation_id])
    history = await _history(conn, list(contracts)) if contracts else []
    counts = await conn.fetchrow(
        """select (select count(*) from delivery_reports r join contracts k on k.id = r.contract_id
                    where k.provider_id = $1 and r.late) as late,
                  (select count(*) from contract_stage_failures f join contracts k on k.id = f.contract_id
                    where k.provider_id = $1 and f.position is not null) as not_filed,
                  (select count(*) from contract_delivery d join contracts k on k.id = d.contract_id
                    where k.provider_id = $1 and d.status = 'ended') as ended""", organisation_id)
    own = organisations.can_see_private(identity, organisation_id)
    return Scorecard(
        organisation_id=org.id, name_zh=org.name_zh, name_en=org.name_en,
        summary=with_rectification(summarise(history),
                                   (await rectification.standings(conn, [organisation_id])).get(organisation_id)),
        evaluations=history[:HISTORY], more_evaluations=max(0, len(history) - HISTORY),
        passed=sum(e.outcome == "passed" for e in history), failed=sum(e.outcome == "failed" for e in history),
        late_reports=counts["late"], reports_not_filed=counts["not_filed"], ended_contracts=counts["ended"],
        rule=RULE, bars=await bars_in_force(conn, organisation_id) if own else None, own=own)

