"""The arithmetic of evaluation, on its own so it can be checked by hand.

A criterion's score is 0–100; None means "not applicable" and is left out, never counted as zero:
the total is the weighted mean over the criteria that have a score. The price criterion is scored
by formula: the lowest price among the candidates ÷ this candidate's price × 100 (低价优先法).
A candidate below a criterion's minimum is out. Ties are broken by the lower price, then by the
earlier submission, and the result says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import msgspec

from market.core.i18n import bilingual, gettext, series
from market.evaluation.models import Candidate, Criterion, Ranked

CENT = Decimal("0.01")


def price_scores(prices: dict[int, int | None]) -> dict[int, Decimal | None]:
    priced = {c: p for c, p in prices.items() if p}
    if not priced:
        return {c: None for c in prices}
    lowest = min(priced.values())
    return {c: (Decimal(lowest * 100) / Decimal(p)).quantize(CENT, ROUND_HALF_UP) if p else None
            for c, p in prices.items()}


def weighted_total(criteria: list[Criterion], scores: dict[int, Decimal | None]) -> Decimal | None:
    counted = [(c.weight, s) for c in criteria if (s := scores.get(c.position)) is not None]
    if not counted:
        return None
    weights = sum(w for w, _ in counted)
    return (sum((Decimal(w) * s for w, s in counted), Decimal(0)) / weights).quantize(CENT, ROUND_HALF_UP)


def rank(criteria: list[Criterion], candidates: list[Candidate], consensus: dict[int, dict[int, Decimal | None]],
         total: Callable[[dict[int, Decimal | None]], Decimal | None] | None = None) -> list[Ranked]:
    """Every candidate with its total (the weighted mean of its criteria, unless `total` says how),
    out or ranked, best first."""
    prices = price_scores({c.candidate_id: c.price_fen for c in candidates})
    results: list[tuple[Candidate, Ranked]] = []
    for cand in candidates:
        scores = {c.position: (prices[cand.candidate_id] if c.is_price else consensus.get(cand.candidate_id, {}).get(c.position))
                  for c in criteria}
        reasons = []
        for c in criteria:
            s = scores[c.position]
            if c.min_score is not None and s is not None and s < c.min_score:
                reasons.append(gettext("%(criterion)s scored %(score)s, below the minimum of %(min)s.",
                                       criterion=bilingual(c.name_zh, c.name_en), score=s, min=c.min_score))
        got = weighted_total(criteria, scores) if total is None else total(scores)
        if got is None:
            reasons.append(gettext("No criterion has a score."))
        results.append((cand, Ranked(candidate_id=cand.candidate_id, label=cand.label, label_en=cand.label_en, scores=scores, total=got,
                                     out=bool(reasons), reasons=reasons)))
    inside = sorted((r for r in results if not r[1].out), key=_ranking)
    ranked: list[Ranked] = []
    for position, (cand, result) in enumerate(inside, start=1):
        note = ""
        tied = [other for other, r in inside if r.total == result.total and other.candidate_id != cand.candidate_id]
        if tied:
            note = gettext("Tied on %(total)s with %(others)s; ranked by the lower price, then the earlier submission.",
                           total=result.total, others=series(bilingual(o.label, o.label_en) for o in tied))
        ranked.append(msgspec.structs.replace(result, rank=position, tie_note=note))
    return ranked + [r for _, r in results if r.out]


def _ranking(result: tuple[Candidate, Ranked]) -> tuple[Decimal, int, datetime, int]:
    """Best first: the higher total, then the lower price, then the earlier submission."""
    cand, ranked = result
    # A candidate without a total is out ("No criterion has a score"), and only those inside are ranked.
    assert ranked.total is not None
    return -ranked.total, cand.price_fen or 0, cand.submitted_at, cand.candidate_id
