"""Candidates computed for many projects at once (`bulk_candidates`) are the pair-by-pair scorer's
(`candidates.build`): the same providers and funders in the same order with the same scores, prices
and affinities, so the same solver instance — on the demo district and on a small generated city,
with pins and bans, for projects waiting for a provider and for those with calls, bids and awards."""

import random
from datetime import datetime, UTC

import numpy as np

from market.citygen import generate
from market.core import db
from market.demo import load_demo
from market.matching.docking.rolling import _OPEN
from market.matching.scoring import bulk_candidates, candidates
from market.matching.scoring.candidates import FUNDERS_PER_NEED, PROVIDERS_PER_NEED
from market.matching.scoring.weights import Weights


def _lists(found: candidates.Candidates) -> dict[int, tuple[list, list]]:
    return {pc.project.id: ([(c.party_id, c.fit.score, c.price_fen, c.bid) for c in pc.providers[:PROVIDERS_PER_NEED]],
                            [(c.party_id, c.fit.score, c.affinity) for c in pc.funders[:FUNDERS_PER_NEED]])
            for pc in found.projects}


async def _same(conn, project_ids: list[int], weights: Weights, seed: int) -> int:
    """Compare both ways with and without some pins and bans; returns how many edges were compared."""
    pairwise = await candidates.build(conn, project_ids, weights)
    rnd = random.Random(seed)
    scored = [(pc.project.id, c.party_id) for pc in pairwise.projects for c in pc.providers]
    pins = dict(rnd.sample(scored, min(5, len(scored))))
    bans = frozenset(rnd.sample(scored, min(8, len(scored))))
    for p, b in ((None, frozenset()), (pins, bans)):
        bulk = await bulk_candidates.build(conn, project_ids, weights, pins=p, bans=b)
        assert _lists(bulk) == _lists(pairwise)
        expected = candidates.to_instance(pairwise, pins=p, bans=b)
        assert candidates.to_instance(bulk, pins=p, bans=b) == expected
        assert [pc.other_district for pc in bulk.projects] == [pc.other_district for pc in pairwise.projects]
    return len(expected["provider_edges"]) + len(expected["funder_edges"])


async def test_the_demo_district_scores_the_same_both_ways(database):
    conn = await db.connect_admin(database)
    try:
        await load_demo(conn)
        waiting = [r["id"] for r in await conn.fetch(_OPEN, None, None)]
        everything = [r["id"] for r in await conn.fetch("select id from projects order by id")]
        assert len(everything) > len(waiting) > 0
        for weights in (Weights(), Weights(price=30, same_district=0, other_district=0, capacity_contracts=1,
                                           money=40, prefers_group=5, late_report=7)):
            assert await _same(conn, waiting, weights, 1) > 0
            assert await _same(conn, everything, weights, 2) > 0
    finally:
        await conn.close()


async def test_a_small_city_scores_the_same_both_ways(database):
    conn = await db.connect_admin(database)
    try:
        await generate(conn, scale=0.01, seed=11, now=datetime(2026, 3, 2, tzinfo=UTC),
                       say=lambda line: None)
        waiting = [r["id"] for r in await conn.fetch(_OPEN, None, None)]
        everything = [r["id"] for r in await conn.fetch("select id from projects order by id")]
        assert await _same(conn, waiting, Weights(), 3) > 1000
        assert await _same(conn, everything, Weights(evaluations=12.5, upheld_objection=2.5), 4) > 1000
    finally:
        await conn.close()


def test_round2_is_pythons_round():
    rnd = random.Random(5)
    values = [rnd.uniform(-200, 200) for _ in range(20_000)]
    # Halves and their neighbours, where rounding x × 100 can go the wrong way.
    values += [k / 1000 + d for k in range(-5000, 5000, 5) for d in (0, 1e-15, -1e-15)]
    values += [25 * (m / a) for m in range(1, 60) for a in (3, 7, 30, 70, 110)]
    got = bulk_candidates.round2(np.array(values))
    assert [float(g) for g in got] == [round(v, 2) for v in values]
