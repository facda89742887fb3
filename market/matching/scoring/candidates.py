"""Candidates: for a set of projects, every provider and funder that could take part, scored and
explained (`market.matching.scoring.fit`), the excluded pairs with their reasons, and the instance the
solver (`market.matching.solver.solve`) reads.

The facts, and where they come from today:
- a project: its catalogue item, place, buyer, government budget and funding target; its live
  call's rules if the call is published, else the catalogue item's; the call's opened bids;
- a provider: its rating, registration and place; the items of calls it has bid for (opened bids
  only, so the seal holds); its signed contracts under way; its delivery scorecard's summary (the mean
  total of its last mid-term and final evaluations, market.delivery.scorecard) and its standing (the
  catalogue items it is barred from);
  report milestones of its contracts accepted late or overdue; objections upheld against its awards;
- a funder: its current public resources list (categories, places, beneficiary groups, money) and
  its pledges not cancelled or refunded, by the category and place of the project they went to;
- people: memberships, for conflicts of interest.

Needs are matched once they are projects: before that they have no catalogue item chosen, budget or
rules. Providers registered in another district are counted, not scored, where the rules keep to the
district — at city scale there are thousands of them per project.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import asyncpg
import msgspec

from market.core import clock, i18n
from market.core.access import Identity
from market.delivery import scorecard
from market.delivery.models import Summary
from market.funding.pledges.models import LIVE_PLEDGES
from market.funding.resources import services as resources
from market.matching.scoring import fit as scoring
from market.matching.scoring.fit import (
    Fit,
    FunderFacts,
    Gift,
    Place,
    ProjectFacts,
    ProviderFacts,
    Reason,
    Rules,
)
from market.matching.scoring.weights import Weights
from market.procurement.bids import services as bids
from market.procurement.calls import services as calls
from market.procurement.needs import services as needs

# Edges per need in a solver instance: the best of each side (the solver's instances are sparse).
PROVIDERS_PER_NEED = 20
FUNDERS_PER_NEED = 10



class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """One side of a pair with the project: its fit, and for a provider its price."""

    party_id: int
    name: str
    fit: Fit
    price_fen: int | None = None
    bid: bool = False
    affinity: float = 0.0


class ProjectCandidates(msgspec.Struct, frozen=True, kw_only=True):
    project: ProjectFacts
    title_zh: str
    title_en: str
    # Scored pairs, best first (ties: lower id first), and excluded ones with their reasons.
    providers: list[Candidate]
    funders: list[Candidate]
    excluded_providers: list[Candidate]
    excluded_funders: list[Candidate]
    # Providers registered in another district, where the rules keep to the district, and why.
    other_district: int
    other_district_reason: Reason | None
    # The provider a standing award gave the project to: the solver must keep it.
    pinned: int | None


class Candidates(msgspec.Struct, frozen=True, kw_only=True):
    weights: Weights
    projects: list[ProjectCandidates]
    providers: dict[int, ProviderFacts]
    funders: dict[int, FunderFacts]


def today() -> date:
    return clock.today()


def _name(row: Any) -> str:
    return i18n.bilingual(row["name_zh"], row["name_en"] or "")


class _Tree:
    """The jurisdiction tree, loaded once: places and names without a query per organisation."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = {r["id"]: r for r in rows}
        # Thousands of organisations share a few thousand places: each place is worked out once.
        self._places: dict[int, Place] = {}

    def up(self, place_id: int) -> list[Any]:
        out = []
        row = self.rows.get(place_id)
        while row is not None:
            out.append(row)
            row = self.rows.get(row["parent_id"])
        return out

    def place(self, place_id: int | None) -> Place:
        row = self.rows.get(place_id)
        if row is None:
            return Place(district=None)
        if (known := self._places.get(row["id"])) is not None:
            return known
        # Its parent's, with its own level filled in unless a place above holds that level already.
        place = above = self.place(row["parent_id"])
        if row["level"] in ("district", "street", "community") and getattr(above, row["level"]) is None:
            place = msgspec.structs.replace(above, **{row["level"]: row["id"]})
        self._places[row["id"]] = place
        return place

    def name(self, place_id: int | None) -> str:
        return _name(self.rows[place_id]) if place_id in self.rows else ""

    def within(self, districts: set[int]) -> list[int]:
        """The places in those districts, the districts too."""
        return [place_id for place_id in self.rows if self.place(place_id).district in districts]


