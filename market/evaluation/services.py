"""Panels: formed by the owner of what is evaluated, each member declares conflicts of interest for
every candidate, scores the candidates they have no conflict with, and the chair records a
consensus score per candidate and criterion once every eligible member has scored it.

The engine knows subjects only by type and id: a call's bids now; a contract's mid-term and final
delivery later, with the same tables and rules.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import partial
from typing import Any, Literal

import asyncpg
import msgspec

from market.accounts.services import normalise_email
from market.audit import services as audit
from market.audit.models import Verb
from market.core.access import Identity
from market.core.kept import Kept
from market.core.settings import Settings
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import N_, gettext
from market.evaluation import scoring
from market.evaluation.indicators import scoring as indicator_scoring
from market.evaluation.indicators import services as indicators
from market.evaluation.indicators import tree
from market.evaluation.indicators.models import POINTS, Bands, IndicatorSystem
from market.evaluation.models import (
    AddMember,
    Agency,
    Candidate,
    ConsensusScore,
    Criterion,
    Declaration,
    Expert,
    Member,
    MemberScore,
    Note,
    NoteInput,
    NotePhoto,
    Ranked,
    ScoreInput,
    Verdict,
)
from market.evaluation.workflow import PANELS
from market.storage import services as files
from market.storage.interfaces import FileStorage
from market.workflow import Notice, Transition, step


class Subject(msgspec.Struct, frozen=True, kw_only=True):
    """What a panel evaluates, as its page names it and links to it."""
    title_zh: str
    title_en: str
    link: str
    bids_link: str | None = None  # where members read what they score


PHOTO_TYPES = ("image/png", "image/jpeg", "image/webp")

# Each kind of subject says how to describe itself (procurement registers calls and batches), so
# the engine imports no domain that uses it.
_SUBJECTS: dict[str, Callable[[asyncpg.Connection, int], Awaitable[Subject]]] = {}
# Subjects (a contract's delivery) whose panels never seat a person who belongs to a candidate's
# organisation or has ever declared a conflict of interest with it: with one candidate, such a
# member could score nothing, and their presence alone is a conflict.
_EXCLUDING: set[str] = set()


def register_subject(subject_type: str, describe: Callable[[asyncpg.Connection, int], Awaitable[Subject]], *,
                     excludes_conflicted: bool = False) -> None:
    _SUBJECTS[subject_type] = describe
    if excludes_conflicted:
        _EXCLUDING.add(subject_type)


DELIVERY_SUBJECTS = ("midterm", "final")  # the panels that evaluate a provider's delivery


async def subject_of(conn: asyncpg.Connection, subject_type: str, subject_id: int) -> Subject | None:
    describe = _SUBJECTS.get(subject_type)
    return await describe(conn, subject_id) if describe else None


def _decimal(score: float | None) -> Decimal | None:
    return None if score is None else Decimal(str(score)).quantize(scoring.CENT)


async def create_panel(conn: asyncpg.Connection, identity: Identity, *, subject_type: str, subject_id: int,
                       criteria: list[Criterion], candidates: list[Candidate],
                       indicator_version_id: int | None = None) -> int:
    """A panel in forming. With an indicator system version, each criterion is one of its leaves
    (see `indicator_criteria`) and the total is the tree's."""
    # A selection has one panel; a delivery stage may be evaluated again after a rectification, one
    # panel at a time (the latest closed one decides).
    if await conn.fetchval("select id from panels where subject_type = $1 and subject_id = $2 "
                           "and (subject_type not in ('midterm', 'final') or status <> 'closed')",
                           subject_type, subject_id):
        raise Conflict("This already has a panel.")
    panel_id = await conn.fetchval(
        "insert into panels (subject_type, subject_id, owner_id, created_by, indicator_version_id) "
        "values ($1, $2, $3, $4, $5) returning id",
        subject_type, subject_id, identity.org_id, identity.user_id, indicator_version_id)
    await conn.executemany(
        "insert into panel_criteria (panel_id, position, name_zh, name_en, weight, min_score, is_price, indicator_path) "
        "values ($1, $2, $3, $4, $5, $6, $7, $8)",
        [(panel_id, c.position, c.name_zh, c.name_en, c.weight, c.min_score, c.is_price, c.indicator_path)
         for c in criteria])
    await conn.executemany(
        "insert into panel_candidates (panel_id, candidate_id, organisation_id, label, label_en, price_fen, submitted_at) "
        "values ($1, $2, $3, $4, $5, $6, $7)",
        [(panel_id, c.candidate_id, c.organisation_id, c.label, c.label_en, c.price_fen, c.submitted_at)
         for c in candidates])
    await audit.record(conn, verb=Verb.PANEL_CREATE, object_type="panel", object_id=panel_id, actor=identity.user_id,
                       organisation=identity.org_id, after={"subject_type": subject_type, "subject_id": subject_id,
                                                            "candidates": len(candidates)})
    return panel_id


async def _panel(conn: asyncpg.Connection, panel_id: int) -> Any:
    row = await conn.fetchrow("select * from panels where id = $1", panel_id)
    if row is None:
        raise NotFound()
    return row


