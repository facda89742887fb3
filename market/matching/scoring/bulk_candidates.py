"""Candidates for many projects at once: the same scores and ranking as `candidates.build`, computed
with numpy over every (project, provider) and (project, funder) pair instead of pair by pair, and
kept only as far as the solver's instance reads them (`candidates.to_instance`).

Why it gives the same numbers. A provider's score for a project it may deliver (no bid, no live
call, no contract for it) depends on the pair only through two things: whether it has bid for the
project's item, its category or neither, and how near it is (community, street, district, other).
So each provider has twelve possible scores, computed once over arrays, term by term in the scorer's
order (`provider_terms`, `provider_scores`); the pairs only pick one. A funder's score has a per-pair
money share, so it is computed in numpy, term by term in the scorer's order too (the same IEEE
operations). Both are rounded exactly as Python's round(x, 2) does (`round2`). Exclusions are the
scorer's rules over arrays; conflicts of interest, related parties and providers' standing bars, which
are few, are looked up pair by pair. Projects that do not fit (bids, a live published call, a standing
award, a provider's contract for them) are scored by `candidates.candidates_for` itself.
`tests/test_bulk_candidates.py` checks both ways agree.

What it leaves out: explanations (the lines a person reads) and excluded pairs — a project's page
(`matches`) ranks with the same arithmetic and has the scorer explain only the pairs it shows — and,
of each project's ranked lists, everything the instance would not take: the best `providers_per_need`
providers not banned, every banned one and the pinned one (scored), and the best `funders_per_need`
funders.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date

import asyncpg
import numpy as np

from market.matching.scoring import candidates as pairwise
from market.matching.scoring.candidates import (
    FUNDERS_PER_NEED, PROVIDERS_PER_NEED, Candidate, Candidates, ProjectCandidates, _Project,
)
from market.matching.scoring.fit import (
    Fit, FunderFacts, Place, ProviderFacts, _gift_share, _pts, affinity,
)
from market.matching.scoring.weights import Weights
from market.procurement.bids.services import full_years

# Rows of the pair matrices computed at once: bounds memory (rows × providers × 8 bytes a matrix).
CHUNK = 256
_ITEM, _CATEGORY, _NEITHER = 0, 1, 2
_NEAR = ("community", "street", "district", "other")
_EXCLUDED = np.iinfo(np.int64).max


def round2(values: np.ndarray) -> np.ndarray:
    """Python's round(x, 2) of every element. rint(x × 100) ÷ 100 is exact except where x × 100 lies
    within rounding error of a half: those few are rounded by Python itself."""
    scaled = values * 100
    out = np.rint(scaled) / 100
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    if near_half.any():
        out[near_half] = [round(float(v), 2) for v in values[near_half]]
    return out


def points(weight: float, share: np.ndarray) -> np.ndarray:
    """`fit._pts` of every share."""
    return round2(weight * share)


def cents(scores: np.ndarray) -> np.ndarray:
    """Scores as whole hundredths, as round(score × 100) gives them: what the rankings sort."""
    return np.rint(scores * 100).astype(np.int64)


def item_points(weights: Weights) -> np.ndarray:
    """The item factor's points, by _ITEM, _CATEGORY, _NEITHER."""
    return np.array([_pts(weights.item, 1), _pts(weights.category, 1), _pts(weights.item, 0)])


def near_points(weights: Weights) -> np.ndarray:
    """The place factor's points, by nearness (`_NEAR`)."""
    return np.array([_pts(getattr(weights, "other_district" if n == "other" else f"same_{n}"), 1) for n in _NEAR])