async def _members(conn: asyncpg.Connection, org_ids: list[int]) -> dict[int, frozenset[int]]:
    rows = await conn.fetch("select organisation_id, array_agg(user_id) as users from memberships "
                            "where organisation_id = any($1) group by organisation_id", org_ids)
    return {r["organisation_id"]: frozenset(r["users"]) for r in rows}


# By provider: the report milestones of its signed contracts accepted after their due date or overdue
# on the day $1 (in the time zone $2), and the objections upheld against its awards. {only}: `_only`.
_LATE = """select k.provider_id, count(*) from contract_milestones m join contracts k on k.id = m.contract_id
            where m.kind = 'report' and k.status = 'signed'
              and coalesce((m.accepted_at at time zone $2)::date, $1) > m.due_date{only}
            group by k.provider_id"""
_UPHELD = """select b.provider_id, count(*) from objections o join awards a on a.id = o.award_id
               join bids b on b.id = a.bid_id where o.status = 'upheld'{only} group by b.provider_id"""


def _only(column: str, at: int, ids: list[int] | None) -> str:
    """A filter to `ids`, parameter `at`: only when asked, as an array of a whole city's ids costs more to
    send than the rows it leaves out."""
    return "" if ids is None else f" and {column} = any(${at})"


async def provider_facts(conn: asyncpg.Connection, tree: _Tree, on: date, districts: set[int] | None = None, *,
                         ids: list[int] | None = None) -> dict[int, ProviderFacts]:
    """Every verified provider's facts, or those of the providers registered in `districts`, or those of
    the verified providers among `ids`."""
    verified = ("select id, name_zh, name_en, subtype, rating, registration_date, jurisdiction_id from organisations "
                "where kind = 'provider' and status = 'verified'")
    orgs = await (conn.fetch(f"{verified} and id = any($1) order by id", ids) if ids is not None else
                  conn.fetch(f"{verified} order by id") if districts is None else
                  conn.fetch(f"{verified} and jurisdiction_id = any($1) order by id", tree.within(districts)))
    read = [r["id"] for r in orgs]
    only_ids = [] if ids is None else [read]
    items: dict[int, set[str]] = {}
    # Made distinct in the database: a city's 50,000 bids are 42,000 (provider, item) pairs.
    for r in await conn.fetch(
            f"""select distinct b.provider_id, e.code
                  from bids b join calls c on c.id = b.call_id join catalogue_entries e on e.id = c.catalogue_entry_id
                 where b.status = 'submitted' and b.provider_id = any($1) and {bids.opened_sql("c", "b", "$2")}""",
            read, calls.now()):
        items.setdefault(r["provider_id"], set()).add(r["code"])
    active: dict[int, set[int]] = {}
    for r in await conn.fetch(f"""select k.provider_id, c.project_id from contracts k join calls c on c.id = k.call_id
                                   where k.status = 'signed' and k.service_end >= $1{_only("k.provider_id", 2, ids)}""",
                              on, *only_ids):
        active.setdefault(r["provider_id"], set()).add(r["project_id"])
    late = dict(await conn.fetch(_LATE.format(only=_only("k.provider_id", 3, ids)), on, i18n.current_timezone.get(),
                                 *only_ids))
    upheld = dict(await conn.fetch(_UPHELD.format(only=_only("b.provider_id", 1, ids)), *only_ids))
    cards = await scorecard.summaries(conn, read)
    barred: dict[int, dict[tuple[int, str], date]] = {}
    for r in await conn.fetch(
            f"""select organisation_id, catalogue_owner_id, item_code, max(barred_until) as until from provider_standing
                 where barred_until > $1 and decided_at <= market_now(){_only("organisation_id", 2, ids)}
                 group by 1, 2, 3""", on, *only_ids):
        barred.setdefault(r["organisation_id"], {})[(r["catalogue_owner_id"], r["item_code"])] = r["until"]
    members = await _members(conn, read)
    return {r["id"]: ProviderFacts(
        id=r["id"], name=_name(r), subtype=r["subtype"], rating=r["rating"], registration_date=r["registration_date"],
        place=tree.place(r["jurisdiction_id"]), members=members.get(r["id"], frozenset()),
        items=frozenset(items.get(r["id"], ())), active_projects=frozenset(active.get(r["id"], ())),
        scorecard=float(card.score) if card.score is not None else None, scorecard_grade=card.grade,
        scorecard_count=card.counted, late_reports=late.get(r["id"], 0),
        upheld_objections=upheld.get(r["id"], 0), barred=barred.get(r["id"], {}))
        for r in orgs for card in [cards.get(r["id"], Summary())]}


