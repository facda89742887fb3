"""Filing, returning and accepting reports, and the report page.

A report is created the first time anyone needs it (the provider saves a draft, or the reminder job
finds it overdue). Its content lives in versions: the working draft is the one version not yet
submitted; submitting freezes it, and correcting a returned report starts a new draft from the
returned version, so every version the buyer saw is kept as it was. The first draft starts from the
winning bid: its targets, to be reached, and its budget lines, to be spent."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from market.core import clock
from market.core.access import Identity
from market.core.errors import Conflict, Invalid, InvalidFields, NotFound
from market.core.settings import Settings
from market.delivery.reports.models import (
    Evidence,
    ReportInput,
    ReportVersion,
    ReportView,
    ReturnInput,
    Spending,
    Target,
)
from market.delivery.reports.workflow import REPORT
from market.notifications import services as notifications
from market.storage import services as files
from market.storage.interfaces import FileStorage
from market.workflow import Notice, Transition, step

FILERS = ("admin", "staff")  # who files a report for the provider, and reviews it for the buyer
MIN_TEXT = 10  # the least a submitted report says of its activities and in its narrative
MAX_POSITION = 32767  # milestone positions are smallints; a larger one names no milestone

_MILESTONE = """
select m.contract_id, m.position, m.kind, m.stage, m.title, m.due_date, k.status as contract_status, k.buyer_id,
       k.provider_id, k.award_id, c.title_zh, c.title_en, b.name_zh as buyer_name, p.name_zh as provider_name,
       b.name_en as buyer_name_en, p.name_en as provider_name_en
  from contract_milestones m join contracts k on k.id = m.contract_id join calls c on c.id = k.call_id
  join organisations b on b.id = k.buyer_id join organisations p on p.id = k.provider_id
 where m.contract_id = $1 and m.position = $2"""
_REPORT = "select * from delivery_reports where contract_id = $1 and position = $2"
_VERSIONS = """
select v.*, s.display_name as submitted_name, r.display_name as returned_name
  from report_versions v left join users s on s.id = v.submitted_by left join users r on r.id = v.returned_by
 where v.report_id = $1 order by v.version desc"""
_EVALUATOR = """
select exists (select from panels p join panel_members pm on pm.panel_id = p.id
                where p.subject_type in ('midterm', 'final') and p.subject_id = $1 and pm.user_id = $2)"""
_PAID = "select coalesce(sum(amount_fen), 0)::bigint from disbursements where contract_id = $1"


def side_of(identity: Identity | None, milestone: Any) -> str | None:
    """The reader's side in the contract, whatever their role."""
    if identity is None or not identity.acts_for_verified:
        return None
    return {milestone["buyer_id"]: "buyer", milestone["provider_id"]: "provider"}.get(identity.org_id)


def capacities(identity: Identity, milestone: Any) -> set[str]:
    """What the reader may act as on a report: the provider's or the buyer's administrators and staff."""
    side = side_of(identity, milestone)
    return {side} if side is not None and identity.role in FILERS else set()


async def may_read(conn: asyncpg.Connection, identity: Identity | None, milestone: Any) -> bool:
    """Who reads a report and its evidence: the two parties, the evaluators of the contract's
    delivery evaluations, and the platform. Never the public: evidence shows people and homes."""
    if identity is None:
        return False
    if identity.is_platform_admin or side_of(identity, milestone) is not None:
        return True
    return bool(await conn.fetchval(_EVALUATOR, milestone["contract_id"], identity.user_id))


async def _milestone(conn: asyncpg.Connection, identity: Identity | None, contract_id: int, position: int) -> Any:
    if not 1 <= position <= MAX_POSITION:
        raise NotFound()
    milestone = await conn.fetchrow(_MILESTONE, contract_id, position)
    if milestone is None or milestone["kind"] != "report" or not await may_read(conn, identity, milestone):
        raise NotFound()
    return milestone


def grace_end(milestone: Any, grace_days: int) -> date:
    due: date = milestone["due_date"]
    return due + timedelta(days=grace_days)


