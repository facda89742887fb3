"""What the buyers' pages and JSON show: providers' ratings of a buyer, and the buyer scorecards of
each district, street and community."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from market.core.i18n import N_

RATING_STAGES = ("midterm", "final")
# The five criteria, in the order they are asked; each from 1 to 5, where 5 is always the best.
CRITERIA = ("clarity", "payment", "support", "interference", "fairness")
CRITERION_NAMES = {
    "clarity": N_("Clarity of requirements"),
    "payment": N_("Timeliness of payment"),
    "support": N_("Support during delivery"),
    "interference": N_("Interference in delivery"),
    "fairness": N_("Fairness of evaluation"),
}
# What 1 and 5 mean on each scale: "interference" is scored the other way round from its name.
CRITERION_SCALES = {
    "clarity": (N_("1 = unclear, changing"), N_("5 = clear and stable")),
    "payment": (N_("1 = very late"), N_("5 = always on time")),
    "support": (N_("1 = none"), N_("5 = helpful throughout")),
    "interference": (N_("1 = constant interference"), N_("5 = no interference")),
    "fairness": (N_("1 = unfair"), N_("5 = fair and explained")),
}
RATING_STAGE_NAMES = {"midterm": N_("after the mid-term evaluation"), "final": N_("at the end of the contract")}

Score = Annotated[int, msgspec.Meta(ge=1, le=5)]


class RatingInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One provider's rating of the buyer on one stage of a contract."""

    stage: str
    clarity: Score
    payment: Score
    support: Score
    interference: Score  # 5 = no interference
    fairness: Score
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class GivenRating(msgspec.Struct, frozen=True, kw_only=True):
    """A rating as the provider that gave it sees it (nobody else sees a single rating)."""

    clarity: int
    payment: int
    support: int
    interference: int
    fairness: int
    comment: str
    rated_at: datetime


class StageRating(msgspec.Struct, frozen=True, kw_only=True):
    stage: str  # midterm | final
    status: str  # given | due | not_yet
    why_not: str | None = None  # not_yet: when it becomes due, in the reader's language
    rating: GivenRating | None = None


class ContractRating(msgspec.Struct, frozen=True, kw_only=True):
    """The provider's page for rating the buyer of one contract: each stage, given, due or not yet."""

    contract_id: int
    title_zh: str
    title_en: str
    buyer_id: int
    buyer_name_zh: str
    buyer_name_en: str
    stages: list[StageRating]
    may_rate: bool  # the reader may rate a due stage (the provider's admin or staff)
    min_providers: int  # the buyer sees ratings only in aggregate over this many providers


class CriterionMean(msgspec.Struct, frozen=True, kw_only=True):
    criterion: str
    mean: Decimal


class RatingYear(msgspec.Struct, frozen=True, kw_only=True):
    """One year's ratings of a buyer: figures only when at least MIN_PROVIDERS providers rated it."""

    year: int
    shown: bool
    ratings: int | None = None
    providers: int | None = None
    means: list[CriterionMean] = []
    mean: Decimal | None = None  # of the five criteria's means


class BuyerRatings(msgspec.Struct, frozen=True, kw_only=True):
    """What providers think of a buyer, in aggregate: public, by year, only over enough providers;
    their comments (without who wrote them) only for the buyer's own members and the platform."""

    organisation_id: int
    name_zh: str
    name_en: str
    jurisdiction_id: int
    min_providers: int
    years: list[RatingYear]  # newest first
    comments: list[str] | None = None  # None: not the reader's to see
    own: bool = False


class Place(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    level: str
    name_zh: str
    name_en: str
    parent_id: int | None = None


class Component(msgspec.Struct, frozen=True, kw_only=True):
    """One part of a buyer scorecard, as the page documents it."""

    key: str
    name: str  # in the reader's language
    explanation: str
    weight: int


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """One component of one year: a score on 0-100, or why there is none."""

    component: str
    status: str  # scored | not_enough_data
    score: Decimal | None = None
    observations: int = 0  # ratings or payments it stands on
    detail: str = ""  # what else it rests on, in the reader's language (raters, median days)


class ScoreYear(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    score: Decimal | None  # the weighted mean of the scored components; None: none scored
    figures: list[Figure]  # in COMPONENTS' order


class Buyer(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name_zh: str
    name_en: str
    subtype: str
    jurisdiction_id: int


class JurisdictionScorecard(msgspec.Struct, frozen=True, kw_only=True):
    """The buyer scorecard of a district, street or community: every verified buyer placed there or
    below it, year by year, oldest first."""

    place: Place
    above: list[Place]  # from the district down to the place's parent
    below: list[IndexEntry]  # the places one level down, with their scores this year and last
    buyers: list[Buyer]  # those covered and not by a place below (placed here, or at a grid below)
    buyers_below: int  # those the places below cover
    components: list[Component]
    years: list[ScoreYear]
    min_providers: int
    pay_within_days: int


class IndexEntry(msgspec.Struct, frozen=True, kw_only=True):
    place: Place
    buyers: int
    this_year: Decimal | None
    last_year: Decimal | None


class ScorecardIndex(msgspec.Struct, frozen=True, kw_only=True):
    year: int  # this year; `last_year` figures are the year before
    entries: list[IndexEntry]  # the districts


class DueRating(msgspec.Struct, frozen=True, kw_only=True):
    """A stage of a contract whose buyer the provider may rate now (for the workbench and the clock)."""

    contract_id: int
    stage: str
    title_zh: str
    title_en: str
    buyer_name: str
    buyer_name_en: str
    since: datetime | date | None