async def role_in(conn: asyncpg.Connection, identity: Identity | None, panel_id: int) -> str | None:
    if identity is None:
        return None
    return await conn.fetchval("select role from panel_members where panel_id = $1 and user_id = $2",
                               panel_id, identity.user_id)


async def may_see(conn: asyncpg.Connection, identity: Identity | None, panel: Any) -> bool:
    return identity is not None and (identity.is_platform_admin or identity.org_id == panel["owner_id"]
                                     or (panel["agency_id"] is not None and identity.org_id == panel["agency_id"])
                                     or await role_in(conn, identity, panel["id"]) is not None)


def _forms(identity: Identity, panel: Any) -> set[str]:
    """What the person is to the panel's forming: its owner, or the agency it was handed to."""
    if not identity.acts_for_verified or identity.role not in ("admin", "staff"):
        return set()
    return ({"owner"} if identity.org_id == panel["owner_id"] else set()) | (
        {"agency"} if panel["agency_id"] is not None and identity.org_id == panel["agency_id"] else set())


def _exclusion(user: str) -> str:
    """Why the person `user` (a placeholder or a column) may not sit on panel $1, if they may not."""
    return f"""case
        when exists (select 1 from memberships m join panel_candidates c on c.organisation_id = m.organisation_id
                      where c.panel_id = $1 and m.user_id = {user}) then 'member'
        when exists (select 1 from panel_declarations d
                       join panel_candidates mine on mine.panel_id = d.panel_id and mine.candidate_id = d.candidate_id
                       join panel_candidates here on here.organisation_id = mine.organisation_id and here.panel_id = $1
                      where d.user_id = {user} and d.conflicted) then 'declared'
        end"""


_EXCLUDED = f"select {_exclusion('$2')}"
EXCLUSION_REASONS = {
    "member": N_("This person belongs to the organisation evaluated, so they cannot evaluate it."),
    "declared": N_("This person has declared a conflict of interest with the organisation evaluated, so they "
                   "cannot evaluate it."),
}


async def _subject_titles(conn: asyncpg.Connection, panel: Any) -> dict[str, str]:
    """What a panel's notices quote: its subject's title, in both languages."""
    subject = await subject_of(conn, panel["subject_type"], panel["subject_id"])
    return {"title": subject.title_zh, "title_en": subject.title_en} if subject else {"title": "", "title_en": ""}


async def add_member(conn: asyncpg.Connection, identity: Identity, panel_id: int, data: AddMember) -> int:
    """The owner adds an evaluator (a member of an evaluation organisation) or one of its own staff;
    an agency the panel was handed to adds its own experts."""
    panel = await _panel(conn, panel_id)
    capacities = _forms(identity, panel)
    if not capacities:
        raise Forbidden("Only the panel's owner forms the panel.")
    PANELS.check("add_member", panel["status"], capacities)
    user = await conn.fetchrow("select id from users where email = $1", normalise_email(data.email))
    if user is None:
        raise InvalidFields([Invalid("No account uses this email address.", field="email")])
    if "owner" in capacities:
        qualified = await conn.fetchval(
            """select exists(select 1 from memberships m join organisations o on o.id = m.organisation_id
                where m.user_id = $1 and o.status = 'verified'
                  and (o.kind = 'evaluator' or o.id = $2))""", user["id"], panel["owner_id"])
    else:
        qualified = await conn.fetchval("select exists(select 1 from memberships where user_id = $1 "
                                        "and organisation_id = $2)", user["id"], panel["agency_id"])
    if not qualified:
        raise InvalidFields([Invalid("Panel members are evaluators, or staff of the panel's owner.", field="email")])
    if panel["subject_type"] in _EXCLUDING:
        excluded = await conn.fetchval(_EXCLUDED, panel_id, user["id"])
        if excluded:
            raise InvalidFields([Invalid(EXCLUSION_REASONS[excluded], field="email")])
    if await conn.fetchval("select 1 from panel_members where panel_id = $1 and user_id = $2", panel_id, user["id"]):
        raise Conflict("This person is already on the panel.")
    if data.role == "chair" and await conn.fetchval(
            "select 1 from panel_members where panel_id = $1 and role = 'chair'", panel_id):
        raise Conflict("The panel has a chair already.")

    async def write(_: Transition) -> None:
        await conn.execute("insert into panel_members (panel_id, user_id, role) values ($1, $2, $3)",
                           panel_id, user["id"], data.role)

    titles = await _subject_titles(conn, panel)
    await step(conn, PANELS, "add_member", panel["status"], object_id=panel_id, capacities=capacities,
               actor=identity.user_id, organisation=identity.org_id, write=write,
               after={"user_id": user["id"], "role": data.role},
               # What the new member is told to read: the bids, or a delivery's reports.
               notices=[Notice([user["id"]], "delivery_panel_member_added" if panel["subject_type"] in DELIVERY_SUBJECTS
                               else "panel_member_added", f"/panels/{panel_id}", titles)])
    return user["id"]


