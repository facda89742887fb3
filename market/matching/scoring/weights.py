"""The weights of fit scoring: configuration, not code. The defaults below hold unless a deployment
overrides some of them with MARKET_MATCHING_WEIGHTS, a JSON object such as {"price": 30}, which is
checked when the service starts. /matching/weights shows the weights in force.

Kept apart from the scoring so that the settings can check an override without importing the rest
of the application.
"""

from __future__ import annotations

import itertools
from functools import cache
from typing import Annotated

import msgspec

from market.core.i18n import N_, gettext
from market.core.settings import Settings

Points = Annotated[float, msgspec.Meta(ge=0, le=1000)]


class Weights(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Points for each factor. A factor with no data behind it yet (complaints, beneficiary groups)
    has the weight 0 until there is."""

    # (need, provider)
    item: Points = 20
    category: Points = 10
    same_community: Points = 15
    same_street: Points = 10
    same_district: Points = 5
    other_district: Points = 0
    capacity: Points = 10
    rating: Points = 15
    evaluations: Points = 10
    late_report: Points = 3
    upheld_objection: Points = 5
    upheld_complaint: Points = 0
    price: Points = 20
    # (need, funder)
    prefers_category: Points = 30
    prefers_place: Points = 20
    prefers_group: Points = 0
    gave_category: Points = 15
    gave_place: Points = 10
    money: Points = 25
    # What a perfect-fit funder's money is worth when it pays a project's whole planned cost.
    funding: Points = 10
    # How many contracts a provider carries at once, until providers state their own capacity.
    capacity_contracts: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 3

    def funder_maximum(self) -> float:
        """The most points a funder can score: what a perfect fit is."""
        return (self.prefers_category + self.prefers_place + self.prefers_group + self.gave_category
                + self.gave_place + self.money)


# Field → (who it scores, what it is, how it counts), for the weights page. Names are the JSON keys.
WEIGHT_NOTES: dict[str, tuple[str, str, str]] = {
    "item": ("provider", N_("Catalogue item"),
             N_("Full points if it has bid for this very catalogue item before (bids are counted once opened).")),
    "category": ("provider", N_("Catalogue category"),
                 N_("Full points if it has bid for another item of the same category (and not this item).")),
    "same_community": ("provider", N_("Same community"), N_("Registered in the project's community.")),
    "same_street": ("provider", N_("Same street"), N_("Registered in the project's street.")),
    "same_district": ("provider", N_("Same district"), N_("Registered in the project's district.")),
    "other_district": ("provider", N_("Other district"),
                       N_("Registered elsewhere; only where the rules allow providers from other districts — "
                          "otherwise the pair is excluded.")),
    "capacity": ("provider", N_("Free capacity"),
                 N_("Times the share of its capacity not taken by signed contracts under way; a provider at "
                    "full capacity is excluded.")),
    "rating": ("provider", N_("Rating"), N_("Times its rating out of 5A; none if unrated.")),
    "evaluations": ("provider", N_("Evaluations"),
                    N_("Times (scorecard − 60) ÷ 40, between −1 and 1, where its scorecard is the mean total of "
                       "its last five mid-term and final evaluations of delivery: a grade A (85) earns, below 60 "
                       "costs, no record is neutral. The official 1A–5A rating is a factor of its own.")),
    "late_report": ("provider", N_("Late reports"),
                    N_("Taken off for each report milestone of its contracts accepted after its due date or "
                       "overdue now.")),
    "upheld_objection": ("provider", N_("Upheld objections"),
                         N_("Taken off for each objection upheld against an award it won.")),
    "upheld_complaint": ("provider", N_("Upheld complaints"),
                         N_("Taken off for each upheld complaint about its delivery. Complaints are not "
                            "recorded yet, so the weight is 0.")),
    "price": ("provider", N_("Price"),
              N_("Times (planned cost − its price) ÷ planned cost, between −1 and 1: its bid if it has bid, "
                 "else the planned cost itself (0 points). The planned cost is the government budget plus "
                 "what the project asks of funders.")),
    "prefers_category": ("funder", N_("Preferred category"),
                         N_("Full points if its resources list names the project's category, half if it is "
                            "open to any category.")),
    "prefers_place": ("funder", N_("Preferred place"),
                      N_("Full points if its resources list names the project's place or one containing it, "
                         "half if it is open to anywhere.")),
    "prefers_group": ("funder", N_("Preferred beneficiaries"),
                      N_("Full points if it names the project's beneficiary groups. Needs describe their "
                         "beneficiaries in words only, so the weight is 0.")),
    "gave_category": ("funder", N_("Past giving to the category"),
                      N_("A third for each project of the same category it has pledged to, up to three.")),
    "gave_place": ("funder", N_("Past giving to the place"),
                   N_("For its nearest past pledge: full points in the same community, two thirds in the "
                      "same street, one third in the same district.")),
    "money": ("funder", N_("Money offered"),
              N_("Times its public money on offer ÷ what the project asks of funders (or its budget if it "
                 "asks nothing), at most 1; a funder offering no money is excluded.")),
    "funding": ("scale", N_("Worth of funding"),
                N_("A funder's fit is worth this many points per the project's whole planned cost it pays: "
                   "affinity per fen = fit ÷ the most a funder can score × this ÷ planned cost in fen. At "
                   "most the price weight, so a dearer provider never wins by drawing more funders' money.")),
    "capacity_contracts": ("scale", N_("Capacity"),
                           N_("Signed contracts under way that a provider can carry at once (a number, not "
                              "points).")),
}


class WeightNote(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    side: str
    name: str
    how: str
    value: float
    default: float


class WeightsView(msgspec.Struct, frozen=True, kw_only=True):
    """The weights page: the weights in force, and what each counts, named in the page's language."""

    weights: Weights
    notes: list[WeightNote]


def weights_view(weights: Weights) -> WeightsView:
    defaults = Weights()
    return WeightsView(weights=weights, notes=[
        WeightNote(key=key, side=side, name=gettext(name), how=gettext(how), value=getattr(weights, key),
                   default=getattr(defaults, key)) for key, (side, name, how) in WEIGHT_NOTES.items()])


class WeightsError(ValueError):
    """An override that cannot be used; the message names the weight."""


def check(weights: Weights) -> Weights:
    """Rules a set of weights must keep so that each factor moves the score the right way."""
    order = ("same_community", "same_street", "same_district", "other_district")
    for nearer, farther in itertools.pairwise(order):
        if getattr(weights, farther) > getattr(weights, nearer):
            raise WeightsError(f"{farther} ({getattr(weights, farther)}) is above {nearer} "
                               f"({getattr(weights, nearer)}): a provider farther away must not score more")
    if weights.funding > weights.price:
        raise WeightsError(f"funding ({weights.funding}) is above price ({weights.price}): a dearer provider "
                           "could then win by drawing more funders' money")
    return weights


@cache
def parse(text: str | None) -> Weights:
    """The weights in force: the defaults, with the override's keys replacing theirs."""
    if not text or not text.strip():
        return Weights()
    try:
        weights = msgspec.json.decode(text, type=Weights)
    except msgspec.ValidationError as exc:
        known = f" (known weights: {', '.join(Weights.__struct_fields__)})" if "unknown field" in str(exc) else ""
        raise WeightsError(f"{exc}{known}") from None
    except msgspec.DecodeError as exc:
        raise WeightsError(f"not a JSON object: {exc}") from None
    return check(weights)


def configured(settings: Settings) -> Weights:
    """The fit-scoring weights in force (checked at start-up by the domain, so this cannot fail later)."""
    return parse(settings.matching_weights)