def _achieved(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


async def _versions(conn: asyncpg.Connection, settings: Settings, identity: Identity,
                    rows: list[Any]) -> list[ReportVersion]:
    """These versions of one report, each with its targets, spending and evidence, in the same three
    statements however often the report was sent back and submitted again."""
    if not rows:
        return []
    report_id, numbers = rows[0]["report_id"], [r["version"] for r in rows]
    targets: dict[int, list[Target]] = defaultdict(list)
    for t in await conn.fetch("select * from report_targets where report_id = $1 and version = any($2::int[]) "
                              "order by version, position", report_id, numbers):
        targets[t["version"]].append(Target(position=t["position"], name=t["name"], target=t["target"],
                                            achieved=_achieved(t["achieved"]), note=t["note"]))
    spending: dict[int, list[Spending]] = defaultdict(list)
    for x in await conn.fetch("select * from report_spending where report_id = $1 and version = any($2::int[]) "
                              "order by version, position", report_id, numbers):
        spending[x["version"]].append(Spending(position=x["position"], item=x["item"], budget_fen=x["budget_fen"],
                                               spent_fen=x["spent_fen"]))
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    for e in await conn.fetch("select e.version, e.kind, f.* from report_evidence e join files f on f.id = e.file_id "
                              "where e.report_id = $1 and e.version = any($2::int[]) "
                              "order by e.version, e.added_at, f.filename", report_id, numbers):
        record = files.StoredFile(**{k: e[k] for k in files.StoredFile.__struct_fields__})
        # The report has decided who reads it; storage makes the link out to this reader alone.
        evidence[e["version"]].append(Evidence(file_id=e["id"], kind=e["kind"], filename=e["filename"],
                                               content_type=e["content_type"], size_bytes=e["size_bytes"],
                                               link=files.granted_link(settings, record, identity).url))
    return [ReportVersion(version=row["version"], activities=row["activities"], narrative=row["narrative"],
                          targets=targets[row["version"]], spending=spending[row["version"]],
                          evidence=evidence[row["version"]], edited_at=row["edited_at"],
                          submitted_at=row["submitted_at"], submitted_by=row["submitted_name"],
                          returned_at=row["returned_at"], returned_by=row["returned_name"], comment=row["comment"])
            for row in rows]


async def _bid_draft(conn: asyncpg.Connection, milestone: Any) -> tuple[list[Target], list[Spending]]:
    """What a first draft starts from: the winning bid's targets and budget lines."""
    bid = await conn.fetchrow("select b.id, b.indicators from awards a join bids b on b.id = a.bid_id "
                              "where a.id = $1", milestone["award_id"])
    targets = [Target(position=i, name=str(t.get("name", "")), target=str(t.get("target", "")), achieved=None,
                      note="") for i, t in enumerate(bid["indicators"] or [], start=1)]
    lines = [Spending(position=r["position"], item=r["item"], budget_fen=r["amount_fen"], spent_fen=0)
             for r in await conn.fetch("select position, item, amount_fen from bid_budget_lines where bid_id = $1 "
                                       "order by position", bid["id"])]
    return targets, lines


def may_do(status: str, caps: set[str], contract_status: str) -> list[str]:
    """The actions a reader with these capacities may take on a report in this status."""
    if contract_status != "signed":
        return []
    return [t.action for t in REPORT.transitions if t.source == status and t.who & caps]


async def report_view(conn: asyncpg.Connection, settings: Settings, identity: Identity | None, contract_id: int,
                      position: int) -> ReportView:
    """The report page, to those who `may_read` it; the working draft only to the provider's side
    and the platform (a draft is the provider's until it is submitted)."""
    milestone = await _milestone(conn, identity, contract_id, position)
    assert identity is not None  # may_read lets no one in unsigned
    report = await conn.fetchrow(_REPORT, contract_id, position)
    side = side_of(identity, milestone)
    status = report["status"] if report else "draft"
    rows = list(await conn.fetch(_VERSIONS, report["id"])) if report else []
    # The working draft (a version not yet submitted) is the provider's, and the platform's to read.
    shown = [r for r in rows if r["submitted_at"] is not None or side == "provider" or identity.is_platform_admin]
    read = await _versions(conn, settings, identity, shown)
    draft = next((v for v in read if v.submitted_at is None), None)
    versions = [v for v in read if v.submitted_at is not None]
    if draft is None and side == "provider" and status in ("draft", "returned"):
        targets, lines = (await _bid_draft(conn, milestone) if not versions else
                          (versions[0].targets, versions[0].spending))
        base = versions[0] if versions else None
        draft = ReportVersion(version=(base.version + 1) if base else 1,
                              activities=base.activities if base else "", narrative=base.narrative if base else "",
                              targets=targets, spending=lines, evidence=base.evidence if base else [],
                              edited_at=clock.now(), submitted_at=None, submitted_by=None, returned_at=None,
                              returned_by=None, comment="")
    failed = bool(await conn.fetchval("select exists (select from contract_stage_failures "
                                      "where contract_id = $1 and position = $2)", contract_id, position))
    return ReportView(
        contract_id=contract_id, position=position, stage=milestone["stage"], milestone_title=milestone["title"],
        title_zh=milestone["title_zh"], title_en=milestone["title_en"], buyer_name=milestone["buyer_name"],
        buyer_name_en=milestone["buyer_name_en"], provider_name=milestone["provider_name"],
        provider_name_en=milestone["provider_name_en"], due_date=milestone["due_date"],
        grace_ends=grace_end(milestone, settings.report_grace_days), status=status,
        late=bool(report and report["late"]), failed=failed, submitted_at=report["submitted_at"] if report else None,
        accepted_at=report["accepted_at"] if report else None, side=side,
        may=may_do(status, capacities(identity, milestone), milestone["contract_status"]),
        paid_fen=await conn.fetchval(_PAID, contract_id), draft=draft, versions=versions)


async def _for_update(conn: asyncpg.Connection, identity: Identity, contract_id: int, position: int) -> tuple[Any, Any]:
    """The milestone and its report (created now if need be), locked, for a step on it."""
    milestone = await _milestone(conn, identity, contract_id, position)
    if milestone["contract_status"] != "signed":
        raise Conflict("Reports are filed once both parties have signed the contract.")
    if await conn.fetchval("select status from contract_delivery where contract_id = $1", contract_id) == "ended":
        raise Conflict("The contract has ended: no more reports are filed on it.")
    await conn.execute("insert into delivery_reports (contract_id, position) values ($1, $2) on conflict do nothing",
                       contract_id, position)
    report = await conn.fetchrow(_REPORT + " for update", contract_id, position)
    return milestone, report


async def _draft(conn: asyncpg.Connection, milestone: Any, report: Any, user_id: int) -> int:
    """The working draft's version number; a new draft starts from the last version, or the bid."""
    existing = await conn.fetchval("select version from report_versions where report_id = $1 and submitted_at is null",
                                   report["id"])
    if existing is not None:
        return int(existing)
    last = await conn.fetchval("select max(version) from report_versions where report_id = $1", report["id"])
    version = (last or 0) + 1
    report_id = report["id"]
    if last is None:
        await conn.execute("insert into report_versions (report_id, version, edited_by) values ($1, 1, $2)",
                           report_id, user_id)
        targets, lines = await _bid_draft(conn, milestone)
        await conn.executemany("insert into report_targets (report_id, version, position, name, target) "
                               "values ($1, 1, $2, $3, $4)",
                               [(report_id, t.position, t.name, t.target) for t in targets])
        await conn.executemany("insert into report_spending (report_id, version, position, item, budget_fen) "
                               "values ($1, 1, $2, $3, $4)",
                               [(report_id, s.position, s.item, s.budget_fen) for s in lines])
        return 1
    await conn.execute("""insert into report_versions (report_id, version, activities, narrative, edited_by)
                          select report_id, $2, activities, narrative, $3 from report_versions
                           where report_id = $1 and version = $4""", report_id, version, user_id, last)
    for table, columns in (("report_targets", "position, name, target, achieved, note"),
                           ("report_spending", "position, item, budget_fen, spent_fen"),
                           ("report_evidence", "file_id, kind, added_at")):
        await conn.execute(f"insert into {table} (report_id, version, {columns}) select report_id, $2, {columns} "
                           f"from {table} where report_id = $1 and version = $3", report_id, version, last)
    return version


async def _write(conn: asyncpg.Connection, report_id: int, version: int, data: ReportInput, user_id: int,
                 paid_fen: int) -> None:
    """Write the provider's text and figures into the draft; positions the draft does not have are refused."""
    targets = {r["position"] for r in await conn.fetch(
        "select position from report_targets where report_id = $1 and version = $2", report_id, version)}
    lines = {r["position"] for r in await conn.fetch(
        "select position from report_spending where report_id = $1 and version = $2", report_id, version)}
    errors = []
    if any(t.position not in targets for t in data.targets):
        errors.append(Invalid("A target named is not one of the bid's targets.", field="targets"))
    if any(s.position not in lines for s in data.spending):
        errors.append(Invalid("A budget line named is not one of the bid's budget lines.", field="spending"))
    if errors:
        raise InvalidFields(errors)
    await conn.execute("update report_versions set activities = $3, narrative = $4, edited_by = $5, "
                       "edited_at = market_now() where report_id = $1 and version = $2",
                       report_id, version, data.activities.strip(), data.narrative.strip(), user_id)
    # The draft is written whole: a target or line the input leaves out is left blank.
    given = {t.position: t for t in data.targets}
    await conn.executemany("update report_targets set achieved = $4, note = $5 "
                           "where report_id = $1 and version = $2 and position = $3",
                           [(report_id, version, p, None if p not in given or given[p].achieved is None
                             else Decimal(str(given[p].achieved)), given[p].note.strip() if p in given else "")
                            for p in sorted(targets)])
    spent = {s.position: s.spent_fen for s in data.spending}
    await conn.executemany("update report_spending set spent_fen = $4 where report_id = $1 and version = $2 "
                           "and position = $3", [(report_id, version, p, spent.get(p, 0)) for p in sorted(lines)])
    await check_spending(conn, report_id, version, paid_fen)


async def check_spending(conn: asyncpg.Connection, report_id: int, version: int, paid_fen: int) -> None:
    """Spending is reported against money received: it may not add up to more than has been paid to
    the provider under the contract (its disbursements)."""
    spent = await conn.fetchval("select coalesce(sum(spent_fen), 0)::bigint from report_spending "
                                "where report_id = $1 and version = $2", report_id, version)
    if spent > paid_fen:
        raise InvalidFields([Invalid(
            "The spending adds up to %(spent)s, more than the %(paid)s paid to you under this contract so far.",
            field="spending", spent=f"¥{spent / 100:,.2f}", paid=f"¥{paid_fen / 100:,.2f}")])


def _link(milestone: Any) -> str:
    return f"/contracts/{milestone['contract_id']}/reports/{milestone['position']}"


async def _notice(conn: asyncpg.Connection, milestone: Any, to: str, kind: str) -> Notice:
    members = await notifications.members_of(conn, [milestone[f"{to}_id"]], FILERS)
    return Notice(members, kind, _link(milestone), notifications.titled(milestone))


async def save(conn: asyncpg.Connection, identity: Identity, contract_id: int, position: int,
               data: ReportInput) -> int:
    """Save the provider's draft (a first draft, or the correction of a returned report). Returns its version."""
    milestone, report = await _for_update(conn, identity, contract_id, position)
    after: dict[str, Any] = {}

    async def write(_: Transition) -> None:
        after["version"] = await _draft(conn, milestone, report, identity.user_id)
        await _write(conn, report["id"], after["version"], data, identity.user_id,
                     await conn.fetchval(_PAID, contract_id))

    await step(conn, REPORT, "save", report["status"], object_id=report["id"],
               capacities=capacities(identity, milestone), actor=identity.user_id, organisation=identity.org_id,
               write=write, after=after)
    return int(after["version"])


async def _complete(conn: asyncpg.Connection, report_id: int, version: int) -> None:
    """A report is submitted whole: what was done, how far each target was reached, and the story."""
    row = await conn.fetchrow("select activities, narrative from report_versions where report_id = $1 "
                              "and version = $2", report_id, version)
    errors = []
    if len(row["activities"]) < MIN_TEXT:
        errors.append(Invalid("Say what activities were carried out (at least %(n)s characters).", field="activities",
                              n=MIN_TEXT))
    for t in await conn.fetch("select position, name from report_targets where report_id = $1 and version = $2 "
                              "and achieved is null order by position", report_id, version):
        errors.append(Invalid("Target %(n)s (%(name)s): enter what was achieved.", field=f"target-{t['position']}",
                              n=t["position"], name=t["name"]))
    if len(row["narrative"]) < MIN_TEXT:
        errors.append(Invalid("Tell how the work went (at least %(n)s characters).", field="narrative", n=MIN_TEXT))
    if errors:
        raise InvalidFields(errors)


async def submit(conn: asyncpg.Connection, identity: Identity, contract_id: int, position: int) -> str:
    """Submit the draft (or resubmit a corrected report): the version is frozen from now on. A first
    submission after the due date marks the report late. Returns the new status."""
    milestone, report = await _for_update(conn, identity, contract_id, position)
    action = "resubmit" if report["status"] == "returned" else "submit"

    async def write(transition: Transition) -> None:
        version = await conn.fetchval("select version from report_versions where report_id = $1 "
                                      "and submitted_at is null", report["id"])
        if version is None:
            raise Conflict("Write the report first: there is nothing new to submit.")
        await _complete(conn, report["id"], version)
        await check_spending(conn, report["id"], version, await conn.fetchval(_PAID, contract_id))
        await conn.execute("update report_versions set submitted_at = market_now(), submitted_by = $3 "
                           "where report_id = $1 and version = $2", report["id"], version, identity.user_id)
        await conn.execute("update delivery_reports set status = $2, submitted_at = coalesce(submitted_at, market_now()),"
                           " late = late or (submitted_at is null and $3::date > $4::date) where id = $1",
                           report["id"], transition.target, clock.today(), milestone["due_date"])

    moved = await step(conn, REPORT, action, report["status"], object_id=report["id"],
                       capacities=capacities(identity, milestone), actor=identity.user_id,
                       organisation=identity.org_id, write=write, after={"contract_id": contract_id,
                                                                         "position": position},
                       notices=[await _notice(conn, milestone, "buyer",
                                              "report_resubmitted" if action == "resubmit" else "report_submitted")])
    return moved.target


async def return_report(conn: asyncpg.Connection, identity: Identity, contract_id: int, position: int,
                        data: ReturnInput) -> None:
    """The buyer sends the report back for correction, saying what to correct; the comment stays
    with the version it was about."""
    milestone, report = await _for_update(conn, identity, contract_id, position)
    comment = data.comment.strip()
    if len(comment) < 5:
        raise InvalidFields([Invalid("Say what is to be corrected.", field="comment")])

    async def write(transition: Transition) -> None:
        await conn.execute("""update report_versions set returned_at = market_now(), returned_by = $2, comment = $3
                               where report_id = $1 and version = (select max(version) from report_versions
                                                                    where report_id = $1)""",
                           report["id"], identity.user_id, comment)
        await conn.execute("update delivery_reports set status = $2 where id = $1", report["id"], transition.target)

    await step(conn, REPORT, "return", report["status"], object_id=report["id"],
               capacities=capacities(identity, milestone), actor=identity.user_id, organisation=identity.org_id,
               write=write, after={"comment": comment},
               notices=[await _notice(conn, milestone, "provider", "report_returned")])


async def accept(conn: asyncpg.Connection, identity: Identity, contract_id: int, position: int) -> None:
    milestone, report = await _for_update(conn, identity, contract_id, position)

    async def write(transition: Transition) -> None:
        await conn.execute("update delivery_reports set status = $2, accepted_at = market_now(), accepted_by = $3 "
                           "where id = $1", report["id"], transition.target, identity.user_id)

    await step(conn, REPORT, "accept", report["status"], object_id=report["id"],
               capacities=capacities(identity, milestone), actor=identity.user_id, organisation=identity.org_id,
               write=write, notices=[await _notice(conn, milestone, "provider", "report_accepted")])


async def add_evidence(conn: asyncpg.Connection, storage: FileStorage, settings: Settings, identity: Identity,
                       contract_id: int, position: int, data: bytes, filename: str, kind: str) -> uuid.UUID:
    """Attach a file to the draft: kept private to the provider's organisation, a photo without the
    place it was taken; the report's readers read it through the report. `kind` is as the form or
    the API sent it, checked here."""
    if kind not in ("photo", "sign_in_sheet", "document"):
        raise Invalid("Choose one of the options offered.", field="evidence_kind")
    milestone, report = await _for_update(conn, identity, contract_id, position)
    after: dict[str, Any] = {}

    async def write(_: Transition) -> None:
        version = await _draft(conn, milestone, report, identity.user_id)
        stored = await files.store(conn, storage, settings, identity, data, filename, "private", strip_location=True)
        await conn.execute("insert into report_evidence (report_id, version, file_id, kind) values ($1, $2, $3, $4)",
                           report["id"], version, stored.id, kind)
        after.update(version=version, evidence_added=str(stored.id))

    await step(conn, REPORT, "save", report["status"], object_id=report["id"],
               capacities=capacities(identity, milestone), actor=identity.user_id, organisation=identity.org_id,
               write=write, after=after)
    return uuid.UUID(after["evidence_added"])


async def remove_evidence(conn: asyncpg.Connection, identity: Identity, contract_id: int, position: int,
                          file_id: uuid.UUID) -> None:
    """Take a file off the draft (a submitted version keeps its own)."""
    milestone, report = await _for_update(conn, identity, contract_id, position)

    async def write(_: Transition) -> None:
        version = await _draft(conn, milestone, report, identity.user_id)
        removed = await conn.execute("delete from report_evidence where report_id = $1 and version = $2 "
                                     "and file_id = $3", report["id"], version, file_id)
        if removed == "DELETE 0":
            raise NotFound()

    await step(conn, REPORT, "save", report["status"], object_id=report["id"],
               capacities=capacities(identity, milestone), actor=identity.user_id, organisation=identity.org_id,
               write=write, after={"evidence_removed": str(file_id)})