async def assign_agency(conn: asyncpg.Connection, identity: Identity, panel_id: int, agency_id: int) -> None:
    """The owner hands the forming of its panel to a verified evaluator organisation."""
    panel = await conn.fetchrow("select * from panels where id = $1 for update", panel_id)
    if panel is None:
        raise NotFound()
    capacities = _forms(identity, panel) & {"owner"}
    if not capacities:
        raise Forbidden("Only the panel's owner forms the panel.")
    PANELS.check("assign_agency", panel["status"], capacities)
    if not await conn.fetchval("select exists(select 1 from organisations where id = $1 and kind = 'evaluator' "
                               "and subtype = 'agency' and status = 'verified')", agency_id):
        raise InvalidFields([Invalid("Choose a verified evaluation organisation.", field="agency_id")])
    staff = [r["user_id"] for r in await conn.fetch(
        "select user_id from memberships where organisation_id = $1 and role in ('admin', 'staff')", agency_id)]
    titles = await _subject_titles(conn, panel)

    async def write(_: Transition) -> None:
        await conn.execute("update panels set agency_id = $2 where id = $1", panel_id, agency_id)

    await step(conn, PANELS, "assign_agency", panel["status"], object_id=panel_id, capacities=capacities,
               actor=identity.user_id, organisation=identity.org_id, write=write,
               before={"agency_id": panel["agency_id"]}, after={"agency_id": agency_id},
               notices=[Notice(staff, "panel_agency_assigned", f"/panels/{panel_id}", titles)])


async def experts(conn: asyncpg.Connection, panel_id: int) -> list[Expert]:
    """The agency's experts (its members in the evaluator role) with their workload (open panels they sit on), least loaded first, and
    whether this panel may seat them."""
    panel = await _panel(conn, panel_id)
    if panel["agency_id"] is None:
        return []
    rows = await conn.fetch(
        f"""select u.id as user_id, u.display_name,
                  (select count(*) from panel_members pm join panels p on p.id = pm.panel_id
                    where pm.user_id = u.id and p.status <> 'closed')::int as load,
                  exists (select 1 from panel_members pm where pm.panel_id = $1 and pm.user_id = u.id) as seated,
                  case when $3 then {_exclusion('u.id')} end as excluded
             from memberships m join users u on u.id = m.user_id
            where m.organisation_id = $2 and m.role = 'evaluator'
            order by load, u.id""", panel_id, panel["agency_id"], panel["subject_type"] in _EXCLUDING)
    return [Expert(user_id=r["user_id"], display_name=r["display_name"], load=r["load"], seated=r["seated"],
                   excluded=gettext(EXCLUSION_REASONS[r["excluded"]]) if r["excluded"] else None) for r in rows]


async def assign_balanced(conn: asyncpg.Connection, identity: Identity, panel_id: int, count: int) -> list[int]:
    """The agency seats `count` of its experts, the least loaded first (ties: the longest-standing
    account), leaving out those the panel may not seat; the first becomes the chair if there is none."""
    panel = await conn.fetchrow("select * from panels where id = $1 for update", panel_id)
    if panel is None:
        raise NotFound()
    capacities = _forms(identity, panel) & {"agency"}
    if not capacities:
        raise Forbidden("Only the agency the panel was handed to assigns its experts.")
    PANELS.check("add_member", panel["status"], capacities)
    free = [e for e in await experts(conn, panel_id) if not e.seated and e.excluded is None]
    if len(free) < count:
        raise InvalidFields([Invalid("Only %(n)s of your experts can sit on this panel.", field="count", n=len(free))])
    has_chair = await conn.fetchval("select exists(select 1 from panel_members where panel_id = $1 "
                                    "and role = 'chair')", panel_id)
    seated: list[int] = []
    for e in free[:count]:
        email = await conn.fetchval("select email from users where id = $1", e.user_id)
        role: Literal["chair", "member"] = "member" if has_chair or seated else "chair"
        seated.append(await add_member(conn, identity, panel_id, AddMember(email=email, role=role)))
    return seated


async def _move(conn: asyncpg.Connection, panel: Any, action: str, actor: int | None) -> None:
    """Start, close or reopen: the moves the panel's owner (or the step an award takes) makes."""

    async def write(transition: Transition) -> None:
        await conn.execute("update panels set status = $2, closed_at = case when $2 = 'closed' then market_now() end "
                           "where id = $1", panel["id"], transition.target)

    await step(conn, PANELS, action, panel["status"], object_id=panel["id"], capacities={"owner"}, actor=actor,
               write=write)


async def start_scoring(conn: asyncpg.Connection, identity: Identity, panel_id: int) -> None:
    """The owner (or its agency) closes the panel's membership and opens scoring; a panel needs a chair."""
    panel = await conn.fetchrow("select * from panels where id = $1 for update", panel_id)
    if panel is None:
        raise NotFound()
    capacities = _forms(identity, panel)
    if not capacities:
        raise Forbidden("Only the panel's owner forms the panel.")
    PANELS.check("start", panel["status"], capacities)
    if not await conn.fetchval("select 1 from panel_members where panel_id = $1 and role = 'chair'", panel_id):
        raise Conflict("Add the chair first.")
    await _move(conn, panel, "start", identity.user_id)


