"""Buyer scorecards: for each district, street and community, how the buyers there treat the
providers they buy from and the residents they buy for, year by year. Public.

A place's card covers every verified buyer placed at it or below it: a community's card its
residents' committee, a street's card its street office and the committees of its communities, the
district's card all of them with the district bureau.

A card is a list of components (COMPONENTS), each scored 0-100 per year by its own function, with a
weight. A year's score is the weighted mean of the components scored that year: one with too little
data ("not enough data") is left out, and the others' weights count in its place.

- Providers' ratings: the mean of the five criteria of every rating given in the year, from 1-5 to
  0-100, over the buyers that were rated by at least ratings.MIN_PROVIDERS providers that year (a
  buyer with fewer raters adds nothing to any card, see market.buyers.ratings).
- Payment timeliness: of the payment milestones due in the year, the share paid (the provider's
  ledger transaction) within PAY_WITHIN_DAYS days of the due date; one still unpaid that long after
  it fell due counts as late while its contract is in delivery (a failed evaluation that stops
  payments, a rectification or an ended contract does not). At least MIN_PAYMENTS payments, or not
  enough data. The median days from due date to payment is shown beside it.
- Resident satisfaction: the share of residents satisfied (their mean answer 4 or 5 of 5) in the
  year's answers to the standing surveys of the communities at or under the place
  (market.surveys); fewer than 5 answers is not enough data.
- Rectification: of the rectification items the place's buyers own or verify whose deadline fell in
  the year, the share verified by that deadline (market.rectification); at least MIN_ITEMS items.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar, cast

import asyncpg

from market.buyers import ratings
from market.buyers.models import (
    Buyer,
    Component,
    Figure,
    IndexEntry,
    JurisdictionScorecard,
    Place,
    ScoreYear,
    ScorecardIndex,
)
from market.core import clock, i18n
from market.core.kept import Kept
from market.core.errors import NotFound
from market.core.i18n import N_
from market.rectification import services as rectification
from market.surveys import services as surveys

# The 2020 regulation on paying small and medium firms (保障中小企业款项支付条例) gives public bodies 30
# days from acceptance. Here accepting a payment milestone is what pays it, so the days run from the
# milestone's due date, when the provider's part is done.
PAY_WITHIN_DAYS = 30
MIN_PAYMENTS = 3
MIN_ITEMS = 3
TREND_YEARS = 5  # the most years a card shows
LEVELS = ("district", "street", "community")
HUNDRED = Decimal(100)

# place id → the buyers its card covers; the years asked for → (place, year) → that year's figure.
Measure = Callable[[asyncpg.Connection, dict[int, list[int]], list[int]], Awaitable[dict[tuple[int, int], Figure]]]


@dataclass(frozen=True)
class Part:
    key: str
    name: str
    explanation: str
    weight: int
    measure: Measure


def _share(part: Decimal) -> Decimal:
    return part.quantize(Decimal("0.1"))


async def _ratings(conn: asyncpg.Connection, covers: dict[int, list[int]],
                   years: list[int]) -> dict[tuple[int, int], Figure]:
    found = await ratings.tallies(conn, sorted({b for buyers in covers.values() for b in buyers}))
    out = {}
    for place, buyers in covers.items():
        for year in years:
            pooled = ratings.Tally()
            for buyer in buyers:
                tally = found.get((buyer, year))
                if tally is not None and tally.enough:
                    pooled.merge(tally)
            if not pooled.count:
                out[(place, year)] = Figure(component="ratings", status="not_enough_data")
                continue
            out[(place, year)] = Figure(
                component="ratings", status="scored", score=_share((pooled.mean() - 1) / 4 * HUNDRED),
                observations=pooled.count,
                detail=i18n.gettext("%(ratings)s ratings from %(providers)s providers, mean %(mean)s of 5",
                                    ratings=pooled.count, providers=len(pooled.providers), mean=pooled.mean()))
    return out


# Payment milestones of these buyers' signed contracts due in these years: when the provider was paid
# (its ledger transaction), and whether one unpaid can still be held against the buyer.
_PAYMENTS = """
select k.buyer_id, m.due_date,
       ((select min(t.created_at) from disbursements d join ledger_transactions t on t.id = d.transaction_id
          where d.contract_id = m.contract_id and d.position = m.position) at time zone $3)::date as paid_on,
       coalesce(cd.status, 'in_delivery') = 'in_delivery'
       and not exists (select from contract_stage_failures f where f.contract_id = k.id) as payable
  from contract_milestones m join contracts k on k.id = m.contract_id
  left join contract_delivery cd on cd.contract_id = k.id
 where m.kind = 'payment' and k.status = 'signed' and k.buyer_id = any($1::bigint[])
   and m.due_date >= make_date($2, 1, 1) and m.due_date < make_date($4 + 1, 1, 1)"""


async def _payments(conn: asyncpg.Connection, covers: dict[int, list[int]],
                    years: list[int]) -> dict[tuple[int, int], Figure]:
    today = clock.today()
    # (buyer, year) → days from due date to payment, one per counted payment (None: unpaid and late).
    days: dict[tuple[int, int], list[int | None]] = defaultdict(list)
    for r in await conn.fetch(_PAYMENTS, sorted({b for buyers in covers.values() for b in buyers}), min(years),
                              i18n.current_timezone.get(), max(years)):
        key = (r["buyer_id"], r["due_date"].year)
        if r["paid_on"] is not None:
            days[key].append((r["paid_on"] - r["due_date"]).days)
        elif r["payable"] and today > r["due_date"] + timedelta(days=PAY_WITHIN_DAYS):
            days[key].append(None)
    out = {}
    for place, buyers in covers.items():
        for year in years:
            counted = [d for buyer in buyers for d in days.get((buyer, year), [])]
            if len(counted) < MIN_PAYMENTS:
                out[(place, year)] = Figure(component="payment", status="not_enough_data",
                                            observations=len(counted))
                continue
            on_time = sum(1 for d in counted if d is not None and d <= PAY_WITHIN_DAYS)
            paid = [max(0, d) for d in counted if d is not None]
            median = statistics.median(paid) if paid else None
            detail = (i18n.gettext("%(on_time)s of %(n)s payments within %(days)s days of the due date; median "
                                   "%(median)s days after it", on_time=on_time, n=len(counted),
                                   days=PAY_WITHIN_DAYS, median=f"{median:g}") if median is not None else
                      i18n.gettext("%(on_time)s of %(n)s payments within %(days)s days of the due date",
                                   on_time=on_time, n=len(counted), days=PAY_WITHIN_DAYS))
            out[(place, year)] = Figure(component="payment", status="scored",
                                        score=_share(Decimal(on_time) / len(counted) * HUNDRED),
                                        observations=len(counted), detail=detail)
    return out


async def _satisfaction(conn: asyncpg.Connection, covers: dict[int, list[int]],
                        years: list[int]) -> dict[tuple[int, int], Figure]:
    found = await surveys.satisfaction_by_place(conn, list(covers), years, i18n.current_timezone.get())
    out = {}
    for place in covers:
        for year in years:
            said = found.get((place, year))
            if said is None or said.satisfied_percent is None:
                out[(place, year)] = Figure(component="satisfaction", status="not_enough_data",
                                            observations=said.answers if said else 0)
                continue
            out[(place, year)] = Figure(
                component="satisfaction", status="scored", score=_share(Decimal(str(said.satisfied_percent))),
                observations=said.answers,
                detail=i18n.gettext("%(n)s residents answered, %(percent)s%% satisfied, mean %(mean)s of 5",
                                    n=said.answers, percent=said.satisfied_percent, mean=said.mean))
    return out


async def _rectification(conn: asyncpg.Connection, covers: dict[int, list[int]],
                         years: list[int]) -> dict[tuple[int, int], Figure]:
    items = await rectification.deadlines_met(conn, sorted({b for buyers in covers.values() for b in buyers}),
                                              years, i18n.current_timezone.get())
    # Each item counts once at every place whose buyers own or verify it: looked up by buyer, not every
    # item checked against every place (the index's 16 districts × 8,700 items of the city took 30 ms).
    places_of: dict[int, set[int]] = defaultdict(set)
    for place, buyers in covers.items():
        for buyer in buyers:
            places_of[buyer].add(place)
    met_by: dict[tuple[int, int], list[bool]] = defaultdict(list)
    for r in items:
        for place in places_of.get(r["owner_id"], set()) | places_of.get(r["buyer_id"], set()):
            met_by[(place, r["year"])].append(r["met"])
    out = {}
    for place in covers:
        for year in years:
            counted = met_by.get((place, year), [])
            if len(counted) < MIN_ITEMS:
                out[(place, year)] = Figure(component="rectification", status="not_enough_data",
                                            observations=len(counted))
                continue
            met = sum(counted)
            out[(place, year)] = Figure(
                component="rectification", status="scored", score=_share(Decimal(met) / len(counted) * HUNDRED),
                observations=len(counted),
                detail=i18n.gettext("%(met)s of %(n)s items put right by their deadline", met=met, n=len(counted)))
    return out


COMPONENTS = [
    Part("ratings", N_("Providers' ratings"),
         N_("How the providers the buyers contract with rate them after each mid-term evaluation and at the end: "
            "clarity of requirements, timeliness of payment, support, interference in delivery (5 = none) and "
            "fairness of evaluation, 1 to 5, shown as 0 to 100. Only buyers rated by at least %(min)s "
            "providers in the year count."), 30, _ratings),
    Part("payment", N_("Payment timeliness"),
         N_("The share of payment milestones due in the year that were paid within %(days)s days of the due date, "
            "from the ledger; one unpaid that long while its contract is in delivery counts as late. At least "
            "%(payments)s payments."), 30, _payments),
    Part("satisfaction", N_("Resident satisfaction"),
         N_("The share of residents satisfied (4 or 5 of 5 on average) in the year's answers to the standing "
            "surveys of the communities here. At least 5 answers."), 25, _satisfaction),
    Part("rectification", N_("Rectification"),
         N_("Of the rectification items the buyers here own or verify whose deadline fell in the year, the share "
            "put right (verified) by the deadline. At least %(items)s items."), 15, _rectification),
]


def components() -> list[Component]:
    """The components as the page documents them, in the reader's language."""
    return [Component(key=p.key, name=i18n.gettext(p.name), weight=p.weight,
                      explanation=i18n.gettext(p.explanation, min=ratings.MIN_PROVIDERS, days=PAY_WITHIN_DAYS,
                                               payments=MIN_PAYMENTS, items=MIN_ITEMS))
            for p in COMPONENTS]


