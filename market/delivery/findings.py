"""What a decided delivery evaluation finds, as rectification items (整改, market.rectification).

The rule: each indicator (criterion) whose consensus score is below LOW_SHARE of its maximum (100 on
the scale every leaf is scored on) is one finding, whatever the total; a failed evaluation with no
such indicator is one finding about the whole. Each item's owner is the provider, its buyer the
contract's buyer (who verifies the fix), its deadline the decision day plus
MARKET_RECTIFICATION_DAYS, and the evidence it asks for the indicator's own evidence text (what the
indicator system says proves it), or a general request where the indicator says none.

A failed evaluation's rectification notice (整改通知书) lists these items; a re-evaluation is a new
panel, so its findings are new items, and the old ones stay until verified."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from market.evaluation import services as engine
from market.evaluation.indicators import tree
from market.evaluation.models import Verdict
from market.rectification import services as rectification

LOW_SHARE = Decimal("0.6")
MAX_SCORE = Decimal(100)
GENERAL_EVIDENCE = "整改说明及佐证材料（照片、签到表、服务记录等）"


def _score(value: Decimal) -> str:
    return f"{value.normalize():f}"


async def raise_findings(conn: asyncpg.Connection, contract: Any, stage: str, panel_id: int, verdict: Verdict,
                         due: date) -> list[int]:
    """One item per finding of the closed panel (see the module's rule), the provider told once of the
    new ones; the items' ids."""
    panel = await conn.fetchrow("select indicator_version_id from panels where id = $1", panel_id)
    system = await engine.system_of(conn, panel)
    leaves = {leaf.path: leaf for leaf in tree.leaves(system.nodes)} if system else {}
    stage_zh, stage_en = {"midterm": ("中期评估", "mid-term evaluation"), "final": ("末期评估", "final evaluation")}[stage]
    common = {"source": "evaluation", "source_id": panel_id, "owner_id": contract["provider_id"],
              "buyer_id": contract["buyer_id"], "due": due, "source_link": f"/contracts/{contract['id']}#evaluations"}
    before = await rectification.raised_from(conn, "evaluation", panel_id)
    raised = []
    rows = await conn.fetch(
        """select k.position, k.name_zh, k.name_en, k.indicator_path, s.score
             from panel_criteria k join panel_consensus s on s.panel_id = k.panel_id and s.position = k.position
            where k.panel_id = $1 and not k.is_price and s.score < $2 order by k.position""",
        panel_id, LOW_SHARE * MAX_SCORE)
    for r in rows:
        leaf = leaves.get(r["indicator_path"])
        evidence = (leaf.evidence_zh or leaf.evidence_en) if leaf else ""
        raised.append(await rectification.raise_item(
            conn, key=f"criterion-{r['position']}",
            finding_zh=f"{contract['title_zh']}（{stage_zh}）：“{r['name_zh']}”共识得分 {_score(r['score'])}，低于满分的 60%。",
            finding_en=f"{contract['title_en'] or contract['title_zh']} ({stage_en}): “{r['name_en'] or r['name_zh']}” "
                       f"scored {_score(r['score'])} by consensus, below 60% of its maximum.",
            evidence_required=evidence or GENERAL_EVIDENCE, tell_owner=False, **common))
    if not rows and not verdict.passed:
        raised.append(await rectification.raise_item(
            conn, key="total",
            finding_zh=f"{contract['title_zh']}（{stage_zh}）未通过：总分 {verdict.total}，等级 {verdict.grade or '—'}。",
            finding_en=f"{contract['title_en'] or contract['title_zh']} ({stage_en}) failed: total {verdict.total}, "
                       f"grade {verdict.grade or '—'}.",
            evidence_required=GENERAL_EVIDENCE, tell_owner=False, **common))
    new = await rectification.raised_from(conn, "evaluation", panel_id) - before
    if new:
        await rectification.tell_findings(conn, contract["provider_id"], new, due, contract["id"])
    return raised
