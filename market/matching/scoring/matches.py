"""A project's matches page and its JSON twin: the best providers and funders for one project, explained,
and the excluded pairs counted by the rules that exclude them — the page `candidates.pairwise_matches`
gives, for a fraction of the work.

The pair-by-pair scorer reads the whole facts of every verified provider and funder and scores and
explains each pair: 0.75-1.2 s for a project open to a city's 15,000 providers, to show a few dozen
pairs. Here each pair is ranked, and checked against the exclusion rules, over arrays with the
arithmetic of `bulk_candidates` (the scorer's own sums and roundings), from a few columns read for this
project: where each provider is registered, whether it has bid for the item or its category, its load,
its record; what each funder offers and where it has given. The whole facts are read, and the lines
written by the scorer itself (`fit.score_provider`, `fit.provider_exclusions`, `fit.score_funder`,
`fit.funder_exclusions`), only for the pairs shown: the best `limit` of each side, the pinned provider,
the first NAMED_EXCLUDED of each group of excluded pairs, and the providers named as related parties of
those funders.

The delivery scorecard is the dearest fact (0.22 s for a city's providers), and it moves a score by at
most the evaluations weight either way: it is read only for the providers that could reach the top —
those whose score with the most it can earn is at least the `limit`-th best score with the least. A
provider with no signed contract has no scorecard, so its score is known without it.

`tests/matching/test_matches.py` checks that both ways give the same page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import asyncpg
import numpy as np

from market.core import i18n
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden
from market.delivery import scorecard
from market.funding.pledges.models import LIVE_PLEDGES
from market.funding.resources import services as resources
from market.matching.scoring import bulk_candidates as bulk
from market.matching.scoring import candidates
from market.matching.scoring import fit as scoring
from market.matching.scoring.candidates import NAMED_EXCLUDED, Candidate, ProjectMatches, _Project, _Tree
from market.matching.scoring.fit import Fit, FunderFacts, ProjectFacts, ProviderFacts, Reason
from market.matching.scoring.weights import Weights
from market.procurement.bids import services as bids
from market.procurement.calls import services as calls
from market.procurement.needs import services as needs

# The rules that exclude a pair, in the order the scorer gives its reasons. A provider registered in
# another district, where the rules keep to the district, is counted apart, as `candidates_for` does.
_PROVIDER_RULES = ("provider_type", "rating", "years", "barred", "conflict", "no_bid", "capacity")
_FUNDER_RULES = ("conflict", "related_party", "no_money")

_PROVIDERS = ("select id, subtype, rating, registration_date, jurisdiction_id from organisations "
              "where kind = 'provider' and status = 'verified'")
# Whether each provider has bid for the item ($1) or another of its category ($2), opened bids only.
_BID_FOR = f"""select b.provider_id, bool_or(e.code = $1) as item
  from bids b join calls c on c.id = b.call_id join catalogue_entries e on e.id = c.catalogue_entry_id
 where b.status = 'submitted' and split_part(e.code, '.', 1) = $2 and {bids.opened_sql("c", "b", "$3")}
 group by b.provider_id"""
# Each provider with a signed contract (none, no scorecard), and its projects under way on the day $1
# but for this one ($2).
_LOAD = """select k.provider_id, count(distinct c.project_id) filter (where k.service_end >= $1 and c.project_id <> $2)
  from contracts k join calls c on c.id = k.call_id where k.status = 'signed' group by k.provider_id"""
_BARRED = """select distinct organisation_id from provider_standing
 where barred_until > $1 and decided_at <= market_now() and catalogue_owner_id = $2 and item_code = $3"""
_SHARE_PEOPLE_WITH = "select distinct organisation_id from memberships where user_id = any($1)"
# Verified funders and providers with people in common: at a city's scale a hundred pairs.
_RELATED = """select distinct f.organisation_id as funder_id, p.organisation_id as provider_id
  from memberships f join organisations fo on fo.id = f.organisation_id
  join memberships p on p.user_id = f.user_id join organisations po on po.id = p.organisation_id
 where fo.kind = 'funder' and fo.status = 'verified' and po.kind = 'provider' and po.status = 'verified'"""
# Each funder's live pledges (as `candidates.funder_facts` reads them) to projects of the category ($1), and
# the places of those to projects in the places given ($2): the only ones that earn points for this project.
_GIFTS = f"""select pl.funder_id, count(*) filter (where split_part(e.code, '.', 1) = $1) as same,
       array_agg(distinct p.jurisdiction_id) filter (where p.jurisdiction_id = any($2)) as near
  from pledges pl
  join projects p on p.id = coalesce(pl.project_id, pl.allocated_project_id,
                                     (select pn.project_id from project_needs pn where pn.need_id = pl.need_id))
  join catalogue_entries e on e.id = p.catalogue_entry_id
 where pl.{LIVE_PLEDGES} and (p.catalogue_entry_id = any(array(select id from catalogue_entries
                                                               where split_part(code, '.', 1) = $1))
                              or p.jurisdiction_id = any($2))
 group by pl.funder_id"""


class _Side:
    """One side's pairs with the project, over arrays: who is eligible, the excluded grouped by the rules
    they break, and (`rank`) the best."""

    def __init__(self, ids: np.ndarray, broken: dict[str, np.ndarray], rules: tuple[str, ...],
                 scope: np.ndarray) -> None:
        """`ids` in order; `broken`: who breaks each of `rules`; `scope`: who is a pair at all."""
        bits = np.zeros(len(ids), dtype=np.int64)
        for at, rule in enumerate(rules):
            if rule in broken:
                bits |= broken[rule].astype(np.int64) << at
        self.ids = ids
        self.eligible = scope & (bits == 0)
        self.count = int(self.eligible.sum())
        self.groups: dict[tuple[str, ...], tuple[int, list[int]]] = {}
        out = scope & (bits != 0)
        values, counts = np.unique(bits[out], return_counts=True)
        for value, count in zip(values.tolist(), counts.tolist()):
            self.groups[tuple(r for at, r in enumerate(rules) if value >> at & 1)] = (
                count, ids[out & (bits == value)][:NAMED_EXCLUDED].tolist())
        self.best: list[int] = []

    def rank(self, cents: np.ndarray, contenders: np.ndarray, limit: int) -> None:
        """The best `limit` of the `contenders` by their `cents`, ties to the lower id, as `_ranked` orders."""
        at = np.flatnonzero(contenders)
        self.best = self.ids[at[np.lexsort((self.ids[at], -cents[at]))[:limit]]].tolist()

    def named(self) -> list[int]:
        return [i for _count, first in self.groups.values() for i in first]


def _at(ids: np.ndarray, parties: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `parties` stands in `ids` (ascending), and whether it is there at all."""
    wanted = np.fromiter(parties, dtype=np.int64)
    if not len(ids):
        return np.zeros(len(wanted), dtype=np.int64), np.zeros(len(wanted), dtype=bool)
    at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return at, ids[at] == wanted