async def close(conn: asyncpg.Connection, panel_id: int, actor: int) -> None:
    """Freeze the scores (an award now stands on them)."""
    await _move(conn, await conn.fetchrow("select * from panels where id = $1 for update", panel_id), "close", actor)


async def reopen(conn: asyncpg.Connection, panel_id: int, actor: int) -> None:
    await _move(conn, await conn.fetchrow("select * from panels where id = $1 for update", panel_id), "reopen", actor)


async def _member(conn: asyncpg.Connection, identity: Identity, panel_id: int, action: str) -> tuple[Any, set[str]]:
    """The panel and what the person is on it (a member, and maybe the chair), if they may take `action`."""
    panel = await _panel(conn, panel_id)
    role = await role_in(conn, identity, panel_id)
    if role is None:
        raise Forbidden("Only the panel's members do this.")
    capacities = {"member", role}
    PANELS.check(action, panel["status"], capacities)
    return panel, capacities


async def _candidate(conn: asyncpg.Connection, panel_id: int, candidate_id: int) -> Any:
    row = await conn.fetchrow("select * from panel_candidates where panel_id = $1 and candidate_id = $2",
                              panel_id, candidate_id)
    if row is None:
        raise NotFound()
    return row


async def declare(conn: asyncpg.Connection, identity: Identity, panel_id: int, data: Declaration) -> None:
    """A member's declaration of interest for one candidate; it cannot be changed once they have scored it."""
    panel, capacities = await _member(conn, identity, panel_id, "declare")
    await _candidate(conn, panel_id, data.candidate_id)
    if await conn.fetchval("select 1 from panel_scores where panel_id = $1 and user_id = $2 and candidate_id = $3",
                           panel_id, identity.user_id, data.candidate_id):
        raise Conflict("You have scored this candidate; your declaration stands.")

    async def write(_: Transition) -> None:
        await conn.execute(
            """insert into panel_declarations (panel_id, user_id, candidate_id, conflicted, note)
               values ($1, $2, $3, $4, $5)
               on conflict (panel_id, user_id, candidate_id)
               do update set conflicted = excluded.conflicted, note = excluded.note, declared_at = market_now()""",
            panel_id, identity.user_id, data.candidate_id, data.conflicted, data.note.strip())

    await step(conn, PANELS, "declare", panel["status"], object_id=panel_id, capacities=capacities,
               actor=identity.user_id, write=write,
               after={"candidate_id": data.candidate_id, "conflicted": data.conflicted})


async def _criterion(conn: asyncpg.Connection, panel_id: int, position: int) -> Any:
    row = await conn.fetchrow("select * from panel_criteria where panel_id = $1 and position = $2", panel_id, position)
    if row is None:
        raise InvalidFields([Invalid("Choose one of the options offered.", field="position")])
    if row["is_price"]:
        raise InvalidFields([Invalid("The price is scored by its formula, not by people.", field="position")])
    return row


async def system_of(conn: asyncpg.Connection, panel: Any) -> IndicatorSystem | None:
    """The indicator system version the panel scores, if it scores one."""
    version_id = panel["indicator_version_id"]
    return None if version_id is None else await indicators.load_version(conn, version_id)


async def _leaf_score(conn: asyncpg.Connection, panel: Any, criterion: Any, data: ScoreInput) -> Decimal | None:
    """The score to keep: as given on a plain criterion; on an indicator, checked against its method
    (a point of the scale, yes or no, or what was achieved against its target) and whether it may be
    not applicable."""
    path = criterion["indicator_path"]
    if path is None:
        return _decimal(data.score)
    system = await system_of(conn, panel)
    assert system is not None  # a criterion names a leaf only on a panel with a system
    leaf = next(n for n in tree.leaves(system.nodes) if n.path == path)
    if data.score is None and data.achieved is None:
        if not leaf.na_allowed:
            raise InvalidFields([Invalid("This indicator may not be marked not applicable.", field="score")])
        return None
    if leaf.method == "target" and data.achieved is not None:
        if leaf.target is None:
            raise InvalidFields([Invalid("This indicator has no fixed target: give its score.", field="achieved")])
        return indicator_scoring.target_score(Decimal(str(data.achieved)), leaf.target, leaf.target_cap)
    score = _decimal(data.score)
    allowed = {"scale": {indicator_scoring.scale_score(p) for p in range(POINTS)},
               "yesno": {indicator_scoring.yesno_score(True), indicator_scoring.yesno_score(False)}}.get(leaf.method or "")
    if allowed is not None and score not in allowed:
        raise InvalidFields([Invalid("Choose one of the options offered.", field="score")])
    return score


