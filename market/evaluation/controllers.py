"""Panel pages and their JSON twins."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from market.core.access import SIGNED_IN, member
from market.core.errors import Conflict, Forbidden, Invalid, NotFound
from market.core.i18n import N_
from market.core.validation import parse
from market.core.web import Db, User, form_data, page, redirect
from market.evaluation import services as engine
from market.evaluation.models import (
    AddMember,
    Candidate,
    Criterion,
    Declaration,
    Member,
    MemberScore,
    Ranked,
    ScoreInput,
)
from market.procurement.awards import panels

SIGNED_IN_OPT = {"access": SIGNED_IN}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}


class PanelOut(msgspec.Struct, kw_only=True):
    id: int
    status: str
    subject_type: str
    subject_id: int
    subject: engine.Subject | None
    members: list[Member]
    criteria: list[Criterion]
    candidates: list[Candidate]
    consensus_missing: int
    # The ranking once every consensus score is in: before that, totals would rest on the price alone.
    results: list[Ranked]
    # Each member's own scores, for the chair (and the platform) only.
    member_scores: list[MemberScore]


async def _panel_out(conn: asyncpg.Connection, identity: Any, panel_id: int) -> PanelOut:
    panel = await conn.fetchrow("select * from panels where id = $1", panel_id)
    if panel is None or not await engine.may_see(conn, identity, panel):
        raise NotFound()
    missing = await engine.missing_consensus(conn, panel_id)
    chair = await engine.role_in(conn, identity, panel_id) == "chair" or identity.is_platform_admin
    return PanelOut(id=panel_id, status=panel["status"], subject_type=panel["subject_type"], subject_id=panel["subject_id"],
                    subject=await engine.subject_of(conn, panel["subject_type"], panel["subject_id"]),
                    members=await engine.members_of(conn, panel_id), criteria=await engine.criteria_of(conn, panel_id),
                    candidates=await engine.candidates_of(conn, panel_id), consensus_missing=missing,
                    results=await engine.results(conn, identity, panel_id) if missing == 0 else [],
                    member_scores=await engine.member_scores(conn, panel_id) if chair else [])


class PanelPages(Controller):
    include_in_schema = False

    async def _page(self, request: Request, conn: asyncpg.Connection, identity: Any, panel_id: int,
                    status: int = 200, errors: dict[str, str] | None = None) -> Response:
        panel = await _panel_out(conn, identity, panel_id)
        role = await engine.role_in(conn, identity, panel_id)
        declared = {r["candidate_id"]: r["conflicted"] for r in await conn.fetch(
            "select candidate_id, conflicted from panel_declarations where panel_id = $1 and user_id = $2",
            panel_id, identity.user_id)}
        mine = {(r["candidate_id"], r["position"]): r for r in await conn.fetch(
            "select candidate_id, position, score, note from panel_scores where panel_id = $1 and user_id = $2",
            panel_id, identity.user_id)}
        owner = await conn.fetchval("select owner_id from panels where id = $1", panel_id) == identity.org_id
        return page(request, "evaluation/panel.html", status=status, panel=panel, role=role, declared=declared,
                    mine=mine, owner=owner, errors=errors or {})

    @get("/panels/{panel_id:int}", opt=SIGNED_IN_OPT)
    async def show(self, request: Request, conn: Db, identity: User, panel_id: FromPath[int]) -> Response:
        return await self._page(request, conn, identity, panel_id)

    @post("/calls/{call_id:int}/panel", opt=BUYERS_OPT)
    async def form(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        panel_id = await panels.form_panel(conn, identity, call_id)
        return redirect(f"/panels/{panel_id}")

    @post("/panels/{panel_id:int}/{step:str}", opt=SIGNED_IN_OPT)
    async def act(self, request: Request, conn: Db, identity: User, panel_id: FromPath[int],
                  step: FromPath[str]) -> Response:
        if step == "start":
            try:
                async with conn.transaction():
                    await engine.start_scoring(conn, identity, panel_id)
            except Conflict as exc:
                return await self._page(request, conn, identity, panel_id, exc.status, {"_": exc.text()})
            return redirect(f"/panels/{panel_id}")
        actions = {"members": (AddMember, engine.add_member), "declarations": (Declaration, engine.declare),
                   "scores": (ScoreInput, engine.score), "consensus": (ScoreInput, engine.record_consensus)}
        if step not in actions:
            raise NotFound()
        struct, action = actions[step]
        form = await form_data(request)
        if struct is Declaration:
            form["conflicted"] = form.get("conflicted") == "yes"
        if struct is ScoreInput and "score" not in form:
            form["score"] = None  # left empty: not applicable
        try:
            async with conn.transaction():
                await action(conn, identity, panel_id, parse(form, struct))
        except (Invalid, Conflict, Forbidden) as exc:
            return await self._page(request, conn, identity, panel_id, exc.status, exc.field_errors() or {"_": exc.text()})
        return redirect(f"/panels/{panel_id}")


class PanelApi(Controller):
    path = "/api"
    tags = ["evaluation"]

    @post("/calls/{call_id:int}/panel", opt=BUYERS_OPT, status_code=201, summary="Form the panel for a call's bids")
    async def form(self, conn: Db, identity: User, call_id: FromPath[int]) -> dict[str, int]:
        return {"panel_id": await panels.form_panel(conn, identity, call_id)}

    @get("/panels/{panel_id:int}", opt=SIGNED_IN_OPT, summary="A panel: members, criteria, candidates and ranking")
    async def show(self, conn: Db, identity: User, panel_id: FromPath[int]) -> PanelOut:
        return await _panel_out(conn, identity, panel_id)

    @post("/panels/{panel_id:int}/members", opt=BUYERS_OPT, status_code=201, summary="Add a member or the chair")
    async def add_member(self, conn: Db, identity: User, panel_id: FromPath[int],
                         data: JSONBody[AddMember]) -> dict[str, int]:
        return {"user_id": await engine.add_member(conn, identity, panel_id, data)}

    @post("/panels/{panel_id:int}/start", opt=BUYERS_OPT, status_code=201,
          summary="Close the membership and open scoring (the panel needs a chair)")
    async def start(self, conn: Db, identity: User, panel_id: FromPath[int]) -> dict[str, str]:
        await engine.start_scoring(conn, identity, panel_id)
        return {"status": "scoring"}

    @post("/panels/{panel_id:int}/declarations", opt=SIGNED_IN_OPT, status_code=201,
          summary="Declare a conflict of interest, or none, for a candidate")
    async def declare(self, conn: Db, identity: User, panel_id: FromPath[int],
                      data: JSONBody[Declaration]) -> dict[str, str]:
        await engine.declare(conn, identity, panel_id, data)
        return {"status": "declared"}

    @post("/panels/{panel_id:int}/scores", opt=SIGNED_IN_OPT, status_code=201, summary="Score a criterion (null: N/A)")
    async def score(self, conn: Db, identity: User, panel_id: FromPath[int], data: JSONBody[ScoreInput]) -> dict[str, str]:
        await engine.score(conn, identity, panel_id, data)
        return {"status": "scored"}

    @post("/panels/{panel_id:int}/consensus", opt=SIGNED_IN_OPT, status_code=201,
          summary="Record the chair's consensus score")
    async def consensus(self, conn: Db, identity: User, panel_id: FromPath[int],
                        data: JSONBody[ScoreInput]) -> dict[str, str]:
        await engine.record_consensus(conn, identity, panel_id, data)
        return {"status": "recorded"}