def _mask(ids: np.ndarray, parties: Iterable[int]) -> np.ndarray:
    """Which of `ids` are among `parties`."""
    out = np.zeros(len(ids), dtype=bool)
    at, there = _at(ids, parties)
    out[at[there]] = True
    return out


def _counts(ids: np.ndarray, rows: list[Any]) -> np.ndarray:
    """A number for each of `ids` from rows of (party, number), 0 for a party without a row."""
    out = np.zeros(len(ids), dtype=np.int64)
    at, there = _at(ids, (r[0] for r in rows))
    out[at[there]] = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))[there]
    return out


async def _providers(conn: asyncpg.Connection, tree: _Tree, project: _Project, weights: Weights, on: date,
                     limit: int, buyer_people: list[int]) -> tuple[_Side, int, Reason | None]:
    """The providers' side, how many providers of other districts the rules leave out, and why."""
    facts = project.facts
    rules = facts.rules
    # Read as `candidates.build` reads them: where the rules keep to the district, its providers only.
    if rules.cross_district or facts.place.district is None:
        orgs, unread = await conn.fetch(f"{_PROVIDERS} order by id"), 0
    else:
        orgs = await conn.fetch(f"{_PROVIDERS} and jurisdiction_id = any($1) order by id",
                                tree.within({facts.place.district}))
        unread = await conn.fetchval("select count(*) from organisations where kind = 'provider' "
                                     "and status = 'verified'") - len(orgs)
    n = len(orgs)
    ids = np.array([r["id"] for r in orgs], dtype=np.int64)
    # A city's 15,000 providers are registered in some 4,500 places.
    places, at = np.unique(np.array([r["jurisdiction_id"] for r in orgs], dtype=np.int64), return_inverse=True)
    district, street, community = (level[at] for level in bulk.place_levels(tree.place(j) for j in places.tolist()))
    here = (np.ones(n, dtype=bool) if rules.cross_district
            else district == (-1 if facts.place.district is None else facts.place.district))
    elsewhere = n - int(here.sum()) + unread

    bid_for = await conn.fetch(_BID_FOR, facts.item_code, facts.category, calls.now())
    kind = np.full(n, bulk._NEITHER, dtype=np.int64)
    kind[_mask(ids, (r["provider_id"] for r in bid_for))] = bulk._CATEGORY
    kind[_mask(ids, (r["provider_id"] for r in bid_for if r["item"]))] = bulk._ITEM
    contracted = await conn.fetch(_LOAD, on, facts.id)
    load = _counts(ids, contracted)
    late = _counts(ids, await conn.fetch(candidates._LATE.format(only=""), on, i18n.current_timezone.get()))
    upheld = _counts(ids, await conn.fetch(candidates._UPHELD.format(only="")))
    offered = _mask(ids, project.bids)
    price = np.zeros(n)
    at, there = _at(ids, project.bids)
    price[at[there]] = [scoring._clamp((facts.planned_fen - amount) / facts.planned_fen)
                        for amount, here in zip(project.bids.values(), there) if here]
    subtype = np.array([r["subtype"] for r in orgs], dtype=object)
    rating = np.array([r["rating"] or 0 for r in orgs], dtype=np.int64)
    broken = bulk.breaches(subtype, rating, lambda: bulk.registered_years((r["registration_date"] for r in orgs), on),
                           rules.provider_types, rules.min_rating, rules.min_years)
    barred = await conn.fetch(_BARRED, on, facts.catalogue_owner_id or 0, facts.item_code)
    broken["barred"] = _mask(ids, (r["organisation_id"] for r in barred))
    broken["conflict"] = _mask(ids, buyer_people)
    if facts.bidding_closed:
        broken["no_bid"] = ~offered
    broken["capacity"] = load >= weights.capacity_contracts

    item = bulk.item_points(weights)[kind]
    place = bulk.near_points(weights)[bulk.nearness(district, street, community,
                                                    np.array([bulk.place_row(facts.place)], dtype=np.int32))[0]]
    no_complaints = np.zeros(n)

    def cents(card: np.ndarray) -> np.ndarray:
        return bulk.cents(bulk.provider_scores(item, place, bulk.provider_terms(
            weights, load=load, rating=rating, scorecard=card, late_reports=late, upheld_objections=upheld,
            upheld_complaints=no_complaints, price=price)))

    side = _Side(ids, broken, _PROVIDER_RULES, here)
    # A scorecard's share lies between -1 and 1: only providers whose score with the best can reach the
    # `limit`-th best score with the worst need theirs.
    carded = _mask(ids, (r["provider_id"] for r in contracted))
    lowest, highest = cents(np.where(carded, 20.0, np.nan)), cents(np.where(carded, 100.0, np.nan))
    floor = np.sort(lowest[side.eligible])[::-1][limit - 1] if side.count > limit else np.iinfo(np.int64).min
    contenders = side.eligible & (highest >= floor)
    summaries = await scorecard.summaries(conn, ids[contenders & carded].tolist())
    known = [(p, float(s.score)) for p, s in summaries.items() if s.score is not None]
    card = np.full(n, np.nan)
    card[_at(ids, (p for p, _score in known))[0]] = [score for _p, score in known]
    side.rank(cents(card), contenders, limit)
    return side, elsewhere, scoring.elsewhere_reason(facts) if elsewhere else None