def overall(figures: list[Figure]) -> Decimal | None:
    """The weighted mean of the scored figures, the others' weights left out."""
    weights = {p.key: p.weight for p in COMPONENTS}
    scored = [(weights[f.component], f.score) for f in figures if f.status == "scored" and f.score is not None]
    total = sum(w for w, _ in scored)
    if not total:
        return None
    return _share(sum((w * s for w, s in scored), Decimal(0)) / total)


async def _measure(conn: asyncpg.Connection, covers: dict[int, list[int]],
                   years: list[int]) -> dict[tuple[int, int], ScoreYear]:
    found = {p.key: await p.measure(conn, covers, years) for p in COMPONENTS}
    out = {}
    for place in covers:
        for year in years:
            figures = [found[p.key][(place, year)] for p in COMPONENTS]
            out[(place, year)] = ScoreYear(year=year, score=overall(figures), figures=figures)
    return out


# A card is worked out from the tables migration 0063 watches and the day. Each process keeps what it
# worked out, by page, language and time zone, while the count of changes to those tables and the day
# stay the same: every district's card took 0.2-4 s on the city, and most readers ask for the same
# few. The count is read before the figures, so a card kept is never older than it; one made while a
# change was being written but not yet committed can miss that change, so none is kept longer than
# KEPT_FOR.
KEPT_FOR = 300.0
_kept: Kept[tuple[object, ...], tuple[tuple[int, date], object]] = Kept()

