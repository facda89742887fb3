"""Providers rate the buyer: on each signed contract, once after its mid-term evaluation is decided
(passed or failed, by a panel or by a report never filed) and once at its end (the contract ended
or completed, or its service period over), on five criteria from 1 to 5 where 5 is always the best
("interference in delivery": 5 = none), with a comment. The provider's admin or staff rate; a stage
is rated once, and a rating is never changed.

Nobody but the provider that gave it sees a single rating. The buyer, and everyone, sees a year's
ratings of a buyer only in aggregate and only when at least MIN_PROVIDERS different providers rated
it that year; its comments, without who wrote them, only the buyer's own members and the platform.
A buyer's year with fewer raters feeds no published figure at all (not a street's or a district's
either), so no figure can be subtracted from another to find a few providers' ratings.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import asyncpg

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock, i18n
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import N_
from market.buyers.models import (
    CRITERIA,
    RATING_STAGES,
    BuyerRatings,
    ContractRating,
    CriterionMean,
    DueRating,
    GivenRating,
    RatingInput,
    RatingYear,
    StageRating,
)
from market.organisations import services as organisations

MIN_PROVIDERS = 3  # a year's ratings of a buyer are shown only over this many different providers
RATERS = ("admin", "staff")  # who rates for the provider

# Each stage of the signed contracts `{which}` picks, with the moment its rating became due, or null
# while it is not due: the mid-term once decided (its first closed panel, or a failure recorded
# without one), the final once the contract ended or completed, or its service period is over.
# $1 today, $2 the deployment's time zone, then what `{which}` reads.
_STAGES = """
select k.id as contract_id, s.stage, k.provider_id, k.buyer_id, c.title_zh, c.title_en, b.name_zh as buyer_name,
       b.name_en as buyer_name_en,
       case s.stage
         when 'midterm' then least(
           (select min(p.closed_at) from panels p
             where p.subject_type = 'midterm' and p.subject_id = k.id and p.status = 'closed'),
           (select min(f.at) from contract_stage_failures f where f.contract_id = k.id and f.stage = 'midterm'))
         else least(
           case when d.status in ('ended', 'completed') then coalesce(d.ended_at, d.updated_at) end,
           case when k.service_end < $1::date then (k.service_end + 1)::timestamp at time zone $2 end)
       end as since
  from contracts k join calls c on c.id = k.call_id join organisations b on b.id = k.buyer_id
  cross join (values ('midterm'), ('final')) as s (stage)
  left join contract_delivery d on d.contract_id = k.id
 where k.status = 'signed' and {which}"""


def due_query(which: str) -> str:
    """The stages of the contracts `which` picks that are due a rating and not rated, oldest first."""
    return f"""
select x.* from ({_STAGES.format(which=which)}) x
 where x.since is not null
   and not exists (select from buyer_ratings r where r.contract_id = x.contract_id and r.stage = x.stage)
 order by x.since, x.contract_id, x.stage"""


_DUE_OF_PROVIDER = due_query("k.provider_id = $3")
_OF_CONTRACT = _STAGES.format(which="k.id = $3")


def _timezone() -> str:
    return i18n.current_timezone.get()


def _is_rater(identity: Identity | None, provider_id: int) -> bool:
    return bool(identity and identity.acts_for_verified and identity.org_id == provider_id
                and identity.role in RATERS)


async def due(conn: asyncpg.Connection, provider_id: int) -> list[DueRating]:
    """What the provider may rate now, oldest first (its workbench)."""
    return [DueRating(contract_id=r["contract_id"], stage=r["stage"], title_zh=r["title_zh"],
                      title_en=r["title_en"] or "", buyer_name=r["buyer_name"],
                      buyer_name_en=r["buyer_name_en"], since=r["since"])
            for r in await conn.fetch(_DUE_OF_PROVIDER, clock.today(), _timezone(), provider_id)]


NOT_YET = {"midterm": N_("The buyer is rated on this stage once the mid-term evaluation is decided."),
           "final": N_("The buyer is rated at the end once the contract has ended or its service period is over.")}


async def contract_rating(conn: asyncpg.Connection, identity: Identity | None, contract_id: int) -> ContractRating:
    """The provider's page for rating the buyer of one of its contracts."""
    rows = await conn.fetch(_OF_CONTRACT, clock.today(), _timezone(), contract_id)
    if not rows:
        raise NotFound()
    first = rows[0]
    if not (identity and identity.org_id == first["provider_id"]):
        raise Forbidden("Only the provider of this contract rates its buyer.")
    given = {r["stage"]: r for r in await conn.fetch(
        "select * from buyer_ratings where contract_id = $1", contract_id)}
    buyer = await conn.fetchrow("select name_zh, name_en from organisations where id = $1", first["buyer_id"])
    stages = []
    for r in sorted(rows, key=lambda r: RATING_STAGES.index(r["stage"])):
        g = given.get(r["stage"])
        if g is not None:
            stages.append(StageRating(stage=r["stage"], status="given", rating=GivenRating(
                **{c: g[c] for c in CRITERIA}, comment=g["comment"], rated_at=g["rated_at"])))
        elif r["since"] is not None:
            stages.append(StageRating(stage=r["stage"], status="due"))
        else:
            stages.append(StageRating(stage=r["stage"], status="not_yet", why_not=i18n.gettext(NOT_YET[r["stage"]])))
    return ContractRating(contract_id=contract_id, title_zh=first["title_zh"], title_en=first["title_en"] or "",
                          buyer_id=first["buyer_id"], buyer_name_zh=buyer["name_zh"], buyer_name_en=buyer["name_en"],
                          stages=stages, may_rate=_is_rater(identity, first["provider_id"]),
                          min_providers=MIN_PROVIDERS)