async def score(conn: asyncpg.Connection, identity: Identity, panel_id: int, data: ScoreInput) -> None:
    """A member's own score, with a note; None is "not applicable". Only after declaring no conflict."""
    panel, capacities = await _scorer(conn, identity, panel_id, data.candidate_id)
    given = await _leaf_score(conn, panel, await _criterion(conn, panel_id, data.position), data)

    async def write(_: Transition) -> None:
        await conn.execute(_KEEP_SCORE, panel_id, identity.user_id, data.candidate_id, data.position, given,
                           data.note.strip())

    await step(conn, PANELS, "score", panel["status"], object_id=panel_id, capacities=capacities,
               actor=identity.user_id, write=write,
               after={"candidate_id": data.candidate_id, "position": data.position,
                      "score": str(given) if given is not None else None})


async def score_all(conn: asyncpg.Connection, identity: Identity, panel_id: int, candidate_id: int,
                    items: list[ScoreInput], notes: dict[int, str] | None = None) -> None:
    """A member's scores on one candidate given at once (a delivery evaluation has thirty indicators),
    each checked as `score` checks it, and `notes` (by position) kept beside the scores already given
    there, refused where none is: all kept, or none where any is refused, each refusal named at its
    own criterion's field (`score-<candidate>-<position>`, `achieved-…`)."""
    if not items and not notes:
        raise Invalid("There is no score to save: choose one first.")
    panel, capacities = await _scorer(conn, identity, panel_id, candidate_id)
    criteria = {r["position"]: r for r in await conn.fetch(
        "select * from panel_criteria where panel_id = $1 and not is_price", panel_id)}
    kept, errors = [], []
    for data in items:
        if data.candidate_id != candidate_id or data.position not in criteria:
            raise InvalidFields([Invalid("Choose one of the options offered.", field="position")])
        try:
            kept.append((data, await _leaf_score(conn, panel, criteria[data.position], data)))
        except InvalidFields as refused:
            errors += [Invalid(e.message, field=f"{e.field}-{candidate_id}-{data.position}", **e.params)
                       for e in refused.errors]
    if notes:
        given = {r["position"]: r["score"] for r in await conn.fetch(
            "select position, score from panel_scores where panel_id = $1 and user_id = $2 and candidate_id = $3 "
            "and position = any($4::int[])", panel_id, identity.user_id, candidate_id, list(notes))}
        for position, note in notes.items():
            if position not in criteria:
                raise InvalidFields([Invalid("Choose one of the options offered.", field="position")])
            if position in given:
                kept.append((ScoreInput(candidate_id=candidate_id, position=position, score=None, note=note),
                             given[position]))
            else:
                errors.append(Invalid("Give a score for this note first.", field=f"score-{candidate_id}-{position}"))
    if errors:
        raise InvalidFields(errors)

    async def write(_: Transition) -> None:
        await conn.executemany(_KEEP_SCORE, [(panel_id, identity.user_id, candidate_id, data.position, given,
                                              data.note.strip()) for data, given in kept])

    await step(conn, PANELS, "score", panel["status"], object_id=panel_id, capacities=capacities,
               actor=identity.user_id, write=write,
               after={"candidate_id": candidate_id,
                      "scores": {str(d.position): str(g) if g is not None else None for d, g in kept}})


_KEEP_SCORE = """insert into panel_scores (panel_id, user_id, candidate_id, position, score, note)
values ($1, $2, $3, $4, $5, $6)
on conflict (panel_id, user_id, candidate_id, position)
do update set score = excluded.score, note = excluded.note, scored_at = market_now()"""


async def _scorer(conn: asyncpg.Connection, identity: Identity, panel_id: int, candidate_id: int) -> tuple[Any, set[str]]:
    """The panel and the person's capacities on it, if they may score this candidate now: a member who
    is not of the candidate's organisation, declared no conflict with it and has not submitted."""
    panel, capacities = await _member(conn, identity, panel_id, "score")
    candidate = await _candidate(conn, panel_id, candidate_id)
    if await conn.fetchval("select 1 from memberships where user_id = $1 and organisation_id = $2",
                           identity.user_id, candidate["organisation_id"]):
        raise Forbidden("You belong to this candidate's organisation, so you do not score it.")
    conflicted = await conn.fetchval(
        "select conflicted from panel_declarations where panel_id = $1 and user_id = $2 and candidate_id = $3",
        panel_id, identity.user_id, candidate_id)
    if conflicted is None:
        raise Conflict("Declare first whether you have a conflict of interest with this candidate.")
    if conflicted:
        raise Forbidden("You declared a conflict of interest with this candidate, so you do not score it.")
    if await submitted(conn, panel_id, identity.user_id):
        raise Conflict("You have submitted your scores; they stand as submitted.")
    return panel, capacities


async def submitted(conn: asyncpg.Connection, panel_id: int, user_id: int) -> bool:
    return bool(await conn.fetchval("select submitted_at is not null from panel_members where panel_id = $1 "
                                    "and user_id = $2", panel_id, user_id))


