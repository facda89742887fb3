"""Benchmark: the docking solver on fairs drawn at random from families the grid does not have (values
all 0, negative, scores, proportional to price or up to a billion; affinities 10⁻⁷ to 10 per fen,
negative or of either sign; government money none, all or some; prices of 0; budgets 0-150 % of full
funding, a funder sometimes with none; places 0-6; needs without an edge). Every answer is checked in
integers; fairs of up to 150 needs also against HiGHS's branch and bound run to the end (30 s each).

    python bench/odd_families.py [FIRST_SEED] [COUNT] [MOST_NEEDS]

prints each fair with a gap over 0.5 %, a docking more than 0.1 % below the optimum or a solve over
2 s, then how many of each. docs/matching.md ("Families the grid does not have") has the figures.
"""

from __future__ import annotations

import sys
import time

import highspy
import numpy as np

from market.core.errors import Invalid
from market.matching.solver.bench import violations
from market.matching.solver.highs import DockingModel
from market.matching.solver.models import Funder, FunderEdge, Instance, Need, Provider, ProviderEdge
from market.matching.solver.problem import index
from market.matching.solver.solve import solve

EXACT_UP_TO = 150  # needs: larger fairs are not solved to the end


def odd_fair(rng: np.random.Generator, n: int) -> tuple[Instance, str]:
    providers, funders = int(rng.integers(1, max(2, n))), int(rng.integers(1, max(2, n // 2 + 1)))
    typical = np.round(10 ** rng.uniform(2, 9) * rng.uniform(0.3, 3, n))
    money = str(rng.choice(["none", "all", "mixed", "zero-price"]))
    gov = (typical * rng.uniform(0, 1.5, n)).astype(np.int64) * (money != "none")
    places = rng.integers(0 if rng.random() < 0.2 else 1, int(rng.integers(1, 6)) + 1, providers)
    values = str(rng.choice(["score", "price", "neg", "zero", "huge"]))
    degree = int(rng.integers(1, min(providers, 8) + 1))
    provider_edges = []
    for need in range(n):
        if rng.random() < 0.1:
            continue
        for p in sorted(rng.choice(providers, size=degree, replace=False).tolist()):
            price = int(max(0, typical[need] * rng.uniform(0.5, 1.5))) * (money != "zero-price" or rng.random() < 0.5)
            value = {"score": rng.uniform(0, 100), "price": price / 100 * rng.uniform(0.8, 1.2),
                     "neg": rng.uniform(-50, 50), "zero": 0.0, "huge": rng.uniform(1e6, 1e9)}[values]
            provider_edges.append(ProviderEdge(need + 1, p + 1, price, round(float(value), 3)))
    affinities = str(rng.choice(["tiny", "small", "big", "neg", "mixed"]))
    unit = {"tiny": 1e-7, "small": 1e-4, "big": 10.0, "neg": -1e-3, "mixed": 1e-3}[affinities]
    low = -1.0 if affinities == "mixed" else 0.1
    funder_degree = int(rng.integers(0, min(funders, 6) + 1))
    funder_edges = [FunderEdge(need + 1, f + 1, float(unit * rng.uniform(low, 1)))
                    for need in range(n) for f in sorted(rng.choice(funders, size=funder_degree, replace=False).tolist())]
    budgets = (typical.sum() * rng.uniform(0, 1.5) * rng.uniform(0, 2, funders) / funders).astype(np.int64)
    if rng.random() < 0.2:
        budgets[rng.integers(0, funders)] = 0
    return Instance(needs=[Need(i + 1, int(g)) for i, g in enumerate(gov)],
                    providers=[Provider(j + 1, int(c)) for j, c in enumerate(places)],
                    funders=[Funder(k + 1, int(b)) for k, b in enumerate(budgets)],
                    provider_edges=provider_edges, funder_edges=funder_edges), f"{values}/{affinities}/{money}"


def optimum(instance: Instance) -> float | None:
    """The best docking's worth by HiGHS's branch and bound (None if not proven in 30 s)."""
    p = index(instance)
    model = DockingModel(p, np.arange(len(p.edge_need)), np.arange(len(p.fund_need)), p.capacity,
                         p.budget.astype(float), time.monotonic() + 30, integer=True)
    model.h.setOptionValue("mip_rel_gap", 0.0)
    return model.objective if model.run() and model.h.getModelStatus() == highspy.HighsModelStatus.kOptimal else None


def main(first: int, count: int, most_needs: int) -> None:
    wide, below, slow, broken, solved = 0, 0, 0, 0, 0
    for seed in range(first, first + count):
        rng = np.random.default_rng(seed)
        instance, family = odd_fair(rng, int(rng.integers(2, most_needs + 1)))
        try:
            began = time.perf_counter()
            result = solve(instance, time_limit=10)
            seconds = time.perf_counter() - began
        except Invalid:
            continue  # pins or funders no docking can keep: refused, as it should be
        solved += 1
        line = f"seed {seed} {family} needs {len(instance.needs)}: gap {result.gap:.3%}, {seconds:.2f} s"
        if violations(instance, result):
            broken += 1
            print(line, "BREAKS A RULE", violations(instance, result)[:3])
        best = optimum(instance) if len(instance.needs) <= EXACT_UP_TO else None
        if best is not None and result.objective < best - 1e-3 * max(1.0, abs(best)):
            below += 1
            print(line, f"docking {(best - result.objective) / max(abs(best), 1e-9):.3%} below the optimum")
        if best is not None and result.upper_bound < best - 1e-6 * max(1.0, abs(best)):
            broken += 1
            print(line, "BOUND BELOW THE OPTIMUM")
        if result.gap > 0.005:
            wide += 1
            print(line)
        if seconds > 2:
            slow += 1
            print(line, "over 2 s")
    print(f"{solved} fairs solved: {wide} with a gap over 0.5 %, {below} more than 0.1 % below the optimum, "
          f"{slow} over 2 s, {broken} breaking a rule or a bound")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    main(*(args + [1000, 150, 150][len(args):]))
