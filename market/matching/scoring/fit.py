"""Fit scoring: how well a provider suits a project, and a funder a project — a score, and the lines
a person reads to see why: (factor, points, reason). Pure: no database and no clock (today is
given), so every point can be checked by hand; `market.matching.scoring.candidates` gathers the facts.

Needs are matched once they are projects (立项): a project has the catalogue item, the place, the
government budget and the rules that say who may deliver it.

Ineligible pairs and conflicts of interest are excluded, with their reasons, never scored low: a
provider the call's (or the catalogue item's) rules shut out, one registered in another district
where the rules keep to the district, one that shares people with the buyer, one at full capacity,
one that did not bid when the call has closed; a funder that shares people with the buyer or with a
candidate provider of the project, or that offers no money.

Reasons are English message ids with %(name)s parameters, translated when shown (`Line.text`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

import msgspec

from market.core import i18n
from market.core.i18n import N_, Msg
from market.matching.scoring.weights import Weights
from market.organisations.models import SUBTYPE_NAMES
from market.procurement.bids.services import Breach, rule_breaches

Distance = Literal["community", "street", "district", "other"]


class Fen(int):
    """A parameter that is money, shown as ¥1,234.56."""


class Msgs(tuple):
    """A parameter that is a list of message ids, translated and joined."""


def render(message: str, params: dict[str, Any]) -> str:
    """A reason in the current language."""
    shown: dict[str, object] = {}
    for key, value in params.items():
        if isinstance(value, Fen):
            shown[key] = i18n.format_money(int(value))
        elif isinstance(value, Msgs):
            shown[key] = i18n.series(i18n.gettext(v) for v in value)
        elif isinstance(value, date):
            shown[key] = i18n.format_date(value)
        elif isinstance(value, float):
            shown[key] = i18n.format_number(value)
        else:
            shown[key] = value
    return i18n.gettext(message, **shown)


class Line(msgspec.Struct, frozen=True):
    """One factor of a score: its points and why."""

    factor: str
    points: float
    message: str
    params: dict[str, Any] = {}

    def text(self) -> str:
        return render(self.message, self.params)


class Reason(msgspec.Struct, frozen=True):
    """Why a pair is excluded."""

    rule: str
    message: str
    params: dict[str, Any] = {}

    def text(self) -> str:
        return render(self.message, self.params)


class Fit(msgspec.Struct, frozen=True):
    """A scored pair (`excluded` empty), or an excluded one (no score, never ranked)."""

    score: float | None
    lines: tuple[Line, ...] = ()
    excluded: tuple[Reason, ...] = ()


class Place(msgspec.Struct, frozen=True):
    """Where an organisation is registered or a project lies, at each level of the tree; a level
    above the place's own is known, one below it is None (a grid counts as its community)."""

    district: int | None
    street: int | None = None
    community: int | None = None


class Rules(msgspec.Struct, frozen=True, kw_only=True):
    """Who may deliver: the live call's rules, or else the catalogue item's (which a call may only tighten)."""

    provider_types: tuple[str, ...]
    min_rating: int | None = None
    min_years: int | None = None
    cross_district: bool = False
    from_call: bool = False


