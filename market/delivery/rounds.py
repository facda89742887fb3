"""Mid-term and final evaluation of a contract's delivery, on the evaluation engine: a panel whose
subject is the contract and whose one candidate is the provider. Such a panel never seats anyone
who belongs to the provider or has declared a conflict of interest with it."""

from __future__ import annotations

import asyncpg

from market.evaluation import services as engine

STAGES = ("midterm", "final")


async def _contract_subject(conn: asyncpg.Connection, contract_id: int) -> engine.Subject:
    row = await conn.fetchrow("select c.title_zh, c.title_en from contracts k join calls c on c.id = k.call_id "
                              "where k.id = $1", contract_id)
    return engine.Subject(title_zh=row["title_zh"], title_en=row["title_en"], link=f"/contracts/{contract_id}")


def register() -> None:
    for stage in STAGES:
        engine.register_subject(stage, _contract_subject, excludes_conflicted=True)