async def funder_facts(conn: asyncpg.Connection, tree: _Tree, *,
                       ids: list[int] | None = None) -> dict[int, FunderFacts]:
    """Every verified funder's facts, or those of the verified funders among `ids`."""
    orgs = await (conn.fetch("select * from organisations where kind = 'funder' and status = 'verified' order by id")
                  if ids is None else conn.fetch("select * from organisations where kind = 'funder' "
                                                 "and status = 'verified' and id = any($1) order by id", ids))
    read = [r["id"] for r in orgs]
    offers: dict[int, list[Any]] = {}
    for r in await resources.current_public(conn, ids):
        offers.setdefault(r["funder_id"], []).append(r)
    gifts: dict[int, list[Gift]] = {}
    for r in await conn.fetch(
            f"""select pl.funder_id, split_part(e.code, '.', 1) as category, p.jurisdiction_id
                 from pledges pl left join project_needs pn on pn.need_id = pl.need_id
                 join projects p on p.id = coalesce(pl.project_id, pl.allocated_project_id, pn.project_id)
                 join catalogue_entries e on e.id = p.catalogue_entry_id
                where pl.{LIVE_PLEDGES} and pl.funder_id = any($1)
                order by pl.id""", read):
        gifts.setdefault(r["funder_id"], []).append(Gift(r["category"], tree.place(r["jurisdiction_id"])))
    members = await _members(conn, read)
    out = {}
    for r in orgs:
        listed = offers.get(r["id"], [])
        out[r["id"]] = FunderFacts(
            id=r["id"], name=_name(r), members=members.get(r["id"], frozenset()),
            money_fen=sum(o["amount_fen"] for o in listed if o["kind"] == "money"),
            categories=frozenset(c for o in listed for c in o["categories"]),
            any_category=any(not o["categories"] for o in listed),
            places=frozenset(j for o in listed for j in o["jurisdiction_ids"]),
            anywhere=any(not o["jurisdiction_ids"] for o in listed),
            groups=frozenset(g for o in listed for g in o["beneficiary_groups"]),
            any_group=any(not o["beneficiary_groups"] for o in listed),
            gifts=tuple(gifts.get(r["id"], ())))
    return out


class _Project(msgspec.Struct, frozen=True, kw_only=True):
    facts: ProjectFacts
    title_zh: str
    title_en: str
    bids: dict[int, int]
    winner: int | None


