"""Funds and their matching rounds: what forms and JSON send, and what pages and JSON show."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_
from market.core.keyset import Paged
from market.core.money import Fen
from market.funding.funds import arithmetic as matching
from market.procurement.needs.models import Project

Matching = Literal["none", "ratio", "quadratic"]
MATCHING_NAMES = {"none": N_("no matching"), "ratio": N_("ratio matching (配捐)"),
                  "quadratic": N_("quadratic funding")}
# Where a fund's matching round stands; a fund without matching has no round.
ROUND_STATES = ("no_matching", "upcoming", "open", "ended", "closed")
ROUND_STATE_NAMES = {"no_matching": N_("no matching round"), "upcoming": N_("round not open yet"),
                     "open": N_("round open"), "ended": N_("round ended, matches not yet paid"),
                     "closed": N_("round closed, matches paid")}
CUT_REASONS = {matching.BELOW_MINIMUM: N_("below the minimum gift"),
               matching.DONOR_CAP: N_("the donor's cap was reached"),
               matching.PROJECT_CAP: N_("the project's cap was reached"),
               matching.POOL_EXHAUSTED: N_("the pool ran out")}
# Why a gift would add no matching from a pool the project takes part in: the cuts above, and these.
NO_MATCH_REASONS = {**CUT_REASONS,
                    "owner": N_("a pool's owner's own gifts are not matched"),
                    "upcoming": N_("the round has not opened yet"),
                    "ended": N_("the round's window has ended"),
                    "closed": N_("the round is closed"),
                    "quadratic": N_("quadratic matching grows with the number of donors, and yours would not "
                                    "raise this project's match now")}
RATIO_PART = Annotated[int, msgspec.Meta(ge=1, le=1000)]


class FundInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A fund and its rules. Only the rules of the chosen matching are kept: a ratio and a minimum
    gift and a per-donor cap mean something only to ratio matching."""

    name_zh: Annotated[str, msgspec.Meta(min_length=2, max_length=100)]
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    matching: Matching = "none"
    ratio_num: RATIO_PART | None = None
    ratio_den: RATIO_PART | None = None
    min_gift_fen: Annotated[int, msgspec.Meta(ge=0, le=100_000_000_000)] = 0
    per_donor_cap_fen: Fen | None = None
    per_project_cap_fen: Fen | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None


class ProjectChoice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project_id: Annotated[int, msgspec.Meta(ge=1)]


class Fund(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    owner_id: int
    owner_name_zh: str
    owner_name_en: str
    name_zh: str
    name_en: str
    description: str
    matching: str
    ratio_num: int | None
    ratio_den: int | None
    min_gift_fen: int
    per_donor_cap_fen: int | None
    per_project_cap_fen: int | None
    opens_at: datetime | None
    closes_at: datetime | None
    state: str  # one of ROUND_STATES
    balance_fen: int
    created_at: datetime


class FundList(Paged, kw_only=True):
    """A page of the funds, the newest first."""

    funds: list[Fund]


class FundProject(msgspec.Struct, frozen=True, kw_only=True):
    """A project taking part in a fund: what funders have paid towards it in all, what this fund's
    pledges were allocated to it, and its match from the round so far."""

    project_id: int
    title_zh: str
    title_en: str
    raised_fen: int
    allocated_fen: int
    match_fen: int


class GiftMatch(msgspec.Struct, frozen=True, kw_only=True):
    """One gift under ratio matching: its match, what it would have been, and why it was cut."""

    pledge_id: int
    funder_id: int
    funder_name_zh: str
    funder_name_en: str
    amount_fen: int
    ratio_fen: int
    match_fen: int
    reason: str | None  # a key of CUT_REASONS


class ProjectMatch(msgspec.Struct, frozen=True, kw_only=True):
    """A participating project's gifts that count and its match, with the working: for ratio
    matching each gift; for quadratic funding the donors, Σc, Σ√c, the ideal, k and the cap."""

    project_id: int
    title_zh: str
    title_en: str
    contributed_fen: int
    match_fen: int
    gifts: list[GiftMatch] = []
    donors: int = 0
    sqrt_sum: str | None = None
    ideal: str | None = None
    k: str | None = None
    capped: bool = False


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """A round's matches: live from the gifts so far before the round closes, from the stored run
    after."""

    fund_id: int
    matching: str
    closed: bool
    pool_fen: int
    total_match_fen: int
    k: str | None  # quadratic funding's scale factor
    projects: list[ProjectMatch]
    run_id: int | None = None
    transaction_id: int | None = None
    # Once closed: whether the result computed again from the stored inputs is the stored result.
    verified: bool | None = None


class PoolPreview(msgspec.Struct, frozen=True, kw_only=True):
    """What a gift to a project would add from one open pool it takes part in."""

    fund_id: int
    name_zh: str
    name_en: str
    matching: str
    pool_fen: int
    match_fen: int
    reason: str | None = None  # a key of NO_MATCH_REASONS when match_fen is 0


class MonthFlow(msgspec.Struct, frozen=True, kw_only=True):
    month: str  # YYYY-MM, in the platform's time zone
    in_fen: int
    out_fen: int
    balance_fen: int  # at the end of the month


class FundDashboard(msgspec.Struct, frozen=True, kw_only=True):
    """A fund's money from its ledger account: what came in, what went out and on what, and the
    balance, month by month."""

    in_fen: int
    out_fen: int
    out_by_kind: dict[str, int]  # allocation, matching, refund, reversal
    balance_fen: int
    months: list[MonthFlow]


class FundDetail(msgspec.Struct, frozen=True, kw_only=True):
    fund: Fund
    projects: list[FundProject]
    explanation: Explanation | None
    dashboard: FundDashboard


class PledgeToAllocate(msgspec.Struct, frozen=True, kw_only=True):
    """A paid pledge to the fund, not yet allocated to a project."""

    id: int
    amount_fen: int
    created_at: datetime
    name_zh: str  # the funder's
    name_en: str


class FundView(FundDetail, frozen=True, kw_only=True):
    """The fund page: the fund in detail and what the reader may do with it — set it up (and which
    approved projects, found by their words, may still join), and pay out its money (the paid pledges
    to allocate)."""

    can_setup: bool = False
    can_pay: bool = False
    project_choices: list[Project] = msgspec.field(default_factory=list)
    project_q: str = ""  # the words the choices were found by; none: the newest approved projects
    to_allocate: list[PledgeToAllocate] = msgspec.field(default_factory=list)
