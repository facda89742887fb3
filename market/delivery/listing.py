"""My contracts (我的合同): the contracts of the reader's organisation, as buyer or as provider, a page
at a time (market.core.keyset), newest first, each with where it stands (its signatures, then its
delivery), its milestones accepted of all, the next one due and when both parties had signed.

Only those who sign for the organisation read its list, and it holds only the organisation's own
contracts: the side chosen is a condition on the organisation's own column, never a parameter the
reader can point elsewhere."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from market.core.access import Identity
from market.core.errors import Forbidden, Invalid
from market.core.keyset import Column, Filters, fetch, paged_fields, ranked
from market.delivery.models import LIST_STATUS_NAMES, ContractList, ContractRow
from market.procurement.contracts.models import CONTRACT_STATUSES

# The side an organisation is on is its kind; each side's own column and the other party's.
SIDES = {"buyer": ("buyer_id", "provider_id"), "provider": ("provider_id", "buyer_id")}
READERS = ("admin", "staff", "finance")  # those who sign contracts (market.procurement.contracts)
_ORDER = (Column("k.created_at", "created_at", datetime), Column("k.id", "id", int))
_COUNTED = "contracts k join calls c on c.id = k.call_id left join contract_delivery d on d.contract_id = k.id"
# Per row of the page only: the milestones are read for the rows shown, not for the whole list.
_SELECT = """k.id, c.title_zh, c.title_en, k.amount_fen, k.status, d.status as delivery_status,
       o.id as other_id, o.name_zh as other_name_zh, o.name_en as other_name_en,
       (select count(*) from contract_milestones m where m.contract_id = k.id and m.accepted_at is not null)
           as milestones_accepted,
       (select count(*) from contract_milestones m where m.contract_id = k.id) as milestones,
       case when d.status is null or d.status in ('in_delivery', 'rectifying') then
            (select min(m.due_date) from contract_milestones m where m.contract_id = k.id and m.accepted_at is null)
       end as next_due,
       case when k.status = 'signed' then greatest(k.buyer_signed_at, k.provider_signed_at) end as signed_at"""
_SIDES_HELD = """select exists (select 1 from contracts where buyer_id = $1) as buyer,
                        exists (select 1 from contracts where provider_id = $1) as provider"""


def _check_reader(identity: Identity) -> str:
    """The reader's organisation's own side, or refused: only its signers read its contracts."""
    if not identity.acts_for_verified or identity.org_kind not in SIDES or identity.role not in READERS:
        raise Forbidden("Only the staff of a buyer or a social organisation see its contracts.")
    return str(identity.org_kind)


async def contract_list(conn: asyncpg.Connection, identity: Identity, *, side: str | None = None,
                        status: str | None = None, q: str | None = None, cursor: str | None = None,
                        limit: int = 50) -> ContractList:
    """A page of the reader's organisation's contracts on one side (its own kind's, unless it asks for
    the other), narrowed by status and by words of the title."""
    own_side = _check_reader(identity)
    side = side or own_side
    if side not in SIDES:
        raise Invalid("Choose one of the options offered.", field="side")
    if status is not None and status not in LIST_STATUS_NAMES:
        raise Invalid("Choose one of the options offered.", field="status")
    own, other = SIDES[side]
    where = Filters()
    where.add(f"k.{own} = {{}}", identity.org_id)
    if status in CONTRACT_STATUSES:
        where.add("k.status = {}", status)
    elif status:
        where.add("k.status = 'signed' and coalesce(d.status, 'in_delivery') = {}", status)
    if q and q.strip():
        where.search("c.title_zh || ' ' || c.title_en", q.strip())
    window = await fetch(conn, select=_SELECT, from_=f"{_COUNTED} join organisations o on o.id = k.{other}",
                         count_from=_COUNTED, filters=where, keyset=ranked(q, ("c.title_zh", "c.title_en"), _ORDER),
                         cursor=cursor, limit=limit)
    held = await conn.fetchrow(_SIDES_HELD, identity.org_id)
    items = [ContractRow(id=r["id"], title_zh=r["title_zh"], title_en=r["title_en"], side=side,
                         other_id=r["other_id"], other_name_zh=r["other_name_zh"], other_name_en=r["other_name_en"],
                         amount_fen=r["amount_fen"],
                         status=r["status"] if r["status"] != "signed" else r["delivery_status"] or "in_delivery",
                         milestones_accepted=r["milestones_accepted"], milestones=r["milestones"],
                         next_due=r["next_due"], signed_at=r["signed_at"])
             for r in window.rows]
    return ContractList(items=items, side=side, sides=[s for s in SIDES if s in (own_side, side) or held[s]],
                        status=status, q=q.strip() if q and q.strip() else None, **paged_fields(window))
