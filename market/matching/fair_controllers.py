"""The fair's pages (organiser's desk, the projector board, the funder's paddle, the report), its
live stream and its JSON twins. Every rule is in `fairs`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage

from market.core.access import PUBLIC, SIGNED_IN, Identity, member
from market.core.errors import Conflict, Invalid, InvalidFields
from market.core.i18n import N_, gettext
from market.core.money import parse_yuan
from market.core.validation import local_times, parse
from market.core.web import (
    Config,
    Db,
    MaybeUser,
    Offset,
    User,
    done,
    form_data,
    form_errors,
    page,
    paged,
    redirect,
    require_confirmation,
)
from market.matching import dockings, fairs
from market.matching.docking_controllers import provider_choices
from market.matching.fair_models import (
    FAIR_STATUS_NAMES,
    Board,
    Fair,
    FairInput,
    ItemInput,
    RaiseInput,
    Report,
    Stage,
)
from market.matching.live import hub_of
from market.matching.weights import configured as configured_weights
from market.procurement.contracts import services as contracts

PUBLIC_OPT = {"access": PUBLIC}
SIGNED_IN_OPT = {"access": SIGNED_IN}
FUNDERS_OPT = {"access": member(N_("funders"), "funder")}
KEEP_ALIVE_SECONDS = 15


def fair_from_form(raw: dict[str, Any], tz: str) -> FairInput:
    """The fair form as a FairInput: its local times read in the deployment's time zone."""
    problems: list[Invalid] = []
    data = {**raw, **local_times(raw, ("starts_at", "ends_at"), tz, problems)}
    if problems:
        raise InvalidFields(problems)
    return parse(data, FairInput)


async def fair_page(request: Request, conn: asyncpg.Connection, identity: Identity | None, fair_id: int,
                    status: int = 200, errors: dict[str, str] | None = None,
                    form: dict[str, Any] | None = None) -> Response:
    fair = await fairs.get(conn, identity, fair_id)
    projects, providers = [], []
    if fair.organiser:
        projects = [(r["id"], r["title_zh"]) for r in await conn.fetch(
            "select id, title_zh from projects where status = 'approved' and id not in "
            "(select project_id from fair_items where fair_id = $1) order by id", fair_id)]
        providers = await provider_choices(conn)
    marked = set()
    if identity and identity.org_id:
        marked = {r["project_id"] for r in await conn.fetch(
            "select project_id from fair_interests where fair_id = $1 and funder_id = $2", fair_id, identity.org_id)}
    suggested = []
    if fair.registered and fair.status in ("open", "live"):
        suggested = await fairs.suggestions(conn, identity, fair_id, configured_weights(request.app.state.settings))
    return page(request, "matching/fair.html", status=status, fair=fair, board=await fairs.board(conn, fair_id),
                suggested=suggested,
                interests=await fairs.interests(conn, fair_id), marked=marked, projects=projects, providers=providers,
                errors=errors or {}, form=form or {})


