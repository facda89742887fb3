"""Call pages and their JSON twins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from market.core.access import PUBLIC, member
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields
from market.core.i18n import N_
from market.core.money import yuan_to_fen
from market.core.validation import parse
from market.core.web import (
    PAGE_SIZE,
    Db,
    MaybeUser,
    User,
    done,
    form_data,
    form_errors,
    in_form_terms,
    page,
    pager,
    redirect,
    require_confirmation,
)
from market.matching import dockings
from market.places.services import jurisdictions, within
from market.procurement import (
    awards,
    batches,
    bids,
    calls,
    calls_workflow,
    needs,
    questions,
)
from market.procurement import evaluation as call_evaluation
from market.procurement.batch_controllers import batch_page
from market.procurement.contracts import services as contracts
from market.procurement.models import (
    AnswerInput,
    Call,
    CallInput,
    Decision,
    ProcedureType,
    Question,
    QuestionInput,
    Revision,
)

PUBLIC_OPT = {"access": PUBLIC}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
PROVIDERS_OPT = {"access": member(N_("social organisations"), "provider")}
Place = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]
Procedure = Annotated[str | None, QueryParameter(pattern=r"^[a-z_]{2,40}$")]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
MAX_CRITERIA = 8
ObjectionAction = Literal["uphold", "reject"]


def call_from_form(raw: dict[str, Any], multi: dict[str, list[str]], project_id: int, tz: str) -> CallInput:
    """The call form as a CallInput: yuan to fen, local time to an instant, criteria rows to a list."""
    data: dict[str, Any] = {k: v for k, v in raw.items() if not k.startswith("criteria-")
                            and k not in ("budget_ceiling_yuan", "provider_types", "cross_district")}
    data["project_id"] = project_id
    problems: list[Invalid] = []
    if "budget_ceiling_yuan" in raw:
        try:
            data["budget_ceiling_fen"] = yuan_to_fen(str(raw["budget_ceiling_yuan"]))
        except ValueError:
            problems.append(Invalid("Enter the budget in yuan, such as 80000 or 12500.50.", field="budget_ceiling_yuan"))
    if multi.get("provider_types"):
        data["provider_types"] = multi["provider_types"]
    if raw.get("cross_district") in ("true", "false"):
        data["cross_district"] = raw["cross_district"] == "true"
    if raw.get("deadline_at"):
        try:
            data["deadline_at"] = datetime.fromisoformat(str(raw["deadline_at"])).replace(tzinfo=ZoneInfo(tz))
        except ValueError:
            problems.append(Invalid("Enter a date and time.", field="deadline_at"))
    criteria = []
    for i in range(MAX_CRITERIA):
        name = raw.get(f"criteria-{i}-name_zh")
        if not name:
            continue
        criteria.append({"name_zh": name, "name_en": raw.get(f"criteria-{i}-name_en", ""),
                         "weight": raw.get(f"criteria-{i}-weight", 0), "min_score": raw.get(f"criteria-{i}-min_score"),
                         "is_price": bool(raw.get(f"criteria-{i}-is_price"))})
    data["criteria"] = [{k: v for k, v in c.items() if v is not None} for c in criteria]
    if problems:
        raise InvalidFields(problems)
    return parse(data, CallInput)


def form_of(call: Call, tz: str) -> dict[str, Any]:
    form: dict[str, Any] = {k: getattr(call, k) for k in ("procedure_type", "title_zh", "title_en", "description",
                                                          "service_start", "service_end", "service_place",
                                                          "min_rating", "min_years", "justification")}
    form["budget_ceiling_yuan"] = f"{call.budget_ceiling_fen / 100:.2f}"
    form["provider_types"] = call.provider_types
    form["cross_district"] = "true" if call.cross_district else "false"
    if call.deadline_at:
        form["deadline_at"] = call.deadline_at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
    for i, c in enumerate(call.criteria):
        form.update({f"criteria-{i}-name_zh": c.name_zh, f"criteria-{i}-name_en": c.name_en,
                     f"criteria-{i}-weight": c.weight, f"criteria-{i}-min_score": c.min_score,
                     f"criteria-{i}-is_price": c.is_price})
    return form


DEFAULT_CRITERIA = [("项目设计与可行性", "Design and feasibility", 35, 60, False),
                    ("组织能力与团队", "Organisation and team", 25, None, False),
                    ("预期成效", "Expected outcomes", 20, None, False),
                    ("价格", "Price", 20, None, True)]


class CallPages(Controller):
    include_in_schema = False

    @get("/calls", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, place: Place = None, procedure: Procedure = None,
                    offset: Offset = 0) -> Response:
        places = await within(conn, place) if place else None
        found = await calls.list_calls(conn, places=places, procedure=procedure, limit=PAGE_SIZE, offset=offset)
        return page(request, "procurement/calls.html", calls=found,
                    pager=pager(request, offset, PAGE_SIZE, await calls.count_calls(conn, places=places,
                                                                                    procedure=procedure), len(found)),
                    procedures={p.code: p for p in await calls.procedure_types(conn)},
                    filters={"place": place, "procedure": procedure or ""}, **await _places(conn))

    @get("/calls/{call_id:int}", opt=PUBLIC_OPT)
    async def detail(self, request: Request, conn: Db, identity: MaybeUser, call_id: FromPath[int]) -> Response:
        return await call_page(request, conn, identity, call_id)

    @get("/projects/{project_id:int}/calls/new", opt=BUYERS_OPT)
    async def new(self, request: Request, conn: Db, identity: User, project_id: FromPath[int]) -> Response:
        project = await needs.get_project(conn, project_id)
        form: dict[str, Any] = {"title_zh": project.title_zh, "description": project.description,
                                "budget_ceiling_yuan": f"{project.budget_fen / 100:.2f}",
                                "procedure_type": "open_competition"}
        for i, (zh, en, weight, minimum, price) in enumerate(DEFAULT_CRITERIA):
            form.update({f"criteria-{i}-name_zh": zh, f"criteria-{i}-name_en": en, f"criteria-{i}-weight": weight,
                         f"criteria-{i}-min_score": minimum, f"criteria-{i}-is_price": price})
        return await self._form(request, conn, project_id, form, {}, None)

    async def _form(self, request: Request, conn: asyncpg.Connection, project_id: int, form: dict[str, Any],
                    errors: dict[str, str], call_id: int | None, status: int = 200) -> Response:
        return page(request, "procurement/call_form.html", status=status, form=form, errors=errors, call_id=call_id,
                    project=await needs.get_project(conn, project_id), max_criteria=MAX_CRITERIA,
                    procedures=await calls.procedure_types(conn))

    async def _submit(self, request: Request, conn: asyncpg.Connection, identity: Any, project_id: int,
                      call_id: int | None) -> Response:
        form = await form_data(request)
        multi = {"provider_types": (await request.form()).getall("provider_types", [])}
        tz = request.app.state.settings.timezone
        try:
            async with conn.transaction():
                data = call_from_form(form, multi, project_id, tz)
                if call_id is None:
                    call_id = await calls.create_call(conn, identity, data)
                else:
                    await calls.update_call(conn, identity, call_id, data, tz)
        except (Invalid, Conflict) as exc:
            form["provider_types"] = multi["provider_types"]
            return await self._form(request, conn, project_id, form,
                                    in_form_terms(exc, {"budget_ceiling_yuan": "budget_ceiling_fen"}), call_id,
                                    exc.status)
        return redirect(f"/calls/{call_id}")

    @post("/projects/{project_id:int}/calls/new", opt=BUYERS_OPT)
    async def create(self, request: Request, conn: Db, identity: User, project_id: FromPath[int]) -> Response:
        return await self._submit(request, conn, identity, project_id, None)

    @get("/calls/{call_id:int}/edit", opt=BUYERS_OPT)
    async def edit_form(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        call = await calls.get_call(conn, identity, call_id)
        if call.buyer_id != identity.org_id:
            raise Forbidden("Only the buyer that published this call can change it.")
        return await self._form(request, conn, call.project_id, form_of(call, request.app.state.settings.timezone),
                                {}, call_id)

    @post("/calls/{call_id:int}/edit", opt=BUYERS_OPT)
    async def edit(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        call = await calls.get_call(conn, identity, call_id)
        return await self._submit(request, conn, identity, call.project_id, call_id)

    @post("/calls/{call_id:int}/publish", opt=BUYERS_OPT)
    async def publish(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                await calls.publish_call(conn, identity, call_id, request.app.state.settings.timezone)
        except (Invalid, Conflict) as exc:
            return await call_page(request, conn, identity, call_id, exc.status,
                                   exc.field_errors() or {"_": exc.text()})
        return redirect(f"/calls/{call_id}")

    @post("/calls/{call_id:int}/questions", opt=PROVIDERS_OPT)
    async def ask(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                data = parse(await form_data(request), QuestionInput)
                await questions.ask(conn, identity, call_id, data.question)
        except (Invalid, Conflict) as exc:
            return await call_page(request, conn, identity, call_id, exc.status,
                                   exc.field_errors() or {"_": exc.text()})
        return redirect(f"/calls/{call_id}#questions")

    @post("/questions/{question_id:int}/answer", opt=BUYERS_OPT)
    async def answer(self, request: Request, conn: Db, identity: User, question_id: FromPath[int]) -> Response:
        call_id = await conn.fetchval("select call_id from call_questions where id = $1", question_id)
        try:
            async with conn.transaction():
                data = parse(await form_data(request), AnswerInput)
                await questions.answer(conn, identity, question_id, data.answer)
        except (Invalid, Conflict) as exc:
            if call_id is None:
                raise
            return await call_page(request, conn, identity, call_id, exc.status,
                                   exc.field_errors() or {"_": exc.text()})
        return redirect(f"/calls/{call_id}#questions")

    @post("/calls/{call_id:int}/fail", opt=BUYERS_OPT)
    async def fail(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                await call_evaluation.declare_failed(conn, identity, call_id)
        except Conflict as exc:
            return await call_page(request, conn, identity, call_id, exc.status, {"_": exc.text()})
        return redirect(f"/calls/{call_id}")

    @post("/calls/{call_id:int}/award", opt=BUYERS_OPT)
    async def award(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        try:
            require_confirmation(await form_data(request), "award")
            async with conn.transaction():
                await awards.award(conn, identity, call_id, request.app.state.settings.timezone)
        except (Invalid, Conflict) as exc:
            return await call_page(request, conn, identity, call_id, exc.status, form_errors(exc))
        return done(f"/calls/{call_id}#award", "awarded")

    @post("/calls/{call_id:int}/objections", opt=PROVIDERS_OPT)
    async def object_to(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                await awards.object_to(conn, identity, call_id, str((await form_data(request)).get("text", "")))
        except (Invalid, Conflict) as exc:
            return await call_page(request, conn, identity, call_id, exc.status,
                                   exc.field_errors() or {"_": exc.text()})
        return redirect(f"/calls/{call_id}#award")

    @post("/objections/{objection_id:int}/{action:str}", opt=BUYERS_OPT)
    async def answer_objection(self, request: Request, conn: Db, identity: User, objection_id: FromPath[int],
                               action: FromPath[ObjectionAction]) -> Response:
        """For a call's award or a review batch's decision; the answer shows where the objection was raised."""
        where = await conn.fetchrow(
            """select coalesce(a.call_id, cb.call_id) as call_id, cb.number from objections x
                 left join awards a on a.id = x.award_id left join call_batches cb on cb.id = x.batch_id
                where x.id = $1""", objection_id)
        try:
            async with conn.transaction():
                await awards.answer_objection(conn, identity, objection_id, action,
                                              str((await form_data(request)).get("answer", "")))
        except (Invalid, Conflict) as exc:
            if where is None:
                raise
            errors = exc.field_errors() or {"_": exc.text()}
            if where["number"] is not None:
                return await batch_page(request, conn, identity, where["call_id"], where["number"], exc.status, errors)
            return await call_page(request, conn, identity, where["call_id"], exc.status, errors)
        if where["number"] is not None:
            return redirect(f"/calls/{where['call_id']}/batches/{where['number']}#objections")
        return redirect(f"/calls/{where['call_id']}#award")

    @post("/calls/{call_id:int}/batches", opt=BUYERS_OPT)
    async def cut_off(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                number = await batches.cut_off(conn, identity, call_id)
        except Conflict as exc:
            return await call_page(request, conn, identity, call_id, exc.status, {"_": exc.text()})
        return redirect(f"/calls/{call_id}/batches/{number}")

    @post("/calls/{call_id:int}/cancel", opt=BUYERS_OPT)
    async def cancel(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                await calls.cancel_call(conn, identity, call_id, parse(await form_data(request), Decision).reason)
        except (Invalid, Conflict) as exc:
            return await call_page(request, conn, identity, call_id, exc.status,
                                   exc.field_errors() or {"_": exc.text()})
        return redirect(f"/calls/{call_id}")


async def call_page(request: Request, conn: asyncpg.Connection, identity: Any, call_id: int,
                    status: int = 200, errors: dict[str, str] | None = None) -> Response:
    call = await calls.get_call(conn, identity, call_id)
    owner = identity is not None and identity.acts_for_verified and identity.org_id == call.buyer_id
    procedure = next(p for p in await calls.procedure_types(conn) if p.code == call.procedure_type)
    entry = await conn.fetchrow("select id, code, name_zh, name_en from catalogue_entries where id = $1",
                                call.catalogue_entry_id)
    actions = [a for a in ("publish", "edit", "cancel") if calls_workflow.allowed(a, call.status)] if owner else []
    asked = await questions.questions(conn, identity, call_id)
    mine = await bids.my_bid(conn, identity, call_id) if identity else None
    contract_id = await conn.fetchval("select k.id from contracts k join awards a on a.id = k.award_id "
                                      "where k.call_id = $1 and a.batch_id is null", call_id)
    return page(request, "procurement/call.html", status=status, call=call, owner=owner, procedure=procedure,
                my_bid=mine, bid_count=await bids.public_count(conn, call_id),
                award=await awards.current_award(conn, identity, call_id),
                contract_id=contract_id if contract_id in await contracts.readable(conn, identity, [contract_id]) else None,
                objections=await awards.objections(conn, call_id),
                is_bidder=identity is not None and bool(await conn.fetchval(
                    "select 1 from bids where call_id = $1 and provider_id = $2 and status = 'submitted'",
                    call_id, identity.org_id)),
                panel_id=await conn.fetchval("select id from panels where subject_type = 'call' and subject_id = $1",
                                             call_id),
                questions=asked, can_ask=identity is not None and identity.acts_for_verified
                and identity.org_kind == "provider" and call.status == "open",
                entry=entry, actions=actions, revisions=await calls.revisions(conn, call_id), errors=errors or {},
                project=await needs.get_project(conn, call.project_id),
                docking=await dockings.of_call(conn, call_id),
                **await _round(conn, identity, call))


async def _round(conn: asyncpg.Connection, identity: Any, call: Call) -> dict[str, Any]:
    """An all-year round's review batches, its budget, and the proposer's own proposals in them."""
    if call.deadline_at is not None or call.published_at is None:
        return {}
    reviewed = [b for b in await bids.readable_bids(conn, identity, call.id)
                if b.batch_id is not None and identity is not None and b.provider_id == identity.org_id]
    return {"batches": await batches.batches_of(conn, call.id), "round_budget": await batches.budget(conn, call.id),
            "my_reviewed": reviewed}


async def _places(conn: asyncpg.Connection) -> dict[str, Any]:
    return {"places": await jurisdictions(conn)}


class CallApi(Controller):
    path = "/api"
    tags = ["calls"]

    @get("/procedure-types", opt=PUBLIC_OPT, summary="Procedure types and their rules")
    async def procedure_types(self, conn: Db) -> list[ProcedureType]:
        return await calls.procedure_types(conn)

    @get("/calls", opt=PUBLIC_OPT, summary="Published calls")
    async def index(self, conn: Db, place: Place = None, procedure: Procedure = None, limit: Limit = 50,
                    offset: Offset = 0) -> list[Call]:
        places = await within(conn, place) if place else None
        return await calls.list_calls(conn, places=places, procedure=procedure, limit=limit, offset=offset)

    @get("/calls/{call_id:int}", opt=PUBLIC_OPT, summary="A call")
    async def detail(self, conn: Db, identity: MaybeUser, call_id: FromPath[int]) -> Call:
        return await calls.get_call(conn, identity, call_id)

    @get("/calls/{call_id:int}/revisions", opt=PUBLIC_OPT, summary="Every change made to a published call")
    async def revisions(self, conn: Db, identity: MaybeUser, call_id: FromPath[int]) -> list[Revision]:
        await calls.get_call(conn, identity, call_id)
        return await calls.revisions(conn, call_id)

    @get("/calls/{call_id:int}/questions", opt=PUBLIC_OPT, summary="Questions and answers (askers are not shown)")
    async def questions(self, conn: Db, identity: MaybeUser, call_id: FromPath[int]) -> list[Question]:
        return await questions.questions(conn, identity, call_id)

    @post("/calls/{call_id:int}/questions", opt=PROVIDERS_OPT, status_code=201, summary="Ask a question")
    async def ask(self, conn: Db, identity: User, call_id: FromPath[int], data: JSONBody[QuestionInput]) -> dict[str, int]:
        return {"question_id": await questions.ask(conn, identity, call_id, data.question)}

    @post("/questions/{question_id:int}/answer", opt=BUYERS_OPT, status_code=201, summary="Answer a question, publicly")
    async def answer(self, conn: Db, identity: User, question_id: FromPath[int],
                     data: JSONBody[AnswerInput]) -> dict[str, str]:
        await questions.answer(conn, identity, question_id, data.answer)
        return {"status": "answered"}

    @post("/calls/{call_id:int}/award", opt=BUYERS_OPT, status_code=201,
          summary="Award the call to the panel's top-ranked bid and start the public notice")
    async def award(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> awards.Award:
        await awards.award(conn, identity, call_id, request.app.state.settings.timezone)
        return await awards.current_award(conn, identity, call_id)

    @post("/calls/{call_id:int}/fail", opt=BUYERS_OPT, status_code=201,
          summary="Declare the call failed (too few bids stand, or none reached the minimum scores)")
    async def fail(self, conn: Db, identity: User, call_id: FromPath[int]) -> dict[str, str]:
        return {"status": "failed", "reason": await call_evaluation.declare_failed(conn, identity, call_id)}

    @get("/calls/{call_id:int}/award", opt=PUBLIC_OPT, summary="The standing award, with the scores")
    async def current_award(self, conn: Db, identity: MaybeUser, call_id: FromPath[int]) -> awards.Award | None:
        await calls.get_call(conn, identity, call_id)
        return await awards.current_award(conn, identity, call_id)

    @get("/calls/{call_id:int}/objections", opt=PUBLIC_OPT, summary="Objections to the award and their answers")
    async def objections(self, conn: Db, identity: MaybeUser, call_id: FromPath[int]) -> list[awards.Objection]:
        await calls.get_call(conn, identity, call_id)
        return await awards.objections(conn, call_id)

    @post("/calls/{call_id:int}/objections", opt=PROVIDERS_OPT, status_code=201, summary="Object to the award (bidders)")
    async def object_to(self, conn: Db, identity: User, call_id: FromPath[int],
                        data: JSONBody[awards.ObjectionInput]) -> dict[str, int]:
        return {"objection_id": await awards.object_to(conn, identity, call_id, data.text)}

    @post("/objections/{objection_id:int}/{action:str}", opt=BUYERS_OPT, status_code=201,
          summary="Uphold or reject an objection (upholding reopens the evaluation)")
    async def answer_objection(self, conn: Db, identity: User, objection_id: FromPath[int],
                               action: FromPath[ObjectionAction], data: JSONBody[awards.ObjectionAnswer]) -> dict[str, str]:
        return {"status": await awards.answer_objection(conn, identity, objection_id, action, data.answer)}

    @post("/calls", opt=BUYERS_OPT, status_code=201, summary="Draft a call for a project")
    async def create(self, conn: Db, identity: User, data: JSONBody[CallInput]) -> Call:
        return await calls.get_call(conn, identity, await calls.create_call(conn, identity, data))

    @put("/calls/{call_id:int}", opt=BUYERS_OPT, summary="Change a call (kept as a revision once published)")
    async def update(self, request: Request, conn: Db, identity: User, call_id: FromPath[int],
                     data: JSONBody[CallInput]) -> Call:
        await calls.update_call(conn, identity, call_id, data, request.app.state.settings.timezone)
        return await calls.get_call(conn, identity, call_id)

    @post("/calls/{call_id:int}/publish", opt=BUYERS_OPT, status_code=201, summary="Publish (again: no change)")
    async def publish(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Call:
        return await calls.publish_call(conn, identity, call_id, request.app.state.settings.timezone)

    @post("/calls/{call_id:int}/cancel", opt=BUYERS_OPT, status_code=201, summary="Cancel a call, with the reason")
    async def cancel(self, conn: Db, identity: User, call_id: FromPath[int], data: JSONBody[Decision]) -> Call:
        await calls.cancel_call(conn, identity, call_id, data.reason)
        return await calls.get_call(conn, identity, call_id)
