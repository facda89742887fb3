"""Dockings (对接): a project given to its provider without a bidding panel, at a fair
(`fairs.accept_docking`) or from a rolling docking run (`rolling.accept`), turned into what
procurement already knows how to carry on with.

The project's buyer accepts a docking with the contract's amount, service period and place. That
publishes a 'fair_docking' call for the project whose one bid is the provider's offer and whose
award goes under the procedure's public notice at once; after the notice the buyer prepares the
contract from the call's page, as for any award. The provider must be one fit scoring would pair
with the project: conflicts of interest and ineligible providers are refused with the reasons, and
the amount cannot exceed the money the project has (its budget and its live pledges).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock, i18n
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.funding.pledges.models import LIVE_PLEDGES
from market.matching.scoring import candidates
from market.matching.scoring.weights import Weights
from market.notifications import services as notifications
from market.organisations import services as organisations
from market.procurement.calls import services as calls
from market.procurement.days import add_days

Fen = Annotated[int, msgspec.Meta(ge=1, le=100_000_000_000)]
MAX_SERVICE_DAYS = 3 * 365 + 1  # three years, one of them a leap year


class DockingInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The terms the buyer publishes: they become the call's and then the contract's."""

    amount_fen: Fen
    service_start: date
    service_end: date
    service_place: Annotated[str, msgspec.Meta(min_length=2, max_length=300)]