_T = TypeVar("_T")


def forget() -> None:
    _kept.clear()


async def _kept_while_unchanged(conn: asyncpg.Connection, page: tuple[object, ...],
                                work: Callable[[], Awaitable[_T]]) -> _T:
    stamp = (await conn.fetchval("select last_value from scorecard_inputs"), clock.today())
    key = (*page, i18n.current_locale.get(), i18n.current_timezone.get())
    kept = _kept.get(key, KEPT_FOR)
    if kept is not None and kept[0] == stamp:
        return cast("_T", kept[1])
    value = await work()
    _kept.put(key, (stamp, value))
    return value


_PLACE = "select id, parent_id, level, name_zh, name_en from jurisdictions"

# Verified buyers with the places they sit at or below (a grid's community, street and district).
_COVERED = """
select o.id, o.name_zh, o.name_en, o.subtype, o.jurisdiction_id,
       array[j.id, j.parent_id, up.parent_id, top.parent_id] as line
  from organisations o join jurisdictions j on j.id = o.jurisdiction_id
  left join jurisdictions up on up.id = j.parent_id left join jurisdictions top on top.id = up.parent_id
 where o.kind = 'buyer' and o.status = 'verified'
   and array[j.id, j.parent_id, up.parent_id, top.parent_id] && $1::int[]
 order by o.id"""