async def _projects(conn: asyncpg.Connection, tree: _Tree, project_ids: list[int]) -> list[_Project]:
    rows = await conn.fetch(
        f"""select p.*, e.code, e.provider_types, e.min_rating, e.min_years, e.scope, v.buyer_id as catalogue_owner_id,
                  cat.name_zh as category_zh, cat.name_en as category_en,
                  coalesce((select sum(amount_fen) from pledges where project_id = p.id and {LIVE_PLEDGES}),
                           0)::bigint as pledged_fen
             from projects p join catalogue_entries e on e.id = p.catalogue_entry_id
             join catalogue_versions v on v.id = e.version_id
             left join catalogue_entries cat on cat.version_id = e.version_id and cat.code = split_part(e.code, '.', 1)
            where p.id = any($1) and p.status = 'approved' order by p.id""", project_ids)
    ids = [r["id"] for r in rows]
    live = {r["project_id"]: r for r in await conn.fetch(
        "select * from calls where project_id = any($1) and cancelled_at is null and failed_at is null", ids)}
    offered: dict[int, dict[int, int]] = {}
    for r in await conn.fetch(
            """select c.project_id, b.provider_id, b.amount_fen, b.batch_id from bids b join calls c on c.id = b.call_id
                where c.id = any($1) and b.status = 'submitted' order by b.submitted_at desc, b.id desc""",
            [c["id"] for c in live.values()]):
        if bids.opened(live[r["project_id"]], r["batch_id"] is not None):
            offered.setdefault(r["project_id"], {}).setdefault(r["provider_id"], r["amount_fen"])
    winners = {r["project_id"]: r["provider_id"] for r in await conn.fetch(
        """select c.project_id, b.provider_id from awards a join bids b on b.id = a.bid_id join calls c on c.id = a.call_id
            where c.id = any($1) and a.reopened_at is null and a.batch_id is null""", [c["id"] for c in live.values()])}
    communities: dict[int, list[int]] = {}
    for r in await conn.fetch("select pn.project_id, n.community_id from project_needs pn join needs n on n.id = pn.need_id "
                              "where pn.project_id = any($1)", ids):
        communities.setdefault(r["project_id"], []).append(r["community_id"])
    members = await _members(conn, list({r["buyer_id"] for r in rows}))
    out = []
    for r in rows:
        call = live.get(r["id"])
        if call is not None and call["published_at"] is not None:
            rules = Rules(provider_types=tuple(call["provider_types"]), min_rating=call["min_rating"],
                          min_years=call["min_years"], cross_district=call["cross_district"], from_call=True)
            closed = calls.status_of(call) != "open"
        else:
            rules = Rules(provider_types=tuple(r["provider_types"]), min_rating=r["min_rating"],
                          min_years=r["min_years"], cross_district=r["scope"] == "any")
            closed = False
        place = tree.place(r["jurisdiction_id"])
        places = {row["id"] for j in [r["jurisdiction_id"], *communities.get(r["id"], [])] for row in tree.up(j)}
        facts = ProjectFacts(
            id=r["id"], buyer_id=r["buyer_id"], buyer_members=members.get(r["buyer_id"], frozenset()),
            item_code=r["code"], catalogue_owner_id=r["catalogue_owner_id"],
            category_name=(r["category_en"] if i18n.current_locale.get() == "en" and r["category_en"]
                           else r["category_zh"]) or r["code"].split(".", 1)[0],
            place=place, places=frozenset(places), district_name=tree.name(place.district), budget_fen=r["budget_fen"],
            pledged_fen=r["pledged_fen"], funding_target_fen=r["funding_target_fen"] or 0, rules=rules, bidding_closed=closed)
        out.append(_Project(facts=facts, title_zh=r["title_zh"], title_en=r["title_en"], bids=offered.get(r["id"], {}),
                            winner=winners.get(r["id"])))
    return out


def _ranked(pairs: list[Candidate]) -> list[Candidate]:
    return sorted(pairs, key=lambda c: (-(c.fit.score or 0), c.party_id))


