"""Call pages and their JSON twins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import asyncpg
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from market.core.access import PUBLIC, member
from market.core.errors import Forbidden
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.validation import parse
from market.core.web import (
    PAGE_SIZE,
    CursorParam,
    Db,
    MaybeUser,
    User,
    done,
    form_data,
    keyset_pager,
    page,
    require_confirmation,
)
from market.places import services as place_tree
from market.procurement.awards import batches, panels
from market.procurement.awards import services as awards
from market.procurement.calls import questions
from market.procurement.calls import services as calls
from market.procurement.calls.forms import (
    DEFAULT_CRITERIA,
    MAX_CRITERIA,
    call_from_form,
    form_of,
)
from market.procurement.calls.models import (
    AnswerInput,
    Call,
    CallInput,
    CallPage,
    ProcedureType,
    Question,
    QuestionInput,
    Revision,
)
from market.procurement.calls.views import CallView, call_view
from market.procurement.needs import services as needs
from market.procurement.needs.models import Decision

PUBLIC_OPT = {"access": PUBLIC}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
PROVIDERS_OPT = {"access": member(N_("social organisations"), "provider")}
FORM = {"shows": "form"}
ObjectionAction = Literal["uphold", "reject"]
Place = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]
Procedure = Annotated[str | None, QueryParameter(pattern=r"^[a-z_]{2,40}$")]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Query = Annotated[str | None, QueryParameter(max_length=100)]
# Only the open calls the organisation acted for may bid on (a verified social organisation's).
Biddable = Annotated[bool, QueryParameter()]


def _shown(view: CallView) -> dict[str, Any]:
    """The call view as the page's names: the call itself, with what the page adds."""
    return {"call": view, **{name: getattr(view, name) for name in view.__struct_fields__
                             if name not in Call.__struct_fields__}}


async def call_step(request: Request, conn: asyncpg.Connection, identity: Any, call_id: int,
                     action: Callable[[dict[str, Any]], Awaitable[Response]]) -> Response:
    """A step taken on the call page (or answering an objection to its award): refused, the page shows
    again with the reason."""
    async def context() -> dict[str, Any]:
        return _shown(await call_view(conn, identity, call_id))
    return await form_step(request, conn, "procurement/call.html", action, context=context)