class ProjectFacts(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    buyer_id: int
    buyer_members: frozenset[int]
    item_code: str
    category_name: str
    place: Place
    # The project's place, its needs' communities and every place containing them: what a funder's
    # place preference is matched against.
    places: frozenset[int]
    district_name: str
    budget_fen: int
    # Pledged to it already and still standing: money the project has beside its budget.
    pledged_fen: int = 0
    # What it asks of funders beyond the government budget; 0 for nothing.
    funding_target_fen: int = 0
    rules: Rules
    # Its live call is past its deadline: only those who bid remain candidates.
    bidding_closed: bool = False
    # Needs describe their beneficiaries in words only; empty until they record groups.
    beneficiary_groups: frozenset[str] = frozenset()
    # Whose catalogue the item is in: a provider's standing bars it from an item of one catalogue.
    catalogue_owner_id: int | None = None

    @property
    def category(self) -> str:
        return self.item_code.split(".", 1)[0]

    @property
    def planned_fen(self) -> int:
        """The project's whole planned cost: government budget plus what it asks of funders."""
        return self.budget_fen + self.funding_target_fen


class ProviderFacts(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    subtype: str
    rating: int | None
    registration_date: date | None
    place: Place
    members: frozenset[int]
    # Catalogue item codes of calls it has bid for, counting only bids already opened.
    items: frozenset[str] = frozenset()
    # Projects of its signed contracts still under way.
    active_projects: frozenset[int] = frozenset()
    # Its delivery scorecard's summary (market.delivery.scorecard): the mean total of its last
    # scored mid-term and final evaluations, their grade and how many; None before any.
    scorecard: float | None = None
    scorecard_grade: str | None = None
    scorecard_count: int = 0
    late_reports: int = 0
    upheld_objections: int = 0
    # Its standing (provider_standing): (catalogue owner, item code) → the day the bar ends.
    barred: dict[tuple[int, str], date] = {}
    # No complaints are recorded yet; the hook for when they are.
    upheld_complaints: int = 0


class Gift(msgspec.Struct, frozen=True):
    """A past pledge, by what it went to: the project's category and place."""

    category: str
    place: Place


class FunderFacts(msgspec.Struct, frozen=True, kw_only=True):
    """A funder's current public resources list, summed up, and its past giving."""

    id: int
    name: str
    members: frozenset[int]
    money_fen: int
    categories: frozenset[str] = frozenset()
    any_category: bool = False
    places: frozenset[int] = frozenset()
    anywhere: bool = False
    groups: frozenset[str] = frozenset()
    any_group: bool = False
    gifts: tuple[Gift, ...] = ()


def distance(a: Place, b: Place) -> Distance:
    """How near two places are: the most local level they share."""
    if a.community is not None and a.community == b.community:
        return "community"
    if a.street is not None and a.street == b.street:
        return "street"
    if a.district is not None and a.district == b.district:
        return "district"
    return "other"


def _clamp(x: float) -> float:
    return max(-1.0, min(1.0, x))


def _pts(weight: float, share: float) -> float:
    return float(round(weight * share, 2))


class _Lines(list[Line]):
    """A score's lines; a factor weighted 0 (a hook with no data yet) is left out unless it belongs to a
    group that counts, as the place does."""

    def add(self, factor: str, weight: float, share: float, message: str, *, counts: bool = False,
            **params: Any) -> None:
        if weight or counts:
            self.append(Line(factor, _pts(weight, share), message, params))


def price_of(project: ProjectFacts, bid_fen: int | None) -> int:
    """What delivery by this provider costs: its bid, else the project's planned cost."""
    return bid_fen if bid_fen is not None else project.planned_fen


def _load(project: ProjectFacts, provider: ProviderFacts) -> int:
    """Its contracts under way; its contract for this very project, if any, is no load against it."""
    return len(provider.active_projects - {project.id})


_BREACH_REASONS = {
    "unverified": N_("It is not a verified social organisation."),
    "provider_type": N_("The rules ask for %(types)s; it is a %(type)s."),
    "rating": N_("The rules ask for a rating of at least %(n)sA; it has %(rating)s."),
    "years": N_("The rules ask for at least %(n)s full years since registration; it was registered on %(date)s."),
    "district": N_("The rules keep to providers registered in %(district)s; it is registered in another district."),
}


# What each rule excludes, said of a group of pairs (each pair's own Reason says it of that pair).
RULE_NAMES = {
    "unverified": N_("Not a verified social organisation"),
    "provider_type": N_("Not a kind of organisation the rules ask for"),
    "rating": N_("Rated below the rules' minimum"),
    "years": N_("Registered fewer years ago than the rules ask"),
    "district": N_("Registered in another district"),
    "barred": N_("Barred from this catalogue item by its standing"),
    "conflict": N_("A conflict of interest with the buyer"),
    "no_bid": N_("Did not bid before the call closed"),
    "capacity": N_("At full capacity"),
    "related_party": N_("A related party of a candidate provider"),
    "no_money": N_("Offers no money at present"),
}


def _breach_reason(breach: Breach) -> Reason:
    p = breach.params
    params: dict[str, Any] = {}
    if breach.rule == "provider_type":
        params = {"types": Msgs(SUBTYPE_NAMES[t] for t in p["types"]), "type": Msg(SUBTYPE_NAMES[p["type"]])}
    elif breach.rule == "rating":
        params = {"n": p["n"], "rating": f"{p['rating']}A" if p["rating"] else Msg(N_("none"))}
    elif breach.rule == "years":
        params = {"n": p["n"], "date": p["registered"]}
    elif breach.rule == "district":
        params = {"district": p["district"]}
    return Reason(breach.rule, _BREACH_REASONS[breach.rule], params)


def elsewhere_reason(project: ProjectFacts) -> Reason:
    """Why a provider registered in another district is shut out, where the rules keep to the district."""
    return _breach_reason(Breach("district", {"district": project.district_name}))


def provider_exclusions(project: ProjectFacts, provider: ProviderFacts, weights: Weights, *, today: date,
                        bid_fen: int | None = None) -> list[Reason]:
    """Why the provider cannot deliver the project, if it cannot."""
    org = {"kind": "provider", "status": "verified", "subtype": provider.subtype, "rating": provider.rating,
           "registration_date": provider.registration_date}
    rules = msgspec.structs.asdict(project.rules)
    reasons = [_breach_reason(b) for b in rule_breaches(
        org, rules, in_district=provider.place.district == project.place.district, district=project.district_name,
        today=today)]
    if (until := provider.barred.get((project.catalogue_owner_id or 0, project.item_code))) is not None:
        reasons.append(Reason("barred", N_("Its standing bars it from this catalogue item until %(date)s, after a "
                                           "failed evaluation of its delivery."), {"date": until}))
    if shared := provider.members & project.buyer_members:
        reasons.append(Reason("conflict", N_("It and the buyer have members in common (%(n)s): a conflict of "
                                             "interest."), {"n": len(shared)}))
    if project.bidding_closed and bid_fen is None:
        reasons.append(Reason("no_bid", N_("The call has closed and it did not bid.")))
    load = _load(project, provider)
    if load >= weights.capacity_contracts:
        reasons.append(Reason("capacity", N_("It is at full capacity: signed contracts under way %(n)s, of "
                                             "%(capacity)s."), {"n": load, "capacity": weights.capacity_contracts}))
    return reasons


def score_provider(project: ProjectFacts, provider: ProviderFacts, weights: Weights, *, today: date,
                   bid_fen: int | None = None) -> Fit:
    """The provider's fit for delivering the project; `bid_fen` is its opened bid on the project's call."""
    if excluded := provider_exclusions(project, provider, weights, today=today, bid_fen=bid_fen):
        return Fit(score=None, excluded=tuple(excluded))
    lines = _Lines()
    line = lines.add

    if project.item_code in provider.items:
        line("item", weights.item, 1, N_("It has bid for this catalogue item (%(code)s) before."),
             code=project.item_code)
    elif any(code.split(".", 1)[0] == project.category for code in provider.items):
        line("category", weights.category, 1, N_("It has bid for other items of %(category)s before."),
             category=project.category_name)
    else:
        line("item", weights.item, 0, N_("It has not bid for this kind of service before."))

    near = distance(provider.place, project.place)
    factor = "other_district" if near == "other" else f"same_{near}"
    line(factor, getattr(weights, factor), 1, {
        "community": N_("Registered in the project's community."),
        "street": N_("Registered in the project's street."),
        "district": N_("Registered in the project's district."),
        "other": N_("Registered in another district, which the rules allow.")}[near], counts=bool(
        weights.same_community or weights.same_street or weights.same_district))

    load = _load(project, provider)
    line("capacity", weights.capacity, (weights.capacity_contracts - load) / weights.capacity_contracts,
         N_("Signed contracts under way: %(n)s, of a capacity of %(capacity)s."), n=load,
         capacity=weights.capacity_contracts)

    if provider.rating:
        line("rating", weights.rating, provider.rating / 5, N_("Rated %(n)sA."), n=provider.rating)
    else:
        line("rating", weights.rating, 0, N_("Not rated yet."))

    if provider.scorecard is not None:
        line("evaluations", weights.evaluations, scorecard_share(provider.scorecard),
             N_("Its delivery scorecard: %(score)s, grade %(grade)s (the mean of its last %(n)s evaluations)."),
             score=provider.scorecard, grade=provider.scorecard_grade, n=provider.scorecard_count)
    else:
        line("evaluations", weights.evaluations, 0, N_("No evaluation of its delivery has been scored yet."))

    line("late_report", weights.late_report, -provider.late_reports,
         N_("Reports late: %(n)s.") if provider.late_reports else N_("No late reports."), n=provider.late_reports)
    line("upheld_objection", weights.upheld_objection, -provider.upheld_objections,
         N_("Objections upheld against awards it won: %(n)s.") if provider.upheld_objections
         else N_("No objection to its awards was upheld."), n=provider.upheld_objections)
    line("upheld_complaint", weights.upheld_complaint, -provider.upheld_complaints,
         N_("Complaints about its delivery upheld: %(n)s."), n=provider.upheld_complaints)

    planned = project.planned_fen
    price = price_of(project, bid_fen)
    if bid_fen is None:
        line("price", weights.price, 0, N_("It has not bid: priced at the project's planned cost of %(planned)s."),
             planned=Fen(planned))
    else:
        line("price", weights.price, _clamp((planned - price) / planned),
             N_("Its bid of %(price)s against the project's planned cost of %(planned)s."), price=Fen(price),
             planned=Fen(planned))
    return Fit(score=float(round(sum(x.points for x in lines), 2)), lines=tuple(lines))


def scorecard_share(score: float) -> float:
    """The share of the evaluations weight a scorecard summary earns: a grade A (85) earns, below 60 costs."""
    return _clamp((score - 60) / 40)


def funder_exclusions(project: ProjectFacts, funder: FunderFacts,
                      providers: Iterable[ProviderFacts] = ()) -> list[Reason]:
    """Why the funder cannot fund the project, if it cannot. `providers` are the project's candidate
    providers: a funder sharing people with one of them would pay its own related party."""
    reasons = []
    if shared := funder.members & project.buyer_members:
        reasons.append(Reason("conflict", N_("It and the buyer have members in common (%(n)s): a conflict of "
                                             "interest."), {"n": len(shared)}))
    for provider in providers:
        if shared := funder.members & provider.members:
            reasons.append(Reason("related_party", N_("It and %(provider)s, a candidate provider of this project, have "
                                                      "members in common (%(n)s): a related party."),
                                  {"n": len(shared), "provider": provider.name}))
    if funder.money_fen <= 0:
        reasons.append(Reason("no_money", N_("It offers no money at present.")))
    return reasons


def _gift_share(near: Distance) -> float:
    return {"community": 1.0, "street": 2 / 3, "district": 1 / 3, "other": 0.0}[near]


def score_funder(project: ProjectFacts, funder: FunderFacts, weights: Weights,
                 providers: Iterable[ProviderFacts] = ()) -> Fit:
    """The funder's fit for funding the project, from its resources list and its past giving."""
    if excluded := funder_exclusions(project, funder, providers):
        return Fit(score=None, excluded=tuple(excluded))
    lines = _Lines()
    line = lines.add

    # A stated preference: full points if it names the project's, half if it is open to any, else none.
    for factor, weight, names, open_to_any, texts in (
            ("prefers_category", weights.prefers_category, project.category in funder.categories, funder.any_category,
             (N_("It prefers %(category)s."), N_("It is open to any kind of service."),
              N_("It prefers other kinds of service."))),
            ("prefers_place", weights.prefers_place, bool(funder.places & project.places), funder.anywhere,
             (N_("It prefers this place."), N_("It is open to anywhere."), N_("It prefers other places."))),
            ("prefers_group", weights.prefers_group, bool(funder.groups & project.beneficiary_groups),
             funder.any_group, (N_("It prefers these beneficiaries."), N_("It is open to any beneficiaries."),
                                N_("Its preferred beneficiaries are not recorded for this project.")))):
        share = 1.0 if names else 0.5 if open_to_any else 0.0
        line(factor, weight, share, texts[0] if names else texts[1] if open_to_any else texts[2],
             category=project.category_name)

    same = sum(1 for g in funder.gifts if g.category == project.category)
    line("gave_category", weights.gave_category, min(same, 3) / 3,
         N_("Its past pledges to projects in %(category)s: %(n)s."), n=same, category=project.category_name)

    nearest: Distance = max((distance(g.place, project.place) for g in funder.gifts), key=_gift_share,
                            default="other")
    gave_text = {"community": N_("It has pledged to a project in this community."),
                 "street": N_("It has pledged to a project in this street."),
                 "district": N_("It has pledged to a project in this district."),
                 "other": N_("It has not pledged to a project in this district.")}[nearest]
    line("gave_place", weights.gave_place, _gift_share(nearest), gave_text)

    ask = project.funding_target_fen or project.budget_fen
    line("money", weights.money, min(1.0, funder.money_fen / ask),
         N_("It offers %(money)s, against the %(ask)s the project asks of funders.") if project.funding_target_fen
         else N_("It offers %(money)s, against the project's budget of %(ask)s."),
         money=Fen(funder.money_fen), ask=Fen(ask))
    return Fit(score=float(round(sum(x.points for x in lines), 2)), lines=tuple(lines))


def affinity(fit: Fit, project: ProjectFacts, weights: Weights) -> float:
    """The funder's value per fen given to the project, for the solver: a perfect fit paying the
    project's whole planned cost is worth `weights.funding` points. As `funding` ≤ `price`, the points a
    dearer provider draws in funding never outweigh those its price loses."""
    top = weights.funder_maximum()
    if fit.score is None or top <= 0:
        return 0.0
    return max(0.0, fit.score) / top * weights.funding / project.planned_fen
