"""Fund pages (the fund, its matching round explained, its money), the owner's management, the
pledge form with its matching preview, and the JSON twins. The rules are in `pools` and `pledges`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal, TypedDict
from zoneinfo import ZoneInfo

import asyncpg
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from market.core import clock
from market.core.access import PUBLIC, Identity, member
from market.core.errors import Invalid, InvalidFields
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.keyset import paged_fields
from market.core.money import yuan_to_fen
from market.core.validation import local_times, parse
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
)
from market.funding.funds import charts
from market.funding.funds import services as pools
from market.funding.pledges.models import PledgeStatus
from market.funding.funds.models import (
    CUT_REASONS,
    MATCHING_NAMES,
    NO_MATCH_REASONS,
    ROUND_STATE_NAMES,
    Fund,
    FundDetail,
    FundInput,
    FundList,
    FundView,
    PoolPreview,
    ProjectChoice,
)
from market.funding.pledges import services as pledges
from market.funding.pledges.models import PledgeInput
from market.procurement.needs import services as needs

PUBLIC_OPT = {"access": PUBLIC}
OWNERS_OPT = {"access": member(N_("funders and buyers"), "funder", "buyer")}
FUNDERS_OPT = {"access": member(N_("funders"), "funder")}
AmountFen = Annotated[int, QueryParameter(ge=1, le=100_000_000_000)]
TargetType = Literal["project", "need", "fund"]
# Form fields in yuan, and the fen fields they become.
FUND_YUAN = {"min_gift_yuan": "min_gift_fen", "per_donor_cap_yuan": "per_donor_cap_fen",
             "per_project_cap_yuan": "per_project_cap_fen"}
PLEDGE_YUAN = {"amount_yuan": "amount_fen", "condition_target_yuan": "condition_target_fen"}
MAX_ID = pledges.MAX_ID


class Names(TypedDict):
    """The names pages give rules, round states and cuts, in the page's language. Spread into page()
    and form_step(), whose own arguments (status, context…) a plain dict of names might stand for:
    typed key by key, the checker sees that it does not."""

    MATCHING_NAMES: dict[str, str]
    ROUND_STATE_NAMES: dict[str, str]
    CUT_REASONS: dict[str, str]
    NO_MATCH_REASONS: dict[str, str]


NAMES = Names(MATCHING_NAMES=MATCHING_NAMES, ROUND_STATE_NAMES=ROUND_STATE_NAMES, CUT_REASONS=CUT_REASONS,
              NO_MATCH_REASONS=NO_MATCH_REASONS)


def _yuan_fields(raw: dict[str, Any], fields: dict[str, str], data: dict[str, Any], problems: list[Invalid]) -> None:
    for form_name, name in fields.items():
        if raw.get(form_name):
            try:
                data[name] = yuan_to_fen(str(raw[form_name]))
            except ValueError:
                problems.append(Invalid("Enter an amount in yuan, such as 5000 or 1250.50.", field=form_name))


def fund_from_form(raw: dict[str, Any], tz: str) -> FundInput:
    """The fund form as a FundInput: yuan to fen, local times to instants."""
    data = {k: v for k, v in raw.items() if k not in FUND_YUAN and k not in ("opens_at", "closes_at")}
    problems: list[Invalid] = []
    _yuan_fields(raw, FUND_YUAN, data, problems)
    data.update(local_times(raw, ("opens_at", "closes_at"), tz, problems))
    if problems:
        raise InvalidFields(problems)
    return parse(data, FundInput)


def form_of(fund: Fund, tz: str) -> dict[str, Any]:
    form: dict[str, Any] = {k: getattr(fund, k) for k in ("name_zh", "name_en", "description", "matching",
                                                          "ratio_num", "ratio_den")}
    for form_name, name in FUND_YUAN.items():
        if getattr(fund, name):
            form[form_name] = f"{getattr(fund, name) / 100:.2f}"
    for name in ("opens_at", "closes_at"):
        if getattr(fund, name):
            form[name] = getattr(fund, name).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
    return form


def pledge_from_form(raw: dict[str, Any], tz: str) -> PledgeInput:
    """The pledge form as a PledgeInput: yuan to fen; an all-or-nothing deadline is the end of the
    day given, in the platform's time zone."""
    data: dict[str, Any] = {k: raw[k] for k in ("target_type", "target_id", "note") if k in raw}
    problems: list[Invalid] = []
    if not raw.get("amount_yuan"):
        problems.append(Invalid("This field is required.", field="amount_yuan"))
    _yuan_fields(raw, PLEDGE_YUAN, data, problems)
    if raw.get("condition_deadline"):
        try:
            data["condition_deadline"] = datetime.combine(date.fromisoformat(str(raw["condition_deadline"])),
                                                          time(23, 59, 59), ZoneInfo(tz))
        except ValueError:
            problems.append(Invalid("Enter a date as YYYY-MM-DD.", field="condition_deadline"))
    if problems:
        raise InvalidFields(problems)
    return parse(data, PledgeInput)