def candidates_for(project: _Project, providers: dict[int, ProviderFacts], funders: dict[int, FunderFacts],
                   weights: Weights, on: date, *, unread: int = 0) -> ProjectCandidates:
    """The project's pairs with `providers` and `funders`; `unread` verified providers registered in other
    districts were left out of `providers`, the rules keeping to the project's district."""
    facts = project.facts
    scored: list[Candidate] = []
    excluded: list[Candidate] = []
    elsewhere: list[ProviderFacts] = []
    for p in providers.values():
        if not facts.rules.cross_district and p.place.district != facts.place.district:
            elsewhere.append(p)
            continue
        bid = project.bids.get(p.id)
        fit = scoring.score_provider(facts, p, weights, today=on, bid_fen=bid)
        pair = Candidate(party_id=p.id, name=p.name, fit=fit, price_fen=scoring.price_of(facts, bid),
                         bid=bid is not None)
        (excluded if fit.excluded else scored).append(pair)
    reason = scoring.elsewhere_reason(facts) if elsewhere or unread else None
    eligible = [providers[c.party_id] for c in scored]
    # A funder is a related party only of the candidates it shares people with: found through its few
    # people rather than by meeting every candidate (3,000 funders by 6,500 candidates took 2.6 s).
    by_member: dict[int, list[int]] = {}
    for at, p in enumerate(eligible):
        for person in p.members:
            by_member.setdefault(person, []).append(at)
    funded: list[Candidate] = []
    unfunded: list[Candidate] = []
    for f in funders.values():
        related = [eligible[at] for at in sorted({at for person in f.members for at in by_member.get(person, ())})]
        fit = scoring.score_funder(facts, f, weights, related)
        pair = Candidate(party_id=f.id, name=f.name, fit=fit, affinity=scoring.affinity(fit, facts, weights))
        (unfunded if fit.excluded else funded).append(pair)
    winner = project.winner if any(c.party_id == project.winner for c in scored) else None
    return ProjectCandidates(project=facts, title_zh=project.title_zh, title_en=project.title_en,
                             providers=_ranked(scored), funders=_ranked(funded), excluded_providers=excluded,
                             excluded_funders=unfunded, other_district=len(elsewhere) + unread, other_district_reason=reason,
                             pinned=winner)


async def build(conn: asyncpg.Connection, project_ids: list[int], weights: Weights,
                on: date | None = None) -> Candidates:
    """Candidates for the approved projects among `project_ids` (others are left out)."""
    on = on or today()
    tree = _Tree(await conn.fetch("select id, parent_id, level, name_zh, name_en from jurisdictions"))
    wanted = await _projects(conn, tree, list(dict.fromkeys(project_ids)))
    # Where every project keeps to its district, the providers of other districts are only counted: a
    # project's page read all 15,000 of a city's providers' facts (0.8 s) to score a few hundred.
    districts = (None if not wanted or any(p.facts.rules.cross_district or p.facts.place.district is None
                                           for p in wanted)
                 else {p.facts.place.district for p in wanted if p.facts.place.district is not None})
    providers = await provider_facts(conn, tree, on, districts)
    unread = 0 if districts is None else await conn.fetchval(
        "select count(*) from organisations where kind = 'provider' and status = 'verified'") - len(providers)
    funders = await funder_facts(conn, tree)
    projects = [candidates_for(p, providers, funders, weights, on, unread=unread) for p in wanted]
    return Candidates(weights=weights, projects=projects, providers=providers, funders=funders)


