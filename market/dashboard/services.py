"""The workbench: for the person signed in, what waits for them in their role, oldest date first,
each item with one link to act, and their organisation's recent activity in sentences.

It reads several domains and sits above them. Each kind of item is one SQL statement
(market/dashboard/queries.py) returning its first items and how many there are, so the
page costs the same number of statements however much waits. The lists a role sees are the ones
its members may act on: a link never leads to a refusal.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg

from market.core import clock, i18n
from market.buyers import ratings as buyer_ratings
from market.core.access import Identity
from market.core.domain import WorkbenchList
from market.complaints import services as complaints
from market.dashboard import activity
from market.dashboard import queries as sql
from market.dashboard.models import Task, TaskList, Workbench
from market.delivery import ending
from market.funding import dashboards
from market.places import services as places
from market.procurement.contracts.models import milestone_title
from market.rectification import services as rectification
from market.surveys import services as surveys

LIMIT = 20
# An evaluation that fails raises its findings together (a dozen or more of one contract), which filled
# the workbench with near-same rows: the first few of each rectification list, then the count and the
# link to all of them.
RECTIFICATION_LIMIT = 5
# A provider sees a milestone this many days before it falls due (and until it is accepted); the
# buyer sees one from when it may be accepted (MARKET_MILESTONE_EARLY_DAYS before it is due).
MILESTONE_NOTICE_DAYS = 14
_COUNTS = ("to_declare", "to_score", "to_consensus", "to_submit", "supporters", "experts_to_submit")

BUYER_ACTORS = ("admin", "staff")
SIGNERS = ("admin", "staff", "finance")
RECEIVERS = ("admin", "finance")  # who confirms transfers (market.funding.pledges.services.RECEIVER_ROLES)


def _task(row: Any) -> Task:
    keys = set(row.keys())
    return Task(title_zh=row["title_zh"] or "", title_en=row["title_en"] or "", at=row["at"],
                due_date=row["due_date"], link=row["link"], state=row["state"], batch=row["batch"],
                amount_fen=row["amount_fen"],
                # who else, in the page's language: the queries that name an organisation give its English
                # name; a milestone is named as the contract's page names it
                detail=milestone_title(row["milestone"]) if "milestone" in keys else
                i18n.bilingual(row["detail"] or "", (row["detail_en"] if "detail_en" in keys else "") or ""),
                counts={k: row[k] for k in _COUNTS if k in keys})


class _Lists:
    """Collects a role's lists in the order they are shown."""

    def __init__(self, conn: asyncpg.Connection, limit: int) -> None:
        self.conn, self.limit = conn, limit
        self.lists: list[TaskList] = []

    def add_rows(self, kind: str, rows: list[dict[str, Any]], total: int | None = None,
                 more_link: str | None = None) -> None:
        """One list a domain service has read (see delivery.ending.workbench_lists), oldest first: all
        its rows, or its first ones with how many there are and where the rest are."""
        rows = sorted(rows, key=lambda r: (r.get("at") or r.get("due_date") or date.min).isoformat()[:10])
        tasks = [Task(**{**dict.fromkeys(("at", "due_date", "state", "batch", "amount_fen")), **r})
                 for r in rows[:self.limit]]
        self.lists.append(TaskList(kind=kind, items=tasks, total=len(rows) if total is None else total,
                                   more_link=more_link))

    def add_list(self, kind: str, listed: WorkbenchList) -> None:
        self.add_rows(kind, listed.rows, listed.total, listed.more_link)

    async def add(self, kind: str, query: str, more_link: str | None = None, *params: Any,
                  shown_empty: bool = True) -> None:
        """One list from its statement (see queries.py), which takes the limit and then `params`; a list
        of what seldom happens is left out while it holds nothing (`shown_empty`)."""
        rows = await self.conn.fetch(query, self.limit, *params)
        if not rows and not shown_empty:
            return
        self.lists.append(TaskList(kind=kind, items=[_task(r) for r in rows], total=rows[0]["total"] if rows else 0,
                                   more_link=more_link))


