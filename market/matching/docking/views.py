"""Docking's pages as view models: rolling docking's page and the forms that accept a docking, built
here from `rolling` and `dockings`; the handlers render them and their JSON twins return them."""

from __future__ import annotations

import asyncpg
import msgspec

from market.core.access import Identity
from market.core.errors import NotFound
from market.core.i18n import current_locale
from market.matching.docking import rolling
from market.matching.docking import dockings
from market.matching.fairs import services as fairs
from market.matching.docking.dockings import Docking, DockingInput, ProjectTitle
from market.matching.docking.rolling import Rolling
from market.procurement.contracts import services as contracts


class DockingPage(msgspec.Struct, frozen=True, kw_only=True):
    rolling: Rolling
    # For the pin-or-ban form: the waiting projects, named in the page's language (a provider is typed).
    projects: list[tuple[int, str]]
    readable_contracts: list[int]


class TermsForm(msgspec.Struct, frozen=True, kw_only=True):
    """What the form that accepts a docking shows beside its fields, and the terms it starts from."""

    project: ProjectTitle
    provider: str
    score: float | None
    budget_fen: int
    pledged_fen: int
    suggestion: rolling.Suggestion | None
    terms: DockingInput


def _title(waiting: rolling.Waiting) -> str:
    return waiting.title_en if current_locale.get() == "en" and waiting.title_en else waiting.title_zh


async def docking_page(conn: asyncpg.Connection, identity: Identity, run_id: int | None = None) -> DockingPage:
    found = await rolling.view(conn, identity, run_id)
    docked = [s.docking.contract_id for s in found.run.suggestions if s.docking] if found.run else []
    return DockingPage(rolling=found, projects=[(w.project_id, _title(w)) for w in found.waiting],
                       readable_contracts=sorted(await contracts.readable(conn, identity, docked)))


async def suggested(conn: asyncpg.Connection, identity: Identity, run_id: int, project_id: int) -> rolling.Suggestion:
    """The run's suggestion for the project, which must name a provider to be accepted."""
    suggestion = await rolling.suggestion(conn, identity, run_id, project_id)
    if suggestion.provider_id is None:
        raise NotFound()
    return suggestion


async def _terms_form(conn: asyncpg.Connection, project_id: int, provider: str, score: float | None,
                      suggestion: rolling.Suggestion | None, price_fen: int | None) -> TermsForm:
    project = await dockings.project_title(conn, project_id)
    budget, pledged = await dockings.project_money(conn, project_id)
    return TermsForm(project=project, provider=provider, score=score, budget_fen=budget, pledged_fen=pledged,
                     suggestion=suggestion, terms=await dockings.terms(conn, project_id, price_fen))


async def run_terms_form(conn: asyncpg.Connection, identity: Identity, run_id: int, project_id: int) -> TermsForm:
    """Accepting a run's suggestion: its provider and price."""
    suggestion = await suggested(conn, identity, run_id, project_id)
    return await _terms_form(conn, project_id, suggestion.provider_name, suggestion.score, suggestion,
                             suggestion.price_fen)


async def fair_terms_form(conn: asyncpg.Connection, fair_id: int, project_id: int) -> TermsForm:
    """Accepting a fair's docking: the provider the project was lined up with."""
    item = await fairs.docked_item(conn, fair_id, project_id)
    name = item.provider_name_en if current_locale.get() == "en" and item.provider_name_en else item.provider_name_zh
    return await _terms_form(conn, project_id, name or "", None, None, None)


async def accepted(conn: asyncpg.Connection, call_id: int) -> Docking:
    docking = await dockings.of_call(conn, call_id)
    if docking is None:
        raise NotFound()
    return docking
