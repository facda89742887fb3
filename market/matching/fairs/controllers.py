"""The fair's pages (organiser's desk, the projector board, the funder's paddle, the report), its
live stream and its JSON twins: each page renders the view `fair_views` builds, and its twin returns
it. Every rule is in `fairs`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Mapping
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from market.core.access import PUBLIC, SIGNED_IN, Identity, member
from market.core.errors import Invalid, InvalidFields
from market.core.forms import Context, form_step
from market.core.i18n import N_, gettext
from market.core.money import parse_yuan
from market.core.settings import Settings
from market.core.validation import local_times, parse
from market.core.web import (
    PAGE_SIZE,
    Config,
    CursorParam,
    Db,
    MaybeUser,
    User,
    done,
    keyset_pager,
    page,
    redirect,
    require_confirmation,
)
from market.matching.docking import dockings
from market.matching.fairs import services as fairs
from market.matching.fairs import views as fair_views
from market.matching.fairs.live import hub_of
from market.matching.fairs.models import (
    FAIR_STATUS_NAMES,
    Board,
    Fair,
    FairInput,
    ItemInput,
    RaiseInput,
    Stage,
)
from market.matching.scoring.weights import configured as configured_weights

PUBLIC_OPT = {"access": PUBLIC}
SIGNED_IN_OPT = {"access": SIGNED_IN}
FUNDERS_OPT = {"access": member(N_("funders"), "funder")}
KEEP_ALIVE_SECONDS = 15
TARGET_YUAN = {"target_yuan": "target_fen"}
AMOUNT_YUAN = {"amount_yuan": "amount_fen"}
MOVE_DONE = {"open": "fair_opened", "go_live": "fair_live", "stage": "fair_staged", "close": "fair_closed"}


def fair_from_form(raw: dict[str, Any], tz: str) -> FairInput:
    """The fair form as a FairInput: its local times read in the deployment's time zone."""
    problems: list[Invalid] = []
    data = {**raw, **local_times(raw, ("starts_at", "ends_at"), tz, problems)}
    if problems:
        raise InvalidFields(problems)
    return parse(data, FairInput)


def _fields(view: msgspec.Struct) -> dict[str, Any]:
    """A view's fields, the names its template reads."""
    return msgspec.structs.asdict(view)


def _fair_context(conn: asyncpg.Connection, identity: Identity, fair_id: int, settings: Settings) -> Context:
    async def context() -> Mapping[str, Any]:
        return _fields(await fair_views.fair_page(conn, identity, fair_id, configured_weights(settings)))
    return context


def _paddle_context(conn: asyncpg.Connection, identity: Identity, fair_id: int) -> Context:
    async def context() -> Mapping[str, Any]:
        return _fields(await fair_views.paddle_page(conn, identity, fair_id))
    return context


