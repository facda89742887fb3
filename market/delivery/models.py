"""What delivery's pages and JSON show."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from market.core.i18n import N_
from market.core.keyset import Paged
from market.rectification.models import Unfinished
from market.evaluation.models import Verdict
from market.procurement.contracts.models import CONTRACT_STATUS_NAMES, Contract

STAGES = ("midterm", "final")
STAGE_NAMES = {"midterm": N_("mid-term evaluation"), "final": N_("final evaluation")}
OUTCOME_NAMES = {"passed": N_("passed"), "failed": N_("did not pass")}
# A contract's life once both have signed (the `delivery` machine, market.delivery.ending).
DELIVERY_STATUSES = ("in_delivery", "rectifying", "ended", "completed")
DELIVERY_STATUS_NAMES = {"in_delivery": N_("in delivery"), "rectifying": N_("rectifying after a failed evaluation"),
                         "ended": N_("ended early"), "completed": N_("completed")}
DELIVERY_ACTION_NAMES = {"rectify": N_("set a rectification deadline"), "reevaluate": N_("order a re-evaluation"),
                         "end": N_("end the contract"), "complete": N_("complete the contract")}
# Where a contract stands in its organisation's list: its signatures until both have signed, then its
# delivery status (market.delivery.listing).
LIST_STATUS_NAMES = {**{k: v for k, v in CONTRACT_STATUS_NAMES.items() if k != "signed"}, **DELIVERY_STATUS_NAMES}
SIDE_NAMES = {"buyer": N_("as buyer"), "provider": N_("as provider")}
RETURN_KIND_NAMES = {"pledge_to_funder": N_("back to the funder"), "pledge_to_fund": N_("back to the fund"),
                     "matching_to_fund": N_("matching money back to the pool"),
                     "budget_kept": N_("not drawn: stays on the budget line")}


class MilestoneState(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    accepted_at: datetime | None
    paid_fen: int
    amount_fen: int  # what accepting it pays (0 for a milestone that pays nothing)
    acceptable: bool
    why_not: str | None  # in the reader's language
    report_status: str | None = None  # a report milestone's report: draft, submitted, … (None: not started)
    report_late: bool = False


class ContractView(Contract, frozen=True, kw_only=True):
    """The contract page: the contract, the reader's side in it, whether the reader may sign, and
    where each milestone stands (`states`, in the milestones' order)."""

    side: str | None = None
    can_sign: bool = False
    states: list[MilestoneState] = msgspec.field(default_factory=list)
    just_accepted: MilestoneState | None = None  # the milestone `?accepted=` names, once accepted
    outcomes: list[StageOutcome] = msgspec.field(default_factory=list)  # mid-term, then final
    # Every finished evaluation, newest first, with those a re-evaluation superseded.
    history: list[Evaluation] = msgspec.field(default_factory=list)
    delivery: Delivery | None = None  # once signed by both
    # The provider's rectification items not yet verified (any contract's, any source), late first.
    rectification: Unfinished = msgspec.field(default_factory=Unfinished)


class StageOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """Where one evaluation of delivery stands: decided by the latest closed panel of the stage, or
    by a recorded failure (a report never filed) when that came later. Public: the total and the
    grade, never an evaluator's own scores."""

    stage: str  # midterm | final
    outcome: str | None  # passed | failed | None (not decided yet)
    total: Decimal | None = None
    grade: str | None = None  # A ≥ 85, B ≥ 60, C < 60
    decided_at: datetime | None = None
    reason: str | None = None  # a failure without a panel: why, in the reader's language
    panel_id: int | None = None  # the deciding panel
    evaluating: bool = False  # a panel of the stage is formed or scoring now
    open_panel_id: int | None = None  # that panel


class Returned(msgspec.Struct, frozen=True, kw_only=True):
    """One movement of an ended contract's money (`kind`: RETURN_KIND_NAMES) with its ledger transaction."""

    kind: str
    amount_fen: int
    to_name: str  # the funder, the fund or the budget line it went back to
    transaction_id: int | None = None
    pledge_id: int | None = None


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """The contract's life after signing: its status, the buyer's decision on a failed evaluation
    (a rectification deadline, or the end with its reason and the money returned), and what the
    reader may decide now."""

    status: str  # DELIVERY_STATUSES
    failed_stage: str | None = None  # the failed evaluation that stops payments, if any
    decided_stage: str | None = None
    rectify_by: date | None = None
    rectify_note: str = ""
    ended_reason: str = ""
    ended_at: datetime | None = None
    returns: list[Returned] = []
    returned_fen: int = 0  # to funders and funds, through the ledger
    paid_fen: int = 0  # to the provider, before the end
    may_rectify: bool = False
    may_reevaluate: bool = False
    may_end: bool = False
    may_open: list[str] = []  # the stages whose evaluation the reader may open now
    waits_for_report: list[str] = []  # those the reader could open once the provider's report is accepted
    may_decide: list[str] = []  # the stages whose panel has every consensus score in, for the reader to decide
    pending: dict[str, Verdict] = {}  # their verdicts, which deciding makes stand


GRADES = ("A", "B", "C")


class StandingRule(msgspec.Struct, frozen=True, kw_only=True):
    """Which results bar a provider from the catalogue item, and for how long (0 months: none)."""

    grade: str = "C"  # this grade or a lower one bars
    months: int = 12

    def bars(self, outcome: StageOutcome) -> bool:
        if self.months <= 0 or outcome.outcome is None:
            return False
        if outcome.grade is None:
            return outcome.outcome == "failed"  # failed without a panel: a report never filed
        return GRADES.index(outcome.grade) >= GRADES.index(self.grade)


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    """One finished evaluation of a contract's delivery, as published: never an evaluator's own scores."""

    contract_id: int
    title_zh: str
    title_en: str
    buyer_name: str
    buyer_name_en: str
    stage: str  # midterm | final
    outcome: str  # passed | failed
    total: Decimal | None
    grade: str | None
    decided_at: datetime
    reason: str = ""  # a failure without a panel: why, in the reader's language
    superseded: bool = False  # a later evaluation of the same stage (after rectification) decides now


class Bar(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the provider's standing: a catalogue item it may not bid for until a date."""

    contract_id: int
    stage: str
    item_code: str
    item_name_zh: str
    item_name_en: str
    catalogue_owner: str
    grade: str | None
    reason: str
    decided_at: datetime
    barred_until: date


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """What fit scoring reads of a scorecard."""

    score: Decimal | None = None  # mean total of the last SUMMARY_OF scored evaluations
    grade: str | None = None
    counted: int = 0  # how many evaluations the score is the mean of
    evaluations: int = 0  # finished evaluations, scored or not
    # Its rectification items not yet verified, and the score before they lowered it (see
    # scorecard.with_rectification); None when they changed nothing.
    open_items: int = 0
    late_items: int = 0
    before_rectification: Decimal | None = None


class Scorecard(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's public record of delivery; `bars` and `own` only for its members and the platform."""

    organisation_id: int
    name_zh: str
    name_en: str
    summary: Summary
    evaluations: list[Evaluation]  # newest first, at most HISTORY
    more_evaluations: int
    passed: int
    failed: int
    late_reports: int
    reports_not_filed: int
    ended_contracts: int
    rule: StandingRule
    bars: list[Bar] | None = None  # in force now; None: not the reader's to see
    own: bool = False


class RectifyInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rectify_by: date
    note: Annotated[str, msgspec.Meta(max_length=2000)]


class EndInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=2000)]


class ContractRow(msgspec.Struct, frozen=True, kw_only=True):
    """One contract in its organisation's list, as the reader's side sees it."""

    id: int  # its number, shown as on its PDF: six digits
    title_zh: str
    title_en: str
    side: str  # the reader's organisation's side in it: buyer | provider
    other_id: int  # the other party
    other_name_zh: str
    other_name_en: str
    amount_fen: int
    status: str  # LIST_STATUS_NAMES
    milestones_accepted: int
    milestones: int
    next_due: date | None  # the earliest milestone not yet accepted, while the contract runs
    signed_at: datetime | None  # when the second party signed


class ContractList(Paged, kw_only=True):
    """A page of the reader's organisation's contracts (我的合同) on one side, newest first; `sides`
    are the sides it has contracts on, for the page to offer the other one."""

    items: list[ContractRow]
    side: str
    sides: list[str]
    status: str | None = None
    q: str | None = None