class Docking(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    project_id: int
    provider_id: int
    provider_name: str
    amount_fen: int
    fit_score: float | None
    fair_id: int | None
    fair_title_zh: str | None
    fair_title_en: str | None
    run_id: int | None
    call_id: int
    call_status: str
    notice_ends_at: datetime | None
    contract_id: int | None
    contract_status: str | None
    accepted_at: datetime


class ProjectTitle(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    title_zh: str
    title_en: str


async def project_title(conn: asyncpg.Connection, project_id: int) -> ProjectTitle:
    row = await conn.fetchrow("select id, title_zh, title_en from projects where id = $1", project_id)
    if row is None:
        raise NotFound()
    return ProjectTitle(**row)


# Providers offered when a name typed into a form is not exactly one provider's.
PROVIDER_MATCHES = 10


async def provider_named(conn: asyncpg.Connection, text: str | None) -> tuple[int | None, list[tuple[int, str]]]:
    """The verified provider a person named in a form, by its whole name in either language or its unified
    social credit code; else none, and the providers whose names hold the words, to choose from."""
    text = " ".join((text or "").split())
    if not text:
        raise InvalidFields([Invalid("Name the provider, or give its unified social credit code.", field="provider")])
    exact = await conn.fetchval(
        """select id from organisations where kind = 'provider' and status = 'verified'
              and (credit_code = $2::char(18) or lower(name_zh) = lower($1) or lower(name_en) = lower($1))
            order by id limit 1""", text, text.upper() if len(text) == 18 else None)
    if exact is not None:
        return exact, []
    found, _ = await organisations.directory(conn, kind="provider", q=text, limit=PROVIDER_MATCHES)
    return None, [(o.id, i18n.bilingual(o.name_zh, o.name_en)) for o in found]


async def provider_in_form(conn: asyncpg.Connection, form: dict[str, Any], offered: list[tuple[int, str]], *,
                           required: bool = True) -> int | str | None:
    """The provider a form sends: the one chosen from those offered (`provider_id`), else the one its typed
    name or code (`provider`) is exactly; none where it is optional and left blank. Refused on `provider`
    otherwise, with `offered` filled with the providers whose names hold the words, to choose from."""
    if form.get("provider_id"):
        return form["provider_id"]
    if not required and not str(form.get("provider") or "").strip():
        return None
    chosen, offered[:] = await provider_named(conn, form.get("provider"))
    if chosen is None and offered:
        raise InvalidFields([Invalid("Choose the provider from those whose names hold these words.", field="provider")])
    if chosen is None:
        raise InvalidFields([Invalid("No verified provider has a name that holds these words, or this code.",
                                     field="provider")])
    return chosen


def _in_language(row: Any) -> str:
    return i18n.bilingual(row["name_zh"], row["name_en"] or "")


async def project_money(conn: asyncpg.Connection, project_id: int) -> tuple[int, int]:
    """The project's government budget and the money pledged to it that still stands."""
    row = await conn.fetchrow(
        f"""select p.budget_fen, coalesce((select sum(amount_fen) from pledges
                                           where project_id = p.id and {LIVE_PLEDGES}), 0)::bigint as pledged
              from projects p where p.id = $1""", project_id)
    if row is None:
        raise NotFound()
    return row["budget_fen"], row["pledged"]


async def terms(conn: asyncpg.Connection, project_id: int, price_fen: int | None = None) -> DockingInput:
    """The form's starting point: all the project's money (or the suggested price, if less), a year
    from the first of next month, in the project's place."""
    budget, pledged = await project_money(conn, project_id)
    today = candidates.today()
    start = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    # In Chinese whatever the page's language: the place is printed in the call and the contract.
    place = await conn.fetchval("select j.name_zh from projects p join jurisdictions j on j.id = p.jurisdiction_id "
                                "where p.id = $1", project_id)
    return DockingInput(amount_fen=min(price_fen or budget + pledged, budget + pledged), service_start=start,
                        service_end=start.replace(year=start.year + 1) - timedelta(days=1), service_place=place)


def accepts_for(identity: Identity | None, buyer_id: int) -> bool:
    """Whether the person accepts dockings for this buyer's projects: its administrators and staff."""
    return bool(identity and identity.acts_for_verified and identity.org_id == buyer_id
                and identity.role in ("admin", "staff"))


def _buyer_of(identity: Identity, project: Any) -> None:
    if not accepts_for(identity, project["buyer_id"]):
        raise Forbidden("Only the administrators and staff of the project's buyer accept a docking: the contract is "
                        "theirs to sign.")


async def eligible(conn: asyncpg.Connection, project_id: int, provider_id: int, weights: Weights) -> float:
    """The pair's fit score, or Invalid with the reasons it may not be made."""
    found = await candidates.build(conn, [project_id], weights)
    if not found.projects:
        raise Conflict("This project was cancelled: there is nothing to dock.")
    (pc,) = found.projects
    scored = next((c for c in pc.providers if c.party_id == provider_id), None)
    if scored is not None:
        return scored.fit.score or 0.0
    excluded = next((c for c in pc.excluded_providers if c.party_id == provider_id), None)
    if excluded is not None:
        raise InvalidFields([Invalid("This provider cannot take the project: %(reasons)s", field="provider_id",
                                     reasons=" ".join(r.text() for r in excluded.fit.excluded))])
    if provider_id in found.providers and pc.other_district_reason is not None:
        raise InvalidFields([Invalid("This provider cannot take the project: %(reasons)s", field="provider_id",
                                     reasons=pc.other_district_reason.text())])
    raise InvalidFields([Invalid("Choose a verified social organisation.", field="provider_id")])


def _check_terms(data: DockingInput, available: int, budget: int, pledged: int) -> None:
    errors = []
    if data.amount_fen > available:
        errors.append(Invalid("The contract cannot be worth more than the money the project has: %(available)s "
                              "(budget %(budget)s and pledges %(pledged)s).", field="amount_fen",
                              available=i18n.format_money(available), budget=i18n.format_money(budget),
                              pledged=i18n.format_money(pledged)))
    if data.service_end < data.service_start:
        errors.append(Invalid("The service must end after it starts.", field="service_end"))
    elif (data.service_end - data.service_start).days > MAX_SERVICE_DAYS:
        errors.append(Invalid("A service period is at most three years.", field="service_end"))
    if data.service_start < candidates.today() - timedelta(days=31):
        errors.append(Invalid("The service cannot start more than a month ago.", field="service_start"))
    if errors:
        raise InvalidFields(errors)


async def dock(conn: asyncpg.Connection, identity: Identity, project_id: int, provider_id: int, data: DockingInput,
               weights: Weights, *, fair_id: int | None = None, run_id: int | None = None,
               tz: str = "Asia/Shanghai") -> int:
    """Accept a docking and publish it: the call, the provider's bid and the award under notice.
    Returns the call's id."""
    project = await conn.fetchrow(
        """select p.*, e.provider_types, e.min_rating, e.min_years, e.scope
             from projects p join catalogue_entries e on e.id = p.catalogue_entry_id where p.id = $1 for update of p""",
        project_id)
    if project is None:
        raise NotFound()
    _buyer_of(identity, project)
    if project["status"] != "approved":
        raise Conflict("This project was cancelled: there is nothing to dock.")
    if await conn.fetchval("select 1 from calls where project_id = $1 and cancelled_at is null and failed_at is null",
                           project_id):
        raise Conflict("This project has a call under way already; it is given to a provider through that call.")
    if fair_id is None and await conn.fetchval(
            "select 1 from fair_items i join fairs f on f.id = i.fair_id where i.project_id = $1 "
            "and f.status <> 'closed'", project_id):
        raise Conflict("This project is lined up at a fair that has not closed yet; it is docked there.")
    score = await eligible(conn, project_id, provider_id, weights)
    budget, pledged = await project_money(conn, project_id)
    _check_terms(data, budget + pledged, budget, pledged)
    source = await _source(conn, fair_id, run_id)
    procedure = await conn.fetchrow("select * from procedure_types where code = 'fair_docking'")
    now = clock.now()
    notice_ends = add_days(now, procedure["notice_days"], procedure["day_kind"], tz)
    call_id = await conn.fetchval(
        """insert into calls (project_id, buyer_id, procedure_type, title_zh, title_en, description,
                              catalogue_entry_id, budget_ceiling_fen, service_start, service_end, service_place,
                              provider_types, min_rating, min_years, cross_district, created_by, published_at,
                              questions_close_at, deadline_at, awarded_at, notice_ends_at)
           values ($1, $2, 'fair_docking', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $16,
                   $16, $17) returning id""",
        project_id, project["buyer_id"], project["title_zh"], project["title_en"],
        f"{project['description']}\n\n{source}", project["catalogue_entry_id"], data.amount_fen, data.service_start,
        data.service_end, data.service_place.strip(), project["provider_types"], project["min_rating"],
        project["min_years"], project["scope"] == "any", identity.user_id, now, notice_ends)
    signer = await conn.fetchval("select user_id from memberships where organisation_id = $1 and role = 'admin' "
                                 "order by user_id limit 1", provider_id)
    bid_id = await conn.fetchval(
        """insert into bids (call_id, provider_id, submitted_by, status, amount_fen, objectives, activities, team,
                             indicators, call_revision, submitted_at)
           values ($1, $2, $3, 'submitted', $4, $5, $6, $7, '[]', 1, $8) returning id""",
        call_id, provider_id, signer or identity.user_id, data.amount_fen, project["description"], source,
        "（对接时由承接方确认）", now)
    docking_id = await conn.fetchval(
        "insert into dockings (project_id, provider_id, amount_fen, fit_score, fair_id, run_id, call_id, accepted_by) "
        "values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        project_id, provider_id, data.amount_fen, score, fair_id, run_id, call_id, identity.user_id)
    await conn.execute(
        "insert into awards (call_id, bid_id, amount_fen, awarded_by, awarded_at, notice_ends_at, docking_id) "
        "values ($1, $2, $3, $4, $5, $6, $7)", call_id, bid_id, data.amount_fen, identity.user_id, now, notice_ends,
        docking_id)
    await notifications.notify(conn, await notifications.members_of(conn, [provider_id]), "call_awarded",
                               f"/calls/{call_id}#award", **notifications.titled(project))
    await audit.record(conn, verb=Verb.DOCKING_ACCEPT, object_type="project", object_id=project_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"provider_id": provider_id, "amount_fen": data.amount_fen, "call_id": call_id,
                              "fair_id": fair_id, "run_id": run_id, "fit_score": score})
    return call_id


async def _source(conn: asyncpg.Connection, fair_id: int | None, run_id: int | None) -> str:
    """Where the docking was made, in the words the call and the bid carry (Chinese, like every
    published procurement text)."""
    if fair_id is not None:
        title = await conn.fetchval("select title_zh from fairs where id = $1", fair_id)
        return f"本项目在“{title}”上与承接方现场对接，对接结果在此公示。"
    return f"本项目由滚动对接（第{run_id}次测算）建议、经购买方确认与承接方对接，对接结果在此公示。"


_DOCKING_VIEW = """
    select d.*, o.name_zh, o.name_en, c.cancelled_at, c.failed_at, c.published_at, c.deadline_at, c.awarded_at,
           c.notice_ends_at, k.id as contract_id, k.status as contract_status, f.title_zh as fair_title_zh,
           f.title_en as fair_title_en
      from dockings d join organisations o on o.id = d.provider_id join calls c on c.id = d.call_id
      left join contracts k on k.call_id = d.call_id left join fairs f on f.id = d.fair_id"""


def _docking(row: Any) -> Docking:
    return Docking(id=row["id"], project_id=row["project_id"], provider_id=row["provider_id"],
                   provider_name=_in_language(row),
                   amount_fen=row["amount_fen"], fit_score=row["fit_score"], fair_id=row["fair_id"],
                   fair_title_zh=row["fair_title_zh"], fair_title_en=row["fair_title_en"], run_id=row["run_id"],
                   call_id=row["call_id"], call_status=calls.status_of(row),
                   notice_ends_at=row["notice_ends_at"], contract_id=row["contract_id"],
                   contract_status=row["contract_status"], accepted_at=row["accepted_at"])


async def of_fair(conn: asyncpg.Connection, fair_id: int) -> dict[int, Docking]:
    """The fair's accepted dockings, by project."""
    return {r["project_id"]: _docking(r) for r in await conn.fetch(_DOCKING_VIEW + " where d.fair_id = $1", fair_id)}


async def of_projects(conn: asyncpg.Connection, project_ids: list[int]) -> dict[int, Docking]:
    """The latest docking of each project."""
    return {r["project_id"]: _docking(r) for r in await conn.fetch(
        _DOCKING_VIEW + " where d.project_id = any($1) order by d.id", project_ids)}


async def of_call(conn: asyncpg.Connection, call_id: int) -> Docking | None:
    row = await conn.fetchrow(_DOCKING_VIEW + " where d.call_id = $1", call_id)
    return _docking(row) if row else None


async def _origin(conn: asyncpg.Connection, call_id: int) -> calls.CallOrigin | None:
    """Where a docked call came from, for the call's page (procurement asks; matching owns dockings)."""
    docking = await of_call(conn, call_id)
    if docking is None:
        return None
    return calls.CallOrigin(fit_score=docking.fit_score, fair_id=docking.fair_id, fair_title_zh=docking.fair_title_zh,
                            fair_title_en=docking.fair_title_en, run_id=docking.run_id)


calls.register_call_origin(_origin)

