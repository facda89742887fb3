"""The fair's pages as view models: each page's one Struct, built here from the services in `fairs`
and `dockings`, rendered as HTML and returned as its JSON twin. What the reader may see and do is
decided here, not in the handlers."""

from __future__ import annotations

import asyncpg
import msgspec

from market.core.access import Identity
from market.core.keyset import Paged, Window, paged_fields
from market.core.web import PAGE_SIZE
from market.matching.docking import dockings
from market.matching.fairs import services as fairs
from market.matching.docking.dockings import Docking
from market.matching.fairs.models import Board, Fair, Raise, Report, Suggestion
from market.matching.scoring.weights import Weights
from market.procurement.contracts import services as contracts


class FairsPage(Paged, kw_only=True):
    """A page of the fairs, the latest first."""

    fairs: list[Fair]
    # Whether the reader may set up a fair.
    may_set_up: bool


class FairPage(msgspec.Struct, frozen=True, kw_only=True):
    fair: Fair
    board: Board
    # How many registered funders marked interest in each project, and the ones the reader's organisation marked.
    interests: dict[int, int]
    marked: list[int]
    # For a registered funder before and during the fair: the projects that suit it.
    suggested: list[Suggestion]
    # For the organiser: the approved projects it can still line up (a provider to dock one with is typed).
    projects: list[tuple[int, str]]
    may_register: bool


class BoardPage(Board, frozen=True, kw_only=True):
    """The board's figures at the top level (as the board's event stream and programs that follow a
    fair read them), with the fair they belong to."""

    fair: Fair


class PaddlePage(msgspec.Struct, frozen=True, kw_only=True):
    fair: Fair
    # The running order as the paddle's <select> offers it, and the project on stage, chosen first.
    project_choices: list[tuple[int, str]]
    on_stage_project: int | None
    raises: list[Raise]


class ReportPage(msgspec.Struct, frozen=True, kw_only=True):
    report: Report
    # The dockings accepted after the fair, by project.
    dockings: dict[int, Docking]
    # The projects whose docking the reader accepts (their buyer's administrators and staff).
    mine: list[int]
    readable_contracts: list[int]


async def fairs_page(conn: asyncpg.Connection, identity: Identity | None, *, cursor: str | None = None,
                     limit: int = PAGE_SIZE) -> tuple[FairsPage, Window]:
    """A page of the fairs and the way on (market.core.keyset)."""
    shown, window = await fairs.list_fairs(conn, identity, cursor=cursor, limit=limit)
    return FairsPage(fairs=shown, may_set_up=fairs.may_set_up(identity), **paged_fields(window)), window


async def fair_page(conn: asyncpg.Connection, identity: Identity | None, fair_id: int, weights: Weights) -> FairPage:
    fair = await fairs.get(conn, identity, fair_id)
    suggested = []
    if identity is not None and fair.registered and fair.status in ("open", "live"):
        suggested = await fairs.suggestions(conn, identity, fair_id, weights)
    return FairPage(fair=fair, board=await fairs.board(conn, fair_id), interests=await fairs.interests(conn, fair_id),
                    marked=await fairs.marked(conn, identity, fair_id), suggested=suggested,
                    projects=await fairs.projects_to_line_up(conn, fair_id) if fair.organiser else [],
                    may_register=fairs.may_register(identity, fair))


async def board_page(conn: asyncpg.Connection, identity: Identity | None, fair_id: int) -> BoardPage:
    fair = await fairs.get(conn, identity, fair_id)
    return BoardPage(fair=fair, **msgspec.structs.asdict(await fairs.board(conn, fair_id)))


async def paddle_page(conn: asyncpg.Connection, identity: Identity, fair_id: int) -> PaddlePage:
    fair = await fairs.get(conn, identity, fair_id)
    board = await fairs.board(conn, fair_id)
    return PaddlePage(fair=fair, project_choices=[(i.project_id, f"{i.position}. {i.title_zh}") for i in board.items],
                      on_stage_project=next((i.project_id for i in board.items if i.position == board.on_stage), None),
                      raises=await fairs.my_raises(conn, identity, fair_id))


async def report_page(conn: asyncpg.Connection, identity: Identity | None, fair_id: int) -> ReportPage:
    report = await fairs.report(conn, identity, fair_id)
    docked = await dockings.of_fair(conn, fair_id)
    buyers = await fairs.buyers_of_items(conn, fair_id)
    return ReportPage(report=report, dockings=docked,
                      mine=sorted(p for p, buyer in buyers.items() if dockings.accepts_for(identity, buyer)),
                      readable_contracts=sorted(await contracts.readable(conn, identity,
                                                                         [d.contract_id for d in docked.values()])))