async def submit(conn: asyncpg.Connection, identity: Identity, panel_id: int) -> None:
    """A member hands in their scores as a whole: every candidate declared, and every criterion of
    each candidate they have no conflict with scored (or marked not applicable). From then on their
    scores stand, and they see the other members' scores."""
    panel, capacities = await _member(conn, identity, panel_id, "submit")
    if await submitted(conn, panel_id, identity.user_id):
        raise Conflict("You have submitted your scores; they stand as submitted.")
    undeclared = await conn.fetchval(
        """select count(*) from panel_candidates c where c.panel_id = $1 and not exists
             (select 1 from panel_declarations d where d.panel_id = $1 and d.user_id = $2
                 and d.candidate_id = c.candidate_id)""", panel_id, identity.user_id)
    unscored = await conn.fetchval(
        """select count(*) from panel_candidates c cross join panel_criteria k
            where c.panel_id = $1 and k.panel_id = $1 and not k.is_price
              and not exists (select 1 from panel_declarations d where d.panel_id = $1 and d.user_id = $2
                              and d.candidate_id = c.candidate_id and d.conflicted)
              and not exists (select 1 from panel_scores s where s.panel_id = $1 and s.user_id = $2
                              and s.candidate_id = c.candidate_id and s.position = k.position)""",
        panel_id, identity.user_id)
    if undeclared or unscored:
        raise Conflict("Declare for every candidate and score every criterion first: %(n)s still open.",
                       n=undeclared + unscored)

    async def write(_: Transition) -> None:
        await conn.execute("update panel_members set submitted_at = market_now() where panel_id = $1 and user_id = $2",
                           panel_id, identity.user_id)

    await step(conn, PANELS, "submit", panel["status"], object_id=panel_id, capacities=capacities,
               actor=identity.user_id, write=write)


async def write_note(conn: asyncpg.Connection, identity: Identity, panel_id: int, data: NoteInput) -> int:
    """A member's document-review or site-visit note on a candidate, kept with the panel."""
    panel, capacities = await _member(conn, identity, panel_id, "note")
    await _candidate(conn, panel_id, data.candidate_id)
    note_id: int = 0

    async def write(_: Transition) -> None:
        nonlocal note_id
        note_id = await conn.fetchval(
            "insert into panel_notes (panel_id, user_id, candidate_id, kind, body) values ($1, $2, $3, $4, $5) "
            "returning id", panel_id, identity.user_id, data.candidate_id, data.kind, data.body.strip())

    await step(conn, PANELS, "note", panel["status"], object_id=panel_id, capacities=capacities,
               actor=identity.user_id, write=write, after={"candidate_id": data.candidate_id, "kind": data.kind})
    return note_id


async def add_note_photo(conn: asyncpg.Connection, storage: FileStorage, settings: Settings, identity: Identity,
                         note_id: int, data: bytes, filename: str) -> uuid.UUID:
    """A photo with one's own note: kept private to one's organisation, without the place it was
    taken; the panel's readers read it through the panel page."""
    if not await conn.fetchval("select 1 from panel_notes where id = $1 and user_id = $2", note_id, identity.user_id):
        raise Forbidden("Only the note's writer adds photos to it.")
    if files.detect_type(data) not in PHOTO_TYPES:
        raise InvalidFields([Invalid("Upload a photo: a PNG, JPEG or WebP image.", field="photos")])
    stored = await files.store(conn, storage, settings, identity, data, filename, "private", strip_location=True)
    await conn.execute("insert into panel_note_photos (note_id, file_id) values ($1, $2)", note_id, stored.id)
    return stored.id


async def notes_of(conn: asyncpg.Connection, panel_id: int, reader: Identity | None = None,
                   settings: Settings | None = None) -> list[Note]:
    """The panel's notes; with a reader and the settings, each photo with a link made out to the
    reader (the caller has decided the reader may read the notes)."""
    photos: dict[int, list[NotePhoto]] = {}
    if reader is not None and settings is not None:
        for r in await conn.fetch("select p.note_id, f.* from panel_note_photos p join files f on f.id = p.file_id "
                                  "join panel_notes n on n.id = p.note_id where n.panel_id = $1 "
                                  "order by p.added_at, f.filename", panel_id):
            record = files.StoredFile(**{k: r[k] for k in files.StoredFile.__struct_fields__})
            photos.setdefault(r["note_id"], []).append(NotePhoto(
                file_id=r["id"], filename=r["filename"], link=files.granted_link(settings, record, reader).url))
    return [Note(**dict(r), photos=photos.get(r["id"], [])) for r in await conn.fetch(
        """select n.id, n.user_id, u.display_name, n.candidate_id, n.kind, n.body, n.created_at
             from panel_notes n join users u on u.id = n.user_id
            where n.panel_id = $1 order by n.created_at, n.id""", panel_id)]