async def _funders(conn: asyncpg.Connection, tree: _Tree, facts: ProjectFacts, weights: Weights, limit: int,
                   buyer_people: list[int], related: dict[int, list[int]]) -> _Side:
    """The funders' side; `related`: funder → the eligible providers it shares people with."""
    ids = np.array([r["id"] for r in await conn.fetch(
        "select id from organisations where kind = 'funder' and status = 'verified' order by id")], dtype=np.int64)
    n = len(ids)
    offers = await resources.public_offers_for(conn, facts.category, list(facts.places),
                                               list(facts.beneficiary_groups))
    money = _counts(ids, [(r["funder_id"], r["money_fen"]) for r in offers])

    def stated(weight: float, names: str, open_to_any: str) -> np.ndarray:
        return bulk.stated(weight, _mask(ids, (r["funder_id"] for r in offers if r[names])),
                           _mask(ids, (r["funder_id"] for r in offers if r[open_to_any])))
    # A past pledge earns for the place only in the project's district.
    share = {j: scoring._gift_share(scoring.distance(tree.place(j), facts.place))
             for j in (tree.within({facts.place.district}) if facts.place.district is not None else ())}
    gifts = await conn.fetch(_GIFTS, facts.category, list(share))
    nearest = np.zeros(n)
    gave_near = [(r["funder_id"], max(share[j] for j in r["near"])) for r in gifts if r["near"]]
    at, there = _at(ids, (f for f, _share in gave_near))
    nearest[at[there]] = np.array([near for _f, near in gave_near])[there]
    total = bulk.funder_scores(
        weights, stated(weights.prefers_category, "names_category", "any_category"),
        stated(weights.prefers_place, "names_place", "anywhere"),
        stated(weights.prefers_group, "names_group", "any_group"),
        bulk.gave_category(weights, _counts(ids, [(r["funder_id"], r["same"]) for r in gifts])),
        bulk.points(weights.gave_place, nearest), money.astype(np.float64),
        np.array(float(facts.funding_target_fen or facts.budget_fen)))
    side = _Side(ids, {"conflict": _mask(ids, buyer_people), "related_party": _mask(ids, related),
                       "no_money": money <= 0}, _FUNDER_RULES, np.ones(n, dtype=bool))
    side.rank(bulk.cents(total), side.eligible, limit)
    return side