class CallPages(Controller):
    include_in_schema = False

    @get("/calls", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, identity: MaybeUser, place: Place = None,
                    procedure: Procedure = None, q: Query = None, biddable: Biddable = False,
                    cursor: CursorParam = None) -> Response:
        places = await place_tree.within(conn, place) if place else None
        found = await calls.call_page(conn, places=places, procedure=procedure, q=q, cursor=cursor, limit=PAGE_SIZE,
                                      biddable=biddable, identity=identity)
        return page(request, "procurement/calls.html", calls=found.items, pager=keyset_pager(request, found, len(found.items)),
                    procedures={p.code: p for p in await calls.procedure_types(conn)},
                    may_filter_biddable=bool(identity and identity.acts_for_verified and identity.org_kind == "provider"),
                    filters={"place": place, "procedure": procedure or "", "q": q or "", "biddable": biddable},
                    place_picker=await place_tree.picker(conn, place))

    @get("/calls/{call_id:int}", opt=PUBLIC_OPT)
    async def detail(self, request: Request, conn: Db, identity: MaybeUser, call_id: FromPath[int]) -> Response:
        return page(request, "procurement/call.html", errors={}, **_shown(await call_view(conn, identity, call_id)))

    @get("/projects/{project_id:int}/calls/new", opt=BUYERS_OPT | FORM)
    async def new(self, request: Request, conn: Db, identity: User, project_id: FromPath[int]) -> Response:
        project = await needs.get_project(conn, project_id)
        form: dict[str, Any] = {"title_zh": project.title_zh, "description": project.description,
                                "budget_ceiling_yuan": f"{project.budget_fen / 100:.2f}",
                                "procedure_type": "open_competition"}
        for i, (zh, en, weight, minimum, price) in enumerate(DEFAULT_CRITERIA):
            form.update({f"criteria-{i}-name_zh": zh, f"criteria-{i}-name_en": en, f"criteria-{i}-weight": weight,
                         f"criteria-{i}-min_score": minimum, f"criteria-{i}-is_price": price})
        return page(request, "procurement/call_form.html", form=form, errors={},
                    **await _form_context(conn, project_id, None))

    async def _submit(self, request: Request, conn: asyncpg.Connection, identity: Any, project_id: int,
                      call_id: int | None) -> Response:
        form = await form_data(request)
        multi = {"provider_types": (await request.form()).getall("provider_types", [])}
        form["provider_types"] = multi["provider_types"]
        tz = request.app.state.settings.timezone

        async def action(form: dict[str, Any]) -> Response:
            data = call_from_form(form, multi, project_id, tz)
            if call_id is None:
                return done(f"/calls/{await calls.create_call(conn, identity, data)}", "call_drafted")
            await calls.update_call(conn, identity, call_id, data, tz)
            return done(f"/calls/{call_id}", "call_saved")

        async def context() -> dict[str, Any]:
            return await _form_context(conn, project_id, call_id)
        return await form_step(request, conn, "procurement/call_form.html", action, context=context, form=form,
                               fields={"budget_ceiling_yuan": "budget_ceiling_fen"})

    @post("/projects/{project_id:int}/calls/new", opt=BUYERS_OPT)
    async def create(self, request: Request, conn: Db, identity: User, project_id: FromPath[int]) -> Response:
        return await self._submit(request, conn, identity, project_id, None)

    @get("/calls/{call_id:int}/edit", opt=BUYERS_OPT | FORM)
    async def edit_form(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        call = await calls.get_call(conn, identity, call_id)
        if call.buyer_id != identity.org_id:
            raise Forbidden("Only the buyer that published this call can change it.")
        return page(request, "procurement/call_form.html", form=form_of(call, request.app.state.settings.timezone),
                    errors={}, **await _form_context(conn, call.project_id, call_id))

    @post("/calls/{call_id:int}/edit", opt=BUYERS_OPT)
    async def edit(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        call = await calls.get_call(conn, identity, call_id)
        return await self._submit(request, conn, identity, call.project_id, call_id)

    @post("/calls/{call_id:int}/publish", opt=BUYERS_OPT)
    async def publish(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await calls.publish_call(conn, identity, call_id, request.app.state.settings.timezone)
            return done(f"/calls/{call_id}", "call_published")
        return await call_step(request, conn, identity, call_id, action)

    @post("/calls/{call_id:int}/questions", opt=PROVIDERS_OPT)
    async def ask(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await questions.ask(conn, identity, call_id, parse(form, QuestionInput).question)
            return done(f"/calls/{call_id}#questions", "question_asked")
        return await call_step(request, conn, identity, call_id, action)

    @post("/questions/{question_id:int}/answer", opt=BUYERS_OPT)
    async def answer(self, request: Request, conn: Db, identity: User, question_id: FromPath[int]) -> Response:
        call_id = await questions.call_of(conn, question_id)

        async def action(form: dict[str, Any]) -> Response:
            await questions.answer(conn, identity, question_id, parse(form, AnswerInput).answer)
            return done(f"/calls/{call_id}#questions", "question_answered")
        return await call_step(request, conn, identity, call_id, action)

    @post("/calls/{call_id:int}/panel", opt=BUYERS_OPT)
    async def form_panel(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        """Procurement forms the panel for its call, on the evaluation engine."""
        async def action(form: dict[str, Any]) -> Response:
            return done(f"/panels/{await panels.form_panel(conn, identity, call_id)}", "panel_formed")
        return await call_step(request, conn, identity, call_id, action)

    @post("/calls/{call_id:int}/fail", opt=BUYERS_OPT)
    async def fail(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await panels.declare_failed(conn, identity, call_id)
            return done(f"/calls/{call_id}", "call_failed")
        return await call_step(request, conn, identity, call_id, action)

    @post("/calls/{call_id:int}/award", opt=BUYERS_OPT)
    async def award(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            require_confirmation(form, "award")
            await awards.award(conn, identity, call_id, request.app.state.settings.timezone)
            return done(f"/calls/{call_id}#award", "awarded")
        return await call_step(request, conn, identity, call_id, action)

    @post("/calls/{call_id:int}/objections", opt=PROVIDERS_OPT)
    async def object_to(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await awards.object_to(conn, identity, call_id, str(form.get("text", "")))
            return done(f"/calls/{call_id}#award", "objection_raised")
        return await call_step(request, conn, identity, call_id, action)

    @post("/calls/{call_id:int}/batches", opt=BUYERS_OPT)
    async def cut_off(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            return done(f"/calls/{call_id}/batches/{await batches.cut_off(conn, identity, call_id)}", "batch_opened")
        return await call_step(request, conn, identity, call_id, action)

    @post("/calls/{call_id:int}/cancel", opt=BUYERS_OPT)
    async def cancel(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await calls.cancel_call(conn, identity, call_id, parse(form, Decision).reason)
            return done(f"/calls/{call_id}", "call_cancelled")
        return await call_step(request, conn, identity, call_id, action)


async def _form_context(conn: asyncpg.Connection, project_id: int, call_id: int | None) -> dict[str, Any]:
    return {"call_id": call_id, "project": await needs.get_project(conn, project_id), "max_criteria": MAX_CRITERIA,
            "procedures": await calls.procedure_types(conn)}


class CallApi(Controller):
    path = "/api"
    tags = ["calls"]

    @get("/procedure-types", opt=PUBLIC_OPT, summary="Procedure types and their rules")
    async def procedure_types(self, conn: Db) -> list[ProcedureType]:
        return await calls.procedure_types(conn)

    @get("/calls", opt=PUBLIC_OPT, summary="Published calls (biddable=true: only those your organisation may bid on)")
    async def index(self, conn: Db, identity: MaybeUser, place: Place = None, procedure: Procedure = None,
                    q: Query = None, biddable: Biddable = False, limit: Limit = 50,
                    cursor: CursorParam = None) -> CallPage:
        places = await place_tree.within(conn, place) if place else None
        return await calls.call_page(conn, places=places, procedure=procedure, q=q, cursor=cursor, limit=limit,
                                     biddable=biddable, identity=identity)

    @get("/calls/{call_id:int}", opt=PUBLIC_OPT,
         summary="A call as its page shows it: the call, its award, questions, objections, and what you may do")
    async def detail(self, conn: Db, identity: MaybeUser, call_id: FromPath[int]) -> CallView:
        return await call_view(conn, identity, call_id)

    @post("/calls/{call_id:int}/panel", opt=BUYERS_OPT, status_code=201, summary="Form the panel for a call's bids")
    async def form_panel(self, conn: Db, identity: User, call_id: FromPath[int]) -> dict[str, int]:
        return {"panel_id": await panels.form_panel(conn, identity, call_id)}

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
        made = await awards.current_award(conn, identity, call_id)
        # Made a moment ago, in this request's transaction: it is the standing award.
        assert made is not None
        return made

    @post("/calls/{call_id:int}/fail", opt=BUYERS_OPT, status_code=201,
          summary="Declare the call failed (too few bids stand, or none reached the minimum scores)")
    async def fail(self, conn: Db, identity: User, call_id: FromPath[int]) -> dict[str, str]:
        return {"status": "failed", "reason": await panels.declare_failed(conn, identity, call_id)}

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