async def record_consensus(conn: asyncpg.Connection, identity: Identity, panel_id: int, data: ScoreInput) -> None:
    """The chair's consensus score, once every member without a conflict has scored that criterion."""
    panel = await _panel(conn, panel_id)
    if await role_in(conn, identity, panel_id) != "chair":
        raise Forbidden("Only the chair records the consensus.")
    PANELS.check("consensus", panel["status"], {"chair"})
    await _candidate(conn, panel_id, data.candidate_id)
    given = await _leaf_score(conn, panel, await _criterion(conn, panel_id, data.position), data)
    missing = await conn.fetchval(
        """select count(*) from panel_members m
            where m.panel_id = $1
              and not exists (select 1 from panel_declarations d where d.panel_id = $1 and d.user_id = m.user_id
                              and d.candidate_id = $2 and d.conflicted)
              and not exists (select 1 from panel_scores s where s.panel_id = $1 and s.user_id = m.user_id
                              and s.candidate_id = $2 and s.position = $3)""",
        panel_id, data.candidate_id, data.position)
    if missing:
        raise Conflict("%(n)s members have not scored this yet.", n=missing)

    async def write(_: Transition) -> None:
        await conn.execute(
            """insert into panel_consensus (panel_id, candidate_id, position, score, note, recorded_by)
               values ($1, $2, $3, $4, $5, $6)
               on conflict (panel_id, candidate_id, position)
               do update set score = excluded.score, note = excluded.note, recorded_by = excluded.recorded_by,
                             recorded_at = market_now()""",
            panel_id, data.candidate_id, data.position, given, data.note.strip(), identity.user_id)

    await step(conn, PANELS, "consensus", panel["status"], object_id=panel_id, capacities={"chair"},
               actor=identity.user_id, write=write,
               after={"candidate_id": data.candidate_id, "position": data.position,
                      "score": str(given) if given is not None else None})


async def criteria_of(conn: asyncpg.Connection, panel_id: int) -> list[Criterion]:
    rows = await conn.fetch("select position, name_zh, name_en, weight, min_score, is_price, indicator_path "
                            "from panel_criteria where panel_id = $1 order by position", panel_id)
    return [Criterion(**dict(r)) for r in rows]


async def candidates_of(conn: asyncpg.Connection, panel_id: int) -> list[Candidate]:
    rows = await conn.fetch("select candidate_id, organisation_id, label, price_fen, submitted_at, label_en from panel_candidates "
                            "where panel_id = $1 order by submitted_at, candidate_id", panel_id)
    return [Candidate(**dict(r)) for r in rows]


async def members_of(conn: asyncpg.Connection, panel_id: int) -> list[Member]:
    rows = await conn.fetch("select m.user_id, u.display_name, m.role, m.submitted_at is not null as submitted "
                            "from panel_members m join users u on u.id = m.user_id "
                            "where m.panel_id = $1 order by m.role = 'member', m.added_at", panel_id)
    return [Member(**dict(r)) for r in rows]


async def results(conn: asyncpg.Connection, identity: Identity | None, panel_id: int) -> list[Ranked]:
    panel = await _panel(conn, panel_id)
    if not await may_see(conn, identity, panel):
        raise NotFound()
    return await scoring_results(conn, panel_id)


async def scoring_results(conn: asyncpg.Connection, panel_id: int) -> list[Ranked]:
    """The ranking from the consensus scores, for whoever may see it (the caller decides). One statement
    (two with an indicator system): a call's page shows it beside a dozen of its own."""
    panel = await conn.fetchrow(
        """select p.indicator_version_id,
                  array(select row(candidate_id, position, score) from panel_consensus where panel_id = p.id)
                    as consensus,
                  array(select row(position, name_zh, name_en, weight, min_score, is_price, indicator_path)
                          from panel_criteria where panel_id = p.id order by position) as criteria,
                  array(select row(candidate_id, organisation_id, label, price_fen, submitted_at, label_en)
                          from panel_candidates where panel_id = p.id order by submitted_at, candidate_id) as candidates
             from panels p where p.id = $1""", panel_id)
    if panel is None:
        raise NotFound()
    consensus: dict[int, dict[int, Decimal | None]] = {}
    for candidate_id, position, score in panel["consensus"]:
        consensus.setdefault(candidate_id, {})[position] = score
    criteria = [Criterion(*r) for r in panel["criteria"]]
    system = await system_of(conn, panel)
    ranked = scoring.rank(criteria, [Candidate(*r) for r in panel["candidates"]], consensus,
                          total=None if system is None else _tree_total(system, criteria))
    if system is None:
        return ranked
    return [msgspec.structs.replace(r, grade=indicator_scoring.grade(system.bands, r.total),
                                    passed=indicator_scoring.passed(system.bands, r.total)) for r in ranked]


def _tree_total(system: IndicatorSystem,
                criteria: list[Criterion]) -> Callable[[dict[int, Decimal | None]], Decimal | None]:
    paths = {c.position: c.indicator_path for c in criteria if c.indicator_path}
    return lambda scores: indicator_scoring.total(system.nodes, {paths[p]: s for p, s in scores.items() if p in paths})


def indicator_criteria(system: IndicatorSystem) -> list[Criterion]:
    """A criterion for each leaf of the system, in the tree's order, weighted as among its siblings
    (the tree, not these weights, makes the total)."""
    return [Criterion(n, leaf.name_zh, leaf.name_en, leaf.weight, None, False, leaf.path)
            for n, leaf in enumerate(tree.leaves(system.nodes), start=1)]