def chosen_project(form: dict[str, Any]) -> int:
    return parse({k: v for k, v in form.items() if k == "project_id"}, ProjectChoice).project_id


async def _fund_context(request: Request, conn: asyncpg.Connection, identity: Identity | None,
                        fund_id: int, project_q: str | None = None) -> dict[str, Any]:
    """What the fund page's template reads, from the one view (the charts are its months, drawn)."""
    view = await pools.fund_view(conn, identity, fund_id, request.app.state.settings.timezone, project_q)
    return {"fund": view.fund, "projects": view.projects, "explanation": view.explanation, "money": view.dashboard,
            "flows": charts.flows(view.dashboard.months), "balance": charts.balance(view.dashboard.months),
            "can_setup": view.can_setup, "can_pay": view.can_pay, "project_choices": view.project_choices,
            "project_q": view.project_q,
            "to_allocate": view.to_allocate, **NAMES}


# Each management step of the fund page: the section it lands on, and what the landing says.
FUND_ANCHOR = {"add": "projects", "remove": "projects", "close": "matching", "allocate": "allocate"}
FUND_DONE = {"add": "fund_project_added", "remove": "fund_project_removed", "close": "fund_round_closed",
             "allocate": "pledge_allocated"}


class FundPages(Controller):
    include_in_schema = False

    @get("/funds", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, cursor: CursorParam = None) -> Response:
        funds, window = await pools.list_funds(conn, cursor=cursor, limit=PAGE_SIZE)
        return page(request, "funding/funds.html", funds=funds, pager=keyset_pager(request, window), **NAMES)

    @get("/funds/new", opt={**OWNERS_OPT, "shows": "form"})
    async def new(self, request: Request) -> Response:
        # A 1:1 round open from now for a month: the commonest 配捐, to adjust rather than to type.
        now = clock.now().astimezone(ZoneInfo(request.app.state.settings.timezone)).replace(second=0, microsecond=0)
        form = {"matching": "ratio", "ratio_num": 1, "ratio_den": 1, "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
                "closes_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")}
        return page(request, "funding/fund_form.html", form=form, errors={}, fund=None, **NAMES)

    @post("/funds/new", opt=OWNERS_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            data = fund_from_form(form, request.app.state.settings.timezone)
            return done(f"/funds/{await pools.create_fund(conn, identity, data)}", "fund_created")
        return await form_step(request, conn, "funding/fund_form.html", action, fund=None, **NAMES)

    @get("/funds/{fund_id:int}", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, identity: MaybeUser, fund_id: FromPath[int],
                   project_q: FromQuery[str | None] = None) -> Response:
        return page(request, "funding/fund.html", errors={},
                    **await _fund_context(request, conn, identity, fund_id, project_q))

    @get("/funds/{fund_id:int}/edit", opt={**OWNERS_OPT, "shows": "form"})
    async def edit_form(self, request: Request, conn: Db, identity: User, fund_id: FromPath[int]) -> Response:
        fund = await pools.get_fund(conn, fund_id)
        pools.require_owner(identity, fund)
        return page(request, "funding/fund_form.html", form=form_of(fund, request.app.state.settings.timezone),
                    errors={}, fund=fund, **NAMES)

    @post("/funds/{fund_id:int}/edit", opt=OWNERS_OPT)
    async def edit(self, request: Request, conn: Db, identity: User, fund_id: FromPath[int]) -> Response:
        fund = await pools.get_fund(conn, fund_id)

        async def action(form: dict[str, Any]) -> Response:
            await pools.update_fund(conn, identity, fund_id, fund_from_form(form, request.app.state.settings.timezone))
            return done(f"/funds/{fund_id}", "fund_saved")
        return await form_step(request, conn, "funding/fund_form.html", action, fund=fund, **NAMES)

    async def _act(self, request: Request, conn: asyncpg.Connection, identity: Identity, fund_id: int,
                   step: Callable[[dict[str, Any]], Awaitable[None]], name: str) -> Response:
        """A management step: a refusal shows the fund page with the reason, nothing changed; a step
        taken says so."""
        async def action(form: dict[str, Any]) -> Response:
            await step(form)
            return done(f"/funds/{fund_id}#{FUND_ANCHOR[name]}", FUND_DONE[name])

        async def context() -> dict[str, Any]:
            return await _fund_context(request, conn, identity, fund_id)

        return await form_step(request, conn, "funding/fund.html", action, context=context)

    @post("/funds/{fund_id:int}/projects", opt=OWNERS_OPT)
    async def add_project(self, request: Request, conn: Db, identity: User, fund_id: FromPath[int]) -> Response:
        async def step(form: dict[str, Any]) -> None:
            await pools.add_project(conn, identity, fund_id, chosen_project(form))
        return await self._act(request, conn, identity, fund_id, step, "add")

    @post("/funds/{fund_id:int}/projects/{project_id:int}/remove", opt=OWNERS_OPT)
    async def remove_project(self, request: Request, conn: Db, identity: User, fund_id: FromPath[int],
                             project_id: FromPath[int]) -> Response:
        async def step(form: dict[str, Any]) -> None:
            await pools.remove_project(conn, identity, fund_id, project_id)
        return await self._act(request, conn, identity, fund_id, step, "remove")

    @post("/funds/{fund_id:int}/close", opt=OWNERS_OPT)
    async def close(self, request: Request, conn: Db, identity: User, fund_id: FromPath[int]) -> Response:
        async def step(form: dict[str, Any]) -> None:
            await pools.close_round(conn, identity, fund_id)
        return await self._act(request, conn, identity, fund_id, step, "close")

    @post("/funds/{fund_id:int}/allocate", opt=OWNERS_OPT)
    async def allocate(self, request: Request, conn: Db, identity: User, fund_id: FromPath[int]) -> Response:
        async def step(form: dict[str, Any]) -> None:
            await pledges.allocate_from_fund(conn, identity, fund_id, form.get("pledge_id"), chosen_project(form))
        return await self._act(request, conn, identity, fund_id, step, "allocate")


class PledgeFormPages(Controller):
    """A funder's pledges (one path with the form's, where the form posts): its list, and the pledge
    form — the amount first, then what it adds from each matching pool, then confirm."""

    include_in_schema = False

    @get("/pledges", opt=FUNDERS_OPT)
    async def mine(self, request: Request, conn: Db, identity: User, status: FromQuery[PledgeStatus | None] = None,
                   cursor: CursorParam = None) -> Response:
        found = await pledges.pledge_list(conn, identity, status=status, cursor=cursor, limit=PAGE_SIZE)
        return page(request, "funding/pledges.html", listing=found, pager=keyset_pager(request, found, len(found.items)))

    def _form(self, request: Request, target: dict[str, Any], form: dict[str, Any], errors: dict[str, str],
              status: int = 200) -> Response:
        return page(request, "funding/pledge_form.html", status=status, target=target, form=form, errors=errors)

    @get("/pledges/new", opt={**FUNDERS_OPT, "shows": "form"})
    async def new(self, request: Request, conn: Db, target_type: FromQuery[TargetType],
                  target_id: Annotated[int, QueryParameter(ge=1, le=MAX_ID)],
                  amount_fen: Annotated[int | None, QueryParameter(ge=1, le=100_000_000_000)] = None) -> Response:
        """The form, with the amount filled in when a docking suggestion links here."""
        target = await pledges.pledge_target(conn, target_type, target_id)
        form: dict[str, Any] = {"target_type": target_type, "target_id": target_id}
        if amount_fen is not None:
            form["amount_yuan"] = f"{amount_fen // 100}.{amount_fen % 100:02d}"
        return self._form(request, target, form, {})

    @post("/pledges", opt=FUNDERS_OPT)
    async def create(self, request: Request, conn: Db, identity: User) -> Response:
        form = await form_data(request)
        target = await pledges.pledge_target(conn, form.get("target_type"), form.get("target_id"))
        if form.get("step") == "edit":
            return self._form(request, target, form, {})

        async def action(form: dict[str, Any]) -> Response:
            data = pledge_from_form(form, request.app.state.settings.timezone)
            if form.get("step") != "confirm":
                await pledges.check(conn, identity, data)
                previews = (await pools.preview(conn, data.target_id, identity.org_id, data.amount_fen)
                            if data.target_type == "project" else [])
                return page(request, "funding/pledge_preview.html", target=target, form=form, data=data,
                            previews=previews, **NAMES)
            return done(f"/pledges/{await pledges.create(conn, identity, data)}", "pledge_made")

        return await form_step(request, conn, "funding/pledge_form.html", action, fields=PLEDGE_YUAN, form=form,
                               target=target)


class FundApi(Controller):
    path = "/api"
    tags = ("funding",)

    @get("/funds", opt=PUBLIC_OPT, summary="Funds (基金) and matching pools (配捐), with their rules and balances")
    async def index(self, conn: Db, cursor: CursorParam = None,
                    limit: Annotated[int, QueryParameter(ge=1, le=200)] = PAGE_SIZE) -> FundList:
        funds, window = await pools.list_funds(conn, cursor=cursor, limit=limit)
        return FundList(funds=funds, **paged_fields(window))

    @get("/funds/{fund_id:int}", opt=PUBLIC_OPT,
         summary="A fund: its projects, its matching round explained project by project, its money by month, "
                 "and what the reader may set up and pay out")
    async def show(self, request: Request, conn: Db, identity: MaybeUser, fund_id: FromPath[int],
                   project_q: FromQuery[str | None] = None) -> FundView:
        return await pools.fund_view(conn, identity, fund_id, request.app.state.settings.timezone, project_q)

    @get("/projects/{project_id:int}/matching-preview", opt=PUBLIC_OPT,
         summary="What a gift of amount_fen to the project would add from each open matching pool it takes part in")
    async def preview(self, conn: Db, identity: MaybeUser, project_id: FromPath[int],
                      amount_fen: AmountFen) -> list[PoolPreview]:
        await needs.get_project(conn, project_id)
        funder = identity.org_id if identity is not None and identity.org_kind == "funder" else None
        return await pools.preview(conn, project_id, funder, amount_fen)

    @post("/funds", opt=OWNERS_OPT, status_code=201, summary="Set up a fund, with or without a matching round")
    async def create(self, conn: Db, identity: User, data: JSONBody[FundInput]) -> Fund:
        return await pools.get_fund(conn, await pools.create_fund(conn, identity, data))

    @put("/funds/{fund_id:int}", opt=OWNERS_OPT,
         summary="Change a fund's description, rules or window (until its round closes)")
    async def update(self, conn: Db, identity: User, fund_id: FromPath[int], data: JSONBody[FundInput]) -> Fund:
        await pools.update_fund(conn, identity, fund_id, data)
        return await pools.get_fund(conn, fund_id)

    @post("/funds/{fund_id:int}/projects", opt=OWNERS_OPT, status_code=201,
          summary="Add an approved project to the fund's matching round")
    async def add_project(self, request: Request, conn: Db, identity: User, fund_id: FromPath[int],
                          data: JSONBody[ProjectChoice]) -> FundDetail:
        await pools.add_project(conn, identity, fund_id, data.project_id)
        return await pools.detail(conn, fund_id, request.app.state.settings.timezone)

    @delete("/funds/{fund_id:int}/projects/{project_id:int}", opt=OWNERS_OPT, status_code=200,
            summary="Take a project out of the fund's matching round")
    async def remove_project(self, request: Request, conn: Db, identity: User, fund_id: FromPath[int],
                             project_id: FromPath[int]) -> FundDetail:
        await pools.remove_project(conn, identity, fund_id, project_id)
        return await pools.detail(conn, fund_id, request.app.state.settings.timezone)

    @post("/funds/{fund_id:int}/close", opt=OWNERS_OPT, status_code=201,
          summary="Close the matching round: compute, store and pay every project's match from the fund")
    async def close(self, request: Request, conn: Db, identity: User, fund_id: FromPath[int]) -> FundDetail:
        await pools.close_round(conn, identity, fund_id)
        return await pools.detail(conn, fund_id, request.app.state.settings.timezone)