def provider_terms(weights: Weights, *, load: np.ndarray, rating: np.ndarray, scorecard: np.ndarray,
                   late_reports: np.ndarray, upheld_objections: np.ndarray, upheld_complaints: np.ndarray,
                   price: np.ndarray) -> list[np.ndarray]:
    """Each provider's points for the factors after the item and the place, in `scoring.score_provider`'s
    order: capacity (`load`: its contracts under way but for the project's own), rating (0 for none),
    evaluations (`scorecard` NaN for none), late reports, upheld objections and complaints, and price
    (`price`: its share, 0 without a bid)."""
    capacity = weights.capacity_contracts
    known = ~np.isnan(scorecard)
    evaluations = np.zeros(len(scorecard))
    evaluations[known] = np.clip((scorecard[known] - 60) / 40, -1.0, 1.0)
    return [points(weights.capacity, (capacity - load) / capacity), points(weights.rating, rating / 5),
            points(weights.evaluations, evaluations), points(weights.late_report, -late_reports),
            points(weights.upheld_objection, -upheld_objections), points(weights.upheld_complaint, -upheld_complaints),
            points(weights.price, price)]


def provider_scores(item: np.ndarray | float, place: np.ndarray | float, terms: list[np.ndarray]) -> np.ndarray:
    """`scoring.score_provider`'s scores: the points added up in its order, then rounded as it rounds."""
    total = item + place + terms[0]
    for term in terms[1:]:
        total = total + term
    return round2(total)


def registered_years(registered: Iterable[date | None], on: date) -> np.ndarray:
    """Full years since registration; a provider with no registration date breaks no rule on years, as
    `rule_breaches` says."""
    return np.array([full_years(day, on) if day else 10_000 for day in registered], dtype=np.int64)


def breaches(subtype: np.ndarray, rating: np.ndarray, years: Callable[[], np.ndarray], types: tuple[str, ...],
             min_rating: int | None, min_years: int | None) -> dict[str, np.ndarray]:
    """`rule_breaches` over arrays, but for the district, which callers keep to by the providers they
    read: who breaks each rule, in its order (`years` is asked for only where the rules set a minimum)."""
    out = {"provider_type": ~np.isin(subtype, list(types))}
    if min_rating:
        out["rating"] = rating < min_rating
    if min_years:
        out["years"] = years() < min_years
    return out


def nearness(district: np.ndarray, street: np.ndarray, community: np.ndarray, places: np.ndarray) -> np.ndarray:
    """How near each provider is to each project, as `scoring.distance` says: 0 community, 1 street, 2
    district, 3 other. A row of `places` a project's (`place_row`); the providers' levels -1 where none."""
    # Each level shared is also shared above it.
    near = 3 - (district[None, :] == places[:, 2:3]).astype(np.int32)
    near -= street[None, :] == places[:, 1:2]
    near -= community[None, :] == places[:, 0:1]
    return near


def place_row(place: Place) -> list[int]:
    """A project's community, street and district, -2 where none, which no provider's level is."""
    return [-2 if level is None else level for level in (place.community, place.street, place.district)]