# A closed panel's verdict, kept by the panel, the version of its row (xmin) and of its consensus (how
# many scores, and the newest transaction that wrote one): its criteria are fixed when it is formed and
# its consensus is recorded only while it scores, so in the product only a reopening, which writes the
# row again, changes it; the consensus's own versions keep a correction made in the database itself from
# being missed. Working out each verdict afresh (a tree of indicators in Decimal) was a third of a city
# bureau's workbench: Pudong's 1,000 panels, 35 ms.
_VERDICTS: Kept[tuple[int, int, int, int], Verdict] = Kept(most=100_000)


def forget_verdicts() -> None:
    _VERDICTS.clear()


async def verdicts(conn: asyncpg.Connection, panel_ids: list[int]) -> dict[int, Verdict]:
    """Each panel's verdict on its first candidate (a delivery panel has one: the provider), in a few
    statements per distinct indicator system however many panels."""
    out: dict[int, Verdict] = {}
    rows = []
    for r in await conn.fetch("""
            select p.id, p.indicator_version_id, p.status,
                   array[p.xmin::text::bigint, count(c.position), coalesce(max(c.xmin::text::bigint), 0)] as version
              from panels p left join panel_consensus c on c.panel_id = p.id
             where p.id = any($1::bigint[]) group by p.id""", panel_ids):
        kept = _VERDICTS.get((r["id"], *r["version"]), math.inf) if r["status"] == "closed" else None
        if kept is not None:
            out[r["id"]] = kept
        else:
            rows.append(r)
    if not rows:
        return out
    panel_ids = [r["id"] for r in rows]
    criteria: dict[int, list[Criterion]] = {}
    for r in await conn.fetch("select panel_id, position, name_zh, name_en, weight, min_score, is_price, indicator_path "
                              "from panel_criteria where panel_id = any($1::bigint[]) order by position", panel_ids):
        criteria.setdefault(r["panel_id"], []).append(Criterion(*list(r.values())[1:]))
    scores: dict[int, dict[int, Decimal | None]] = {}
    for r in await conn.fetch("select distinct on (panel_id, position) panel_id, position, score from panel_consensus "
                              "where panel_id = any($1::bigint[]) order by panel_id, position, candidate_id",
                              panel_ids):
        scores.setdefault(r["panel_id"], {})[r["position"]] = r["score"]
    systems = {v: await indicators.load_version(conn, v)
               for v in {r["indicator_version_id"] for r in rows} - {None}}
    for r in rows:
        system = systems.get(r["indicator_version_id"])
        mine = criteria.get(r["id"], [])
        total = (_tree_total(system, mine) if system else partial(scoring.weighted_total, mine))(scores.get(r["id"], {}))
        bands = system.bands if system else Bands()
        out[r["id"]] = Verdict(total=total, grade=indicator_scoring.grade(bands, total),
                               passed=indicator_scoring.passed(bands, total))
        if r["status"] == "closed":
            _VERDICTS.put((r["id"], *r["version"]), out[r["id"]])
    return out


async def member_scores(conn: asyncpg.Connection, panel_id: int) -> list[MemberScore]:
    """Every member's own scores, for the chair to weigh before recording the consensus."""
    return [MemberScore(**dict(r)) for r in await conn.fetch(
        """select s.user_id, u.display_name, s.candidate_id, s.position, s.score::float8 as score, s.note
             from panel_scores s join users u on u.id = s.user_id
            where s.panel_id = $1 order by s.candidate_id, s.position, u.display_name""", panel_id)]


async def consensus_of(conn: asyncpg.Connection, panel_id: int) -> list[ConsensusScore]:
    """The chair's consensus scores with their notes, for whoever may see them (the caller decides)."""
    return [ConsensusScore(**dict(r)) for r in await conn.fetch(
        "select candidate_id, position, score, note from panel_consensus where panel_id = $1 "
        "order by candidate_id, position", panel_id)]


async def missing_consensus(conn: asyncpg.Connection, panel_id: int) -> int:
    """How many (candidate, criterion) consensus scores the chair has still to record; price needs none."""
    return await conn.fetchval(
        """select count(*) from panel_candidates c cross join panel_criteria k
            where c.panel_id = $1 and k.panel_id = $1 and not k.is_price
              and not exists (select 1 from panel_consensus s where s.panel_id = $1
                              and s.candidate_id = c.candidate_id and s.position = k.position)""", panel_id)


async def agencies(conn: asyncpg.Connection) -> list[Agency]:
    """The evaluation agencies an owner may hand a panel to: not a single expert's organisation, who
    would have nobody to seat but themselves."""
    return [Agency(**dict(r)) for r in await conn.fetch(
        "select id, name_zh, name_en from organisations where kind = 'evaluator' and subtype = 'agency' "
        "and status = 'verified' order by name_zh limit 500")]


async def panel_for(conn: asyncpg.Connection, subject_type: str, subject_id: int) -> int | None:
    """The subject's panel: for a delivery stage evaluated more than once, the latest."""
    return await conn.fetchval("select id from panels where subject_type = $1 and subject_id = $2 "
                               "order by id desc limit 1", subject_type, subject_id)
