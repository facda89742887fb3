"""Mid-term and final evaluation of a contract's delivery, on the evaluation engine: a panel whose
subject is the contract and whose one candidate is the provider. Such a panel never seats anyone
who belongs to the provider or has declared a conflict of interest with it."""

from __future__ import annotations

from functools import partial

import asyncpg

from market.evaluation import services as engine

STAGES = ("midterm", "final")


async def _contract_subject(conn: asyncpg.Connection, contract_id: int, stage: str) -> engine.Subject:
    row = await conn.fetchrow("select c.title_zh, c.title_en from contracts k join calls c on c.id = k.call_id "
                              "where k.id = $1", contract_id)
    zh = {"midterm": "中期评估", "final": "末期评估"}[stage]
    en = {"midterm": "mid-term evaluation", "final": "final evaluation"}[stage]
    return engine.Subject(title_zh=f"{row['title_zh']}（{zh}）", title_en=f"{row['title_en'] or row['title_zh']} ({en})",
                          link=f"/contracts/{contract_id}#delivery")


def register() -> None:
    for stage in STAGES:
        engine.register_subject(stage, partial(_contract_subject, stage=stage), excludes_conflicted=True)