def place_levels(places: Iterable[Place]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Providers' districts, streets and communities, -1 where none."""
    rows = np.array([[-1 if level is None else level for level in (p.district, p.street, p.community)] for p in places],
                    dtype=np.int32).reshape(-1, 3)
    return rows[:, 0].copy(), rows[:, 1].copy(), rows[:, 2].copy()


class _Providers:
    """Every verified provider as arrays, in id order (the ranking's tie-break)."""

    def __init__(self, facts: dict[int, ProviderFacts], weights: Weights, on: date) -> None:
        self.facts = [facts[i] for i in sorted(facts)]
        self.ids = np.array([p.id for p in self.facts], dtype=np.int64)
        self.index = {p.id: k for k, p in enumerate(self.facts)}
        n = len(self.facts)

        self.district, self.street, self.community = place_levels(p.place for p in self.facts)
        self.subtype = np.array([p.subtype for p in self.facts], dtype=object)
        self.rating = np.array([p.rating or 0 for p in self.facts], dtype=np.int64)
        self.years = registered_years((p.registration_date for p in self.facts), on)
        self.free = np.array([len(p.active_projects) < weights.capacity_contracts for p in self.facts], dtype=bool)

        def column(values: Iterable[float]) -> np.ndarray:
            return np.fromiter(values, dtype=np.float64, count=n)
        terms = provider_terms(
            weights, load=column(len(p.active_projects) for p in self.facts), rating=self.rating,
            scorecard=column(np.nan if p.scorecard is None else p.scorecard for p in self.facts),
            late_reports=column(p.late_reports for p in self.facts),
            upheld_objections=column(p.upheld_objections for p in self.facts),
            upheld_complaints=column(p.upheld_complaints for p in self.facts), price=np.zeros(n))
        # The twelve scores a provider can have for a project it has no bid on and no contract for:
        # [item kind × 4 + nearness].
        self.cents = np.stack([cents(provider_scores(item, place, terms)) for item in item_points(weights)
                               for place in near_points(weights)], axis=1).reshape(n * 12)
        self._kinds: dict[str, np.ndarray] = {}
        self.by_item: dict[str, list[int]] = defaultdict(list)
        self.by_category: dict[str, list[int]] = defaultdict(list)
        for k, p in enumerate(self.facts):
            for code in p.items:
                self.by_item[code].append(k)
            for category in {code.split(".", 1)[0] for code in p.items}:
                self.by_category[category].append(k)
        self.of_user: dict[int, list[int]] = defaultdict(list)
        for k, p in enumerate(self.facts):
            for user in p.members:
                self.of_user[user].append(k)
        # Bars are few, like conflicts: looked up pair by pair.
        self.barred: dict[tuple[int, str], list[int]] = defaultdict(list)
        for k, p in enumerate(self.facts):
            for item in p.barred:
                self.barred[item].append(k)
        self._rules: dict[tuple[object, ...], np.ndarray] = {}

    def kind(self, item_code: str) -> np.ndarray:
        """Per provider: has it bid for this item, another item of its category, or neither."""
        if item_code not in self._kinds:
            kind = np.full(len(self.facts), _NEITHER, dtype=np.int32)
            kind[self.by_category.get(item_code.split(".", 1)[0], [])] = _CATEGORY
            kind[self.by_item.get(item_code, [])] = _ITEM
            self._kinds[item_code] = kind
        return self._kinds[item_code]

    def allowed(self, types: tuple[str, ...], min_rating: int | None, min_years: int | None) -> np.ndarray:
        """Who the rules admit on type, rating and years (the district is checked per project), with
        room for another contract."""
        key = (types, min_rating, min_years)
        if key not in self._rules:
            ok = self.free.copy()
            for broken in breaches(self.subtype, self.rating, lambda: self.years, *key).values():
                ok &= ~broken
            self._rules[key] = ok
        return self._rules[key]


def _keep(project_id: int, ranked: list[Candidate], keep: int, pin: int | None,
          bans: frozenset[tuple[int, int]]) -> list[Candidate]:
    """Of a ranked list, what `to_instance` reads: the best `keep` not banned, the banned, the pin."""
    out, kept = [], 0
    for c in ranked:
        banned = (project_id, c.party_id) in bans and c.party_id != pin
        if banned or c.party_id == pin or kept < keep:
            out.append(c)
            kept += not banned
    return out


def _plain(project: _Project, busy: set[int]) -> bool:
    facts = project.facts
    return (not project.bids and project.winner is None and not facts.bidding_closed and not facts.rules.from_call
            and facts.id not in busy)


def _provider_lists(plain: list[_Project], prov: _Providers, keep: int, pins: dict[int, int],
                    bans: frozenset[tuple[int, int]], watch: Iterable[int]) -> tuple[
                        dict[int, list[Candidate]], dict[int, set[int]], dict[int, int]]:
    """Each plain project's kept providers; which of the `watch` providers (those sharing people with
    a funder) each project scores; and how many providers lie in other districts where the rules keep
    to the district."""
    out: dict[int, list[Candidate]] = {}
    scored_watched: dict[int, set[int]] = defaultdict(set)
    elsewhere: dict[int, int] = {}
    watched = {prov.index[w] for w in watch if w in prov.index}
    everyone = np.arange(len(prov.facts))
    groups: dict[int | None, list[_Project]] = defaultdict(list)
    for project in plain:
        rules = project.facts.rules
        groups[None if rules.cross_district else project.facts.place.district].append(project)
    banned_of: dict[int, list[int]] = defaultdict(list)
    for project_id, provider_id in bans:
        if provider_id in prov.index:
            banned_of[project_id].append(prov.index[provider_id])
    n = len(prov.facts)
    for district, members in groups.items():
        cols = everyone if district is None else np.flatnonzero(prov.district == district)
        position = {int(k): j for j, k in enumerate(cols)}
        watched_here = [(k, position[k]) for k in watched if k in position]
        district_of, street_of, community_of = prov.district[cols], prov.street[cols], prov.community[cols]
        cell = (cols * 12).astype(np.int32)
        for start in range(0, len(members), CHUNK):
            chunk = members[start:start + CHUNK]
            rows = len(chunk)
            near = nearness(district_of, street_of, community_of,
                            np.array([place_row(p.facts.place) for p in chunk], dtype=np.int32))
            kind = np.empty((rows, len(cols)), dtype=np.int32)
            ok = np.empty((rows, len(cols)), dtype=bool)
            for r, project in enumerate(chunk):
                facts = project.facts
                kind[r] = prov.kind(facts.item_code)[cols]
                rules = facts.rules
                ok[r] = prov.allowed(rules.provider_types, rules.min_rating, rules.min_years)[cols]
                barred = prov.barred.get((facts.catalogue_owner_id or 0, facts.item_code), [])
                for k in [*barred, *(k for user in facts.buyer_members for k in prov.of_user.get(user, ()))]:
                    if k in position:
                        ok[r, position[k]] = False
            kind *= 4
            kind += near
            kind += cell[None, :]
            cents = prov.cents[kind]
            key = np.where(ok, -cents * (n + 1) + cols[None, :], _EXCLUDED)
            if watched_here:
                ks, js = zip(*watched_here)
                for r, j in zip(*np.nonzero(ok[:, list(js)])):
                    scored_watched[chunk[r].facts.id].add(int(prov.ids[ks[j]]))
            # The banned and the pinned pair are kept whatever their rank; the best `keep` are the
            # best of the rest.
            extra: dict[int, list[int]] = defaultdict(list)
            for r, project in enumerate(chunk):
                pid = project.facts.id
                pin = pins.get(pid)
                for k in banned_of.get(pid, []) + ([prov.index[pin]] if pin in prov.index else []):
                    if k in position and ok[r, position[k]]:
                        extra[r].append(int(key[r, position[k]]))
                        if prov.ids[k] != pin:
                            key[r, position[k]] = _EXCLUDED
            take = min(keep, len(cols))
            best = np.take_along_axis(key, np.argpartition(key, take - 1, axis=1)[:, :take], axis=1) if take else \
                key[:, :0]
            for r, project in enumerate(chunk):
                chosen = sorted({int(v) for v in best[r] if v != _EXCLUDED} | set(extra.get(r, ())))
                out[project.facts.id] = [_candidate(prov, v, n, project.facts.planned_fen) for v in chosen]
                if district is not None:
                    elsewhere[project.facts.id] = n - len(cols)
    return out, scored_watched, elsewhere


def _candidate(prov: _Providers, key: int, n: int, planned_fen: int) -> Candidate:
    """The pair a sort key stands for; with no bid, priced at the project's planned cost."""
    k = key % (n + 1)
    score = -(key - k) // (n + 1) / 100
    facts = prov.facts[k]
    return Candidate(party_id=facts.id, name=facts.name, fit=Fit(score=score), price_fen=planned_fen)


def stated(weight: float, names: np.ndarray, open_to_any: np.ndarray) -> np.ndarray:
    """A stated preference's points, as `scoring.score_funder` gives them: full where the funder names the
    project's, half where it is open to any, else none."""
    return np.where(names, _pts(weight, 1.0), np.where(open_to_any, _pts(weight, 0.5), _pts(weight, 0.0)))


def gave_category(weights: Weights, same: np.ndarray) -> np.ndarray:
    """Points for the funders' past pledges to the project's category (`same`: how many)."""
    return np.array([_pts(weights.gave_category, k / 3) for k in range(4)])[np.minimum(same, 3)]


def funder_scores(weights: Weights, category: np.ndarray, place: np.ndarray, group: np.ndarray, gave: np.ndarray,
                  gave_near: np.ndarray, money: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """`scoring.score_funder`'s scores, term by term in its order: stated category, place and group;
    past giving to the category and the place; the money offered against what the project asks."""
    money_pts = points(weights.money, np.minimum(1.0, money / ask))
    return round2(category + place + group + gave + gave_near + money_pts)


def _funder_lists(plain: list[_Project], funders: dict[int, FunderFacts], weights: Weights, keep: int,
                  scored: dict[int, set[int]], providers: dict[int, ProviderFacts]) -> dict[int, list[Candidate]]:
    """Each plain project's best `keep` funders, as `scoring.score_funder` scores them."""
    paying = [funders[i] for i in sorted(funders) if funders[i].money_fen > 0]
    out: dict[int, list[Candidate]] = {p.facts.id: [] for p in plain}
    if not paying or not plain:
        return out
    n = len(paying)
    money = np.array([f.money_fen for f in paying], dtype=np.float64)
    any_category = np.array([f.any_category for f in paying])
    anywhere = np.array([f.anywhere for f in paying])
    group_pts = stated(weights.prefers_group, np.zeros(n, dtype=bool), np.array([f.any_group for f in paying]))
    categories = {p.facts.category for p in plain}
    category_pts = {c: stated(weights.prefers_category, np.array([c in f.categories for f in paying]), any_category)
                    for c in categories}
    gave_pts = {c: gave_category(weights, np.array([sum(1 for g in f.gifts if g.category == c) for f in paying]))
                for c in categories}
    names_place: dict[int, list[int]] = defaultdict(list)
    gave_at: dict[tuple[str, int], list[int]] = defaultdict(list)
    for k, f in enumerate(paying):
        for place in f.places:
            names_place[place].append(k)
        for level in ("district", "street", "community"):
            for place in {getattr(g.place, level) for g in f.gifts} - {None}:
                gave_at[(level, place)].append(k)
    gave_place_pts = [_pts(weights.gave_place, _gift_share(near)) for near in ("other", "district", "street",
                                                                                 "community")]
    members_of: dict[int, list[int]] = defaultdict(list)
    for k, f in enumerate(paying):
        for user in f.members:
            members_of[user].append(k)
    related: dict[int, list[int]] = defaultdict(list)  # provider → funders sharing people with it
    for provider_id in {p for ps in scored.values() for p in ps}:
        for user in providers[provider_id].members:
            related[provider_id] += members_of.get(user, [])
    for start in range(0, len(plain), CHUNK):
        chunk = plain[start:start + CHUNK]
        rows = len(chunk)
        place_pts = np.empty((rows, n))
        gave_near = np.empty((rows, n))
        ok = np.ones((rows, n), dtype=bool)
        ask = np.array([p.facts.funding_target_fen or p.facts.budget_fen for p in chunk], dtype=np.float64)
        for r, project in enumerate(chunk):
            facts = project.facts
            names = np.zeros(n, dtype=bool)
            for place in facts.places:
                names[names_place.get(place, [])] = True
            place_pts[r] = stated(weights.prefers_place, names, anywhere)
            share = np.full(n, gave_place_pts[0])
            for level, value in (("district", 1), ("street", 2), ("community", 3)):
                where = getattr(facts.place, level)
                if where is not None:
                    share[gave_at.get((level, where), [])] = gave_place_pts[value]
            gave_near[r] = share
            for user in facts.buyer_members:
                ok[r, members_of.get(user, [])] = False
            for provider_id in scored.get(facts.id, ()):
                ok[r, related.get(provider_id, [])] = False
        total = funder_scores(weights, np.stack([category_pts[p.facts.category] for p in chunk]), place_pts,
                              group_pts[None, :], np.stack([gave_pts[p.facts.category] for p in chunk]), gave_near,
                              money[None, :], ask[:, None])
        key = np.where(ok, -cents(total) * (n + 1) + np.arange(n)[None, :], _EXCLUDED)
        take = min(keep, n)
        best = np.take_along_axis(key, np.argpartition(key, take - 1, axis=1)[:, :take], axis=1)
        for r, project in enumerate(chunk):
            for v in sorted(int(v) for v in best[r] if v != _EXCLUDED):
                k = v % (n + 1)
                fit = Fit(score=float(total[r, k]))
                out[project.facts.id].append(Candidate(party_id=paying[k].id, name=paying[k].name, fit=fit,
                                                       affinity=affinity(fit, project.facts, weights)))
    return out


async def build(conn: asyncpg.Connection, project_ids: list[int], weights: Weights, on: date | None = None, *,
                pins: dict[int, int] | None = None, bans: frozenset[tuple[int, int]] = frozenset(),
                providers_per_need: int = PROVIDERS_PER_NEED, funders_per_need: int = FUNDERS_PER_NEED,
                seconds: dict[str, float] | None = None) -> Candidates:
    """Candidates for the approved projects among `project_ids`, kept as far as `to_instance` reads
    them with the same `pins`, `bans` and numbers per need. `seconds` receives where the time went:
    reading the facts, the providers' pairs, the funders' pairs."""
    started = time.perf_counter()
    on = on or pairwise.today()
    pins = pins or {}
    tree = pairwise._Tree(await conn.fetch("select id, parent_id, level, name_zh, name_en from jurisdictions"))
    providers = await pairwise.provider_facts(conn, tree, on)
    funders = await pairwise.funder_facts(conn, tree)
    projects = await pairwise._projects(conn, tree, list(dict.fromkeys(project_ids)))
    busy = {pid for p in providers.values() for pid in p.active_projects}
    plain = [p for p in projects if _plain(p, busy)]
    prov = _Providers(providers, weights, on)
    funder_people = {u for f in funders.values() for u in f.members}
    watch = {pid for pid, p in providers.items() if p.members & funder_people}
    laps = {"facts": time.perf_counter() - started}
    provider_lists, scored, elsewhere = _provider_lists(plain, prov, providers_per_need, pins, bans, watch)
    laps["provider pairs"] = time.perf_counter() - started - sum(laps.values())
    funder_lists = _funder_lists(plain, funders, weights, funders_per_need, scored, providers)
    laps["funder pairs"] = time.perf_counter() - started - sum(laps.values())
    out = []
    for project in projects:
        if project.facts.id in provider_lists:
            pid = project.facts.id
            out.append(ProjectCandidates(
                project=project.facts, title_zh=project.title_zh, title_en=project.title_en,
                providers=provider_lists[pid], funders=funder_lists[pid], excluded_providers=[],
                excluded_funders=[], other_district=elsewhere.get(pid, 0), other_district_reason=None, pinned=None))
            continue
        # Bids, a call's own rules or an award: the pair-by-pair scorer, then the same cut.
        full = pairwise.candidates_for(project, providers, funders, weights, on)
        pin = full.pinned if full.pinned is not None else pins.get(project.facts.id)
        out.append(ProjectCandidates(
            project=full.project, title_zh=full.title_zh, title_en=full.title_en,
            providers=_keep(project.facts.id, full.providers, providers_per_need, pin, bans),
            funders=full.funders[:funders_per_need], excluded_providers=[], excluded_funders=[],
            other_district=full.other_district, other_district_reason=full.other_district_reason, pinned=full.pinned))
    if seconds is not None:
        seconds.update(laps)
    return Candidates(weights=weights, projects=out, providers=providers, funders=funders)