class FairPages(Controller):
    include_in_schema = False

    @get("/fairs", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, identity: MaybeUser, cursor: CursorParam = None) -> Response:
        view, window = await fair_views.fairs_page(conn, identity, cursor=cursor)
        return page(request, "matching/fairs.html", **_fields(view), pager=keyset_pager(request, window))

    @get("/fairs/new", opt={**SIGNED_IN_OPT, "shows": "form"})
    async def new(self, request: Request, identity: User) -> Response:
        return page(request, "matching/fair_form.html", form={}, errors={})

    @post("/fairs", opt=SIGNED_IN_OPT)
    async def create(self, request: Request, conn: Db, identity: User, settings: Config) -> Response:
        async def create(form: dict[str, Any]) -> Response:
            return done(f"/fairs/{await fairs.create(conn, identity, fair_from_form(form, settings.timezone))}",
                        "fair_created")
        return await form_step(request, conn, "matching/fair_form.html", create)

    @get("/fairs/{fair_id:int}", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, identity: MaybeUser, settings: Config,
                   fair_id: FromPath[int]) -> Response:
        view = await fair_views.fair_page(conn, identity, fair_id, configured_weights(settings))
        return page(request, "matching/fair.html", **_fields(view), errors={}, form={})

    @post("/fairs/{fair_id:int}/items", opt=SIGNED_IN_OPT)
    async def add_item(self, request: Request, conn: Db, identity: User, settings: Config,
                       fair_id: FromPath[int]) -> Response:
        # The provider is named, not chosen from every one (a city has 16,000).
        matches: list[tuple[int, str]] = []

        async def add(form: dict[str, Any]) -> Response:
            target = parse_yuan(str(form.get("target_yuan", "")), field="target_yuan")
            provider = await dockings.provider_in_form(conn, form, matches, required=False)
            await fairs.add_item(conn, identity, fair_id, parse(
                {"project_id": form.get("project_id"), "provider_id": provider,
                 "pitch": form.get("pitch", ""), "target_fen": target,
                 "all_or_nothing": form.get("all_or_nothing") == "on"}, ItemInput), configured_weights(settings))
            return done(f"/fairs/{fair_id}#order", "fair_item_added")
        async def context() -> Mapping[str, Any]:
            return {**await _fair_context(conn, identity, fair_id, settings)(), "provider_matches": matches}
        return await form_step(request, conn, "matching/fair.html", add, context=context,
                               fields={**TARGET_YUAN, "provider": "provider_id"})

    @post("/fairs/{fair_id:int}/actions/{action:str}", opt=SIGNED_IN_OPT)
    async def act(self, request: Request, conn: Db, identity: User, settings: Config, fair_id: FromPath[int],
                  action: FromPath[str]) -> Response:
        async def move(form: dict[str, Any]) -> Response:
            if action == "close":
                require_confirmation(form, action)
            stage = int(form["on_stage"]) if str(form.get("on_stage", "")).isdigit() else None
            await fairs.move(conn, identity, fair_id, action, stage)
            return done(f"/fairs/{fair_id}", MOVE_DONE[action])
        return await form_step(request, conn, "matching/fair.html", move,
                               context=_fair_context(conn, identity, fair_id, settings))

    @post("/fairs/{fair_id:int}/register", opt=FUNDERS_OPT)
    async def register(self, request: Request, conn: Db, identity: User, settings: Config,
                       fair_id: FromPath[int]) -> Response:
        async def register(_: dict[str, Any]) -> Response:
            await fairs.register(conn, identity, fair_id)
            return done(f"/fairs/{fair_id}", "fair_registered")
        return await form_step(request, conn, "matching/fair.html", register,
                               context=_fair_context(conn, identity, fair_id, settings))

    @post("/fairs/{fair_id:int}/interest/{project_id:int}", opt=FUNDERS_OPT)
    async def interest(self, request: Request, conn: Db, identity: User, settings: Config, fair_id: FromPath[int],
                       project_id: FromPath[int]) -> Response:
        async def mark(form: dict[str, Any]) -> Response:
            interested = form.get("interested") != "0"
            await fairs.mark_interest(conn, identity, fair_id, project_id, interested)
            return done(f"/fairs/{fair_id}#order", "fair_interest_marked" if interested else "fair_interest_cleared")
        return await form_step(request, conn, "matching/fair.html", mark,
                               context=_fair_context(conn, identity, fair_id, settings))

    @get("/fairs/{fair_id:int}/board", opt=PUBLIC_OPT)
    async def board(self, request: Request, conn: Db, identity: MaybeUser, fair_id: FromPath[int]) -> Response:
        # The page's script names the status the event stream carries, in the page's language.
        view = await fair_views.board_page(conn, identity, fair_id)
        return page(request, "matching/board.html", fair=view.fair, board=view,
                    status_names={k: gettext(v) for k, v in FAIR_STATUS_NAMES.items()})

    @get("/fairs/{fair_id:int}/events", opt={**PUBLIC_OPT, "shows": "stream"})
    async def events(self, request: Request, identity: MaybeUser, fair_id: FromPath[int]) -> ServerSentEvent:
        """The board as it changes, as server-sent events; no database connection is held while waiting."""
        hub = hub_of(request.app.state)
        async with hub.pool.acquire() as conn:
            await fairs.get(conn, identity, fair_id)

        async def stream() -> AsyncGenerator[ServerSentEventMessage, None]:
            # Subscribed only once the stream runs: a client gone before it starts (a HEAD, one
            # leaving at once) would otherwise stay subscribed, as a generator never started never
            # reaches its `finally`.
            queue = await hub.subscribe(fair_id)
            try:
                yield ServerSentEventMessage(event="board", data=await hub.current(fair_id))
                while True:
                    try:
                        board = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
                    except TimeoutError:
                        yield ServerSentEventMessage(comment="keep-alive")
                        continue
                    yield ServerSentEventMessage(event="board", data=board)
            finally:
                hub.unsubscribe(fair_id, queue)

        return ServerSentEvent(stream(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @get("/fairs/{fair_id:int}/paddle", opt=FUNDERS_OPT)
    async def paddle(self, request: Request, conn: Db, identity: User, fair_id: FromPath[int]) -> Response:
        view = await fair_views.paddle_page(conn, identity, fair_id)
        return page(request, "matching/paddle.html", **_fields(view), token=uuid.uuid4(),
                    form={"project_id": view.on_stage_project}, errors={},
                    confirmed=request.query_params.get("confirmed"))

    @post("/fairs/{fair_id:int}/raises", opt=FUNDERS_OPT)
    async def propose(self, request: Request, conn: Db, identity: User, fair_id: FromPath[int]) -> Response:
        async def propose(form: dict[str, Any]) -> Response:
            amount = parse_yuan(str(form.get("amount_yuan", "")), field="amount_yuan")
            token = await fairs.raise_paddle(conn, identity, fair_id, parse(
                {"project_id": form.get("project_id"), "token": form.get("token"), "amount_fen": amount}, RaiseInput))
            raised = next(r for r in await fairs.my_raises(conn, identity, fair_id) if r.token == token)
            return page(request, "matching/paddle_confirm.html", fair=await fairs.get(conn, identity, fair_id),
                        raised=raised)
        return await form_step(request, conn, "matching/paddle.html", propose,
                               context=_paddle_context(conn, identity, fair_id), fields=AMOUNT_YUAN,
                               token=uuid.uuid4(), confirmed=None)

    @post("/fairs/{fair_id:int}/raises/{raise_id:uuid}/confirm", opt=FUNDERS_OPT)
    async def confirm(self, request: Request, conn: Db, identity: User, fair_id: FromPath[int],
                      raise_id: FromPath[uuid.UUID]) -> Response:
        async def confirm(_: dict[str, Any]) -> Response:
            await fairs.confirm_raise(conn, identity, fair_id, raise_id)
            return redirect(f"/fairs/{fair_id}/paddle?confirmed={raise_id}")
        return await form_step(request, conn, "matching/paddle.html", confirm,
                               context=_paddle_context(conn, identity, fair_id), token=uuid.uuid4(), confirmed=None)

    @get("/fairs/{fair_id:int}/report", opt=PUBLIC_OPT)
    async def report(self, request: Request, conn: Db, identity: MaybeUser, fair_id: FromPath[int]) -> Response:
        return page(request, "matching/report.html", **_fields(await fair_views.report_page(conn, identity, fair_id)))


class FairApi(Controller):
    path = "/api/fairs"
    tags = ["matching"]

    @get("/", opt=PUBLIC_OPT, summary="Charity matchmaking fairs, and whether you may set one up")
    async def index(self, conn: Db, identity: MaybeUser, cursor: CursorParam = None,
                    limit: Annotated[int, QueryParameter(ge=1, le=200)] = PAGE_SIZE) -> fair_views.FairsPage:
        return (await fair_views.fairs_page(conn, identity, cursor=cursor, limit=limit))[0]

    @post("/", opt=SIGNED_IN_OPT, status_code=201, summary="Set up a fair (verified buyers and funders)")
    async def create(self, conn: Db, identity: User, data: JSONBody[FairInput]) -> Fair:
        return await fairs.get(conn, identity, await fairs.create(conn, identity, data))

    @get("/{fair_id:int}", opt=PUBLIC_OPT,
         summary="A fair's page: the fair, its running order with the interest in each project, the projects "
                 "suggested to a registered funder, and for its organiser what can still be lined up")
    async def show(self, conn: Db, identity: MaybeUser, settings: Config,
                   fair_id: FromPath[int]) -> fair_views.FairPage:
        return await fair_views.fair_page(conn, identity, fair_id, configured_weights(settings))

    @post("/{fair_id:int}/items", opt=SIGNED_IN_OPT, status_code=201,
          summary="Add a pre-screened project to the running order")
    async def add_item(self, conn: Db, identity: User, settings: Config, fair_id: FromPath[int],
                       data: JSONBody[ItemInput]) -> Board:
        await fairs.add_item(conn, identity, fair_id, data, configured_weights(settings))
        return await fairs.board(conn, fair_id)

    @post("/{fair_id:int}/actions/{action:str}", opt=SIGNED_IN_OPT, status_code=201,
          summary="open, go_live or close the fair (its organiser)")
    async def act(self, conn: Db, identity: User, fair_id: FromPath[int], action: FromPath[str]) -> Fair:
        await fairs.move(conn, identity, fair_id, action)
        return await fairs.get(conn, identity, fair_id)

    @post("/{fair_id:int}/stage", opt=SIGNED_IN_OPT, status_code=201, summary="Put a project on stage")
    async def stage(self, conn: Db, identity: User, fair_id: FromPath[int], data: JSONBody[Stage]) -> Board:
        await fairs.move(conn, identity, fair_id, "stage", data.on_stage)
        return await fairs.board(conn, fair_id)

    @post("/{fair_id:int}/register", opt=FUNDERS_OPT, status_code=201, summary="Register your organisation")
    async def register(self, conn: Db, identity: User, fair_id: FromPath[int]) -> Fair:
        await fairs.register(conn, identity, fair_id)
        return await fairs.get(conn, identity, fair_id)

    @get("/{fair_id:int}/board", opt=PUBLIC_OPT, summary="The live board")
    async def board(self, conn: Db, identity: MaybeUser, fair_id: FromPath[int]) -> fair_views.BoardPage:
        return await fair_views.board_page(conn, identity, fair_id)

    @get("/{fair_id:int}/paddle", opt=FUNDERS_OPT,
         summary="Your paddle: the running order to raise it for, the project on stage, and your raises")
    async def paddle(self, conn: Db, identity: User, fair_id: FromPath[int]) -> fair_views.PaddlePage:
        return await fair_views.paddle_page(conn, identity, fair_id)

    @post("/{fair_id:int}/raises", opt=FUNDERS_OPT, status_code=201,
          summary="Raise a paddle (first tap): propose an amount; the same token is the same raise")
    async def propose(self, conn: Db, identity: User, fair_id: FromPath[int],
                      data: JSONBody[RaiseInput]) -> dict[str, str]:
        return {"token": str(await fairs.raise_paddle(conn, identity, fair_id, data))}

    @post("/{fair_id:int}/raises/{raise_id:uuid}/confirm", opt=FUNDERS_OPT, status_code=201,
          summary="Confirm a raise (second tap): it becomes a pledge, once")
    async def confirm(self, conn: Db, identity: User, fair_id: FromPath[int],
                      raise_id: FromPath[uuid.UUID]) -> dict[str, int]:
        return {"pledge_id": await fairs.confirm_raise(conn, identity, fair_id, raise_id)}

    @get("/{fair_id:int}/report", opt=PUBLIC_OPT,
         summary="A closed fair's report, with the dockings accepted since and which of them you accept")
    async def report(self, conn: Db, identity: MaybeUser, fair_id: FromPath[int]) -> fair_views.ReportPage:
        return await fair_views.report_page(conn, identity, fair_id)