def to_instance(found: Candidates, *, providers_per_need: int = PROVIDERS_PER_NEED,
                funders_per_need: int = FUNDERS_PER_NEED, pins: dict[int, int] | None = None,
                bans: frozenset[tuple[int, int]] = frozenset()) -> dict[str, Any]:
    """The solver's input: each project a need with the money it has (its government budget and the
    pledges to it that stand); its best providers (value = score, price = bid or planned cost) and
    funders (affinity = value per fen, see `scoring.affinity`); a provider's capacity less its contracts under way on other projects; a
    funder's budget its public money on offer. A standing award is pinned, and so is a person's pin
    (`pins`, project → provider) where the award does not decide; banned (project, provider) pairs
    go in as forbidden. Excluded pairs have no edge, so a pin or ban of one is left out."""
    in_instance = {p.project.id for p in found.projects}
    needs_out, provider_edges, funder_edges, pinned, forbidden = [], [], [], [], []
    used_providers: set[int] = set()
    used_funders: set[int] = set()
    for pc in found.projects:
        needs_out.append({"id": pc.project.id, "gov_money": pc.project.budget_fen + pc.project.pledged_fen})
        pin = pc.pinned if pc.pinned is not None else (pins or {}).get(pc.project.id)
        banned = {c.party_id for c in pc.providers if (pc.project.id, c.party_id) in bans and c.party_id != pin}
        kept = [c for c in pc.providers if c.party_id not in banned][:providers_per_need]
        kept += [c for c in pc.providers if c.party_id in banned
                 or (c.party_id == pin and all(k.party_id != pin for k in kept))]
        for c in kept:
            provider_edges.append({"need": pc.project.id, "provider": c.party_id, "price": c.price_fen,
                                   "value": c.fit.score})
            used_providers.add(c.party_id)
        if pin is not None and any(c.party_id == pin for c in kept):
            pinned.append([pc.project.id, pin])
        forbidden += [[pc.project.id, p] for p in sorted(banned)]
        for c in pc.funders[:funders_per_need]:
            funder_edges.append({"need": pc.project.id, "funder": c.party_id, "affinity": c.affinity})
            used_funders.add(c.party_id)
    capacity = found.weights.capacity_contracts
    return {
        "needs": needs_out,
        "providers": [{"id": p, "capacity": capacity - len(found.providers[p].active_projects - in_instance)}
                      for p in sorted(used_providers)],
        "funders": [{"id": f, "budget": found.funders[f].money_fen} for f in sorted(used_funders)],
        "provider_edges": provider_edges,
        "funder_edges": funder_edges,
        "pinned": pinned,
        "forbidden": forbidden,
    }


# ---- what a person reads: the page and its JSON twin ----------------------------------------------

class Explained(msgspec.Struct, frozen=True):
    factor: str
    points: float
    text: str