async def rate(conn: asyncpg.Connection, identity: Identity, contract_id: int, data: RatingInput) -> int:
    """The provider rates the buyer on a stage of the contract that is due and not rated yet.
    Returns the rating's id."""
    if data.stage not in RATING_STAGES:
        raise InvalidFields([Invalid("Choose the mid-term or the final rating.", field="stage")])
    contract = await conn.fetchrow("select id, provider_id, buyer_id from contracts where id = $1 for update",
                                   contract_id)
    if contract is None:
        raise NotFound()
    if not _is_rater(identity, contract["provider_id"]):
        raise Forbidden("Only the provider's administrators and staff rate the buyer of its contracts.")
    stage = next((r for r in await conn.fetch(_OF_CONTRACT, clock.today(), _timezone(), contract_id)
                  if r["stage"] == data.stage), None)
    if stage is None:
        raise Conflict("Only a contract both parties have signed is rated.")
    if stage["since"] is None:
        raise Conflict(NOT_YET[data.stage])
    comment = data.comment.strip()
    rating_id = await conn.fetchval(
        """insert into buyer_ratings (contract_id, stage, buyer_id, provider_id, clarity, payment, support,
                                      interference, fairness, comment, rated_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           on conflict (contract_id, stage) do nothing returning id""",
        contract_id, data.stage, contract["buyer_id"], contract["provider_id"], data.clarity, data.payment,
        data.support, data.interference, data.fairness, comment, identity.user_id)
    if rating_id is None:
        raise Conflict("The buyer of this contract has been rated on this stage already.")
    # The audit trail says a rating was given, never what it said: the buyer reads only aggregates.
    await audit.record(conn, verb=Verb.BUYER_RATE, object_type="contract", object_id=contract_id,
                       actor=identity.user_id, organisation=contract["provider_id"], after={"stage": data.stage})
    return rating_id


class Tally:
    """Sums of one buyer's ratings in one year, by provider: what every aggregate is made of."""

    def __init__(self) -> None:
        self.count = 0
        self.sums = dict.fromkeys(CRITERIA, 0)
        self.providers: set[int] = set()

    def add(self, row: Any) -> None:
        self.count += row["n"]
        self.providers.add(row["provider_id"])
        for c in CRITERIA:
            self.sums[c] += row[c]

    def merge(self, other: Tally) -> None:
        self.count += other.count
        self.providers |= other.providers
        for c in CRITERIA:
            self.sums[c] += other.sums[c]

    @property
    def enough(self) -> bool:
        return len(self.providers) >= MIN_PROVIDERS

    def means(self) -> dict[str, Decimal]:
        return {c: (Decimal(self.sums[c]) / self.count).quantize(Decimal("0.01")) for c in CRITERIA}

    def mean(self) -> Decimal:
        return (Decimal(sum(self.sums.values())) / (self.count * len(CRITERIA))).quantize(Decimal("0.01"))


async def tallies(conn: asyncpg.Connection, buyer_ids: list[int]) -> dict[tuple[int, int], Tally]:
    """(buyer, year) → the tally of its ratings given that year, in the deployment's time zone."""
    out: dict[tuple[int, int], Tally] = defaultdict(Tally)
    for r in await conn.fetch(
            """select buyer_id, extract(year from rated_at at time zone $2)::int as year, provider_id,
                      count(*)::int as n, sum(clarity)::int as clarity, sum(payment)::int as payment,
                      sum(support)::int as support, sum(interference)::int as interference,
                      sum(fairness)::int as fairness
                 from buyer_ratings where buyer_id = any($1::bigint[]) group by 1, 2, 3""",
            buyer_ids, _timezone()):
        out[(r["buyer_id"], r["year"])].add(r)
    return out


async def buyer_ratings(conn: asyncpg.Connection, identity: Identity | None, organisation_id: int) -> BuyerRatings:
    """A buyer's ratings by providers, year by year (newest first), as anyone may read them."""
    org = await organisations.get_public(conn, identity, organisation_id)
    if org.kind != "buyer":
        raise NotFound()
    found = await tallies(conn, [organisation_id])
    years = []
    for (_, year), t in sorted(found.items(), key=lambda item: item[0][1], reverse=True):
        if t.enough:
            years.append(RatingYear(year=year, shown=True, ratings=t.count, providers=len(t.providers),
                                    means=[CriterionMean(criterion=c, mean=m) for c, m in t.means().items()],
                                    mean=t.mean()))
        else:
            years.append(RatingYear(year=year, shown=False))
    own = organisations.can_see_private(identity, organisation_id)
    comments = None
    if own:
        shown = [y.year for y in years if y.shown]
        # Sorted by their text, so the order tells nothing of when or by whom.
        comments = sorted(r["comment"] for r in await conn.fetch(
            "select comment from buyer_ratings where buyer_id = $1 and comment <> '' "
            "and extract(year from rated_at at time zone $3)::int = any($2::int[])",
            organisation_id, shown, _timezone()))
    return BuyerRatings(organisation_id=org.id, name_zh=org.name_zh, name_en=org.name_en,
                        jurisdiction_id=org.jurisdiction_id, min_providers=MIN_PROVIDERS, years=years,
                        comments=comments, own=own)



async def workbench_rows(conn: asyncpg.Connection, provider_id: int) -> list[dict[str, Any]]:
    """The provider's stages due a rating, as rows in the workbench's Task shape."""
    return [{"title_zh": d.title_zh, "title_en": d.title_en, "detail": i18n.bilingual(d.buyer_name, d.buyer_name_en), "at": d.since,
             "state": d.stage, "link": f"/contracts/{d.contract_id}/buyer-rating"}
            for d in await due(conn, provider_id)]