async def _covered(conn: asyncpg.Connection, place_ids: list[int]) -> dict[int, list[Buyer]]:
    """The verified buyers each place's card covers: those placed at it or below it."""
    covered: dict[int, list[Buyer]] = {p: [] for p in place_ids}
    for r in await conn.fetch(_COVERED, place_ids):
        buyer = Buyer(id=r["id"], name_zh=r["name_zh"], name_en=r["name_en"], subtype=r["subtype"],
                      jurisdiction_id=r["jurisdiction_id"])
        for at in r["line"]:
            if at in covered:
                covered[at].append(buyer)
    return covered


def _entries(places: list[Place], covered: dict[int, list[Buyer]], found: dict[tuple[int, int], ScoreYear],
             this_year: int) -> list[IndexEntry]:
    """Places with their score this year and last year, as the index and a card's places below list them."""
    return [IndexEntry(place=p, buyers=len(covered[p.id]), this_year=found[(p.id, this_year)].score,
                       last_year=found[(p.id, this_year - 1)].score) for p in places]


async def scorecard(conn: asyncpg.Connection, jurisdiction_id: int) -> JurisdictionScorecard:
    """The card of one district, street or community, oldest year first (the years since its buyers'
    first rating or payment due, at least the last two and at most TREND_YEARS), and the places one
    level below with their scores this year and last."""
    if not 0 < jurisdiction_id < 2**31:  # not an id a place can have (ids are PostgreSQL integers)
        raise NotFound()
    return await _kept_while_unchanged(conn, ("card", jurisdiction_id), lambda: _scorecard(conn, jurisdiction_id))


async def _scorecard(conn: asyncpg.Connection, jurisdiction_id: int) -> JurisdictionScorecard:
    line = [Place(id=r["id"], parent_id=r["parent_id"], level=r["level"], name_zh=r["name_zh"], name_en=r["name_en"])
            for r in await conn.fetch("""
        with recursive up as (
            select id, parent_id, level, name_zh, name_en, 0 as depth from jurisdictions
             where id = $1 and level = any($2::text[])
            union all
            select j.id, j.parent_id, j.level, j.name_zh, j.name_en, up.depth + 1
              from jurisdictions j join up on j.id = up.parent_id
        ) select * from up order by depth desc""", jurisdiction_id, list(LEVELS))]
    if not line:
        raise NotFound()
    place = line[-1]
    below = [Place(**dict(r)) for r in await conn.fetch(
        f"{_PLACE} where parent_id = $1 and level = any($2::text[]) order by id", place.id, list(LEVELS))]
    covered = await _covered(conn, [place.id, *(p.id for p in below)])
    this_year = clock.today().year
    years = list(range(this_year - TREND_YEARS + 1, this_year + 1))
    # The card's years and those of the places below in one measure: each component's statement runs
    # once for both (the places below cover none but the card's buyers).
    found = await _measure(conn, {p.id: [b.id for b in covered[p.id]] for p in (place, *below)}, years)
    shown = [found[(place.id, y)] for y in years]
    while len(shown) > 2 and not any(f.observations or f.status == "scored" for f in shown[0].figures):
        shown.pop(0)
    # The buyers the places below cover are counted there; the card names only the others (a district
    # of a city may cover hundreds).
    under = {b.id for p in below for b in covered[p.id]}
    here = [b for b in covered[place.id] if b.id not in under]
    return JurisdictionScorecard(
        place=place, above=line[:-1], below=_entries(below, covered, found, this_year), buyers=here,
        buyers_below=len(under), components=components(), years=shown, min_providers=ratings.MIN_PROVIDERS,
        pay_within_days=PAY_WITHIN_DAYS)


async def index(conn: asyncpg.Connection) -> ScorecardIndex:
    """Every district with its score this year and last year; each district's card lists its streets
    so, and a street's card its communities."""
    return await _kept_while_unchanged(conn, ("index",), lambda: _index(conn))


async def _index(conn: asyncpg.Connection) -> ScorecardIndex:
    districts = [Place(**dict(r)) for r in await conn.fetch(f"{_PLACE} where level = 'district' order by id")]
    this_year = clock.today().year
    covered = await _covered(conn, [p.id for p in districts])
    found = await _measure(conn, {p.id: [b.id for b in covered[p.id]] for p in districts}, [this_year - 1, this_year])
    return ScorecardIndex(year=this_year, entries=_entries(districts, covered, found, this_year))
