"""The workbench's view model: what waits for the person signed in, and what their organisation did
lately. The page renders it and GET /api/dashboard returns it as it is."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from market.core.i18n import N_
from market.funding.dashboards import FunderView
from market.places.models import Jurisdiction
from market.surveys.models import ResidentSurveys


class Task(msgspec.Struct, frozen=True, kw_only=True):
    """One thing to act on, with the one link where it is done."""

    title_zh: str
    title_en: str = ""
    # The deadline, or the moment it has waited since (see TASK_DATES); a milestone has a day instead.
    at: datetime | None = None
    due_date: date | None = None
    link: str
    # A short code saying where the thing stands, per kind: a bid's outcome, a fair's stage, a
    # contract's signatures, a milestone's kind, a panel member's role, a need's urgency or status.
    state: str | None = None
    batch: int | None = None  # the review batch of an all-year round the item is about
    amount_fen: int | None = None
    detail: str = ""  # who or what else: the funder of a transfer, the milestone's title, the provider
    # A panel's work left for the reader: candidates to declare on, scores and consensus scores to give.
    counts: dict[str, int] = {}


class TaskList(msgspec.Struct, frozen=True, kw_only=True):
    """The first items of one kind, oldest date first, and how many there are in all."""

    kind: str
    items: list[Task]
    total: int
    more_link: str | None = None


class Activity(msgspec.Struct, frozen=True, kw_only=True):
    """One event of the organisation's audit trail, told as a sentence in the reader's language."""

    at: datetime
    verb: str
    text: str
    link: str | None = None
    times: int = 1  # the same person doing the same to the same object, so many times in a row


class Workbench(msgspec.Struct, frozen=True, kw_only=True):
    dashboard: str  # buyer, provider, funder, evaluator, platform or resident
    lists: list[TaskList]
    activity: list[Activity]
    giving: FunderView | None = None
    surveys: ResidentSurveys | None = None  # a resident's, where they have given their community
    home: Jurisdiction | None = None  # that community


# kind → (heading, how its date reads). Dates are deadlines where a kind has one, else "since".
TASK_NAMES = {
    "needs_to_decide": N_("Needs to decide"),
    "calls_to_publish": N_("Calls to publish"),
    "questions_to_answer": N_("Questions to answer"),
    "panels_to_form": N_("Deadlines passed: panels to form"),
    "awards_to_make": N_("Consensus recorded: awards to make"),
    "objections_to_answer": N_("Objections to answer"),
    "contracts_to_prepare": N_("Notices ended: contracts to prepare"),
    "contracts_to_sign": N_("Contracts to sign"),
    "milestones_due": N_("Contract milestones due"),
    "reports_due": N_("Reports to file"),
    "reports_to_review": N_("Reports waiting for your review"),
    "rounds_to_decide": N_("Evaluations scored: results to decide"),
    "evaluations_to_decide": N_("Failed evaluations waiting for your decision"),
    "milestones_waiting_evaluation": N_("Payments waiting for an evaluation"),
    "transfers_to_confirm": N_("Bank transfers to confirm"),
    "bids_to_confirm": N_("Calls changed after you bid: confirm your bid"),
    "calls_to_bid": N_("Open calls you may bid on"),
    "questions_answered": N_("Your questions answered"),
    "bids": N_("Your bids and their outcome"),
    "pledges_to_pay": N_("Pledges awaiting your payment"),
    "fairs": N_("Fairs open for registration or live"),
    "panels_to_staff": N_("Panels handed to your agency: experts to assign"),
    "panels_being_scored": N_("Your agency's panels being scored"),
    "panels_to_score": N_("Panels waiting for you"),
    "organisations_to_verify": N_("Organisations to verify"),
    "needs_raised": N_("Your needs"),
    "rectification_to_fix": N_("Rectification items to put right"),
    "rectification_to_verify": N_("Rectification fixes to verify"),
    "rectification_escalated": N_("Late rectification items escalated to you"),
    "complaints_to_acknowledge": N_("Complaints to acknowledge"),
    "complaints_to_answer": N_("Complaints to answer"),
    "complaints_escalated": N_("Late complaints escalated to you"),
    "complaints_mine": N_("Your complaints"),
    "buyer_ratings_due": N_("Rate the buyer"),
}
TASK_DATES = {
    "needs_to_decide": N_("raised %(date)s"),
    "calls_to_publish": N_("drafted %(date)s"),
    "questions_to_answer": N_("asked %(date)s"),
    "panels_to_form": N_("deadline passed %(date)s"),
    "awards_to_make": N_("consensus complete %(date)s"),
    "objections_to_answer": N_("raised %(date)s"),
    "contracts_to_prepare": N_("notice ended %(date)s"),
    "contracts_to_sign": N_("prepared %(date)s"),
    "milestones_due": N_("due %(date)s"),
    "reports_due": N_("due %(date)s"),
    "reports_to_review": N_("submitted %(date)s"),
    "rounds_to_decide": N_("opened %(date)s"),
    "evaluations_to_decide": N_("failed %(date)s"),
    "milestones_waiting_evaluation": N_("due %(date)s"),
    "transfers_to_confirm": N_("recorded %(date)s"),
    "bids_to_confirm": N_("confirm by the deadline, %(date)s"),
    "calls_to_bid": N_("deadline %(date)s"),
    "questions_answered": N_("answered %(date)s"),
    "bids": N_("submitted %(date)s"),
    "pledges_to_pay": N_("pay by %(date)s"),
    "fairs": N_("starts %(date)s"),
    "panels_to_staff": N_("opened %(date)s"),
    "panels_being_scored": N_("opened %(date)s"),
    "panels_to_score": N_("formed %(date)s"),
    "organisations_to_verify": N_("registered %(date)s"),
    "needs_raised": N_("raised %(date)s"),
    "rectification_to_fix": N_("due %(date)s"),
    "rectification_to_verify": N_("due %(date)s"),
    "rectification_escalated": N_("due %(date)s"),
    "complaints_to_acknowledge": N_("acknowledge by %(date)s"),
    "complaints_to_answer": N_("answer by %(date)s"),
    "complaints_escalated": N_("due %(date)s"),
    "complaints_mine": N_("lodged %(date)s"),
    "buyer_ratings_due": N_("due since %(date)s"),
}
STATE_NAMES = {
    "awarded": N_("awarded"), "not_awarded": N_("not awarded"), "pending": N_("outcome pending"),
    "withdrawn": N_("withdrawn"), "no_panel": N_("no panel yet"), "forming": N_("panel being formed"),
    "open": N_("open for registration"), "registered": N_("you are registered"), "live": N_("live now"),
    "chair": N_("you chair it"), "member": N_("member"),
    "due": N_("due soon"), "overdue": N_("overdue"), "returned": N_("returned for correction"),
    "submitted": N_("submitted"), "resubmitted": N_("resubmitted after correction"),
}


class Home(msgspec.Struct, frozen=True, kw_only=True):
    """The home page: how many verified organisations of each kind take part (buyer, provider, funder…)."""

    by_kind: dict[str, int]