class ProviderMatch(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: int
    name: str
    score: float
    price_fen: int
    bid: bool
    pinned: bool
    lines: list[Explained]


class FunderMatch(msgspec.Struct, frozen=True, kw_only=True):
    funder_id: int
    name: str
    score: float
    # Value per fen given, as the solver reads it.
    affinity: float
    money_fen: int
    lines: list[Explained]


class ExcludedParty(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    # Its own reasons, with its own facts ("it has 2A").
    reasons: list[str]


class Excluded(msgspec.Struct, frozen=True, kw_only=True):
    """The pairs of one side excluded by the same rules: the rules, how many, and the first of them by id."""

    side: Literal["provider", "funder"]
    rules: list[str]
    # What each rule excludes, in the reader's language.
    reasons: list[str]
    count: int
    first: list[ExcludedParty]


# Named in each group of excluded pairs: on a city a rule such as a minimum rating shuts out thousands of
# providers, and a page naming them all came to 2 MB.
NAMED_EXCLUDED = 10


class ProjectMatches(msgspec.Struct, frozen=True, kw_only=True):
    project_id: int
    title_zh: str
    title_en: str
    rules_from: Literal["call", "catalogue"]
    cross_district: bool
    budget_fen: int
    funding_target_fen: int
    planned_fen: int
    providers: list[ProviderMatch]
    funders: list[FunderMatch]
    # The excluded pairs, grouped by side and rules, the largest groups first.
    excluded: list[Excluded]
    excluded_total: int
    more_providers: int
    more_funders: int
    other_district: int
    other_district_reason: str
    weights: Weights


def _lines(fit: Fit) -> list[Explained]:
    return [Explained(x.factor, x.points, x.text()) for x in fit.lines]


def excluded_groups(side: Literal["provider", "funder"],
                    groups: dict[tuple[str, ...], tuple[int, list[Candidate]]]) -> list[Excluded]:
    """The excluded pairs of one side as the page shows them, the largest groups first: for the rules
    of each group, how many pairs they exclude and the first of them by id, in id order."""
    return [Excluded(side=side, rules=list(rules), reasons=[i18n.gettext(scoring.RULE_NAMES[r]) for r in rules],
                     count=count, first=[ExcludedParty(id=c.party_id, name=c.name,
                                                       reasons=[r.text() for r in c.fit.excluded])
                                         for c in first[:NAMED_EXCLUDED]])
            for rules, (count, first) in sorted(groups.items(), key=lambda item: (-item[1][0], item[0]))]


def _excluded(side: Literal["provider", "funder"], pairs: list[Candidate]) -> list[Excluded]:
    groups: dict[tuple[str, ...], list[Candidate]] = {}
    for c in sorted(pairs, key=lambda c: c.party_id):
        groups.setdefault(tuple(dict.fromkeys(r.rule for r in c.fit.excluded)), []).append(c)
    return excluded_groups(side, {rules: (len(group), group) for rules, group in groups.items()})


def matches_page(facts: ProjectFacts, title_zh: str, title_en: str, weights: Weights, limit: int, *,
                 providers: list[Candidate], pinned: int | None, eligible_providers: int, funders: list[Candidate],
                 eligible_funders: int, money: dict[int, int], excluded: list[Excluded], other_district: int,
                 other_district_reason: Reason | None) -> ProjectMatches:
    """The page from the pairs it shows, however they were found: `providers` the best `limit` of the
    `eligible_providers` and the pinned one after them, `funders` the best `limit` of the `eligible_funders`
    (`money`: what each offers)."""
    return ProjectMatches(
        project_id=facts.id, title_zh=title_zh, title_en=title_en,
        rules_from="call" if facts.rules.from_call else "catalogue", cross_district=facts.rules.cross_district,
        budget_fen=facts.budget_fen, funding_target_fen=facts.funding_target_fen, planned_fen=facts.planned_fen,
        providers=[ProviderMatch(provider_id=c.party_id, name=c.name, score=c.fit.score or 0.0,
                                 price_fen=c.price_fen or 0, bid=c.bid, pinned=c.party_id == pinned,
                                 lines=_lines(c.fit)) for c in providers],
        funders=[FunderMatch(funder_id=c.party_id, name=c.name, score=c.fit.score or 0.0, affinity=c.affinity,
                             money_fen=money[c.party_id], lines=_lines(c.fit)) for c in funders],
        excluded=excluded, excluded_total=sum(x.count for x in excluded),
        more_providers=eligible_providers - len(providers), more_funders=max(0, eligible_funders - limit),
        other_district=other_district,
        other_district_reason=other_district_reason.text() if other_district_reason else "", weights=weights)


async def may_see(conn: asyncpg.Connection, identity: Identity | None, jurisdiction_id: int) -> bool:
    """Whether the person may see the matches of a project in this place: the buyers whose area
    includes it and platform administrators. Matches name conflicts of interest and funders'
    preferences, which are not for everyone."""
    return identity is not None and identity.acts_for_verified and (
        identity.is_platform_admin or await needs.covers(conn, identity, jurisdiction_id))


needs.register_match_reader(may_see)


async def pairwise_matches(conn: asyncpg.Connection, project_id: int, weights: Weights,
                           limit: int = 10) -> ProjectMatches:
    """An approved project's matches page as the pair-by-pair scorer gives it, every pair scored and
    explained (`build`): what `matches.project_matches`, which the page reads, is checked against."""
    found = await build(conn, [project_id], weights)
    (pc,) = found.projects
    return matches_page(
        pc.project, pc.title_zh, pc.title_en, weights, limit,
        providers=pc.providers[:limit] + [c for c in pc.providers[limit:] if c.party_id == pc.pinned],
        pinned=pc.pinned, eligible_providers=len(pc.providers), funders=pc.funders[:limit],
        eligible_funders=len(pc.funders), money={f.id: f.money_fen for f in found.funders.values()},
        excluded=_excluded("provider", pc.excluded_providers) + _excluded("funder", pc.excluded_funders),
        other_district=pc.other_district, other_district_reason=pc.other_district_reason)