async def workbench(conn: asyncpg.Connection, identity: Identity, early_days: int = 7,
                    limit: int = LIMIT) -> Workbench:
    """The view of the dashboard page and of GET /api/dashboard; `early_days` is how long before its
    due date a milestone may be accepted (settings.milestone_early_days)."""
    at, today = clock.now(), clock.today()
    lists = _Lists(conn, limit)
    fix_limit = min(limit, RECTIFICATION_LIMIT)
    role = identity.role or ""
    giving = None
    to_answer = None
    home = None
    # The organisation the person acts for, once the platform has verified it.
    org = identity.org_id if identity.acts_for_verified else None
    if org is not None and identity.org_kind == "buyer":
        if role in BUYER_ACTORS:
            area, level = await conn.fetchrow(sql.BUYER_AREA, org)
            await lists.add("needs_to_decide", sql.NEEDS_TO_DECIDE[level], f"/needs?status=open&place={area}", area)
            await lists.add("calls_to_publish", sql.CALLS_TO_PUBLISH, None, org)
            await lists.add("questions_to_answer", sql.QUESTIONS_TO_ANSWER, None, org)
            await lists.add("panels_to_form", sql.PANELS_TO_FORM, None, org, at)
            await lists.add("awards_to_make", sql.AWARDS_TO_MAKE, None, org)
            await lists.add("objections_to_answer", sql.OBJECTIONS_TO_ANSWER, None, org)
            await lists.add("contracts_to_prepare", sql.CONTRACTS_TO_PREPARE, None, org, at)
        if role in SIGNERS:
            await lists.add("contracts_to_sign", sql.CONTRACTS_TO_SIGN, None, org, "buyer")
            await lists.add("milestones_due", sql.MILESTONES_DUE_BUYER, None, org, today + timedelta(days=early_days))
        if role in BUYER_ACTORS:
            await lists.add("reports_to_review", sql.REPORTS_TO_REVIEW, None, org)
            waiting, deciding = await ending.workbench_lists(conn, org, today + timedelta(days=early_days))
            await lists.add("rounds_to_decide", sql.ROUNDS_TO_DECIDE, None, org)
            lists.add_rows("evaluations_to_decide", deciding)
            lists.add_rows("milestones_waiting_evaluation", waiting)
        if role in BUYER_ACTORS:
            fixes = await rectification.workbench_lists(conn, org, fix_limit)
            if fixes["rectification_to_fix"].total:  # what an upheld complaint found of the buyer's own work
                lists.add_list("rectification_to_fix", fixes["rectification_to_fix"])
            lists.add_list("rectification_to_verify", fixes["rectification_to_verify"])
            lists.add_list("rectification_escalated", fixes["rectification_escalated"])
        if role in RECEIVERS:
            await lists.add("transfers_to_confirm", sql.TRANSFERS_TO_CONFIRM, "/payments", org)
        # Buyers' staff sit on their own panels.
        await lists.add("panels_to_score", sql.PANELS_TO_SCORE, None, identity.user_id)
    elif org is not None and identity.org_kind == "provider":
        if role in BUYER_ACTORS:
            await lists.add("bids_to_confirm", sql.BIDS_TO_CONFIRM, None, org, at, shown_empty=False)
            await lists.add("calls_to_bid", sql.CALLS_TO_BID, "/calls?biddable=true", org, at, today)
            await lists.add("questions_answered", sql.QUESTIONS_ANSWERED, None, org, at)
        if role in SIGNERS:
            await lists.add("contracts_to_sign", sql.CONTRACTS_TO_SIGN, None, org, "provider")
            await lists.add("milestones_due", sql.MILESTONES_DUE_PROVIDER, None, org,
                            today + timedelta(days=MILESTONE_NOTICE_DAYS))
        if role in BUYER_ACTORS:
            await lists.add("reports_due", sql.REPORTS_DUE, None, org, today,
                            today + timedelta(days=MILESTONE_NOTICE_DAYS))
        if role in BUYER_ACTORS:  # late first: the earliest deadline leads
            fixes = await rectification.workbench_lists(conn, org, fix_limit)
            lists.add_list("rectification_to_fix", fixes["rectification_to_fix"])
            lists.add_rows("buyer_ratings_due", await buyer_ratings.workbench_rows(conn, org))
        await lists.add("bids", sql.BIDS_AND_OUTCOMES, None, org)
    elif org is not None and identity.org_kind == "funder":
        if role in SIGNERS:
            await lists.add("pledges_to_pay", sql.PLEDGES_TO_PAY, "/pledges?status=pledged", org)
        await lists.add("fairs", sql.FAIRS_TO_JOIN, "/fairs", org)
        if role in RECEIVERS:  # a foundation confirms the transfers to its funds
            await lists.add("transfers_to_confirm", sql.TRANSFERS_TO_CONFIRM, "/payments", org)
        giving = await dashboards.funder_view(conn, identity)
    elif org is not None and identity.org_kind == "evaluator":
        if role in BUYER_ACTORS:  # an agency's admin and staff seat its experts
            await lists.add("panels_to_staff", sql.PANELS_TO_STAFF, None, org)
            await lists.add("panels_being_scored", sql.PANELS_BEING_SCORED, None, org)
        await lists.add("panels_to_score", sql.PANELS_TO_SCORE, None, identity.user_id)
    elif org is not None and identity.is_platform_admin:
        await lists.add("organisations_to_verify", sql.ORGANISATIONS_TO_VERIFY, "/admin/organisations")
        # The platform verifies what a district's bureau put right of a complaint upheld against it,
        # which seldom happens: its lists are shown only when they hold something.
        fixes = await rectification.workbench_lists(conn, org, fix_limit)
        for kind in ("rectification_to_verify", "rectification_escalated"):
            if fixes[kind].total:
                lists.add_list(kind, fixes[kind])
    elif identity.org_id is None:
        await lists.add("needs_raised", sql.NEEDS_RAISED, None, identity.user_id)
        if identity.community_id is not None:
            to_answer = await surveys.for_resident(conn, identity.community_id)
            home = (await places.named(conn, [identity.community_id])).get(identity.community_id)
    for kind, listed in await complaints.workbench_lists(conn, identity, limit):
        lists.add_list(kind, listed)
    return Workbench(dashboard=identity.dashboard, lists=lists.lists, activity=await activity.feed(conn, identity),
                     giving=giving, surveys=to_answer, home=home)