async def project_matches(conn: asyncpg.Connection, identity: Identity | None, project_id: int, weights: Weights,
                          limit: int = 10) -> ProjectMatches:
    """The best `limit` providers and funders for a project, explained, and every excluded pair."""
    row = await needs.get_project(conn, project_id)
    if not await candidates.may_see(conn, identity, row.jurisdiction_id):
        raise Forbidden("A project's matches are shown to the buyers whose area includes it and to platform "
                        "administrators.")
    if row.status != "approved":
        raise Conflict("This project was cancelled: there is nothing to match.")
    on = candidates.today()
    tree = _Tree(await conn.fetch("select id, parent_id, level, name_zh, name_en from jurisdictions"))
    (project,) = await candidates._projects(conn, tree, [project_id])
    facts = project.facts
    buyer_people = [r["organisation_id"] for r in await conn.fetch(_SHARE_PEOPLE_WITH, list(facts.buyer_members))]
    providers, elsewhere, reason = await _providers(conn, tree, project, weights, on, limit, buyer_people)
    eligible = set(providers.ids[providers.eligible].tolist())
    related: dict[int, list[int]] = defaultdict(list)
    for r in await conn.fetch(_RELATED):
        if r["provider_id"] in eligible:
            related[r["funder_id"]].append(r["provider_id"])
    funders = await _funders(conn, tree, facts, weights, limit, buyer_people, related)
    pinned = project.winner if project.winner in eligible else None
    shown = providers.best + ([pinned] if pinned is not None and pinned not in providers.best else [])
    named_funders = funders.named()
    provider_facts = await candidates.provider_facts(conn, tree, on, ids=sorted(
        {*shown, *providers.named(), *(p for f in named_funders for p in related.get(f, ()))}))
    funder_facts = await candidates.funder_facts(conn, tree, ids=sorted({*funders.best, *named_funders}))
    # Each statement reads the database as it is then: a party that stopped being verified in between is
    # left out rather than failing the page.
    shown = [p for p in shown if p in provider_facts]

    def provider(provider_id: int) -> Candidate:
        bid = project.bids.get(provider_id)
        fit = scoring.score_provider(facts, provider_facts[provider_id], weights, today=on, bid_fen=bid)
        return Candidate(party_id=provider_id, name=provider_facts[provider_id].name, fit=fit,
                         price_fen=scoring.price_of(facts, bid), bid=bid is not None)

    def funder(funder_id: int) -> Candidate:
        fit = scoring.score_funder(facts, funder_facts[funder_id], weights)
        return Candidate(party_id=funder_id, name=funder_facts[funder_id].name, fit=fit,
                         affinity=scoring.affinity(fit, facts, weights))

    def unfit_provider(p: ProviderFacts) -> Candidate:
        return Candidate(party_id=p.id, name=p.name, fit=Fit(score=None, excluded=tuple(scoring.provider_exclusions(
            facts, p, weights, today=on, bid_fen=project.bids.get(p.id)))))

    def unfit_funder(f: FunderFacts) -> Candidate:
        related_providers = [provider_facts[p] for p in sorted(related.get(f.id, ())) if p in provider_facts]
        return Candidate(party_id=f.id, name=f.name, fit=Fit(score=None, excluded=tuple(scoring.funder_exclusions(
            facts, f, related_providers))))

    excluded = candidates.excluded_groups("provider", {
        rules: (count, [unfit_provider(provider_facts[p]) for p in first if p in provider_facts])
        for rules, (count, first) in providers.groups.items()}) + candidates.excluded_groups("funder", {
            rules: (count, [unfit_funder(funder_facts[f]) for f in first if f in funder_facts])
            for rules, (count, first) in funders.groups.items()})
    return candidates.matches_page(
        facts, project.title_zh, project.title_en, weights, limit, providers=[provider(p) for p in shown],
        pinned=pinned, eligible_providers=providers.count,
        funders=[funder(f) for f in funders.best if f in funder_facts], eligible_funders=funders.count,
        money={f.id: f.money_fen for f in funder_facts.values()}, excluded=excluded, other_district=elsewhere,
        other_district_reason=reason)