class FairPages(Controller):
    include_in_schema = False

    @get("/fairs", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, identity: MaybeUser, offset: Offset = 0) -> Response:
        found, pages = paged(request, await fairs.list_fairs(conn, identity), offset)
        return page(request, "matching/fairs.html", fairs=found, pager=pages)

    @get("/fairs/new", opt=SIGNED_IN_OPT)
    async def new(self, request: Request, identity: User) -> Response:
        return page(request, "matching/fair_form.html", form={}, errors={})

    @post("/fairs", opt=SIGNED_IN_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        form = await form_data(request)
        try:
            async with conn.transaction():
                fair_id = await fairs.create(conn, identity,
                                             fair_from_form(form, request.app.state.settings.timezone))
        except Invalid as exc:
            return page(request, "matching/fair_form.html", status=400, form=form, errors=form_errors(exc))
        return redirect(f"/fairs/{fair_id}")

    @get("/fairs/{fair_id:int}", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, identity: MaybeUser, fair_id: FromPath[int]) -> Response:
        return await fair_page(request, conn, identity, fair_id)

    @post("/fairs/{fair_id:int}/items", opt=SIGNED_IN_OPT)
    async def add_item(self, request: Request, conn: Db, identity: User, fair_id: FromPath[int]) -> Response:
        form = await form_data(request)
        try:
            async with conn.transaction():
                target = parse_yuan(str(form.get("target_yuan", "")), field="target_yuan")
                await fairs.add_item(conn, identity, fair_id, parse(
                    {"project_id": form.get("project_id"), "provider_id": form.get("provider_id"),
                     "pitch": form.get("pitch", ""), "target_fen": target,
                     "all_or_nothing": form.get("all_or_nothing") == "on"}, ItemInput),
                    configured_weights(request.app.state.settings))
        except (Invalid, Conflict) as exc:
            return await fair_page(request, conn, identity, fair_id, exc.status, form_errors(exc), form)
        return redirect(f"/fairs/{fair_id}#order")

    @post("/fairs/{fair_id:int}/actions/{action:str}", opt=SIGNED_IN_OPT)
    async def act(self, request: Request, conn: Db, identity: User, fair_id: FromPath[int],
                  action: FromPath[str]) -> Response:
        form = await form_data(request)
        try:
            if action == "close":
                require_confirmation(form, action)
            async with conn.transaction():
                stage = int(form["on_stage"]) if str(form.get("on_stage", "")).isdigit() else None
                await fairs.move(conn, identity, fair_id, action, stage)
        except (Invalid, Conflict) as exc:
            return await fair_page(request, conn, identity, fair_id, exc.status, form_errors(exc))
        return done(f"/fairs/{fair_id}", "fair_closed") if action == "close" else redirect(f"/fairs/{fair_id}")

    @post("/fairs/{fair_id:int}/register", opt=FUNDERS_OPT)
    async def register(self, request: Request, conn: Db, identity: User, fair_id: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                await fairs.register(conn, identity, fair_id)
        except Conflict as exc:
            return await fair_page(request, conn, identity, fair_id, exc.status, form_errors(exc))
        return redirect(f"/fairs/{fair_id}")

    @post("/fairs/{fair_id:int}/interest/{project_id:int}", opt=FUNDERS_OPT)
    async def interest(self, request: Request, conn: Db, identity: User, fair_id: FromPath[int],
                       project_id: FromPath[int]) -> Response:
        form = await form_data(request)
        await fairs.mark_interest(conn, identity, fair_id, project_id, form.get("interested") != "0")
        return redirect(f"/fairs/{fair_id}#order")

    @get("/fairs/{fair_id:int}/board", opt=PUBLIC_OPT)
    async def board(self, request: Request, conn: Db, identity: MaybeUser, fair_id: FromPath[int]) -> Response:
        fair = await fairs.get(conn, identity, fair_id)
        # The page's script names the status the event stream carries, in the page's language.
        return page(request, "matching/board.html", fair=fair, board=await fairs.board(conn, fair_id),
                    status_names={k: gettext(v) for k, v in FAIR_STATUS_NAMES.items()})

    @get("/fairs/{fair_id:int}/events", opt=PUBLIC_OPT)
    async def events(self, request: Request, identity: MaybeUser, fair_id: FromPath[int]) -> ServerSentEvent:
        """The board as it changes, as server-sent events; no database connection is held while waiting."""
        hub = hub_of(request.app.state)
        async with hub.pool.acquire() as conn:
            await fairs.get(conn, identity, fair_id)
        queue = await hub.subscribe(fair_id)

        async def stream() -> AsyncGenerator[ServerSentEventMessage, None]:
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
        return await _paddle_page(request, conn, identity, fair_id)

    @post("/fairs/{fair_id:int}/raises", opt=FUNDERS_OPT)
    async def propose(self, request: Request, conn: Db, identity: User, fair_id: FromPath[int]) -> Response:
        form = await form_data(request)
        try:
            async with conn.transaction():
                amount = parse_yuan(str(form.get("amount_yuan", "")), field="amount_yuan")
                token = await fairs.raise_paddle(conn, identity, fair_id, parse(
                    {"project_id": form.get("project_id"), "token": form.get("token"), "amount_fen": amount},
                    RaiseInput))
        except (Invalid, Conflict) as exc:
            return await _paddle_page(request, conn, identity, fair_id, exc.status, form_errors(exc), form)
        raised = next(r for r in await fairs.my_raises(conn, identity, fair_id) if r["token"] == token)
        return page(request, "matching/paddle_confirm.html", fair=await fairs.get(conn, identity, fair_id),
                    raised=raised)

    @post("/fairs/{fair_id:int}/raises/{raise_id:uuid}/confirm", opt=FUNDERS_OPT)
    async def confirm(self, request: Request, conn: Db, identity: User, fair_id: FromPath[int],
                      raise_id: FromPath[uuid.UUID]) -> Response:
        try:
            async with conn.transaction():
                await fairs.confirm_raise(conn, identity, fair_id, raise_id)
        except Conflict as exc:
            return await _paddle_page(request, conn, identity, fair_id, exc.status, form_errors(exc))
        return redirect(f"/fairs/{fair_id}/paddle?confirmed={raise_id}")

    @get("/fairs/{fair_id:int}/report", opt=PUBLIC_OPT)
    async def report(self, request: Request, conn: Db, identity: MaybeUser, fair_id: FromPath[int]) -> Response:
        report = await fairs.report(conn, identity, fair_id)
        buyers = await conn.fetch("select id, buyer_id from projects where id = any($1)",
                                  [i.project_id for i in report.board.items])
        docked = await dockings.of_fair(conn, fair_id)
        return page(request, "matching/report.html", report=report, dockings=docked,
                    mine={r["id"] for r in buyers if dockings.accepts_for(identity, r["buyer_id"])},
                    readable_contracts=await contracts.readable(conn, identity, [d.contract_id for d in docked.values()]))


async def _paddle_page(request: Request, conn: asyncpg.Connection, identity: Identity, fair_id: int,
                       status: int = 200, errors: dict[str, str] | None = None,
                       form: dict[str, Any] | None = None) -> Response:
    fair = await fairs.get(conn, identity, fair_id)
    board = await fairs.board(conn, fair_id)
    default = next((i.project_id for i in board.items if i.position == board.on_stage), None)
    return page(request, "matching/paddle.html", status=status, fair=fair, board=board,
                project_choices=[(i.project_id, f"{i.position}. {i.title_zh}") for i in board.items],
                raises=await fairs.my_raises(conn, identity, fair_id), token=uuid.uuid4(),
                form={"project_id": default, **(form or {})}, errors=errors or {},
                confirmed=request.query_params.get("confirmed"))


class FairApi(Controller):
    path = "/api/fairs"
    tags = ["matching"]

    @get("/", opt=PUBLIC_OPT, summary="Charity matchmaking fairs")
    async def index(self, conn: Db, identity: MaybeUser) -> list[Fair]:
        return await fairs.list_fairs(conn, identity)

    @post("/", opt=SIGNED_IN_OPT, status_code=201, summary="Set up a fair (verified buyers and funders)")
    async def create(self, conn: Db, identity: User, data: JSONBody[FairInput]) -> Fair:
        return await fairs.get(conn, identity, await fairs.create(conn, identity, data))

    @get("/{fair_id:int}", opt=PUBLIC_OPT, summary="A fair")
    async def show(self, conn: Db, identity: MaybeUser, fair_id: FromPath[int]) -> Fair:
        return await fairs.get(conn, identity, fair_id)

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
    async def board(self, conn: Db, identity: MaybeUser, fair_id: FromPath[int]) -> Board:
        await fairs.get(conn, identity, fair_id)
        return await fairs.board(conn, fair_id)

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

    @get("/{fair_id:int}/report", opt=PUBLIC_OPT, summary="A closed fair's report")
    async def report(self, conn: Db, identity: MaybeUser, fair_id: FromPath[int]) -> Report:
        return await fairs.report(conn, identity, fair_id)
